/*
 * Chrome v3 CT log list loader (include/certskew/ct/ct.h).
 *
 * Schema: https://www.gstatic.com/ct/log_list/v3/log_list_schema.json
 *   { "version", "log_list_timestamp", "operators": [ { "name", "email",
 *     "logs": [ { "description", "log_id", "key", "url", "mmd",
 *                 "state": { "<state>": { "timestamp" } },
 *                 "temporal_interval": { "start_inclusive", "end_exclusive" },
 *                 "log_type" } ],
 *     "tiled_logs": [ same, with "submission_url" instead of "url" ] } ] }
 *
 * Verification trusts this list, so the fields it depends on (key, id,
 * state, interval) are strict; descriptive fields are optional.
 */
#include "certskew/ct/ct.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>

#include "certskew/core/time.h"

struct cs_ct_log_list {
  cs_ct_log_t *logs; /* owned array of nlogs */
  size_t nlogs;
  char **strings;    /* owned: every string the logs point at */
  size_t nstrings, capstrings;
  uint8_t **keys;    /* owned: each log's key DER (index = log index) */
  int64_t *from_ts;  /* owned: log_list_timestamp of the list each log came from */
  size_t list_start; /* index of the first log of the list being parsed */
  int64_t list_ts;   /* that list's log_list_timestamp */
  char *version;     /* owned */
  int64_t timestamp_ms;
  int implicit;      /* see cs_ct_log_list_set_implicit */
};

static const struct {
  const char *name;
  cs_ct_log_state_t state;
} STATE_NAMES[] = {
    {"pending", CS_CT_STATE_PENDING},   {"qualified", CS_CT_STATE_QUALIFIED},
    {"usable", CS_CT_STATE_USABLE},     {"readonly", CS_CT_STATE_READONLY},
    {"retired", CS_CT_STATE_RETIRED},   {"rejected", CS_CT_STATE_REJECTED},
};

const char *cs_ct_log_state_name(cs_ct_log_state_t state) {
  for (size_t i = 0; i < sizeof(STATE_NAMES) / sizeof(STATE_NAMES[0]); i++)
    if (STATE_NAMES[i].state == state)
      return STATE_NAMES[i].name;
  return "unknown";
}

/* Keeps a copy of s in the list; returns it or NULL on allocation failure. */
static const char *keep_string(cs_ct_log_list_t *l, const char *s) {
  if (l->nstrings == l->capstrings) {
    size_t cap = l->capstrings ? l->capstrings * 2 : 64;
    char **v = realloc(l->strings, cap * sizeof(*v));
    if (v == NULL)
      return NULL;
    l->strings = v;
    l->capstrings = cap;
  }
  char *copy = strdup(s); /* owned by l->strings */
  if (copy == NULL)
    return NULL;
  l->strings[l->nstrings++] = copy;
  return copy;
}

/* Optional string member: NULL if absent; CS_EPARSE if present but not a string. */
static int opt_string(const cJSON *obj, const char *key, const char **out) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
  *out = NULL;
  if (it == NULL)
    return 0;
  if (!cJSON_IsString(it) || it->valuestring == NULL)
    return CS_EPARSE;
  *out = it->valuestring;
  return 0;
}

/* Decodes base64 member key into a new buffer (caller frees). */
static int b64_member(const cJSON *obj, const char *key, uint8_t **out, size_t *out_len) {
  const char *s;
  size_t need = 0;
  *out = NULL;
  if (opt_string(obj, key, &s) != 0 || s == NULL || s[0] == '\0')
    return CS_EPARSE;
  size_t slen = strlen(s);
  int ret = mbedtls_base64_decode(NULL, 0, &need, (const unsigned char *)s, slen);
  if (ret == MBEDTLS_ERR_BASE64_INVALID_CHARACTER || need == 0)
    return CS_EPARSE;
  uint8_t *buf = malloc(need); /* owned by caller on success */
  if (buf == NULL)
    return CS_ENOMEM;
  if (mbedtls_base64_decode(buf, need, out_len, (const unsigned char *)s, slen) != 0) {
    free(buf);
    return CS_EPARSE;
  }
  *out = buf;
  return 0;
}

static int time_member(const cJSON *obj, const char *key, int64_t *out_ms) {
  const char *s;
  if (opt_string(obj, key, &s) != 0 || s == NULL)
    return CS_EPARSE;
  return cs_time_parse(s, out_ms) == 0 ? 0 : CS_EPARSE;
}

static int parse_state(cs_ct_log_t *log, const cJSON *st, const char *where, cs_errbuf_t *eb) {
  if (st == NULL)
    return 0; /* state is optional (e.g. tiled or test logs) */
  if (!cJSON_IsObject(st) || cJSON_GetArraySize(st) != 1)
    return cs_errbuf_set(eb, CS_EPARSE, "%s: \"state\" must be an object with one member", where);
  const cJSON *one = st->child;
  for (size_t i = 0; i < sizeof(STATE_NAMES) / sizeof(STATE_NAMES[0]); i++) {
    if (one->string == NULL || strcmp(one->string, STATE_NAMES[i].name) != 0)
      continue;
    if (!cJSON_IsObject(one) || time_member(one, "timestamp", &log->state_since_ms) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "%s: state \"%s\" needs an RFC 3339 \"timestamp\"",
                           where, STATE_NAMES[i].name);
    log->state = STATE_NAMES[i].state;
    return 0;
  }
  return cs_errbuf_set(eb, CS_EPARSE, "%s: unknown state \"%.40s\"", where,
                       one->string ? one->string : "");
}

static int parse_interval(cs_ct_log_t *log, const cJSON *iv, const char *where, cs_errbuf_t *eb) {
  if (iv == NULL)
    return 0;
  if (!cJSON_IsObject(iv) || time_member(iv, "start_inclusive", &log->interval_start_ms) != 0 ||
      time_member(iv, "end_exclusive", &log->interval_end_ms) != 0)
    return cs_errbuf_set(eb, CS_EPARSE,
                         "%s: \"temporal_interval\" needs RFC 3339 start_inclusive and "
                         "end_exclusive",
                         where);
  if (log->interval_start_ms >= log->interval_end_ms)
    return cs_errbuf_set(eb, CS_EPARSE, "%s: temporal interval is empty (start >= end)", where);
  log->has_interval = 1;
  return 0;
}

/* Parses and checks the key and id of one log; takes ownership of nothing. */
static int parse_key(cs_ct_log_list_t *l, size_t idx, const cJSON *jl, const char *where,
                     cs_errbuf_t *eb) {
  cs_ct_log_t *log = &l->logs[idx];
  uint8_t *key = NULL, *id = NULL;
  size_t key_len = 0, id_len = 0;
  uint8_t digest[32];
  int err = b64_member(jl, "key", &key, &key_len);
  if (err != 0) {
    err = err == CS_ENOMEM ? err : cs_errbuf_set(eb, CS_EPARSE, "%s: \"key\" missing or not base64", where);
    goto done;
  }
  l->keys[idx] = key; /* owned by the list from here */
  log->key_der = key;
  log->key_der_len = key_len;
  err = b64_member(jl, "log_id", &id, &id_len);
  if (err != 0 || id_len != 32) {
    err = err == CS_ENOMEM ? err
                           : cs_errbuf_set(eb, CS_EPARSE,
                                           "%s: \"log_id\" missing or not 32 bytes of base64", where);
    goto done;
  }
  (void)mbedtls_sha256_ret(key, key_len, digest, 0);
  if (memcmp(digest, id, 32) != 0) {
    err = cs_errbuf_set(eb, CS_EPARSE, "%s: log_id is not SHA-256 of its key", where);
    goto done;
  }
  memcpy(log->log_id, id, 32);
  if (mbedtls_pk_parse_public_key(&log->pk, key, key_len) != 0) {
    err = cs_errbuf_set(eb, CS_EPARSE, "%s: key is not a SubjectPublicKeyInfo", where);
    goto done;
  }
  if (mbedtls_pk_can_do(&log->pk, MBEDTLS_PK_ECDSA))
    log->sig_alg = CS_SCT_SIG_ECDSA;
  else if (mbedtls_pk_can_do(&log->pk, MBEDTLS_PK_RSA))
    log->sig_alg = CS_SCT_SIG_RSA;
  else
    err = cs_errbuf_set(eb, CS_EUNSUPPORTED, "%s: key is neither EC nor RSA", where);
done:
  free(id);
  return err;
}

/* Releases what log i owns (its parsed key and key DER). */
static void drop_log(cs_ct_log_list_t *l, size_t i) {
  mbedtls_pk_free(&l->logs[i].pk);
  free(l->keys[i]);
  l->keys[i] = NULL;
}

/* The last parsed log has the id of log i of an earlier list: one entry
 * stays, the one from the newer list (the later list on a tie), in slot i. */
static void merge_last_into(cs_ct_log_list_t *l, size_t i) {
  size_t last = l->nlogs - 1;
  if (l->from_ts[last] >= l->from_ts[i]) {
    drop_log(l, i);
    l->logs[i] = l->logs[last]; /* moves the parsed key's ownership */
    l->keys[i] = l->keys[last];
    l->keys[last] = NULL;
    l->from_ts[i] = l->from_ts[last];
  } else {
    drop_log(l, last);
  }
  memset(&l->logs[last], 0, sizeof(l->logs[last]));
  l->nlogs--;
}

static int parse_log(cs_ct_log_list_t *l, const cJSON *jl, const char *op_name, size_t opi,
                     size_t li, int tiled, cs_errbuf_t *eb) {
  char where[160];
  const char *desc, *url, *log_type;
  snprintf(where, sizeof(where), "operator #%zu (%.40s) %s #%zu", opi, op_name,
           tiled ? "tiled log" : "log", li);
  if (l->nlogs >= CS_CT_LOGLIST_MAX_LOGS)
    return cs_errbuf_set(eb, CS_ETOOBIG, "more than %d logs", CS_CT_LOGLIST_MAX_LOGS);
  if (!cJSON_IsObject(jl))
    return cs_errbuf_set(eb, CS_EPARSE, "%s: not an object", where);
  if (opt_string(jl, "description", &desc) != 0 ||
      opt_string(jl, tiled ? "submission_url" : "url", &url) != 0 ||
      opt_string(jl, "log_type", &log_type) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "%s: description/url/log_type must be strings", where);
  cs_ct_log_t *log = &l->logs[l->nlogs];
  memset(log, 0, sizeof(*log));
  mbedtls_pk_init(&log->pk);
  log->tiled = tiled;
  log->test_log = log_type != NULL && strcmp(log_type, "test") == 0;
  log->mmd_s = -1;
  const cJSON *mmd = cJSON_GetObjectItemCaseSensitive(jl, "mmd");
  if (mmd != NULL) {
    if (!cJSON_IsNumber(mmd) || mmd->valuedouble < 0 || mmd->valuedouble > 1e9)
      return cs_errbuf_set(eb, CS_EPARSE, "%s: \"mmd\" must be a number of seconds", where);
    log->mmd_s = (int64_t)mmd->valuedouble;
  }
  /* The log counts (for cleanup of its pk and key) from here on. */
  l->nlogs++;
  if ((log->description = keep_string(l, desc ? desc : "")) == NULL ||
      (log->url = keep_string(l, url ? url : "")) == NULL || (log->operator_name = op_name) == NULL)
    return CS_ENOMEM;
  snprintf(where, sizeof(where), "operator #%zu (%.40s) %s #%zu (%.50s)", opi, op_name,
           tiled ? "tiled log" : "log", li, log->description);
  l->from_ts[l->nlogs - 1] = l->list_ts;
  int err = parse_key(l, l->nlogs - 1, jl, where, eb);
  if (err == 0)
    err = parse_state(log, cJSON_GetObjectItemCaseSensitive(jl, "state"), where, eb);
  if (err == 0)
    err = parse_interval(log, cJSON_GetObjectItemCaseSensitive(jl, "temporal_interval"), where, eb);
  if (err != 0)
    return err;
  for (size_t i = 0; i + 1 < l->nlogs; i++) {
    if (memcmp(l->logs[i].log_id, log->log_id, 32) != 0)
      continue;
    if (i >= l->list_start)
      return cs_errbuf_set(eb, CS_EPARSE, "%s: duplicate log_id (same key as log #%zu)", where, i);
    merge_last_into(l, i);
    break;
  }
  return 0;
}

static int parse_log_array(cs_ct_log_list_t *l, const cJSON *op, const char *key,
                           const char *op_name, size_t opi, cs_errbuf_t *eb) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(op, key);
  int tiled = strcmp(key, "tiled_logs") == 0;
  if (arr == NULL && tiled)
    return 0;
  if (!cJSON_IsArray(arr))
    return cs_errbuf_set(eb, CS_EPARSE, "operator #%zu (%.40s): \"%s\" must be an array", opi,
                         op_name, key);
  size_t li = 0;
  for (const cJSON *jl = arr->child; jl != NULL; jl = jl->next, li++) {
    int err = parse_log(l, jl, op_name, opi, li, tiled, eb);
    if (err != 0)
      return err;
  }
  return 0;
}

static int count_logs(const cJSON *ops, size_t *n) {
  *n = 0;
  for (const cJSON *op = ops->child; op != NULL; op = op->next) {
    const char *keys[] = {"logs", "tiled_logs"};
    for (size_t k = 0; k < 2; k++) {
      const cJSON *arr = cJSON_IsObject(op) ? cJSON_GetObjectItemCaseSensitive(op, keys[k]) : NULL;
      if (cJSON_IsArray(arr))
        *n += (size_t)cJSON_GetArraySize(arr);
    }
  }
  return *n > CS_CT_LOGLIST_MAX_LOGS ? CS_ETOOBIG : 0;
}

/* Appends the version of one list to the merged one ("a+b"). */
static int add_version(cs_ct_log_list_t *l, const char *v) {
  size_t have = l->version ? strlen(l->version) : 0;
  char *nv = realloc(l->version, have + strlen(v) + 2); /* owned by l */
  if (nv == NULL)
    return CS_ENOMEM;
  if (have == 0)
    nv[0] = '\0';
  else
    strcat(nv, "+");
  strcat(nv, v);
  l->version = nv;
  return 0;
}

static int parse_root(cs_ct_log_list_t *l, const cJSON *root, cs_errbuf_t *eb) {
  const char *version;
  if (!cJSON_IsObject(root))
    return cs_errbuf_set(eb, CS_EPARSE, "log list: top level is not a JSON object");
  if (opt_string(root, "version", &version) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "log list: \"version\" must be a string");
  if (add_version(l, version ? version : "") != 0)
    return CS_ENOMEM;
  l->list_ts = CS_TIME_NEG_INF;
  if (cJSON_GetObjectItemCaseSensitive(root, "log_list_timestamp") != NULL &&
      time_member(root, "log_list_timestamp", &l->list_ts) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "log list: \"log_list_timestamp\" is not RFC 3339");
  if (l->list_ts > l->timestamp_ms)
    l->timestamp_ms = l->list_ts;
  const cJSON *ops = cJSON_GetObjectItemCaseSensitive(root, "operators");
  if (!cJSON_IsArray(ops))
    return cs_errbuf_set(eb, CS_EPARSE,
                         "log list: no \"operators\" array (is this a Chrome v3 log list?)");
  size_t in_list = 0;
  (void)count_logs(ops, &in_list); /* bounded by parse_inputs */
  l->list_start = l->nlogs;
  size_t opi = 0;
  for (const cJSON *op = ops->child; op != NULL; op = op->next, opi++) {
    const char *name;
    if (!cJSON_IsObject(op) || opt_string(op, "name", &name) != 0 || name == NULL)
      return cs_errbuf_set(eb, CS_EPARSE, "operator #%zu: not an object with a \"name\"", opi);
    const char *kept = keep_string(l, name);
    if (kept == NULL)
      return CS_ENOMEM;
    int err = parse_log_array(l, op, "logs", kept, opi, eb);
    if (err == 0)
      err = parse_log_array(l, op, "tiled_logs", kept, opi, eb);
    if (err != 0)
      return err;
  }
  /* Checked after the walk so a malformed operator is named, not "empty". */
  return in_list == 0 ? cs_errbuf_set(eb, CS_EEMPTY, "log list: no logs") : 0;
}

/* Parses one input to JSON (*root, owned by the caller) and counts its logs. */
static int parse_input(cJSON **root, const uint8_t *json, size_t len, size_t *count,
                       cs_errbuf_t *eb) {
  *count = 0;
  if (json == NULL || len == 0)
    return cs_errbuf_set(eb, CS_EEMPTY, "log list: input is empty");
  if (len > CS_CT_LOGLIST_MAX_INPUT)
    return cs_errbuf_set(eb, CS_ETOOBIG, "log list: %zu bytes; the limit is %u", len,
                         CS_CT_LOGLIST_MAX_INPUT);
  const char *end = NULL;
  *root = cJSON_ParseWithLengthOpts((const char *)json, len, &end, 0);
  if (*root == NULL) {
    size_t at = end != NULL && end >= (const char *)json ? (size_t)(end - (const char *)json) : 0;
    return cs_errbuf_set(eb, CS_EPARSE, "log list: not valid JSON (near byte %zu)", at);
  }
  const cJSON *ops = cJSON_GetObjectItemCaseSensitive(*root, "operators");
  if (cJSON_IsArray(ops) && count_logs(ops, count) != 0)
    return cs_errbuf_set(eb, CS_ETOOBIG, "log list: more than %d logs", CS_CT_LOGLIST_MAX_LOGS);
  return 0;
}

/* Prefixes the error with which of several lists it concerns. */
static void name_list(cs_errbuf_t *eb, size_t k) {
  char msg[sizeof(eb->msg)];
  snprintf(msg, sizeof(msg), "%s", eb->msg);
  (void)cs_errbuf_set(eb, eb->code, "list #%zu: %s", k + 1, msg);
}

/* Parses every input to JSON (roots[k], owned by the caller) and sizes the
 * log arrays for all of them. */
static int parse_inputs(cs_ct_log_list_t *l, cJSON **roots, const uint8_t *const *jsons,
                        const size_t *lens, size_t n, cs_errbuf_t *eb) {
  size_t total = 0;
  for (size_t k = 0; k < n; k++) {
    size_t count = 0;
    int err = parse_input(&roots[k], jsons[k], lens[k], &count, eb);
    if (err != 0) {
      if (n > 1 && eb != NULL && eb->code != 0)
        name_list(eb, k);
      return err;
    }
    total += count;
  }
  if (total > CS_CT_LOGLIST_MAX_LOGS)
    return cs_errbuf_set(eb, CS_ETOOBIG, "log lists: more than %d logs", CS_CT_LOGLIST_MAX_LOGS);
  l->logs = calloc(total ? total : 1, sizeof(*l->logs));       /* owned by l */
  l->keys = calloc(total ? total : 1, sizeof(*l->keys));       /* owned by l */
  l->from_ts = calloc(total ? total : 1, sizeof(*l->from_ts)); /* owned by l */
  return l->logs == NULL || l->keys == NULL || l->from_ts == NULL ? CS_ENOMEM : 0;
}

int cs_ct_log_list_load_many(cs_ct_log_list_t **out, const uint8_t *const *jsons,
                             const size_t *lens, size_t n, cs_errbuf_t *eb) {
  if (out == NULL)
    return CS_EINVAL;
  *out = NULL;
  if (n == 0 || jsons == NULL || lens == NULL || n > CS_CT_LOGLIST_MAX_LISTS)
    return cs_errbuf_set(eb, CS_EINVAL, "log list: %zu lists given (1..%d)", n,
                         CS_CT_LOGLIST_MAX_LISTS);
  cJSON *roots[CS_CT_LOGLIST_MAX_LISTS] = {0}; /* owned here */
  cs_ct_log_list_t *l = calloc(1, sizeof(*l)); /* owned: returned or freed below */
  int err = CS_ENOMEM;
  if (l != NULL) {
    l->timestamp_ms = CS_TIME_NEG_INF;
    err = parse_inputs(l, roots, jsons, lens, n, eb);
  }
  for (size_t k = 0; err == 0 && k < n; k++) {
    err = parse_root(l, roots[k], eb);
    if (err != 0 && n > 1 && eb != NULL && eb->code != 0)
      name_list(eb, k);
  }
  for (size_t k = 0; k < n; k++)
    cJSON_Delete(roots[k]);
  if (err != 0) {
    cs_ct_log_list_free(l);
    return err;
  }
  *out = l;
  return 0;
}

int cs_ct_log_list_load(cs_ct_log_list_t **out, const uint8_t *json, size_t len,
                        cs_errbuf_t *eb) {
  return cs_ct_log_list_load_many(out, &json, &len, 1, eb);
}

void cs_ct_log_list_free(cs_ct_log_list_t *l) {
  if (l == NULL)
    return;
  for (size_t i = 0; i < l->nlogs; i++)
    drop_log(l, i);
  for (size_t i = 0; i < l->nstrings; i++)
    free(l->strings[i]);
  free(l->strings);
  free(l->logs);
  free(l->keys);
  free(l->from_ts);
  free(l->version);
  free(l);
}

void cs_ct_log_list_set_implicit(cs_ct_log_list_t *l, int implicit) {
  if (l != NULL)
    l->implicit = implicit != 0;
}

int cs_ct_log_list_implicit(const cs_ct_log_list_t *l) { return l != NULL && l->implicit; }

size_t cs_ct_log_list_count(const cs_ct_log_list_t *l) { return l ? l->nlogs : 0; }

const cs_ct_log_t *cs_ct_log_list_get(const cs_ct_log_list_t *l, size_t i) {
  return l != NULL && i < l->nlogs ? &l->logs[i] : NULL;
}

const cs_ct_log_t *cs_ct_log_list_find(const cs_ct_log_list_t *l, const uint8_t log_id[32]) {
  if (l == NULL || log_id == NULL)
    return NULL;
  /* Linear: lists hold a few hundred logs and a chain a handful of SCTs. */
  for (size_t i = 0; i < l->nlogs; i++)
    if (memcmp(l->logs[i].log_id, log_id, 32) == 0)
      return &l->logs[i];
  return NULL;
}

const char *cs_ct_log_list_version(const cs_ct_log_list_t *l) {
  return l != NULL && l->version != NULL ? l->version : "";
}

int64_t cs_ct_log_list_timestamp(const cs_ct_log_list_t *l) {
  return l != NULL ? l->timestamp_ms : CS_TIME_NEG_INF;
}

cs_ct_log_state_t cs_ct_log_state_at(const cs_ct_log_t *log, int64_t at_ms, int *inferred) {
  if (inferred != NULL)
    *inferred = 0;
  if (log == NULL || log->state == CS_CT_STATE_UNKNOWN)
    return CS_CT_STATE_UNKNOWN;
  if (at_ms >= log->state_since_ms)
    return log->state;
  if (inferred != NULL)
    *inferred = 1;
  /* Before its current state the log was in the previous life-cycle state
   * (log_states.html); how long ago it entered that one is not recorded. */
  switch (log->state) {
  case CS_CT_STATE_QUALIFIED:
    return CS_CT_STATE_PENDING;
  case CS_CT_STATE_USABLE:
    return CS_CT_STATE_QUALIFIED;
  case CS_CT_STATE_READONLY:
  case CS_CT_STATE_RETIRED:
    return CS_CT_STATE_USABLE;
  default:
    return CS_CT_STATE_UNKNOWN;
  }
}
