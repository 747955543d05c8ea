/* Client profiles over every lab scenario: each case issues the scenario in
 * memory at a fixed instant, judges it at issued + offset with the lab's
 * material (anchors, log list, OCSP, CRL) and checks, per client, the
 * verdict at that instant and the root cause. */
#include <string.h>

#include "certskew/analysis/analysis.h"
#include "certskew/clients/profile.h"
#include "certskew/lab/lab_scenario.h"
#include "certskew/net/rng.h"
#include "cs_test.h"

#define ISSUED_MS 1795467783157LL /* 2026-11-23T21:03:03.157Z */

/* Material a case may add. */
enum {
  WITH_LEGACY_ROOT = 1, /* the store also holds the legacy root (a 2021 system store) */
  WITH_AIA = 2,         /* the caIssuers intermediate was fetched */
  NO_REVOCATION = 4,
};

typedef struct client_expect {
  const char *client; /* as asked: a profile name, or NAME:MODEL */
  int fails;
  const char *cause;  /* NULL when it passes */
} client_expect_t;

typedef struct case_def {
  const char *scenario;
  int64_t offset_ms;
  int material;
  const char *top_cause; /* first of the ranked causes, NULL if every client passes */
  client_expect_t clients[6];
} case_def_t;

static const case_def_t cases[] = {
    {"fresh", 62, 0, "SCT_IN_FUTURE",
     {{"chrome", 0, NULL},
      {"safari", 1, "SCT_IN_FUTURE"},
      {"firefox", 1, "SCT_IN_FUTURE"},
      {"openssl", 0, NULL},
      {"openssl-1.0.2", 0, NULL},
      {"chrome:skew:-90s", 1, "SCT_IN_FUTURE"}}},
    {"fresh", 843, 0, "SCT_IN_FUTURE", /* the next whole second after the latest SCT */
     {{"chrome", 0, NULL}, {"safari", 0, NULL}, {"firefox", 0, NULL}, {"openssl", 0, NULL},
      {"openssl-1.0.2", 0, NULL}, {"safari:skew:-2s", 1, "SCT_IN_FUTURE"}}},
    {"future-notbefore", 2000, 0, "NOT_YET_VALID",
     {{"chrome", 1, "NOT_YET_VALID"}, {"safari", 1, "NOT_YET_VALID"},
      {"firefox", 1, "NOT_YET_VALID"}, {"openssl", 1, "NOT_YET_VALID"},
      {"openssl-1.0.2", 1, "NOT_YET_VALID"}}},
    {"sct-future", 2000, 0, "SCT_LOG_CLOCK_AHEAD",
     {{"chrome", 1, "SCT_LOG_CLOCK_AHEAD"}, {"safari", 1, "SCT_LOG_CLOCK_AHEAD"},
      {"firefox", 1, "SCT_LOG_CLOCK_AHEAD"}, {"openssl", 0, NULL}, {"openssl-1.0.2", 0, NULL}}},
    {"precert-mismatch", 2000, 0, "SCT_SIGNATURE_INVALID_ALL",
     {{"chrome", 1, "SCT_SIGNATURE_INVALID_ALL"}, {"safari", 1, "SCT_SIGNATURE_INVALID_ALL"},
      {"firefox", 1, "SCT_SIGNATURE_INVALID_ALL"}, {"openssl", 0, NULL},
      {"openssl-1.0.2", 0, NULL}}},
    {"ocsp-unauthorized", 2000, 0, NULL,
     {{"chrome", 0, NULL}, {"safari", 0, NULL}, {"firefox", 0, NULL}, {"openssl", 0, NULL},
      {"openssl-1.0.2", 0, NULL}}},
    {"ocsp-stale", 2000, 0, NULL,
     {{"chrome", 0, NULL}, {"safari", 0, NULL}, {"firefox", 0, NULL}, {"openssl", 0, NULL},
      {"openssl-1.0.2", 0, NULL}}},
    {"missing-intermediate", 2000, 0, "MISSING_INTERMEDIATE",
     {{"chrome", 1, "MISSING_INTERMEDIATE"}, {"safari", 1, "MISSING_INTERMEDIATE"},
      {"firefox", 1, "MISSING_INTERMEDIATE"}, {"openssl", 1, "MISSING_INTERMEDIATE"},
      {"openssl-1.0.2", 1, "MISSING_INTERMEDIATE"}}},
    {"missing-intermediate", 2000, WITH_AIA, "MISSING_INTERMEDIATE",
     {{"chrome", 0, NULL}, {"safari", 0, NULL}, {"firefox", 1, "MISSING_INTERMEDIATE"},
      {"openssl", 1, "MISSING_INTERMEDIATE"}, {"openssl-1.0.2", 1, "MISSING_INTERMEDIATE"}}},
    {"expired-intermediate", 2000, 0, "INTERMEDIATE_EXPIRED",
     {{"chrome", 1, "INTERMEDIATE_EXPIRED"}, {"safari", 1, "INTERMEDIATE_EXPIRED"},
      {"firefox", 1, "INTERMEDIATE_EXPIRED"}, {"openssl", 1, "INTERMEDIATE_EXPIRED"},
      {"openssl-1.0.2", 1, "INTERMEDIATE_EXPIRED"}}},
    {"expired-root-cross-sign", 2000, WITH_LEGACY_ROOT, "CROSS_SIGN_EXPIRED",
     {{"chrome", 0, NULL}, {"safari", 0, NULL}, {"firefox", 0, NULL}, {"openssl", 0, NULL},
      {"openssl-1.0.2", 1, "CROSS_SIGN_EXPIRED"}}},
    {"expired-root-cross-sign", 2000, 0, NULL, /* today's store: the legacy root is gone */
     {{"chrome", 0, NULL}, {"safari", 0, NULL}, {"firefox", 0, NULL}, {"openssl", 0, NULL},
      {"openssl-1.0.2", 0, NULL}}},
    {"crl-stale", 2000, 0, NULL,
     {{"chrome", 0, NULL}, {"safari", 0, NULL}, {"firefox", 0, NULL}, {"openssl", 0, NULL},
      {"openssl-1.0.2", 0, NULL}}},
    {"revoked", 2000, 0, "REVOKED",
     {{"chrome", 0, NULL}, {"safari", 0, NULL}, {"firefox", 1, "REVOKED"}, {"openssl", 0, NULL},
      {"openssl-1.0.2", 0, NULL}}},
};

typedef struct world {
  cs_lab_scenario_t sc;
  cs_trust_store_t *store;
  cs_ct_log_list_t *logs;
  cs_analysis_t *an;
} world_t;

static void world_free(world_t *w) {
  cs_analysis_free(w->an);
  cs_ct_log_list_free(w->logs);
  cs_trust_store_free(w->store);
  cs_lab_scenario_free(&w->sc);
}

/* Issues the scenario and analyzes it for the clients asked. */
static int run_case(const case_def_t *c, world_t *w, const cs_client_t *clients, size_t n) {
  memset(w, 0, sizeof(*w));
  cs_lab_scenario_init(&w->sc);
  cs_rng_t rng;
  cs_lab_scenario_id_t id;
  if (cs_lab_scenario_find(c->scenario, &id) != 0 || cs_rng_init(&rng, "test_client_profiles") != 0)
    return -1;
  cs_lab_scenario_params_t params = {NULL, NULL, ISSUED_MS};
  int err = cs_lab_scenario_build(&w->sc, id, &params, cs_rng_fill, &rng);
  cs_rng_free(&rng);
  if (err != 0)
    return err;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if ((err = cs_trust_store_new(&w->store, "lab")) != 0 ||
      (err = cs_trust_store_add(w->store, (const uint8_t *)w->sc.trust_pem, strlen(w->sc.trust_pem),
                                NULL, NULL, &eb)) != 0)
    return err;
  if ((c->material & WITH_LEGACY_ROOT) && w->sc.legacy_trust_pem != NULL &&
      (err = cs_trust_store_add(w->store, (const uint8_t *)w->sc.legacy_trust_pem,
                                strlen(w->sc.legacy_trust_pem), NULL, NULL, &eb)) != 0)
    return err;
  if ((err = cs_ct_log_list_load(&w->logs, (const uint8_t *)w->sc.log_list_json,
                                 strlen(w->sc.log_list_json), &eb)) != 0)
    return err;
  cs_clock_t exact;
  cs_clock_init_exact(&exact);
  const cs_trust_store_t *stores[1] = {w->store};
  cs_analysis_opts_t o;
  memset(&o, 0, sizeof(o));
  o.source = c->scenario;
  o.clocks = &exact;
  o.nclocks = 1;
  o.has_at = 1;
  o.at_ms = ISSUED_MS + c->offset_ms;
  o.log_list = w->logs;
  o.trust_stores = stores;
  o.ntrust_stores = 1;
  o.hostname = "localhost";
  if (!(c->material & NO_REVOCATION)) {
    o.stapled_ocsp = w->sc.ocsp_der;
    o.stapled_ocsp_len = w->sc.ocsp_der_len;
    o.crl = w->sc.crl_der;
    o.crl_len = w->sc.crl_der_len;
  }
  if (c->material & WITH_AIA) {
    o.aia_issuer = w->sc.intermediate.der;
    o.aia_issuer_len = w->sc.intermediate.der_len;
  }
  o.clients = clients;
  o.nclients = n;
  return cs_analyze(&w->an, (const uint8_t *)w->sc.chain_pem, strlen(w->sc.chain_pem), &o, &eb);
}

static void test_scenario_table(void) {
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const case_def_t *c = &cases[i];
    cs_client_t clients[6];
    size_t n = 0;
    for (; n < 6 && c->clients[n].client != NULL; n++)
      CS_REQUIRE(cs_client_parse(&clients[n], c->clients[n].client, NULL) == 0);
    world_t w;
    int err = run_case(c, &w, clients, n);
    CS_CHECK_MSG(err == 0, "%s: analysis failed: %d", c->scenario, err);
    if (err != 0) {
      world_free(&w);
      continue;
    }
    for (size_t k = 0; k < n; k++) {
      const client_expect_t *e = &c->clients[k];
      const cs_client_verdict_t *v = cs_analysis_client_named(w.an, e->client);
      CS_REQUIRE(v != NULL);
      CS_CHECK_MSG(v->fails_at == e->fails && (e->cause == NULL) == (v->cause == NULL) &&
                       (e->cause == NULL || strcmp(e->cause, v->cause) == 0),
                   "%s +%" PRId64 " ms (material %d), %s: expected %s %s, got %s %s (%s)",
                   c->scenario, c->offset_ms, c->material, e->client, e->fails ? "FAIL" : "pass",
                   e->cause ? e->cause : "-", v->fails_at ? "FAIL" : "pass",
                   v->cause ? v->cause : "-", v->detail);
    }
    const cs_analysis_cause_t *top = cs_analysis_cause(w.an, 0);
    CS_CHECK_MSG((top == NULL) == (c->top_cause == NULL) &&
                     (top == NULL || strcmp(top->code, c->top_cause) == 0),
                 "%s (material %d): top cause expected %s, got %s", c->scenario, c->material,
                 c->top_cause ? c->top_cause : "-", top ? top->code : "-");
    world_free(&w);
  }
}

/* Safari (SCTs at whole seconds) fails from issuance until the next whole
 * second after the latest SCT, exactly; Chrome (ms) never does. */
static void test_fresh_windows(void) {
  case_def_t c = {"fresh", 62, 0, NULL, {{NULL, 0, NULL}}};
  world_t w;
  CS_REQUIRE(run_case(&c, &w, NULL, 0) == 0);
  const cs_client_verdict_t *safari = cs_analysis_client_named(w.an, "safari");
  const cs_client_verdict_t *chrome = cs_analysis_client_named(w.an, "chrome");
  CS_REQUIRE(safari != NULL && chrome != NULL && safari->nwindows >= 1);
  int64_t issued = 0;
  const cs_cert_info_t *leaf = cs_chain_cert(cs_analysis_chain(w.an), 0);
  for (size_t j = 0; j < leaf->nscts; j++)
    if (leaf->scts[j].timestamp_ms > issued)
      issued = leaf->scts[j].timestamp_ms;
  CS_CHECK_EQ_I64(safari->windows[0].from_ms, issued);
  CS_CHECK_EQ_I64(safari->windows[0].to_ms, (issued / 1000 + 1) * 1000);
  /* Chrome's only window is expiry: the last notAfter second included. */
  CS_CHECK_EQ_I64(chrome->nwindows, 1);
  CS_CHECK_EQ_I64(chrome->windows[0].from_ms, leaf->not_after_ms + 1000);
  /* Safari's validity clock is fractional: invalid 1 ms after notAfter. */
  CS_CHECK_EQ_I64(safari->windows[safari->nwindows - 1].from_ms, leaf->not_after_ms + 1);
  const cs_client_verdict_t *ossl = cs_analysis_client_named(w.an, "openssl");
  CS_REQUIRE(ossl != NULL && ossl->nwindows == 1);
  CS_CHECK_EQ_I64(ossl->windows[0].from_ms, leaf->not_after_ms); /* exclusive notAfter */
  world_free(&w);
}

/* Consequences are nested under their cause and never ranked above it. */
static void test_precert_mismatch_nesting(void) {
  case_def_t c = {"precert-mismatch", 2000, 0, NULL, {{NULL, 0, NULL}}};
  world_t w;
  CS_REQUIRE(run_case(&c, &w, NULL, 0) == 0);
  cs_findings_t *f = cs_analysis_findings(w.an);
  const cs_finding_t *first = cs_findings_get(f, 0);
  CS_REQUIRE(first != NULL);
  CS_CHECK_EQ_STR(first->code, "SCT_SIGNATURE_INVALID_ALL");
  int seen_cause = 0, nested = 0;
  for (size_t i = 0; i < cs_findings_count(f); i++) {
    const cs_finding_t *x = cs_findings_get(f, i);
    if (strcmp(x->code, "SCT_SIGNATURE_INVALID_ALL") == 0)
      seen_cause = 1;
    if (strcmp(x->code, "SCT_POLICY_TOO_FEW") == 0) {
      CS_CHECK(seen_cause);
      CS_CHECK(x->caused_by != NULL && strcmp(x->caused_by, "SCT_SIGNATURE_INVALID_ALL") == 0);
      nested = 1;
    }
  }
  CS_CHECK(nested);
  world_free(&w);
}

/* The sct-future cause names the log that is ahead, and issuance comes from
 * the SCTs that agree. */
static void test_sct_future_names_log(void) {
  case_def_t c = {"sct-future", 2000, 0, NULL, {{NULL, 0, NULL}}};
  world_t w;
  CS_REQUIRE(run_case(&c, &w, NULL, 0) == 0);
  const cs_client_verdict_t *chrome = cs_analysis_client_named(w.an, "chrome");
  CS_REQUIRE(chrome != NULL && chrome->cause != NULL);
  CS_CHECK_MSG(strstr(chrome->detail, "certskew lab log") != NULL, "detail: %s", chrome->detail);
  CS_CHECK(cs_findings_has(cs_analysis_findings(w.an), "SCT_LOG_CLOCK_AHEAD"));
  /* Chrome fails for the whole 5 minutes of the lead. */
  CS_REQUIRE(chrome->nwindows >= 1);
  int64_t len = chrome->windows[0].to_ms - chrome->windows[0].from_ms;
  CS_CHECK_MSG(len >= 299000 && len <= 301000, "chrome fails for %" PRId64 " ms", len);
  world_free(&w);
}

static void test_parse_and_user_agent(void) {
  cs_client_t cl;
  CS_CHECK(cs_client_parse(&cl, "safari:skew:-2s", NULL) == 0);
  CS_CHECK_EQ_STR(cl.profile->name, "safari");
  CS_CHECK(cl.has_skew);
  int64_t b = 0;
  CS_CHECK(cs_clock_apply(&cl.sct_clock, 10500, &b) == 0);
  CS_CHECK_EQ_I64(b, 8000); /* 2 s slow, then whole seconds */
  CS_CHECK(cs_client_parse(&cl, "curl", NULL) == 0);
  CS_CHECK_EQ_STR(cl.profile->name, "openssl");
  CS_CHECK(cs_client_parse(&cl, "netscape", NULL) == CS_ENOTFOUND);
  CS_CHECK(cs_client_parse(&cl, "chrome:trunc:0s", NULL) != 0);
  static const struct {
    const char *ua, *profile;
  } uas[] = {
      {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/120.0.0.0 Safari/537.36",
       "chrome"},
      {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
       "Version/17.1 Safari/605.1.15",
       "safari"},
      {"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "firefox"},
      {"curl/7.88.1", "openssl"},
      {"Mozilla/5.0 ... Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0", "chrome"},
  };
  for (size_t i = 0; i < sizeof(uas) / sizeof(uas[0]); i++) {
    const cs_client_profile_t *p = cs_client_from_user_agent(uas[i].ua);
    CS_CHECK_MSG(p != NULL && strcmp(p->name, uas[i].profile) == 0, "%s -> %s", uas[i].ua,
                 p ? p->name : "(none)");
  }
  CS_CHECK(cs_client_from_user_agent("SomeBot/1.0") == NULL);
  /* Every profile's clocks parse and every behaviour has a source. */
  for (const cs_client_profile_t *p = cs_client_profiles(); p->name != NULL; p++) {
    cs_clock_t k;
    CS_CHECK(cs_clock_parse(&k, p->cert_clock, NULL) == 0);
    CS_CHECK(cs_clock_parse(&k, p->sct_clock, NULL) == 0);
    const char *src[] = {p->src.clock, p->src.sct_clock, p->src.notafter, p->src.paths,
                         p->src.anchor_expiry, p->src.aia, p->src.ct, p->src.revocation,
                         p->src.min_tls, p->src.critical};
    for (size_t s = 0; s < sizeof(src) / sizeof(src[0]); s++)
      CS_CHECK_MSG(src[s] != NULL && src[s][0] != '\0', "%s: source #%zu missing", p->name, s);
  }
}

CS_TEST_MAIN(CS_TEST(test_scenario_table), CS_TEST(test_fresh_windows),
             CS_TEST(test_precert_mismatch_nesting), CS_TEST(test_sct_future_names_log),
             CS_TEST(test_parse_and_user_agent))
