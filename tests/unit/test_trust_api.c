/*
 * Trust analyzer API: argument checking, several stores side by side, a
 * served root, an intermediate only the store has, windows under shifted
 * clocks (each path window is the intersection of its hops' windows), the
 * problem code table and the JSON section. Certificates come from openssl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/core/time.h"
#include "certskew/trust/trust.h"
#include "cs_test.h"
#include "trust_fixtures.h"


#define T0 INT64_C(1767225600)
#define D INT64_C(86400)

static cs_tf_t tf;
static cs_clock_t clocks[3];

static cs_chain_t *load_chain(const char *const *names, size_t n) {
  cs_chain_t *chain = NULL;
  size_t len = 0;
  if (cs_tf_bundle(&tf, "c.pem", names, n) != 0)
    return NULL;
  uint8_t *buf = cs_tf_read(&tf, "c.pem", &len);
  if (buf == NULL || cs_chain_load(&chain, buf, len, NULL) != 0)
    chain = NULL;
  free(buf);
  return chain;
}

static cs_trust_store_t *load_store(const char *name, const char *const *names, size_t n) {
  cs_trust_store_t *store = NULL;
  size_t len = 0;
  if (cs_tf_bundle(&tf, "s.pem", names, n) != 0)
    return NULL;
  uint8_t *buf = cs_tf_read(&tf, "s.pem", &len);
  if (buf == NULL || cs_trust_store_new(&store, name) != 0 ||
      cs_trust_store_add(store, buf, len, NULL, NULL, NULL) != 0) {
    cs_trust_store_free(store);
    store = NULL;
  }
  free(buf);
  return store;
}

static const cs_finding_t *find(cs_findings_t *f, const char *code) {
  for (size_t i = 0; i < cs_findings_count(f); i++)
    if (strcmp(cs_findings_get(f, i)->code, code) == 0)
      return cs_findings_get(f, i);
  return NULL;
}

static void bad_arguments(const cs_chain_t *chain, const cs_trust_store_t *store) {
  const cs_trust_store_t *stores[1] = {store};
  const cs_trust_store_t *null_store[1] = {NULL};
  cs_trust_result_t *r = (cs_trust_result_t *)&tf; /* must be reset to NULL */
  CS_CHECK_MSG(cs_trust_analyze(&r, NULL, stores, 1, NULL, clocks, 1, 0, 0, NULL) == CS_EINVAL &&
            r == NULL,
        "NULL chain");
  CS_CHECK_MSG(cs_trust_analyze(&r, chain, stores, 1, NULL, clocks, 0, 0, 0, NULL) == CS_EINVAL,
        "no clocks");
  CS_CHECK_MSG(cs_trust_analyze(&r, chain, stores, 1, NULL, clocks, CS_REPLAY_MAX_CLOCKS + 1, 0, 0,
                         NULL) == CS_EINVAL,
        "too many clocks");
  CS_CHECK_MSG(cs_trust_analyze(&r, chain, NULL, 1, NULL, clocks, 1, 0, 0, NULL) == CS_EINVAL,
        "NULL stores");
  CS_CHECK_MSG(cs_trust_analyze(&r, chain, null_store, 1, NULL, clocks, 1, 0, 0, NULL) == CS_EINVAL &&
            r == NULL,
        "NULL store");
  CS_CHECK_MSG(cs_trust_analyze(&r, chain, stores, 1, "", clocks, 1, 0, 0, NULL) == CS_EINVAL,
        "empty hostname");
  CS_CHECK_MSG(cs_trust_analyze(NULL, chain, stores, 1, NULL, clocks, 1, 0, 0, NULL) == CS_EINVAL,
        "NULL out");
  CS_CHECK_MSG(cs_trust_verdict_at(NULL, 0, 0, CS_TRUST_RULE_RFC5280, NULL) == CS_EINVAL, "NULL r");
  CS_CHECK_MSG(cs_trust_result_to_json(NULL) == NULL, "json NULL");
  cs_trust_result_free(NULL);
}

static void problem_codes(void) {
  for (unsigned bit = 1; bit <= CS_TRUST_P_NAME_CONSTRAINTS_VIOLATED; bit <<= 1)
    CS_CHECK_MSG(strcmp(cs_trust_problem_code(bit), "UNKNOWN") != 0, "bit %u has no code", bit);
  CS_CHECK_MSG(strcmp(cs_trust_problem_code(1u << 20), "UNKNOWN") == 0, "unknown bit");
  CS_CHECK_MSG(strcmp(cs_trust_problem_code(CS_TRUST_P_EKU), "EKU_INVALID") == 0, "EKU code");
}

/* Two stores side by side: the anchor is found in the second. */
static void several_stores(const cs_chain_t *chain, cs_trust_store_t *other,
                           cs_trust_store_t *good) {
  const cs_trust_store_t *stores[2] = {other, good};
  cs_trust_result_t *r = NULL;
  cs_findings_t *f = cs_findings_new();
  CS_CHECK_MSG(cs_trust_analyze(&r, chain, stores, 2, "www.example.test", clocks, 3, 1, T0 * 1000, f) ==
            0,
        "analyze");
  if (r == NULL)
    goto out;
  const cs_trust_path_t *p = cs_trust_path(r, 0);
  CS_CHECK_MSG(p != NULL && p->end == CS_TRUST_END_ANCHOR && p->anchor_store == 1 && p->nhops == 3,
        "anchor in store 1");
  CS_CHECK_MSG(cs_trust_hostname_ok(r) == 1, "hostname");
  CS_CHECK_MSG(cs_trust_nclocks(r) == 3 && cs_trust_clock(r, 3) == NULL, "clocks");
  CS_CHECK_MSG(cs_trust_verdict_at(r, 3, T0 * 1000, CS_TRUST_RULE_RFC5280, NULL) == CS_EINVAL,
        "clock out of range");
  /* Every path window is the intersection of its hops' windows, and for a
   * clock running 90 s fast a certificate becomes valid 90 s earlier. */
  for (size_t i = 0; i < cs_trust_npaths(r); i++) {
    const cs_trust_path_t *q = cs_trust_path(r, i);
    for (size_t c = 0; c < 3; c++) {
      int64_t from = CS_TIME_NEG_INF, to = CS_TIME_POS_INF;
      for (size_t h = 0; h < q->nhops; h++) {
        from = q->hops[h].windows[c].from_ms > from ? q->hops[h].windows[c].from_ms : from;
        to = q->hops[h].windows[c].to_ms < to ? q->hops[h].windows[c].to_ms : to;
      }
      CS_CHECK_MSG(q->windows[c].from_ms == from && q->windows[c].to_ms == to, "path %zu clock %zu", i, c);
    }
    const cs_cert_info_t *leaf = q->hops[0].cert;
    CS_CHECK_MSG(q->hops[0].windows[0].from_ms == leaf->not_before_ms &&
              q->hops[0].windows[0].to_ms == leaf->valid_until_ms + 1,
          "exact window");
    CS_CHECK_MSG(q->hops[0].windows[1].from_ms == leaf->not_before_ms - 90000 &&
              q->hops[0].windows[1].to_ms == leaf->valid_until_ms + 1 - 90000,
          "+90s window");
  }
  cJSON *json = cs_trust_result_to_json(r);
  char *text = json ? cJSON_PrintUnformatted(json) : NULL;
  CS_CHECK_MSG(text != NULL && strstr(text, "\"anchor_store\":\"B\"") != NULL &&
            strstr(text, "\"source\":\"served#0\"") != NULL &&
            strstr(text, "\"source\":\"store:B\"") != NULL &&
            strstr(text, "\"signature\":\"not_checked\"") != NULL &&
            strstr(text, "\"signature\":\"ok\"") != NULL &&
            strstr(text, "\"pass_openssl\":true") != NULL &&
            strstr(text, "\"hostname_matched_by\":\"www.example.test\"") != NULL,
        "JSON: %s", text ? text : "(null)");
  free(text);
  cJSON_Delete(json);
out:
  cs_trust_result_free(r);
  cs_findings_free(f);
}

/* No store at all: nothing can be trusted. */
static void no_store(const cs_chain_t *chain_with_root) {
  cs_trust_result_t *r = NULL;
  cs_findings_t *f = cs_findings_new();
  CS_CHECK_MSG(cs_trust_analyze(&r, chain_with_root, NULL, 0, NULL, clocks, 1, 1, T0 * 1000, f) == 0,
        "analyze");
  CS_CHECK_MSG(r != NULL && cs_trust_verdict_at(r, 0, T0 * 1000, CS_TRUST_RULE_RFC5280, NULL) == 0,
        "fails");
  CS_CHECK_MSG(cs_findings_has(f, "ANCHOR_NOT_TRUSTED"), "ANCHOR_NOT_TRUSTED");
  cs_trust_result_free(r);
  cs_findings_free(f);
}

/* A served root that is also in the store is not an extra certificate. */
static void served_root(const cs_chain_t *chain_with_root, cs_trust_store_t *good) {
  const cs_trust_store_t *stores[1] = {good};
  cs_trust_result_t *r = NULL;
  cs_findings_t *f = cs_findings_new();
  CS_CHECK_MSG(cs_trust_analyze(&r, chain_with_root, stores, 1, NULL, clocks, 1, 1, T0 * 1000, f) == 0,
        "analyze");
  CS_CHECK_MSG(r != NULL && cs_trust_npaths(r) == 1 && cs_trust_path(r, 0)->hops[2].in_store,
        "one path, root in store");
  CS_CHECK_MSG(!cs_findings_has(f, "CHAIN_EXTRA_CERT") && !cs_findings_has(f, "CHAIN_ORDER"),
        "served root is fine");
  cs_trust_result_free(r);
  cs_findings_free(f);
}

/* Only the store has the intermediate: passes here, warns for other clients. */
static void completed_from_store(const cs_chain_t *leaf_only, cs_trust_store_t *with_inter) {
  const cs_trust_store_t *stores[1] = {with_inter};
  cs_trust_result_t *r = NULL;
  cs_findings_t *f = cs_findings_new();
  CS_CHECK_MSG(cs_trust_analyze(&r, leaf_only, stores, 1, NULL, clocks, 1, 1, T0 * 1000, f) == 0,
        "analyze");
  CS_CHECK_MSG(r != NULL && cs_trust_verdict_at(r, 0, T0 * 1000, CS_TRUST_RULE_RFC5280, NULL) == 1,
        "passes");
  const cs_finding_t *x = find(f, "MISSING_INTERMEDIATE");
  CS_CHECK_MSG(x != NULL && x->severity == CS_SEV_WARNING, "warning");
  cs_trust_result_free(r);
  cs_findings_free(f);
}

int main(void) {
  if (cs_tf_init(&tf) != 0 || cs_clock_parse(&clocks[0], "exact", NULL) != 0 ||
      cs_clock_parse(&clocks[1], "+90s", NULL) != 0 ||
      cs_clock_parse(&clocks[2], "trunc:1m", NULL) != 0)
    return 1;
  int ok = cs_tf_issue(&tf, "root", "Test Root", "root", NULL, NULL, T0 - 400 * D, T0 + 3000 * D,
                       CS_TF_EXT_CA) == 0 &&
           cs_tf_issue(&tf, "other", "Other Root", "other", NULL, NULL, T0 - 400 * D,
                       T0 + 3000 * D, CS_TF_EXT_CA) == 0 &&
           cs_tf_issue(&tf, "inter", "Test Inter", "inter", "root", "root", T0 - 100 * D,
                       T0 + 300 * D, CS_TF_EXT_CA) == 0 &&
           cs_tf_issue(&tf, "leaf", "www.example.test", "leaf", "inter", "inter", T0 - 10 * D,
                       T0 + 80 * D,
                       "basicConstraints=CA:FALSE\nsubjectAltName=DNS:www.example.test") == 0;
  const char *names_full[] = {"leaf", "inter", "root"};
  const char *s_other[] = {"other"}, *s_good[] = {"root"}, *s_inter[] = {"root", "inter"};
  cs_chain_t *full = ok ? load_chain(names_full, 3) : NULL;
  cs_chain_t *two = ok ? load_chain(names_full, 2) : NULL;
  cs_chain_t *one = ok ? load_chain(names_full, 1) : NULL;
  cs_trust_store_t *other = ok ? load_store("A", s_other, 1) : NULL;
  cs_trust_store_t *good = ok ? load_store("B", s_good, 1) : NULL;
  cs_trust_store_t *with_inter = ok ? load_store("C", s_inter, 2) : NULL;
  if (full == NULL || two == NULL || one == NULL || other == NULL || good == NULL ||
      with_inter == NULL) {
    fprintf(stderr, "fixture generation failed\n");
    return 1;
  }
  bad_arguments(two, good);
  problem_codes();
  several_stores(two, other, good);
  no_store(full);
  served_root(full, good);
  completed_from_store(one, with_inter);
  cs_chain_free(full);
  cs_chain_free(two);
  cs_chain_free(one);
  cs_trust_store_free(other);
  cs_trust_store_free(good);
  cs_trust_store_free(with_inter);
  cs_tf_cleanup(&tf);
  return cs_test_done(__FILE__);
}
