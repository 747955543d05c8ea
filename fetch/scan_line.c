/*
 * The pure parts of `certskew scan` (scan.h): input lines, keys, the shard
 * hash, the resume scan and the output line. The output line only copies
 * what the diagnosis' report says; nothing here judges.
 */
#include "certskew/fetch/scan.h"

#include <ctype.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certskew/core/time.h"
#include "certskew/net/x509_write.h"

/* ---- input lines ---- */

static void lower(char *s) {
  for (; *s; s++)
    *s = (char)tolower((unsigned char)*s);
}

static int host_char_ok(int c) {
  return isalnum(c) || c == '-' || c == '.' || c == '_' || c == ':';
}

/* "host", "host:port", "[v6]" or "[v6]:port" into t->host / t->port. */
static int parse_authority(const char *s, size_t n, cs_scan_target_t *t, cs_errbuf_t *eb) {
  const char *host = s, *port = NULL;
  size_t hlen = n;
  if (n > 0 && s[0] == '[') {
    const char *end = memchr(s, ']', n);
    if (end == NULL)
      return cs_errbuf_set(eb, CS_EPARSE, "unclosed '[' in the host");
    host = s + 1;
    hlen = (size_t)(end - host);
    if ((size_t)(end + 1 - s) < n) {
      if (end[1] != ':')
        return cs_errbuf_set(eb, CS_EPARSE, "expected ':' after ']'");
      port = end + 2;
    }
  } else {
    const char *colon = memchr(s, ':', n);
    if (colon != NULL && memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)) == NULL) {
      hlen = (size_t)(colon - s);
      port = colon + 1;
    }
  }
  if (hlen == 0 || hlen >= sizeof t->host)
    return cs_errbuf_set(eb, CS_EPARSE, "empty or too long host");
  for (size_t i = 0; i < hlen; i++)
    if (!host_char_ok((unsigned char)host[i]))
      return cs_errbuf_set(eb, CS_EPARSE, "invalid character in the host");
  memcpy(t->host, host, hlen);
  t->host[hlen] = '\0';
  lower(t->host);
  t->port = 443;
  if (port != NULL) {
    size_t plen = n - (size_t)(port - s);
    long v = 0;
    if (plen == 0 || plen > 5)
      return cs_errbuf_set(eb, CS_EPARSE, "invalid port");
    for (size_t i = 0; i < plen; i++) {
      if (!isdigit((unsigned char)port[i]))
        return cs_errbuf_set(eb, CS_EPARSE, "invalid port");
      v = v * 10 + (port[i] - '0');
    }
    if (v < 1 || v > 65535)
      return cs_errbuf_set(eb, CS_EPARSE, "port out of range");
    t->port = (int)v;
  }
  return 0;
}

int cs_scan_parse_line(const char *line, cs_scan_target_t *t, cs_errbuf_t *eb) {
  memset(t, 0, sizeof *t);
  const char *p = line;
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p == '\0' || *p == '\n' || *p == '\r' || *p == '#')
    return CS_EEMPTY;
  const char *f[3];
  size_t flen[3], nf = 0;
  while (*p != '\0' && *p != '\n' && *p != '\r') {
    if (nf == 3)
      return cs_errbuf_set(eb, CS_EPARSE, "expected \"host[:port] [sni]\"");
    f[nf] = p;
    while (*p != '\0' && *p != '\n' && *p != '\r' && *p != ' ' && *p != '\t')
      p++;
    flen[nf] = (size_t)(p - f[nf]);
    nf++;
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p == '#')
      break; /* a trailing comment */
  }
  if (nf > 2)
    return cs_errbuf_set(eb, CS_EPARSE, "expected \"host[:port] [sni]\"");
  int err = parse_authority(f[0], flen[0], t, eb);
  if (err != 0)
    return err;
  unsigned char ip[16];
  int is_ip = cs_x509_parse_ip(t->host, ip) != 0;
  if (strchr(t->host, ':') != NULL && !is_ip)
    return cs_errbuf_set(eb, CS_EPARSE, "invalid IPv6 address");
  if (nf == 2) {
    if (flen[1] >= sizeof t->sni)
      return cs_errbuf_set(eb, CS_EPARSE, "SNI too long");
    for (size_t i = 0; i < flen[1]; i++)
      if (!host_char_ok((unsigned char)f[1][i]) || f[1][i] == ':')
        return cs_errbuf_set(eb, CS_EPARSE, "invalid character in the SNI");
    memcpy(t->sni, f[1], flen[1]);
    t->sni[flen[1]] = '\0';
    lower(t->sni);
    t->sni_given = 1;
  } else if (!is_ip) {
    snprintf(t->sni, sizeof t->sni, "%s", t->host);
  }
  int v6 = strchr(t->host, ':') != NULL;
  snprintf(t->key, sizeof t->key, "%s%s%s:%d%s%s", v6 ? "[" : "", t->host, v6 ? "]" : "",
           t->port, t->sni[0] ? " " : "", t->sni);
  return 0;
}

/* ---- keys, shards, the done set ---- */

uint64_t cs_scan_key_hash(const char *key) {
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 offset basis */
  for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
    h ^= *p;
    h *= 0x100000001b3ull; /* FNV 64 prime */
  }
  return h;
}

int cs_scan_in_shard(const char *key, unsigned k, unsigned n) {
  if (n == 0)
    return 1;
  return cs_scan_key_hash(key) % n == (uint64_t)(k - 1);
}

void cs_scan_set_init(cs_scan_set_t *s) { memset(s, 0, sizeof *s); }

void cs_scan_set_free(cs_scan_set_t *s) {
  free(s->slots);
  s->slots = NULL;
  s->cap = s->count = 0;
}

static void set_put(uint64_t *slots, size_t cap, uint64_t h) {
  size_t i = (size_t)(h & (cap - 1));
  while (slots[i] != 0 && slots[i] != h)
    i = (i + 1) & (cap - 1);
  slots[i] = h;
}

int cs_scan_set_add(cs_scan_set_t *s, uint64_t h) {
  if (h == 0)
    h = 1;
  if (cs_scan_set_has(s, h))
    return 0;
  if ((s->count + 1) * 2 > s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 1024;
    uint64_t *slots = calloc(cap, sizeof *slots); /* owned by s */
    if (slots == NULL)
      return CS_ENOMEM;
    for (size_t i = 0; i < s->cap; i++)
      if (s->slots[i] != 0)
        set_put(slots, cap, s->slots[i]);
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
  }
  set_put(s->slots, s->cap, h);
  s->count++;
  return 0;
}

int cs_scan_set_has(const cs_scan_set_t *s, uint64_t h) {
  if (s == NULL || s->cap == 0)
    return 0;
  if (h == 0)
    h = 1;
  size_t i = (size_t)(h & (s->cap - 1));
  while (s->slots[i] != 0) {
    if (s->slots[i] == h)
      return 1;
    i = (i + 1) & (s->cap - 1);
  }
  return 0;
}

/* ---- resume ---- */

/* One complete line: adds its key to done when it is an object with one. */
static int resume_line(const char *line, size_t len, cs_scan_set_t *done) {
  cJSON *o = cJSON_ParseWithLength(line, len);
  const cJSON *key = cJSON_GetObjectItemCaseSensitive(o, "key");
  int err = 0;
  if (cJSON_IsString(key))
    err = cs_scan_set_add(done, cs_scan_key_hash(key->valuestring));
  cJSON_Delete(o);
  return err;
}

int cs_scan_resume_load(int fd, cs_scan_set_t *done, size_t *nlines, cs_errbuf_t *eb) {
  /* Lines are read through a fixed window; a line longer than the window
   * is kept (counted) but cannot be a line of ours, so it marks nothing. */
  enum { WIN = 1 << 20 };
  char *buf = malloc(WIN); /* freed below */
  if (buf == NULL)
    return CS_ENOMEM;
  off_t pos = 0, line_start = 0;
  size_t have = 0;
  int overlong = 0, err = 0;
  *nlines = 0;
  if (lseek(fd, 0, SEEK_SET) < 0) {
    free(buf);
    return cs_errbuf_set(eb, CS_EIO, "cannot seek the output file");
  }
  for (;;) {
    ssize_t n = read(fd, buf + have, WIN - have);
    if (n < 0) {
      err = cs_errbuf_set(eb, CS_EIO, "cannot read the output file");
      goto out;
    }
    if (n == 0)
      break;
    have += (size_t)n;
    pos += n;
    size_t start = 0;
    for (;;) {
      char *nl = memchr(buf + start, '\n', have - start);
      if (nl == NULL)
        break;
      size_t len = (size_t)(nl - (buf + start));
      if (!overlong && (err = resume_line(buf + start, len, done)) != 0)
        goto out;
      overlong = 0;
      (*nlines)++;
      start += len + 1;
      line_start = pos - (off_t)(have - start);
    }
    memmove(buf, buf + start, have - start);
    have -= start;
    if (have == WIN) { /* an overlong line: skip through its end */
      overlong = 1;
      have = 0;
    }
  }
  /* A partial last line (the run was killed while writing it) goes away. */
  if (line_start < pos && ftruncate(fd, line_start) != 0)
    err = cs_errbuf_set(eb, CS_EIO, "cannot truncate the partial last line of the output file");
out:
  free(buf);
  if (err == 0 && lseek(fd, 0, SEEK_END) < 0)
    err = cs_errbuf_set(eb, CS_EIO, "cannot seek the output file");
  return err;
}

/* ---- the output line ---- */

static const cJSON *get(const cJSON *o, const char *name) {
  return cJSON_GetObjectItemCaseSensitive(o, name);
}

static const char *str(const cJSON *o, const char *name) {
  const cJSON *v = get(o, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int add_str_or_null(cJSON *o, const char *name, const char *v) {
  return (v != NULL ? cJSON_AddStringToObject(o, name, v) : cJSON_AddNullToObject(o, name)) !=
                 NULL
             ? 0
             : CS_ENOMEM;
}

static int add_copy(cJSON *o, const char *name, const cJSON *v) {
  cJSON *c = v != NULL ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
  if (c == NULL)
    return CS_ENOMEM;
  cJSON_AddItemToObject(o, name, c);
  return 0;
}

static const char *verdict_text(const cJSON *v) {
  if (cJSON_IsString(v) && (strcmp(v->valuestring, "pass") == 0 || strcmp(v->valuestring, "fail") == 0))
    return v->valuestring;
  return NULL;
}

/* The line's "clients": each judged client's entry of the report (the
 * asked --client profiles, else the default five), reduced to what a fleet
 * view needs. */
static int add_clients(cJSON *line, const cJSON *report) {
  cJSON *arr = cJSON_AddArrayToObject(line, "clients");
  if (arr == NULL)
    return CS_ENOMEM;
  const cJSON *c;
  cJSON_ArrayForEach(c, get(report, "clients")) {
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
      return CS_ENOMEM;
    cJSON_AddItemToArray(arr, o);
    int err = add_str_or_null(o, "name", str(c, "name"));
    if (!err)
      err = add_str_or_null(o, "verdict", verdict_text(get(c, "verdict_at_instant")));
    if (!err)
      err = add_copy(o, "root_cause", get(c, "root_cause"));
    if (!err)
      err = add_copy(o, "fix", get(c, "fix"));
    if (!err)
      err = add_copy(o, "fails_for_true_times", get(c, "fails_for_true_times"));
    if (err)
      return err;
  }
  return 0;
}

static int add_leaf(cJSON *line, const cJSON *report) {
  const cJSON *leaf = cJSON_GetArrayItem(get(get(report, "chain"), "certificates"), 0);
  if (leaf == NULL)
    return cJSON_AddNullToObject(line, "leaf") != NULL ? 0 : CS_ENOMEM;
  cJSON *o = cJSON_AddObjectToObject(line, "leaf");
  if (o == NULL)
    return CS_ENOMEM;
  int err = add_str_or_null(o, "subject", str(leaf, "subject"));
  if (!err)
    err = add_str_or_null(o, "not_after", str(get(leaf, "not_after"), "rfc3339"));
  if (!err)
    err = add_copy(o, "valid_until_ms", get(get(leaf, "valid_until"), "ms"));
  if (!err)
    err = add_str_or_null(o, "sha256", str(leaf, "sha256"));
  return err;
}

static int add_sct(cJSON *line, const cJSON *report) {
  const cJSON *ct = get(report, "ct");
  const cJSON *leaf = cJSON_GetArrayItem(get(get(report, "chain"), "certificates"), 0);
  cJSON *o = cJSON_AddObjectToObject(line, "sct");
  if (o == NULL)
    return CS_ENOMEM;
  const cJSON *scts = cJSON_IsArray(get(ct, "scts")) ? get(ct, "scts") : get(leaf, "scts");
  int count = cJSON_IsArray(scts) ? cJSON_GetArraySize(scts) : 0, valid = 0, invalid = 0;
  const cJSON *s;
  cJSON_ArrayForEach(s, get(ct, "scts")) {
    const char *sig = str(s, "signature");
    valid += sig != NULL && strcmp(sig, "valid") == 0;
    invalid += sig != NULL && strcmp(sig, "invalid") == 0;
  }
  const cJSON *policy = get(ct, "policy");
  if (cJSON_AddNumberToObject(o, "count", count) == NULL ||
      (cJSON_IsArray(get(ct, "scts")) && get(ct, "log_list") != NULL &&
       !cJSON_IsNull(get(ct, "log_list")) &&
       (cJSON_AddNumberToObject(o, "signatures_valid", valid) == NULL ||
        cJSON_AddNumberToObject(o, "signatures_invalid", invalid) == NULL)))
    return CS_ENOMEM;
  return add_copy(o, "policy_compliant",
                  cJSON_IsTrue(get(policy, "evaluated")) ? get(policy, "compliant") : NULL);
}

static int add_ocsp(cJSON *line, const cJSON *report) {
  const cJSON *rev = get(report, "revocation");
  cJSON *o = cJSON_AddObjectToObject(line, "ocsp");
  if (o == NULL)
    return CS_ENOMEM;
  int err = add_str_or_null(o, "stapled", str(get(rev, "stapled_ocsp"), "cert_status"));
  if (!err)
    err = add_str_or_null(o, "fetched", str(get(rev, "fetched_ocsp"), "cert_status"));
  if (!err)
    err = add_copy(o, "crl_leaf_listed", get(get(rev, "crl"), "leaf_listed"));
  if (!err)
    err = add_copy(o, "stapling_observable", get(rev, "stapling_observable"));
  return err;
}

static int add_error(cJSON *errors, const char *code, const char *msg) {
  cJSON *e = cJSON_CreateObject();
  if (e == NULL)
    return CS_ENOMEM;
  cJSON_AddItemToArray(errors, e);
  return cJSON_AddStringToObject(e, "code", code) != NULL &&
                 cJSON_AddStringToObject(e, "message", msg != NULL ? msg : "") != NULL
             ? 0
             : CS_ENOMEM;
}

/* Every error finding's code, in the report's order (for fleet queries). */
static int add_error_codes(cJSON *line, const cJSON *report) {
  cJSON *arr = cJSON_AddArrayToObject(line, "error_codes");
  if (arr == NULL)
    return CS_ENOMEM;
  const cJSON *f;
  cJSON_ArrayForEach(f, get(report, "findings")) {
    const char *sev = str(f, "severity"), *code = str(f, "code");
    if (sev == NULL || code == NULL || strcmp(sev, "error") != 0)
      continue;
    cJSON *c = cJSON_CreateString(code);
    if (c == NULL)
      return CS_ENOMEM;
    cJSON_AddItemToArray(arr, c);
  }
  return 0;
}

/* The report's part of the line (connected hosts): the verdict is the
 * clients' (what `diagnose` exits with), the root cause the report's first
 * cause. */
static int add_report(cJSON *line, const cJSON *report, const cJSON *errors,
                      cs_scan_verdict_summary_t *sum) {
  const cJSON *verdict = get(report, "verdict");
  const char *overall = verdict_text(get(verdict, "clients_at"));
  const cJSON *cause = cJSON_GetArrayItem(get(report, "causes"), 0);
  snprintf(sum->verdict, sizeof sum->verdict, "%s", overall != NULL ? overall : "");
  if (cause != NULL && str(cause, "code") != NULL)
    snprintf(sum->root_cause, sizeof sum->root_cause, "%s", str(cause, "code"));
  int err = add_str_or_null(line, "verdict", overall);
  if (!err)
    err = add_clients(line, report);
  cJSON *rc = NULL;
  if (!err && cause != NULL) {
    if ((rc = cJSON_AddObjectToObject(line, "root_cause")) == NULL)
      err = CS_ENOMEM;
    if (!err)
      err = add_str_or_null(rc, "code", str(cause, "code"));
    if (!err)
      err = add_str_or_null(rc, "detail", str(cause, "detail"));
    if (!err)
      err = add_str_or_null(rc, "clients", str(cause, "clients"));
  } else if (!err) {
    err = add_copy(line, "root_cause", NULL);
  }
  if (!err)
    err = add_copy(line, "fix", cause != NULL ? get(cause, "fix") : NULL);
  if (!err)
    err = add_error_codes(line, report);
  if (!err)
    err = add_str_or_null(line, "worst_severity", str(verdict, "worst_severity"));
  if (!err)
    err = add_leaf(line, report);
  if (!err)
    err = add_sct(line, report);
  if (!err)
    err = add_ocsp(line, report);
  const cJSON *e;
  cJSON_ArrayForEach(e, get(get(report, "enrichment"), "errors")) {
    if (!err)
      err = add_error((cJSON *)errors, str(e, "code") ? str(e, "code") : "ENRICH_ERROR",
                      str(e, "message"));
  }
  return err;
}

static const char *capture_method(const cJSON *report) {
  /* A report that says how it was captured (a future TLS 1.3 probe) wins. */
  const char *m = str(get(report, "capture"), "method");
  return m != NULL ? m : CS_SCAN_CAPTURE_METHOD;
}

cJSON *cs_scan_line_json(const cs_scan_target_t *t, const char *raw,
                         const cs_diagnose_result_t *res, const char *err_code,
                         const char *err_msg, const char *const *clients, size_t nclients,
                         int64_t elapsed_ms, int64_t now_ms, cs_scan_verdict_summary_t *sum) {
  memset(sum, 0, sizeof *sum);
  cJSON *line = cJSON_CreateObject();
  cJSON *report = NULL;
  if (line == NULL)
    return NULL;
  char when[CS_TIME_STRLEN];
  cs_time_format(now_ms, when);
  int connected = res != NULL && res->connected && res->verdict.report_json != NULL;
  int err = cJSON_AddStringToObject(line, "key", t != NULL ? t->key : raw) == NULL ? CS_ENOMEM : 0;
  if (!err)
    err = add_str_or_null(line, "host", t != NULL ? t->host : NULL);
  if (!err && (t != NULL ? cJSON_AddNumberToObject(line, "port", t->port)
                         : cJSON_AddNullToObject(line, "port")) == NULL)
    err = CS_ENOMEM;
  if (!err)
    err = add_str_or_null(line, "sni", t != NULL && t->sni[0] ? t->sni : NULL);
  if (!err)
    err = add_str_or_null(line, "address", res != NULL && res->addr[0] ? res->addr : NULL);
  if (connected && (report = cJSON_Parse(res->verdict.report_json)) == NULL)
    err = CS_ENOMEM;
  if (!err)
    err = add_str_or_null(line, "capture_method",
                          !connected                    ? NULL
                          : res->capture_method != NULL ? res->capture_method
                                                        : capture_method(report));
  if (!err)
    err = add_str_or_null(line, "tls_version", connected ? res->tls_version : NULL);
  cJSON *errors = err ? NULL : cJSON_CreateArray();
  if (!err && errors == NULL)
    err = CS_ENOMEM;
  if (!err && connected) {
    err = add_report(line, report, errors, sum);
  } else if (!err) {
    const char *code = err_code != NULL ? err_code : res != NULL ? res->err_code : "SCAN_ERROR";
    const char *msg = err_msg != NULL ? err_msg : res != NULL ? res->err_msg : "";
    if (res != NULL && res->connected) /* connected, but the judgement failed */
      code = "SCAN_JUDGE_FAILED", msg = res->verdict.reasons;
    snprintf(sum->root_cause, sizeof sum->root_cause, "%s", code);
    err = add_error(errors, code, msg);
    if (!err)
      err = add_copy(line, "verdict", NULL);
    cJSON *arr = err ? NULL : cJSON_AddArrayToObject(line, "clients");
    for (size_t i = 0; arr != NULL && i < nclients; i++) {
      cJSON *c = cJSON_CreateObject();
      if (c == NULL || cJSON_AddStringToObject(c, "name", clients[i]) == NULL ||
          cJSON_AddNullToObject(c, "verdict") == NULL) {
        cJSON_Delete(c);
        err = CS_ENOMEM;
        break;
      }
      cJSON_AddItemToArray(arr, c);
    }
    if (!err && arr == NULL)
      err = CS_ENOMEM;
    if (!err)
      err = add_copy(line, "root_cause", NULL);
    if (!err)
      err = add_copy(line, "fix", NULL);
    if (!err && strcmp(code, "UPSTREAM_TLS13_ONLY") == 0)
      /* The chain and any staple travel encrypted in TLS 1.3. */
      err = cJSON_AddBoolToObject(line, "stapling_observable", 0) == NULL ? CS_ENOMEM : 0;
  }
  if (errors != NULL) {
    if (!err)
      cJSON_AddItemToObject(line, "errors", errors);
    else
      cJSON_Delete(errors);
  }
  if (!err && (cJSON_AddNumberToObject(line, "elapsed_ms", (double)elapsed_ms) == NULL ||
               cJSON_AddStringToObject(line, "scanned_at", when) == NULL))
    err = CS_ENOMEM;
  cJSON_Delete(report);
  if (err) {
    cJSON_Delete(line);
    return NULL;
  }
  return line;
}
