/*
 * The report's "trust" section (cs_trust_result_to_json). Field names are
 * part of the report schema; see include/certskew/trust/trust.h.
 */
#include "certskew/core/json_time.h"
#include "trust_internal.h"

#include <stdio.h>

#include "certskew/core/time.h"

static const char *end_name(cs_trust_end_t end) {
  switch (end) {
  case CS_TRUST_END_ANCHOR:
    return "anchor";
  case CS_TRUST_END_UNTRUSTED_ROOT:
    return "untrusted_root";
  case CS_TRUST_END_INCOMPLETE:
    return "incomplete";
  case CS_TRUST_END_TOO_LONG:
    return "too_long";
  default:
    return "unknown";
  }
}

static const char *sig_name(cs_trust_sig_t sig) {
  switch (sig) {
  case CS_TRUST_SIG_OK:
    return "ok";
  case CS_TRUST_SIG_BAD:
    return "bad";
  case CS_TRUST_SIG_UNSUPPORTED:
    return "unsupported";
  case CS_TRUST_SIG_NOT_CHECKED:
    return "not_checked";
  default:
    return "unknown";
  }
}

/* Every instant in the one report encoding (json_time.h): unbounded ends
 * of a window are null. */
#define add_time cs_json_add_time

static int add_problems(cJSON *obj, unsigned problems) {
  cJSON *arr = cJSON_AddArrayToObject(obj, "problems");
  if (arr == NULL)
    return -1;
  for (unsigned bit = 1; bit != 0; bit <<= 1)
    if ((problems & bit) && !cJSON_AddItemToArray(arr, cJSON_CreateString(cs_trust_problem_code(bit))))
      return -1;
  return 0;
}

static int add_windows(const cs_trust_result_t *r, cJSON *obj, const cs_interval_t *w) {
  cJSON *arr = cJSON_AddArrayToObject(obj, "windows");
  if (arr == NULL)
    return -1;
  for (size_t c = 0; c < r->nclocks; c++) {
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(arr, o))
      return -1;
    if (cJSON_AddStringToObject(o, "clock", r->clocks[c].name) == NULL ||
        add_time(o, "from", w[c].from_ms) == NULL || add_time(o, "to", w[c].to_ms) == NULL)
      return -1;
  }
  return 0;
}

static int add_hop(const cs_trust_result_t *r, cJSON *arr, const cs_trust_hop_t *hop) {
  cJSON *o = cJSON_CreateObject();
  if (o == NULL || !cJSON_AddItemToArray(arr, o))
    return -1;
  char source[CS_TRUST_STORE_NAME_MAX + 16], fp[65];
  if (hop->served_index >= 0)
    snprintf(source, sizeof(source), "served#%d", hop->served_index);
  else
    snprintf(source, sizeof(source), "store:%s", cs_trust_store_name(r->stores[hop->store_index]));
  uint8_t digest[32];
  cs_cert_fingerprint(hop->cert, digest);
  for (int i = 0; i < 32; i++)
    snprintf(fp + 2 * i, 3, "%02x", digest[i]);
  if (cJSON_AddStringToObject(o, "subject", hop->cert->subject) == NULL ||
      cJSON_AddStringToObject(o, "issuer", hop->cert->issuer) == NULL ||
      cJSON_AddStringToObject(o, "source", source) == NULL ||
      cJSON_AddBoolToObject(o, "in_store", hop->in_store) == NULL ||
      cJSON_AddStringToObject(o, "sha256", fp) == NULL ||
      add_time(o, "not_before", hop->cert->not_before_ms) == NULL ||
      add_time(o, "not_after", hop->cert->not_after_ms) == NULL ||
      cJSON_AddStringToObject(o, "signature_algorithm", hop->sig_alg) == NULL ||
      cJSON_AddStringToObject(o, "signature", sig_name(hop->sig)) == NULL ||
      cJSON_AddBoolToObject(o, "cross_sign", hop->is_cross_sign) == NULL)
    return -1;
  if (add_problems(o, hop->problems) != 0)
    return -1;
  return add_windows(r, o, hop->windows);
}

static int add_path(const cs_trust_result_t *r, cJSON *arr, size_t i) {
  const cs_trust_path_t *p = &r->paths[i];
  cJSON *o = cJSON_CreateObject();
  if (o == NULL || !cJSON_AddItemToArray(arr, o))
    return -1;
  if (cJSON_AddNumberToObject(o, "index", (double)i) == NULL ||
      cJSON_AddStringToObject(o, "end", end_name(p->end)) == NULL ||
      cJSON_AddBoolToObject(o, "usable", cs_trust_path_usable(r, i)) == NULL)
    return -1;
  if (p->anchor_store >= 0
          ? cJSON_AddStringToObject(o, "anchor_store",
                                    cs_trust_store_name(r->stores[p->anchor_store])) == NULL
          : cJSON_AddNullToObject(o, "anchor_store") == NULL)
    return -1;
  if (add_problems(o, p->problems) != 0 || add_windows(r, o, p->windows) != 0)
    return -1;
  cJSON *hops = cJSON_AddArrayToObject(o, "hops");
  if (hops == NULL)
    return -1;
  for (size_t h = 0; h < p->nhops; h++)
    if (add_hop(r, hops, &p->hops[h]) != 0)
      return -1;
  return 0;
}

static int add_verdicts(const cs_trust_result_t *r, cJSON *root) {
  if (add_time(root, "at", r->at_ms) == NULL)
    return -1;
  cJSON *arr = cJSON_AddArrayToObject(root, "verdicts");
  if (arr == NULL)
    return -1;
  for (size_t c = 0; c < r->nclocks; c++) {
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(arr, o))
      return -1;
    int path = -1, path_ossl = -1;
    int pass = cs_trust_verdict_at(r, c, r->at_ms, CS_TRUST_RULE_RFC5280, &path);
    int pass_ossl = cs_trust_verdict_at(r, c, r->at_ms, CS_TRUST_RULE_OPENSSL, &path_ossl);
    int64_t believed;
    if (cJSON_AddStringToObject(o, "clock", r->clocks[c].name) == NULL ||
        cJSON_AddBoolToObject(o, "pass", pass == 1) == NULL)
      return -1;
    if (cs_clock_apply(&r->clocks[c], r->at_ms, &believed) == 0
            ? add_time(o, "believed", believed) == NULL
            : cJSON_AddNullToObject(o, "believed") == NULL)
      return -1;
    if (path >= 0 ? cJSON_AddNumberToObject(o, "path", path) == NULL
                  : cJSON_AddNullToObject(o, "path") == NULL)
      return -1;
    if (cJSON_AddBoolToObject(o, "pass_openssl", pass_ossl == 1) == NULL ||
        (path_ossl >= 0 ? cJSON_AddNumberToObject(o, "path_openssl", path_ossl) == NULL
                        : cJSON_AddNullToObject(o, "path_openssl") == NULL))
      return -1;
  }
  return 0;
}

static int add_stores(const cs_trust_result_t *r, cJSON *root) {
  cJSON *arr = cJSON_AddArrayToObject(root, "stores");
  if (arr == NULL)
    return -1;
  for (size_t s = 0; s < r->nstores; s++) {
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(arr, o) ||
        cJSON_AddStringToObject(o, "name", cs_trust_store_name(r->stores[s])) == NULL ||
        cJSON_AddNumberToObject(o, "certificates", (double)cs_trust_store_count(r->stores[s])) ==
            NULL)
      return -1;
  }
  return 0;
}

cJSON *cs_trust_result_to_json(const cs_trust_result_t *r) {
  if (r == NULL)
    return NULL;
  cJSON *root = cJSON_CreateObject(); /* owned by the caller */
  if (root == NULL)
    return NULL;
  int bad = add_stores(r, root) != 0;
  if (!bad && r->has_host)
    bad = cJSON_AddStringToObject(root, "hostname", r->host) == NULL ||
          cJSON_AddBoolToObject(root, "hostname_match", r->host_ok) == NULL ||
          (r->host_ok && cJSON_AddStringToObject(root, "hostname_matched_by", r->host_matched) == NULL);
  else if (!bad)
    bad = cJSON_AddNullToObject(root, "hostname") == NULL ||
          cJSON_AddNullToObject(root, "hostname_match") == NULL;
  if (!bad)
    bad = cJSON_AddBoolToObject(root, "truncated", r->truncated) == NULL;
  cJSON *paths = bad ? NULL : cJSON_AddArrayToObject(root, "paths");
  bad |= paths == NULL;
  for (size_t i = 0; !bad && i < r->npaths; i++)
    bad = add_path(r, paths, i) != 0;
  if (!bad && r->has_at)
    bad = add_verdicts(r, root) != 0;
  if (bad) {
    cJSON_Delete(root);
    return NULL;
  }
  return root;
}
