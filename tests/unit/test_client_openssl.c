/*
 * OpenSSL as the independent oracle for the `openssl` client profile:
 * certskew's verdict for that profile equals `openssl verify -attime T`
 * at T-1 s, T and T+1 s around every validity bound of every certificate
 * (at the first and the last millisecond of each second: the profile reads
 * whole seconds), on chains openssl made. And the 2021 cross-sign case
 * (leaf <- R3 <- X1 cross-signed by an expired DST root, served; X1 and DST
 * both in the store), with and without -no_alt_chains: OpenSSL 3 passes
 * either way (trusted-first is always on, so -no_alt_chains changes
 * nothing), as the openssl profile does; the openssl-1.0.2 profile
 * (untrusted-first) fails on the expired anchor. No 1.0.2 binary is run:
 * that profile's path rule is from its source (docs/clients.md).
 */
#include <string.h>

#include "certskew/analysis/analysis.h"
#include "certskew/store/file_io.h"
#include "cs_test.h"
#include "fixture.h"
#include "trust_fixtures.h"

#define T0 INT64_C(1767225600) /* 2026-01-01T00:00:00Z */
#define D INT64_C(86400)
#define EXT_LEAF                                                                              \
  "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"                           \
  "subjectAltName=DNS:www.example.test\nextendedKeyUsage=serverAuth"

typedef struct spec {
  const char *name, *cn, *key, *issuer, *issuer_key;
  int64_t nb, na;
  const char *ext;
} spec_t;

/* certskew's verdict for one client: 1 pass, 0 fail, -1 error; cause out. */
static int client_passes(cs_tf_t *tf, const char *served, const char *store, const char *client,
                         int64_t at_ms, const char **cause) {
  size_t chain_len = 0, store_len = 0;
  uint8_t *chain = cs_tf_read(tf, served, &chain_len);
  uint8_t *sbuf = cs_tf_read(tf, store, &store_len);
  cs_trust_store_t *st = NULL;
  cs_analysis_t *a = NULL;
  int result = -1;
  cs_client_t cl;
  if (chain == NULL || sbuf == NULL || cs_trust_store_new(&st, "oracle") != 0 ||
      cs_trust_store_add(st, sbuf, store_len, NULL, NULL, NULL) != 0 ||
      cs_client_parse(&cl, client, NULL) != 0)
    goto out;
  cs_clock_t exact;
  cs_clock_init_exact(&exact);
  const cs_trust_store_t *stores[1] = {st};
  cs_analysis_opts_t o = {.source = served, .clocks = &exact, .nclocks = 1, .has_at = 1,
                          .at_ms = at_ms, .trust_stores = stores, .ntrust_stores = 1,
                          .clients = &cl, .nclients = 1};
  if (cs_analyze(&a, chain, chain_len, &o, NULL) != 0)
    goto out;
  const cs_client_verdict_t *v = cs_analysis_client(a, 0);
  result = !v->fails_at;
  if (cause != NULL)
    *cause = v->cause; /* static string */
out:
  cs_analysis_free(a);
  cs_trust_store_free(st);
  free(chain);
  free(sbuf);
  return result;
}

static int issue_all(cs_tf_t *tf, const spec_t *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (cs_tf_issue(tf, s[i].name, s[i].cn, s[i].key, s[i].issuer, s[i].issuer_key, s[i].nb,
                    s[i].na, s[i].ext) != 0)
      return -1;
  return 0;
}

static void test_bounds_agree_with_openssl_verify(void) {
  static const spec_t certs[] = {
      {"root", "Oracle Root", "root", NULL, NULL, T0 - 400 * D, T0 + 3000 * D, CS_TF_EXT_CA},
      {"inter", "Oracle Inter", "inter", "root", "root", T0 - 100 * D, T0 + 300 * D, CS_TF_EXT_CA},
      {"leaf", "www.example.test", "leaf", "inter", "inter", T0 - 10 * D, T0 + 80 * D, EXT_LEAF},
  };
  cs_tf_t tf;
  CS_REQUIRE(cs_tf_init(&tf) == 0);
  const char *served[] = {"leaf", "inter"};
  const char *store[] = {"root"};
  CS_REQUIRE(issue_all(&tf, certs, 3) == 0);
  CS_REQUIRE(cs_tf_bundle(&tf, "served.pem", served, 2) == 0);
  CS_REQUIRE(cs_tf_bundle(&tf, "store.pem", store, 1) == 0);
  CS_REQUIRE(cs_tf_bundle(&tf, "inter_only.pem", served + 1, 1) == 0);
  size_t compared = 0;
  for (size_t i = 0; i < 3; i++) {
    int64_t bounds[2] = {certs[i].nb, certs[i].na};
    for (size_t b = 0; b < 2; b++) {
      for (int64_t d = -1; d <= 1; d++) {
        int64_t t = bounds[b] + d;
        int want = cs_tf_openssl_verify(&tf, "leaf.pem", "inter_only.pem", "store.pem", t, NULL);
        for (int64_t ms = 0; ms < 1000; ms += 999) {
          const char *cause = NULL;
          int got = client_passes(&tf, "served.pem", "store.pem", "openssl", t * 1000 + ms, &cause);
          CS_CHECK_MSG(got == want, "%s %s %+lld s (+%lld ms): openssl verify %d, profile %d (%s)",
                       certs[i].name, b ? "notAfter" : "notBefore", (long long)d, (long long)ms,
                       want, got, cause ? cause : "-");
          /* Same chain, same rules for 1.0.2: only path building differs. */
          got = client_passes(&tf, "served.pem", "store.pem", "openssl-1.0.2", t * 1000 + ms, NULL);
          CS_CHECK_MSG(got == want, "openssl-1.0.2 %s %s %+lld s: %d vs %d", certs[i].name,
                       b ? "notAfter" : "notBefore", (long long)d, want, got);
          compared++;
        }
      }
    }
  }
  CS_CHECK_EQ_I64(compared, 36);
  cs_tf_cleanup(&tf);
}

/* openssl verify with or without -no_alt_chains: 1 pass, 0 fail. */
static int openssl_verify_alt(cs_tf_t *tf, int no_alt, int64_t at_s) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "openssl verify -no-CApath -purpose sslserver %s -attime %lld -CAfile '%s/store.pem' "
           "-untrusted '%s/untrusted.pem' '%s/leaf.pem' >/dev/null 2>&1",
           no_alt ? "-no_alt_chains" : "", (long long)at_s, tf->dir, tf->dir, tf->dir);
  int rc = system(cmd);
  return rc == 0;
}

static void test_cross_sign_2021(void) {
  static const spec_t certs[] = {
      /* DST Root CA X3: expired 5 days before T0 (the leaf is valid then) */
      {"dst", "DST Root (test)", "dst", NULL, NULL, T0 - 3000 * D, T0 - 5 * D, CS_TF_EXT_CA},
      {"x1", "X1 Root (test)", "x1", NULL, NULL, T0 - 900 * D, T0 + 3000 * D, CS_TF_EXT_CA},
      /* X1 cross-signed by DST, itself still valid */
      {"x1cross", "X1 Root (test)", "x1", "dst", "dst", T0 - 900 * D, T0 + 500 * D, CS_TF_EXT_CA},
      {"r3", "R3 (test)", "r3", "x1", "x1", T0 - 400 * D, T0 + 400 * D, CS_TF_EXT_CA},
      {"leaf", "www.example.test", "leaf", "r3", "r3", T0 - 10 * D, T0 + 80 * D, EXT_LEAF},
  };
  cs_tf_t tf;
  CS_REQUIRE(cs_tf_init(&tf) == 0);
  CS_REQUIRE(issue_all(&tf, certs, 5) == 0);
  const char *served[] = {"leaf", "r3", "x1cross"};
  const char *store[] = {"x1", "dst"};
  CS_REQUIRE(cs_tf_bundle(&tf, "served.pem", served, 3) == 0);
  CS_REQUIRE(cs_tf_bundle(&tf, "untrusted.pem", served + 1, 2) == 0);
  CS_REQUIRE(cs_tf_bundle(&tf, "store.pem", store, 2) == 0);
  int64_t expiry = certs[0].na; /* DST's notAfter */
  for (int64_t d = -1; d <= 1; d++) {
    int64_t t = expiry + d;
    int with_alt = openssl_verify_alt(&tf, 0, t), no_alt = openssl_verify_alt(&tf, 1, t);
    /* OpenSSL 3: trusted-first finds X1 in the store; passes either way. */
    CS_CHECK_MSG(with_alt == 1 && no_alt == 1, "DST notAfter %+lld s: openssl %d, -no_alt_chains %d",
                 (long long)d, with_alt, no_alt);
    CS_CHECK_EQ_I64(client_passes(&tf, "served.pem", "store.pem", "openssl", t * 1000, NULL), 1);
    for (const char *const *c = (const char *const[]){"chrome", "safari", "firefox", NULL}; *c; c++)
      CS_CHECK_MSG(client_passes(&tf, "served.pem", "store.pem", *c, t * 1000, NULL) == 1,
                   "%s fails at DST notAfter %+lld s", *c, (long long)d);
    /* 1.0.2 follows the served cross-sign to DST: fails once DST expired
     * (exclusive notAfter: at the notAfter second itself). */
    const char *cause = NULL;
    int old = client_passes(&tf, "served.pem", "store.pem", "openssl-1.0.2", t * 1000, &cause);
    CS_CHECK_MSG(old == (d < 0), "openssl-1.0.2 at DST notAfter %+lld s: %d (%s)", (long long)d, old,
                 cause ? cause : "-");
    if (d >= 0)
      CS_CHECK_MSG(cause != NULL && strcmp(cause, "ANCHOR_EXPIRED") == 0, "cause %s",
                   cause ? cause : "-");
  }
  /* With DST alone in the store, OpenSSL 3 fails too, and so does the
   * openssl profile, at the same second. */
  const char *dst_only[] = {"dst"};
  CS_REQUIRE(cs_tf_bundle(&tf, "store.pem", dst_only, 1) == 0);
  for (int64_t d = -1; d <= 1; d++) {
    int64_t t = expiry + d;
    int want = openssl_verify_alt(&tf, 0, t);
    CS_CHECK_EQ_I64(want, d < 0);
    CS_CHECK_EQ_I64(client_passes(&tf, "served.pem", "store.pem", "openssl", t * 1000, NULL), want);
  }
  cs_tf_cleanup(&tf);
}

/* The 2020 Let's Encrypt leaf + "Authority X3" judged today against a store
 * without DST Root CA X3: the served intermediate expired, and its issuer
 * is an expired root no longer in stores. The cause is the expired
 * intermediate, not a "missing intermediate". */
static void test_expired_intermediate_to_removed_root(void) {
  static const spec_t certs[] = {
      {"dst", "DST Root (test)", "dst", NULL, NULL, T0 - 3000 * D, T0 - 100 * D, CS_TF_EXT_CA},
      {"x3", "Authority X3 (test)", "x3", "dst", "dst", T0 - 2000 * D, T0 - 200 * D, CS_TF_EXT_CA},
      {"leaf", "www.example.test", "leaf", "x3", "x3", T0 - 400 * D, T0 - 310 * D, EXT_LEAF},
      {"isrg", "X1 Root (test)", "isrg", NULL, NULL, T0 - 900 * D, T0 + 3000 * D, CS_TF_EXT_CA},
  };
  cs_tf_t tf;
  CS_REQUIRE(cs_tf_init(&tf) == 0);
  CS_REQUIRE(issue_all(&tf, certs, 4) == 0);
  const char *served[] = {"leaf", "x3"};
  const char *store[] = {"isrg"};
  CS_REQUIRE(cs_tf_bundle(&tf, "served.pem", served, 2) == 0);
  CS_REQUIRE(cs_tf_bundle(&tf, "store.pem", store, 1) == 0);
  /* Judged while the leaf was valid but after X3 expired is impossible
   * here (X3 outlived the leaf); judged today both are expired: the
   * served intermediate comes first. */
  for (const char *const *c = (const char *const[]){"chrome", "safari", "firefox", "openssl",
                                                    "openssl-1.0.2", NULL};
       *c; c++) {
    const char *cause = NULL;
    CS_CHECK_EQ_I64(client_passes(&tf, "served.pem", "store.pem", *c, T0 * 1000, &cause), 0);
    CS_CHECK_MSG(cause != NULL && strcmp(cause, "INTERMEDIATE_EXPIRED") == 0, "%s: %s", *c,
                 cause ? cause : "-");
  }
  cs_tf_cleanup(&tf);
}

/* A served precertificate and an unknown critical extension are findings
 * judged per client (every profile rejects them, as openssl verify does
 * with error 34), never an unreadable input. */
static void test_critical_extensions(void) {
  static const struct {
    const char *ext, *code;
  } cases[] = {
      {"LEAF_EXT=1.3.6.1.4.1.11129.2.4.3 = critical,ASN1:NULL", "PRECERT_SERVED"},
      {"LEAF_EXT=1.2.3.4.5 = critical,ASN1:NULL", "UNKNOWN_CRITICAL_EXTENSION"},
      {"LEAF_EXT=1.2.3.4.5 = ASN1:NULL", NULL}, /* not critical: ignored by everyone */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char dir[512], path[600];
    CS_REQUIRE(cs_fx_tempdir(dir, sizeof(dir)) == 0);
    const char *settings[] = {cases[i].ext, NULL};
    CS_REQUIRE(cs_fx_mkchain(dir, settings) == 0);
    int rc = cs_fx_run("openssl verify -no-CApath -attime 1780272000 -CAfile '%s/root.pem' "
                       "-untrusted '%s/int.pem' '%s/leaf.pem' >/dev/null 2>&1",
                       dir, dir, dir);
    CS_CHECK_MSG((rc == 0) == (cases[i].code == NULL), "%s: openssl verify rc %d", cases[i].ext, rc);
    snprintf(path, sizeof(path), "%s/chain.pem", dir);
    uint8_t *pem = NULL, *root = NULL;
    size_t len = 0, root_len = 0;
    CS_REQUIRE(cs_file_read(path, 1 << 20, &pem, &len, NULL) == 0);
    snprintf(path, sizeof(path), "%s/root.pem", dir);
    CS_REQUIRE(cs_file_read(path, 1 << 20, &root, &root_len, NULL) == 0);
    cs_trust_store_t *st = NULL;
    CS_REQUIRE(cs_trust_store_new(&st, "root") == 0);
    CS_REQUIRE(cs_trust_store_add(st, root, root_len, NULL, NULL, NULL) == 0);
    const cs_trust_store_t *stores[1] = {st};
    cs_clock_t exact;
    cs_clock_init_exact(&exact);
    cs_analysis_opts_t o = {.source = "chain.pem", .clocks = &exact, .nclocks = 1, .has_at = 1,
                            .at_ms = INT64_C(1780272000000), .trust_stores = stores,
                            .ntrust_stores = 1};
    cs_analysis_t *a = NULL;
    CS_CHECK_MSG(cs_analyze(&a, pem, len, &o, NULL) == 0, "%s: not analyzed", cases[i].ext);
    for (size_t k = 0; a != NULL && k < cs_analysis_nclients(a); k++) {
      const cs_client_verdict_t *v = cs_analysis_client(a, k);
      CS_CHECK_MSG(v->fails_at == (cases[i].code != NULL) &&
                       (cases[i].code == NULL || (v->cause && strcmp(v->cause, cases[i].code) == 0)),
                   "%s: %s %s (%s)", cases[i].ext, v->name, v->fails_at ? "FAIL" : "pass",
                   v->cause ? v->cause : "-");
    }
    if (a != NULL && cases[i].code != NULL)
      CS_CHECK(cs_findings_has(cs_analysis_findings(a), cases[i].code));
    cs_analysis_free(a);
    cs_trust_store_free(st);
    free(pem);
    free(root);
    cs_fx_rmdir(dir);
  }
}

CS_TEST_MAIN(CS_TEST(test_bounds_agree_with_openssl_verify), CS_TEST(test_cross_sign_2021),
             CS_TEST(test_critical_extensions), CS_TEST(test_expired_intermediate_to_removed_root))
