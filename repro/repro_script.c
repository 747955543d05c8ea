/* Strict parser of `certskew repro` scripts (see repro_script.h). */
#include "certskew/repro/repro_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "certskew/core/time.h"

/* Checks that every key of obj is one of allowed (NULL-terminated). */
static int only_keys(const cJSON *obj, const char *path, const char *const *allowed,
                     cs_errbuf_t *eb) {
  for (const cJSON *it = obj->child; it != NULL; it = it->next) {
    int ok = 0;
    for (size_t i = 0; allowed[i] != NULL && !ok; i++)
      ok = it->string != NULL && strcmp(it->string, allowed[i]) == 0;
    if (!ok)
      return cs_errbuf_set(eb, CS_EPARSE, "%s: unknown key \"%s\"", path,
                           it->string ? it->string : "");
  }
  return 0;
}

/* Copies a string member (optional unless required) into out. */
static int get_string(const cJSON *obj, const char *key, const char *path, int required,
                      char *out, size_t cap, cs_errbuf_t *eb) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (v == NULL)
    return required ? cs_errbuf_set(eb, CS_EPARSE, "%s: \"%s\" is required", path, key) : 0;
  if (!cJSON_IsString(v) || v->valuestring == NULL)
    return cs_errbuf_set(eb, CS_EPARSE, "%s.%s: must be a string", path, key);
  size_t n = strlen(v->valuestring);
  if (n == 0 || n >= cap)
    return cs_errbuf_set(eb, CS_EPARSE, "%s.%s: must be 1..%zu characters", path, key, cap - 1);
  memcpy(out, v->valuestring, n + 1);
  return 0;
}

static int get_bool(const cJSON *obj, const char *key, const char *path, int *out,
                    cs_errbuf_t *eb) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (v == NULL)
    return 0;
  if (!cJSON_IsBool(v))
    return cs_errbuf_set(eb, CS_EPARSE, "%s.%s: must be true or false", path, key);
  *out = cJSON_IsTrue(v);
  return 0;
}

/* "codes" style arrays: upper-case identifiers, no duplicates. */
static int get_codes(const cJSON *obj, const char *key, const char *path,
                     char codes[][CS_REPRO_CODE_MAX], size_t *n, int *present, cs_errbuf_t *eb) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  *n = 0;
  if (present != NULL)
    *present = v != NULL;
  if (v == NULL)
    return 0;
  if (!cJSON_IsArray(v))
    return cs_errbuf_set(eb, CS_EPARSE, "%s.%s: must be an array of codes", path, key);
  for (const cJSON *it = v->child; it != NULL; it = it->next) {
    const char *s = cJSON_IsString(it) ? it->valuestring : NULL;
    size_t len = s ? strlen(s) : 0;
    int ok = len > 0 && len < CS_REPRO_CODE_MAX;
    for (size_t i = 0; ok && i < len; i++)
      ok = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_';
    if (!ok)
      return cs_errbuf_set(eb, CS_EPARSE, "%s.%s[%zu]: not a finding code (A-Z, 0-9, _)", path,
                           key, *n);
    if (*n == CS_REPRO_MAX_CODES)
      return cs_errbuf_set(eb, CS_EPARSE, "%s.%s: more than %d codes", path, key,
                           CS_REPRO_MAX_CODES);
    for (size_t i = 0; i < *n; i++)
      if (strcmp(codes[i], s) == 0)
        return cs_errbuf_set(eb, CS_EPARSE, "%s.%s: %s listed twice", path, key, s);
    memcpy(codes[(*n)++], s, len + 1);
  }
  return 0;
}

/* "issued", "issued+62ms", "issued-1h" (relative) or an absolute instant. */
static int parse_at(const char *text, cs_repro_case_t *c) {
  static const char PREFIX[] = "issued";
  if (strncmp(text, PREFIX, sizeof(PREFIX) - 1) == 0) {
    const char *rest = text + sizeof(PREFIX) - 1;
    c->at_relative = 1;
    c->at_ms = 0;
    if (*rest == '\0')
      return 0;
    if (*rest != '+' && *rest != '-')
      return CS_EPARSE;
    return cs_duration_parse(rest, &c->at_ms) == 0 ? 0 : CS_EPARSE;
  }
  c->at_relative = 0;
  return cs_time_parse(text, &c->at_ms) == 0 ? 0 : CS_EPARSE;
}

static int parse_expect(const cJSON *e, const char *path, cs_repro_case_t *c, cs_errbuf_t *eb) {
  static const char *const KEYS[] = {"verdict", "codes", "codes_include", "codes_exclude",
                                     "warnings_include", "cause", NULL};
  char p[96], verdict[16];
  (void)snprintf(p, sizeof(p), "%s.expect", path);
  if (!cJSON_IsObject(e))
    return cs_errbuf_set(eb, CS_EPARSE, "%s: must be an object", p);
  int err = only_keys(e, p, KEYS, eb);
  if (err == 0)
    err = get_string(e, "verdict", p, 1, verdict, sizeof(verdict), eb);
  if (err != 0)
    return err;
  if (strcmp(verdict, "pass") != 0 && strcmp(verdict, "fail") != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "%s.verdict: \"pass\" or \"fail\", not \"%s\"", p,
                         verdict);
  c->expect_pass = verdict[0] == 'p';
  if ((err = get_codes(e, "codes", p, c->codes, &c->ncodes, &c->has_codes, eb)) != 0 ||
      (err = get_codes(e, "codes_include", p, c->include, &c->ninclude, NULL, eb)) != 0 ||
      (err = get_codes(e, "codes_exclude", p, c->exclude, &c->nexclude, NULL, eb)) != 0 ||
      (err = get_codes(e, "warnings_include", p, c->warnings, &c->nwarnings, NULL, eb)) != 0 ||
      (err = get_string(e, "cause", p, 0, c->cause, sizeof(c->cause), eb)) != 0)
    return err;
  if (c->cause[0] != '\0' && c->expect_pass)
    return cs_errbuf_set(eb, CS_EPARSE, "%s: a passing case has no cause", p);
  if (c->expect_pass && (c->ncodes > 0 || c->ninclude > 0))
    return cs_errbuf_set(eb, CS_EPARSE, "%s: a passing case has no error codes", p);
  if (!c->expect_pass && c->has_codes && c->ncodes == 0)
    return cs_errbuf_set(eb, CS_EPARSE, "%s: a failing case has at least one error code", p);
  return 0;
}

/* A "material" object: which of the client material to use. */
static int parse_material(const cJSON *m, const char *path, int *trust, int *log_list, int *crl,
                          cs_repro_ocsp_t *ocsp, cs_errbuf_t *eb) {
  static const char *const KEYS[] = {"trust", "log_list", "ocsp", "crl", NULL};
  char text[16] = "";
  if (!cJSON_IsObject(m))
    return cs_errbuf_set(eb, CS_EPARSE, "%s: must be an object", path);
  int err = only_keys(m, path, KEYS, eb);
  if (err == 0)
    err = get_bool(m, "trust", path, trust, eb);
  if (err == 0)
    err = get_bool(m, "log_list", path, log_list, eb);
  if (err == 0)
    err = get_bool(m, "crl", path, crl, eb);
  if (err == 0)
    err = get_string(m, "ocsp", path, 0, text, sizeof(text), eb);
  if (err != 0)
    return err;
  if (strcmp(text, "none") == 0)
    *ocsp = CS_REPRO_OCSP_NONE;
  else if (strcmp(text, "stapled") == 0)
    *ocsp = CS_REPRO_OCSP_STAPLED;
  else if (strcmp(text, "fetched") == 0)
    *ocsp = CS_REPRO_OCSP_FETCHED;
  else if (text[0] != '\0')
    return cs_errbuf_set(eb, CS_EPARSE, "%s.ocsp: \"none\", \"fetched\" or \"stapled\"", path);
  return 0;
}

static int expand_clocks(const cJSON *one, const cJSON *many, const char *path, size_t idx,
                         const cs_repro_case_t *basep, cs_repro_script_t *s, cs_errbuf_t *eb);

/* One case, expanded over its clocks into s->cases. */
static int parse_case(const cJSON *o, size_t idx, cs_repro_script_t *s, cs_errbuf_t *eb) {
  static const char *const KEYS[] = {"name", "clock", "clocks", "client", "at", "material",
                                     "expect", NULL};
  char path[48];
  (void)snprintf(path, sizeof(path), "cases[%zu]", idx);
  if (!cJSON_IsObject(o))
    return cs_errbuf_set(eb, CS_EPARSE, "%s: must be an object", path);
  cs_repro_case_t base;
  memset(&base, 0, sizeof(base));
  int err = only_keys(o, path, KEYS, eb);
  if (err == 0)
    err = get_string(o, "name", path, 0, base.name, sizeof(base.name), eb);
  if (err == 0)
    err = get_string(o, "at", path, 1, base.at_text, sizeof(base.at_text), eb);
  if (err != 0)
    return err;
  if (parse_at(base.at_text, &base) != 0)
    return cs_errbuf_set(eb, CS_EPARSE,
                         "%s.at: \"%s\" is neither an RFC 3339 time nor issued[+-]DURATION", path,
                         base.at_text);
  if ((err = parse_expect(cJSON_GetObjectItemCaseSensitive(o, "expect"), path, &base, eb)) != 0)
    return err;
  base.use_trust = s->use_trust;
  base.use_log_list = s->use_log_list;
  base.use_crl = s->use_crl;
  base.ocsp = s->ocsp;
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "material");
  char mpath[64];
  (void)snprintf(mpath, sizeof(mpath), "%s.material", path);
  if (m != NULL && (err = parse_material(m, mpath, &base.use_trust, &base.use_log_list,
                                         &base.use_crl, &base.ocsp, eb)) != 0)
    return err;
  char client[CS_CLIENT_NAME_MAX] = "";
  if ((err = get_string(o, "client", path, 0, client, sizeof(client), eb)) != 0)
    return err;
  if (client[0] != '\0') {
    cs_errbuf_t ceb;
    cs_errbuf_init(&ceb);
    if (cs_client_parse(&base.client, client, &ceb) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "%s.client: \"%.80s\": %s", path, client, ceb.msg);
    base.has_client = 1;
  } else if (base.cause[0] != '\0') {
    return cs_errbuf_set(eb, CS_EPARSE, "%s.expect.cause: needs a \"client\"", path);
  }
  const cJSON *one = cJSON_GetObjectItemCaseSensitive(o, "clock");
  const cJSON *many = cJSON_GetObjectItemCaseSensitive(o, "clocks");
  cJSON *exact = NULL;
  if (base.has_client && one == NULL && many == NULL)
    one = exact = cJSON_CreateString("exact"); /* the replay rows; the client decides */
  if (base.has_client && one == NULL && many == NULL)
    return cs_errbuf_set(eb, CS_ENOMEM, "out of memory");
  if ((one == NULL) == (many == NULL))
    return cs_errbuf_set(eb, CS_EPARSE, "%s: give exactly one of \"clock\" and \"clocks\"", path);
  err = expand_clocks(one, many, path, idx, &base, s, eb);
  cJSON_Delete(exact);
  return err;
}

static int expand_clocks(const cJSON *one, const cJSON *many, const char *path, size_t idx,
                         const cs_repro_case_t *basep, cs_repro_script_t *s, cs_errbuf_t *eb) {
  const cs_repro_case_t base = *basep;
  if (many != NULL && (!cJSON_IsArray(many) || cJSON_GetArraySize(many) == 0))
    return cs_errbuf_set(eb, CS_EPARSE, "%s.clocks: must be a non-empty array", path);
  const cJSON *it = one != NULL ? one : many->child;
  for (size_t k = 0; it != NULL; k++, it = one != NULL ? NULL : it->next) {
    if (!cJSON_IsString(it) || it->valuestring == NULL)
      return cs_errbuf_set(eb, CS_EPARSE, "%s.clock%s: must be a string", path,
                           one != NULL ? "" : "s[]");
    if (s->ncases == CS_REPRO_MAX_CASES)
      return cs_errbuf_set(eb, CS_ETOOBIG, "more than %d cases", CS_REPRO_MAX_CASES);
    if (s->ncases == s->cap) {
      size_t cap = s->cap ? 2 * s->cap : 16;
      cs_repro_case_t *grown = realloc(s->cases, cap * sizeof(*grown));
      if (grown == NULL)
        return cs_errbuf_set(eb, CS_ENOMEM, "out of memory");
      s->cases = grown;
      s->cap = cap;
    }
    cs_repro_case_t *c = &s->cases[s->ncases];
    *c = base;
    cs_errbuf_t ceb;
    cs_errbuf_init(&ceb);
    if (strlen(it->valuestring) >= sizeof(c->clock_text) ||
        cs_clock_parse(&c->clock, it->valuestring, &ceb) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "%s: clock \"%.80s\": %s", path, it->valuestring,
                           ceb.msg[0] ? ceb.msg : "too long");
    if (c->has_client)
      (void)snprintf(c->clock_text, sizeof(c->clock_text), "%.*s", (int)sizeof(c->clock_text) - 1,
                     c->client.name);
    else
      (void)snprintf(c->clock_text, sizeof(c->clock_text), "%s", it->valuestring);
    if (c->name[0] == '\0')
      (void)snprintf(c->name, sizeof(c->name), "#%zu", idx);
    s->ncases++;
  }
  return 0;
}

static int parse_scenario_inputs(const cJSON *root, cs_repro_script_t *s, cs_errbuf_t *eb) {
  char name[64], issued[64];
  int err = get_string(root, "scenario", "$", 1, name, sizeof(name), eb);
  if (err != 0)
    return err;
  if (cs_lab_scenario_find(name, &s->scenario) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "$.scenario: no scenario \"%s\" (see certskew lab --list)",
                         name);
  s->has_scenario = 1;
  (void)snprintf(issued, sizeof(issued), "%s", CS_REPRO_DEFAULT_ISSUED);
  if ((err = get_string(root, "issued", "$", 0, issued, sizeof(issued), eb)) != 0)
    return err;
  if (cs_time_parse(issued, &s->issued_ms) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "$.issued: \"%s\" is not an RFC 3339 time", issued);
  s->use_trust = s->use_log_list = s->use_crl = 1;
  s->ocsp = CS_REPRO_OCSP_FETCHED;
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "material");
  if (m == NULL)
    return 0;
  return parse_material(m, "$.material", &s->use_trust, &s->use_log_list, &s->use_crl, &s->ocsp,
                        eb);
}

static int parse_chain_inputs(const cJSON *root, cs_repro_script_t *s, cs_errbuf_t *eb) {
  int err = get_string(root, "chain", "$", 1, s->chain_path, sizeof(s->chain_path), eb);
  if (err == 0)
    err = get_string(root, "log_list", "$", 0, s->log_list_path, sizeof(s->log_list_path), eb);
  if (err == 0)
    err = get_string(root, "ocsp", "$", 0, s->ocsp_path, sizeof(s->ocsp_path), eb);
  if (err == 0)
    err = get_string(root, "crl", "$", 0, s->crl_path, sizeof(s->crl_path), eb);
  int stapled = 0;
  if (err == 0)
    err = get_bool(root, "ocsp_stapled", "$", &stapled, eb);
  if (err != 0)
    return err;
  s->use_log_list = s->log_list_path[0] != '\0';
  s->use_crl = s->crl_path[0] != '\0';
  s->ocsp = s->ocsp_path[0] == '\0' ? CS_REPRO_OCSP_NONE
            : stapled                ? CS_REPRO_OCSP_STAPLED
                                     : CS_REPRO_OCSP_FETCHED;
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "trust");
  if (t == NULL)
    return 0;
  if (!cJSON_IsArray(t))
    return cs_errbuf_set(eb, CS_EPARSE, "$.trust: must be an array of PEM file paths");
  for (const cJSON *it = t->child; it != NULL; it = it->next) {
    if (s->ntrust == CS_REPRO_MAX_TRUST)
      return cs_errbuf_set(eb, CS_EPARSE, "$.trust: more than %d files", CS_REPRO_MAX_TRUST);
    const char *p = cJSON_IsString(it) ? it->valuestring : NULL;
    if (p == NULL || p[0] == '\0' || strlen(p) >= CS_REPRO_PATH_MAX)
      return cs_errbuf_set(eb, CS_EPARSE, "$.trust[%zu]: must be a file path", s->ntrust);
    memcpy(s->trust_paths[s->ntrust++], p, strlen(p) + 1);
  }
  s->use_trust = s->ntrust > 0;
  return 0;
}

static int parse_root(const cJSON *root, cs_repro_script_t *s, cs_errbuf_t *eb) {
  static const char *const SCENARIO_KEYS[] = {"name", "description", "scenario", "issued",
                                              "host", "material", "cases", NULL};
  static const char *const CHAIN_KEYS[] = {"name", "description", "chain", "trust", "log_list",
                                           "ocsp", "ocsp_stapled", "crl", "host", "cases", NULL};
  if (!cJSON_IsObject(root))
    return cs_errbuf_set(eb, CS_EPARSE, "$: a script is a JSON object");
  int scenario = cJSON_GetObjectItemCaseSensitive(root, "scenario") != NULL;
  if (scenario == (cJSON_GetObjectItemCaseSensitive(root, "chain") != NULL))
    return cs_errbuf_set(eb, CS_EPARSE, "$: give exactly one of \"scenario\" and \"chain\"");
  int err = only_keys(root, "$", scenario ? SCENARIO_KEYS : CHAIN_KEYS, eb);
  if (err == 0)
    err = get_string(root, "name", "$", 0, s->name, sizeof(s->name), eb);
  if (err == 0)
    err = get_string(root, "host", "$", 0, s->host, sizeof(s->host), eb);
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "description");
  if (err == 0 && d != NULL && !cJSON_IsString(d))
    err = cs_errbuf_set(eb, CS_EPARSE, "$.description: must be a string");
  if (err == 0)
    err = scenario ? parse_scenario_inputs(root, s, eb) : parse_chain_inputs(root, s, eb);
  if (err != 0)
    return err;
  const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "cases");
  if (!cJSON_IsArray(cases) || cJSON_GetArraySize(cases) == 0)
    return cs_errbuf_set(eb, CS_EPARSE, "$.cases: must be a non-empty array");
  size_t i = 0;
  for (const cJSON *c = cases->child; c != NULL && err == 0; c = c->next)
    err = parse_case(c, i++, s, eb);
  return err;
}

int cs_repro_script_parse(cs_repro_script_t **out, const uint8_t *json, size_t len,
                          cs_errbuf_t *eb) {
  *out = NULL;
  if (json == NULL || len == 0)
    return cs_errbuf_set(eb, CS_EPARSE, "empty script");
  if (len > CS_REPRO_MAX_INPUT)
    return cs_errbuf_set(eb, CS_ETOOBIG, "script larger than %u bytes", CS_REPRO_MAX_INPUT);
  cJSON *root = cJSON_ParseWithLength((const char *)json, len);
  if (root == NULL)
    return cs_errbuf_set(eb, CS_EPARSE, "not valid JSON (near byte %zu)",
                         (size_t)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - (const char *)json
                                                      : 0));
  cs_repro_script_t *s = calloc(1, sizeof(*s)); /* owned by *out on success */
  int err = CS_ENOMEM;
  if (s != NULL)
    err = parse_root(root, s, eb);
  else
    (void)cs_errbuf_set(eb, CS_ENOMEM, "out of memory");
  cJSON_Delete(root);
  if (err != 0) {
    cs_repro_script_free(s);
    return err;
  }
  *out = s;
  return 0;
}

void cs_repro_script_free(cs_repro_script_t *s) {
  if (s == NULL)
    return;
  free(s->cases);
  free(s);
}
