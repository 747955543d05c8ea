/*
 * Trust verdicts and diagnoses against `openssl verify -attime`.
 *
 * Each case generates its certificates with the openssl CLI (exact
 * validity bounds through `openssl ca -startdate/-enddate`), analyzes the
 * served chain against the store, and checks:
 *   - the expected diagnosis codes at the case's instant (and that no
 *     unexpected ERROR finding appears);
 *   - around every notBefore/notAfter of every certificate (T-1 s, T,
 *     T+1 s): our verdict for the exact clock under the OpenSSL validity rule
 *     equals `openssl verify -purpose sslserver -attime T`; under the RFC 5280
 *     rule it equals it everywhere except at T == notAfter, where OpenSSL
 *     already says "expired"; and the slow clock "-1h" at T equals openssl
 *     at T - 3600 s;
 *   - at millisecond resolution, the RFC 5280 verdict at notAfter + 999 ms
 *     equals the one at notAfter and notBefore - 1 ms equals notBefore - 1 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/trust/trust.h"
#include "cs_test.h"
#include "trust_fixtures.h"

#define T0 INT64_C(1767225600) /* 2026-01-01T00:00:00Z */
#define D INT64_C(86400)
#define SLOW_S 3600


typedef struct cert_spec {
  const char *name, *cn, *key, *issuer, *issuer_key;
  int64_t nb, na; /* epoch seconds, inclusive */
  const char *ext;
} cert_spec_t;

typedef struct tcase {
  const char *name;
  cert_spec_t certs[8];
  const char *served[6]; /* leaf first */
  const char *store[4];
  const char *host;
  int64_t at;                /* instant of the diagnosis, seconds */
  int pass_at;               /* expected verdict (exact clock) at `at` */
  int slow_fails_at;         /* 1 if the -1h clock must fail at `at` */
  const char *expect[4];     /* codes that must be present */
  const char *forbid[4];     /* codes that must be absent */
  size_t chosen_hops;        /* if > 0: hops of the path chosen at `at` */
  const char *evidence_value; /* if set: some evidence value of expect[0] equals it */
} tcase_t;

#define EXT_LEAF_BASE                                                                         \
  "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"                           \
  "subjectAltName=DNS:www.example.test,DNS:*.api.example.test,IP:127.0.0.1\n"                 \
  "authorityInfoAccess=caIssuers;URI:http://ca.example.test/inter.der\n"
#define EXT_LEAF EXT_LEAF_BASE "extendedKeyUsage=serverAuth"
#define ROOT(n, cn, nb, na) {n, cn, n, NULL, NULL, nb, na, CS_TF_EXT_CA}
#define CA(n, cn, key, iss, ikey, nb, na) {n, cn, key, iss, ikey, nb, na, CS_TF_EXT_CA}
#define LEAF(iss, ikey, nb, na) {"leaf", "www.example.test", "leaf", iss, ikey, nb, na, EXT_LEAF}
#define STD_ROOT ROOT("root", "Test Root", T0 - 400 * D, T0 + 3000 * D)
#define STD_INTER CA("inter", "Test Inter", "inter", "root", "root", T0 - 100 * D, T0 + 300 * D)
#define STD_LEAF LEAF("inter", "inter", T0 - 10 * D, T0 + 80 * D)
#define STD_CERTS STD_ROOT, STD_INTER, STD_LEAF
/* The standard intermediate with extra extension lines. */
#define CA_EXT(n, extra)                                                                      \
  {n, "Test Inter", "inter", "root", "root", T0 - 100 * D, T0 + 300 * D, CS_TF_EXT_CA "\n" extra}

static const tcase_t CASES[] = {
    {"valid", {STD_CERTS}, {"leaf", "inter"}, {"root"}, "www.example.test", T0, 1, 0,
     {NULL}, {"MISSING_INTERMEDIATE", "CHAIN_ORDER", "CHAIN_EXTRA_CERT", "ANCHOR_NOT_TRUSTED"},
     3, NULL},
    {"missing_intermediate", {STD_CERTS}, {"leaf"}, {"root"}, NULL, T0, 0, 1,
     {"MISSING_INTERMEDIATE"}, {"ANCHOR_NOT_TRUSTED"}, 0, "http://ca.example.test/inter.der"},
    {"chain_order",
     {STD_ROOT, CA("i1", "Inter One", "i1", "root", "root", T0 - 100 * D, T0 + 300 * D),
      CA("i2", "Inter Two", "i2", "i1", "i1", T0 - 90 * D, T0 + 200 * D),
      LEAF("i2", "i2", T0 - 10 * D, T0 + 80 * D)},
     {"leaf", "i1", "i2"}, {"root"}, NULL, T0, 1, 0, {"CHAIN_ORDER"}, {"CHAIN_EXTRA_CERT"}, 4,
     NULL},
    {"extra_cert", {STD_CERTS, ROOT("stray", "Stray CA", T0 - 10 * D, T0 + 10 * D)},
     {"leaf", "inter", "stray"}, {"root"}, NULL, T0, 1, 0, {"CHAIN_EXTRA_CERT"}, {"CHAIN_ORDER"},
     3, NULL},
    {"anchor_not_trusted", {STD_CERTS, ROOT("other", "Other Root", T0 - 10 * D, T0 + 900 * D)},
     {"leaf", "inter", "root"}, {"other"}, NULL, T0, 0, 1, {"ANCHOR_NOT_TRUSTED"},
     {"ANCHOR_EXPIRED", "MISSING_INTERMEDIATE"}, 0, NULL},
    {"untrusted_and_expired",
     {ROOT("root", "Old Root", T0 - 3000 * D, T0 - 5 * D), STD_INTER, STD_LEAF,
      ROOT("other", "Other Root", T0 - 10 * D, T0 + 900 * D)},
     {"leaf", "inter", "root"}, {"other"}, NULL, T0, 0, 1, {"ANCHOR_NOT_TRUSTED", "ANCHOR_EXPIRED"},
     {NULL}, 0, NULL},
    /* The 2021 Let's Encrypt case: ISRG Root X1 self-signed and cross-signed
     * by DST Root CA X3, which expired. */
    {"dst_anchor_expired",
     {ROOT("dst", "DST Root", T0 - 3000 * D, T0 - 1 * D),
      ROOT("x1", "X1 Root", T0 - 1000 * D, T0 + 3000 * D),
      CA("x1cross", "X1 Root", "x1", "dst", "dst", T0 - 900 * D, T0 + 500 * D),
      CA("r3", "R3", "r3", "x1", "x1", T0 - 100 * D, T0 + 300 * D), LEAF("r3", "r3", T0 - 10 * D, T0 + 80 * D)},
     {"leaf", "r3", "x1cross"}, {"dst"}, NULL, T0, 0, 1, {"ANCHOR_EXPIRED"},
     {"CROSS_SIGN_EXPIRED", "ANCHOR_NOT_TRUSTED"}, 0, NULL},
    {"dst_with_new_root",
     {ROOT("dst", "DST Root", T0 - 3000 * D, T0 - 1 * D),
      ROOT("x1", "X1 Root", T0 - 1000 * D, T0 + 3000 * D),
      CA("x1cross", "X1 Root", "x1", "dst", "dst", T0 - 900 * D, T0 + 500 * D),
      CA("r3", "R3", "r3", "x1", "x1", T0 - 100 * D, T0 + 300 * D), LEAF("r3", "r3", T0 - 10 * D, T0 + 80 * D)},
     {"leaf", "r3", "x1cross"}, {"dst", "x1"}, NULL, T0, 1, 0, {NULL},
     {"ANCHOR_EXPIRED", "CROSS_SIGN_EXPIRED"}, 3, NULL},
    {"cross_sign_expired",
     {ROOT("dst", "DST Root", T0 - 3000 * D, T0 + 3000 * D),
      ROOT("x1", "X1 Root", T0 - 1000 * D, T0 + 3000 * D),
      CA("x1cross", "X1 Root", "x1", "dst", "dst", T0 - 900 * D, T0 - 2 * D),
      CA("r3", "R3", "r3", "x1", "x1", T0 - 100 * D, T0 + 300 * D), LEAF("r3", "r3", T0 - 10 * D, T0 + 80 * D)},
     /* The self-signed X1 is served last (as some servers did): it is how
      * certskew knows x1cross is a cross-sign, and OpenSSL tries x1cross
      * first because it comes first among the untrusted certificates. */
     {"leaf", "r3", "x1cross", "x1"}, {"dst"}, NULL, T0, 0, 1, {"CROSS_SIGN_EXPIRED"},
     {"ANCHOR_EXPIRED", "INTERMEDIATE_EXPIRED"}, 0, NULL},
    {"intermediate_not_yet_valid_for_slow_clock",
     {STD_ROOT, CA("inter", "Test Inter", "inter", "root", "root", T0, T0 + 300 * D),
      LEAF("inter", "inter", T0 - 1 * D, T0 + 80 * D)},
     {"leaf", "inter"}, {"root"}, NULL, T0 + 600, 1, 1, {"INTERMEDIATE_NOT_YET_VALID"}, {NULL}, 3,
     NULL},
    {"hostname_mismatch", {STD_CERTS}, {"leaf", "inter"}, {"root"}, "mail.example.test", T0, 0, 1,
     {"HOSTNAME_MISMATCH"}, {NULL}, 0, "mail.example.test"},
    {"hostname_wildcard", {STD_CERTS}, {"leaf", "inter"}, {"root"}, "v1.api.example.test", T0, 1,
     0, {NULL}, {"HOSTNAME_MISMATCH"}, 3, NULL},
    {"hostname_wildcard_two_labels", {STD_CERTS}, {"leaf", "inter"}, {"root"},
     "a.v1.api.example.test", T0, 0, 1, {"HOSTNAME_MISMATCH"}, {NULL}, 0, NULL},
    {"hostname_ip", {STD_CERTS}, {"leaf", "inter"}, {"root"}, "127.0.0.1", T0, 1, 0, {NULL},
     {"HOSTNAME_MISMATCH"}, 3, NULL},
    {"hostname_ip_mismatch", {STD_CERTS}, {"leaf", "inter"}, {"root"}, "127.0.0.2", T0, 0, 1,
     {"HOSTNAME_MISMATCH"}, {NULL}, 0, NULL},
    {"lifetime_too_long", {STD_ROOT, STD_INTER, LEAF("inter", "inter", T0 - 10 * D, T0 + 400 * D)},
     {"leaf", "inter"}, {"root"}, NULL, T0, 1, 0, {"LIFETIME_TOO_LONG"}, {NULL}, 3, NULL},
    {"bad_signature",
     {STD_ROOT, STD_INTER,
      CA("fake", "Test Inter", "fakekey", "root", "root", T0 - 100 * D, T0 + 300 * D),
      LEAF("fake", "fakekey", T0 - 10 * D, T0 + 80 * D)},
     {"leaf", "inter"}, {"root"}, NULL, T0, 0, 1, {"BAD_SIGNATURE"}, {NULL}, 0, NULL},
    {"not_a_ca",
     {STD_ROOT,
      {"inter", "Test Inter", "inter", "root", "root", T0 - 100 * D, T0 + 300 * D,
       "basicConstraints=critical,CA:FALSE"},
      STD_LEAF},
     {"leaf", "inter"}, {"root"}, NULL, T0, 0, 1, {"NOT_A_CA"}, {NULL}, 0, NULL},
    {"ca_key_usage",
     {STD_ROOT,
      {"inter", "Test Inter", "inter", "root", "root", T0 - 100 * D, T0 + 300 * D,
       "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature"},
      STD_LEAF},
     {"leaf", "inter"}, {"root"}, NULL, T0, 0, 1, {"KEY_USAGE_INVALID"}, {NULL}, 0, NULL},
    {"leaf_eku_client_only",
     {STD_ROOT, STD_INTER,
      {"leaf", "www.example.test", "leaf", "inter", "inter", T0 - 10 * D, T0 + 80 * D,
       EXT_LEAF_BASE "extendedKeyUsage=clientAuth"}},
     {"leaf", "inter"}, {"root"}, NULL, T0, 0, 1, {"EKU_INVALID"}, {NULL}, 0, NULL},
    {"pathlen_exceeded",
     {{"root", "Test Root", "root", NULL, NULL, T0 - 400 * D, T0 + 3000 * D,
       "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign"},
      STD_INTER, STD_LEAF},
     {"leaf", "inter"}, {"root"}, NULL, T0, 0, 1, {"PATH_LENGTH_EXCEEDED"}, {NULL}, 0, NULL},
    {"name_constraints_permitted",
     {STD_ROOT, CA_EXT("inter", "nameConstraints=critical,permitted;DNS:example.test"), STD_LEAF},
     {"leaf", "inter"}, {"root"}, NULL, T0, 1, 0, {NULL}, {"NAME_CONSTRAINTS_VIOLATION"}, 3,
     NULL},
    {"name_constraints_outside_permitted",
     {STD_ROOT, CA_EXT("inter", "nameConstraints=critical,permitted;DNS:other.test"), STD_LEAF},
     {"leaf", "inter"}, {"root"}, NULL, T0, 0, 1, {"NAME_CONSTRAINTS_VIOLATION"}, {NULL}, 0,
     NULL},
    {"name_constraints_excluded_wildcard",
     {STD_ROOT, CA_EXT("inter", "nameConstraints=critical,excluded;DNS:api.example.test"),
      STD_LEAF},
     {"leaf", "inter"}, {"root"}, NULL, T0, 0, 1, {"NAME_CONSTRAINTS_VIOLATION"}, {NULL}, 0,
     NULL},
    {"name_constraints_ip",
     {STD_ROOT, CA_EXT("inter", "nameConstraints=critical,permitted;IP:192.0.2.0/255.255.255.0"),
      STD_LEAF},
     {"leaf", "inter"}, {"root"}, NULL, T0, 0, 1, {"NAME_CONSTRAINTS_VIOLATION"}, {NULL}, 0,
     NULL},
    {"name_constraints_email_unchecked",
     {STD_ROOT, CA_EXT("inter", "nameConstraints=critical,permitted;email:example.test"),
      STD_LEAF},
     {"leaf", "inter"}, {"root"}, NULL, T0, 1, 0, {"NAME_CONSTRAINTS_UNCHECKED"},
     {"NAME_CONSTRAINTS_VIOLATION"}, 3, NULL},
};

static int has_evidence_value(cs_findings_t *f, const char *code, const char *value) {
  for (size_t i = 0; i < cs_findings_count(f); i++) {
    const cs_finding_t *x = cs_findings_get(f, i);
    if (strcmp(x->code, code) != 0)
      continue;
    for (size_t e = 0; e < x->nevidence; e++)
      if (strcmp(x->evidence[e].value, value) == 0)
        return 1;
  }
  return 0;
}

static int in_list(const char *const *list, size_t n, const char *code) {
  for (size_t i = 0; i < n && list[i] != NULL; i++)
    if (strcmp(list[i], code) == 0)
      return 1;
  return 0;
}

static size_t count(const char *const *list, size_t max) {
  size_t n = 0;
  while (n < max && list[n] != NULL)
    n++;
  return n;
}

/* Verdicts around every bound against openssl. */
static void check_bounds(const tcase_t *tc, cs_tf_t *tf, const cs_trust_result_t *r,
                         const char *untrusted) {
  for (size_t k = 0; k < 8 && tc->certs[k].name != NULL; k++) {
    for (int which = 0; which < 2; which++) {
      int64_t bound = which == 0 ? tc->certs[k].nb : tc->certs[k].na;
      for (int64_t t = bound - 1; t <= bound + 1; t++) {
        int theirs = cs_tf_openssl_verify(tf, "leafonly.pem", untrusted, "store.pem", t, tc->host);
        int ours = cs_trust_verdict_at(r, 0, t * 1000, CS_TRUST_RULE_OPENSSL, NULL);
        CS_CHECK_MSG(ours == theirs, "%s: %s %s=%lld t=%lld: ours %d openssl %d", tc->name,
              tc->certs[k].name, which ? "notAfter" : "notBefore", (long long)bound, (long long)t,
              ours, theirs);
        int rfc = cs_trust_verdict_at(r, 0, t * 1000, CS_TRUST_RULE_RFC5280, NULL);
        int at_not_after = 0;
        for (size_t j = 0; j < 8 && tc->certs[j].name != NULL; j++)
          at_not_after |= tc->certs[j].na == t;
        if (!at_not_after)
          CS_CHECK_MSG(rfc == theirs, "%s: RFC rule t=%lld: ours %d openssl %d", tc->name,
                (long long)t, rfc, theirs);
        /* Inclusive notAfter at ms resolution: the whole last second counts. */
        CS_CHECK_MSG(cs_trust_verdict_at(r, 0, t * 1000 + 999, CS_TRUST_RULE_RFC5280, NULL) == rfc,
              "%s: t=%lld +999ms differs", tc->name, (long long)t);
        int slow_theirs =
            cs_tf_openssl_verify(tf, "leafonly.pem", untrusted, "store.pem", t - SLOW_S, tc->host);
        int slow_ours = cs_trust_verdict_at(r, 1, t * 1000, CS_TRUST_RULE_OPENSSL, NULL);
        CS_CHECK_MSG(slow_ours == slow_theirs, "%s: -1h clock t=%lld: ours %d openssl(t-3600) %d",
              tc->name, (long long)t, slow_ours, slow_theirs);
      }
    }
  }
}

static void run_case(const tcase_t *tc, const cs_clock_t *clocks) {
  cs_tf_t tf;
  cs_chain_t *chain = NULL;
  cs_trust_store_t *store = NULL;
  cs_trust_result_t *r = NULL;
  cs_findings_t *f = cs_findings_new();
  uint8_t *served = NULL, *storebuf = NULL;
  CS_CHECK_MSG(f != NULL && cs_tf_init(&tf) == 0, "%s: setup", tc->name);
  for (size_t k = 0; k < 8 && tc->certs[k].name != NULL; k++) {
    const cert_spec_t *c = &tc->certs[k];
    CS_CHECK_MSG(cs_tf_issue(&tf, c->name, c->cn, c->key, c->issuer, c->issuer_key, c->nb, c->na, c->ext) == 0,
          "%s: issuing %s", tc->name, c->name);
  }
  size_t nserved = count(tc->served, 6), nstore = count(tc->store, 4);
  const char *untrusted = nserved > 1 ? "untrusted.pem" : NULL;
  CS_CHECK_MSG(cs_tf_bundle(&tf, "served.pem", tc->served, nserved) == 0 &&
            cs_tf_bundle(&tf, "leafonly.pem", tc->served, 1) == 0 &&
            cs_tf_bundle(&tf, "untrusted.pem", tc->served + 1, nserved - 1) == 0 &&
            cs_tf_bundle(&tf, "store.pem", tc->store, nstore) == 0,
        "%s: bundles", tc->name);
  size_t served_len = 0, store_len = 0;
  served = cs_tf_read(&tf, "served.pem", &served_len);
  storebuf = cs_tf_read(&tf, "store.pem", &store_len);
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  size_t added = 0, skipped = 0;
  if (served == NULL || storebuf == NULL || cs_chain_load(&chain, served, served_len, &eb) != 0 ||
      cs_trust_store_new(&store, "test store") != 0 ||
      cs_trust_store_add(store, storebuf, store_len, &added, &skipped, &eb) != 0) {
    CS_CHECK_MSG(0, "%s: loading: %s", tc->name, eb.msg);
    goto out;
  }
  CS_CHECK_MSG(added == nstore && skipped == 0, "%s: store added %zu skipped %zu", tc->name, added,
        skipped);
  const cs_trust_store_t *stores[1] = {store};
  int err = cs_trust_analyze(&r, chain, stores, 1, tc->host, clocks, 2, 1, tc->at * 1000, f);
  CS_CHECK_MSG(err == 0, "%s: analyze %d", tc->name, err);
  if (err != 0)
    goto out;
  int path = -1;
  int v = cs_trust_verdict_at(r, 0, tc->at * 1000, CS_TRUST_RULE_RFC5280, &path);
  CS_CHECK_MSG(v == tc->pass_at, "%s: verdict %d, expected %d", tc->name, v, tc->pass_at);
  CS_CHECK_MSG(cs_tf_openssl_verify(&tf, "leafonly.pem", untrusted, "store.pem", tc->at, tc->host) ==
            tc->pass_at,
        "%s: openssl disagrees with the expected verdict at the instant", tc->name);
  int slow = cs_trust_verdict_at(r, 1, tc->at * 1000, CS_TRUST_RULE_RFC5280, NULL);
  CS_CHECK_MSG(slow == !tc->slow_fails_at, "%s: slow clock verdict %d", tc->name, slow);
  if (tc->chosen_hops > 0)
    CS_CHECK_MSG(path >= 0 && cs_trust_path(r, (size_t)path)->nhops == tc->chosen_hops,
          "%s: chosen path %d has %zu hops, expected %zu", tc->name, path,
          path >= 0 ? cs_trust_path(r, (size_t)path)->nhops : 0, tc->chosen_hops);
  for (size_t i = 0; i < 4 && tc->expect[i] != NULL; i++)
    CS_CHECK_MSG(cs_findings_has(f, tc->expect[i]), "%s: expected finding %s", tc->name, tc->expect[i]);
  for (size_t i = 0; i < 4 && tc->forbid[i] != NULL; i++)
    CS_CHECK_MSG(!cs_findings_has(f, tc->forbid[i]), "%s: unexpected finding %s", tc->name,
          tc->forbid[i]);
  for (size_t i = 0; i < cs_findings_count(f); i++) {
    const cs_finding_t *x = cs_findings_get(f, i);
    CS_CHECK_MSG(x->severity != CS_SEV_ERROR || in_list(tc->expect, 4, x->code),
          "%s: unexpected ERROR finding %s: %s", tc->name, x->code, x->summary);
  }
  if (tc->evidence_value != NULL)
    CS_CHECK_MSG(has_evidence_value(f, tc->expect[0], tc->evidence_value), "%s: evidence %s missing",
          tc->name, tc->evidence_value);
  cJSON *json = cs_trust_result_to_json(r);
  CS_CHECK_MSG(json != NULL && cJSON_GetObjectItem(json, "paths") != NULL &&
            cJSON_GetArraySize(cJSON_GetObjectItem(json, "verdicts")) == 2,
        "%s: JSON", tc->name);
  cJSON_Delete(json);
  check_bounds(tc, &tf, r, untrusted);
out:
  cs_trust_result_free(r);
  cs_trust_store_free(store);
  cs_chain_free(chain);
  cs_findings_free(f);
  free(served);
  free(storebuf);
  cs_tf_cleanup(&tf);
}

int main(void) {
  cs_clock_t clocks[2];
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_clock_parse(&clocks[0], "exact", &eb) != 0 || cs_clock_parse(&clocks[1], "-1h", &eb) != 0) {
    fprintf(stderr, "clock parse: %s\n", eb.msg);
    return 1;
  }
  const char *only = getenv("CS_TRUST_CASE");
  for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
    if (only != NULL && strcmp(only, CASES[i].name) != 0)
      continue;
    int before = cs_test_failures;
    run_case(&CASES[i], clocks);
    printf("%-45s %s\n", CASES[i].name, cs_test_failures == before ? "ok" : "FAILED");
  }
  return cs_test_done(__FILE__);
}
