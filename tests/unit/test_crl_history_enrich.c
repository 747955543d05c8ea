/*
 * The enrichment's CRL history: fetched CRLs kept per URL in plain files
 * (bounded, atomic), and the analysis flagging a captured revoked leaf that
 * the newer CRL dropped before its expiry (CRL_ENTRY_DROPPED), over the lab's
 * crl-dropped-entry scenario issued in memory; other scenarios and orders
 * never raise it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "certskew/analysis/analysis.h"
#include "certskew/core/time.h"
#include "certskew/fetch/crl_history_store.h"
#include "certskew/lab/lab_scenario.h"
#include "certskew/net/rng.h"
#include "cs_test.h"
#include "fixture.h"

static char dir[256];

static int exists(const char *rel) {
  char p[600];
  struct stat st;
  snprintf(p, sizeof(p), "%s/%s", dir, rel);
  return stat(p, &st) == 0;
}

static void test_store(void) {
  char hist[300];
  snprintf(hist, sizeof(hist), "%s/crl-history", dir);
  static const uint8_t A[] = "crl A", B[] = "crl B", C[] = "crl C";
  static const struct {
    const uint8_t *fetch;
    const uint8_t *want_prev; /* NULL: none */
  } steps[] = {
      {A, NULL}, /* first fetch: nothing to compare */
      {A, NULL}, /* unchanged */
      {B, A},    /* changed: compare with A */
      {B, A},    /* unchanged: still compared with A */
      {C, B},
  };
  for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
    uint8_t *prev = NULL;
    size_t prev_len = 0;
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    CS_CHECK_EQ_I64(cs_crl_history_record(hist, "http://crl.test/1.crl", steps[i].fetch, 5, &prev,
                                          &prev_len, &eb),
                    0);
    if (steps[i].want_prev == NULL)
      CS_CHECK_MSG(prev == NULL, "step %zu", i);
    else
      CS_CHECK_MSG(prev != NULL && prev_len == 5 && memcmp(prev, steps[i].want_prev, 5) == 0,
                   "step %zu", i);
    free(prev);
  }
  /* sha256("http://crl.test/1.crl"), computed independently by openssl. */
  char want[700], out[128] = "";
  snprintf(want, sizeof(want), "printf %%s http://crl.test/1.crl | openssl dgst -sha256 -r | cut -c1-64");
  FILE *p = popen(want, "r");
  CS_REQUIRE(p != NULL);
  CS_REQUIRE(fgets(out, sizeof(out), p) != NULL);
  pclose(p);
  out[strcspn(out, "\n")] = '\0';
  char rel[300];
  snprintf(rel, sizeof(rel), "crl-history/%s/cur.der", out);
  CS_CHECK(exists(rel));
  snprintf(rel, sizeof(rel), "crl-history/%s/prev.der", out);
  CS_CHECK(exists(rel));
  snprintf(rel, sizeof(rel), "crl-history/%s/url", out);
  CS_CHECK(exists(rel));
  /* Bounded: past the limit a new URL is not kept, a known one still is. */
  for (int i = 0; i < CS_CRL_HISTORY_MAX_URLS; i++)
    CS_CHECK_EQ_I64(cs_fx_run("mkdir -p '%s/x%03d'", hist, i), 0);
  uint8_t *prev = NULL;
  size_t prev_len = 0;
  CS_CHECK_EQ_I64(cs_crl_history_record(hist, "http://crl.test/new.crl", A, 5, &prev, &prev_len,
                                        NULL),
                  CS_ENOSPACE);
  CS_CHECK(prev == NULL);
  CS_CHECK_EQ_I64(cs_crl_history_record(hist, "http://crl.test/1.crl", A, 5, &prev, &prev_len, NULL),
                  0);
  CS_CHECK(prev != NULL && memcmp(prev, C, 5) == 0);
  free(prev);
  CS_CHECK_EQ_I64(cs_crl_history_record(hist, "u", NULL, 0, &prev, &prev_len, NULL), CS_EINVAL);
}

static int build(cs_lab_scenario_id_t id, cs_lab_scenario_t *sc) {
  cs_rng_t rng;
  if (cs_rng_init(&rng, "test crl history") != 0)
    return -1;
  cs_lab_scenario_params_t params = {NULL, NULL, INT64_C(1795467783157)};
  int err = cs_lab_scenario_build(sc, id, &params, cs_rng_fill, &rng);
  cs_rng_free(&rng);
  return err;
}

static const cs_lab_crl_file_t *extra(const cs_lab_scenario_t *sc, const char *path) {
  for (size_t i = 0; i < sc->nextra_crls; i++)
    if (strcmp(sc->extra_crls[i].path, path) == 0)
      return &sc->extra_crls[i];
  return NULL;
}

/* Judges sc's chain with crl and previous (either may be NULL) at issued+at. */
static int judged_has(const cs_lab_scenario_t *sc, const uint8_t *crl, size_t crl_len,
                      const uint8_t *prev, size_t prev_len, int64_t at, const char *code) {
  cs_clock_t exact;
  cs_clock_init_exact(&exact);
  cs_analysis_opts_t o = {.clocks = &exact, .nclocks = 1, .has_at = 1, .at_ms = sc->issued_ms + at};
  o.crl = crl;
  o.crl_len = crl_len;
  o.crl_previous = prev;
  o.crl_previous_len = prev_len;
  cs_analysis_t *an = NULL;
  int has = -1;
  if (cs_analyze(&an, (const uint8_t *)sc->chain_pem, strlen(sc->chain_pem), &o, NULL) == 0)
    has = cs_findings_has(cs_analysis_findings(an), code);
  cs_analysis_free(an);
  return has;
}

static void test_analysis(void) {
  cs_lab_scenario_t drop, revoked, fresh;
  CS_REQUIRE(build(CS_LAB_SC_CRL_DROPPED_ENTRY, &drop) == 0);
  CS_REQUIRE(build(CS_LAB_SC_REVOKED, &revoked) == 0);
  CS_REQUIRE(build(CS_LAB_SC_FRESH, &fresh) == 0);
  const cs_lab_crl_file_t *prev = extra(&drop, "/crl-prev.der");
  CS_REQUIRE(prev != NULL);
  const int64_t H = CS_MS_PER_HOUR;
  const struct {
    const char *what;
    const cs_lab_scenario_t *sc;
    const uint8_t *crl, *prev;
    size_t crl_len, prev_len;
    int want;
  } t[] = {
      {"dropped: previous lists it, current does not", &drop, drop.crl_der, prev->der,
       drop.crl_der_len, prev->der_len, 1},
      {"no history", &drop, drop.crl_der, NULL, drop.crl_der_len, 0, 0},
      {"history in the wrong order (the older one is current)", &drop, prev->der, drop.crl_der,
       prev->der_len, drop.crl_der_len, 0},
      {"previous equal to current", &drop, drop.crl_der, drop.crl_der, drop.crl_der_len,
       drop.crl_der_len, 0},
      {"still listed: REVOKED, not dropped", &revoked, revoked.crl_der, revoked.crl_der,
       revoked.crl_der_len, revoked.crl_der_len, 0},
      {"never listed", &fresh, fresh.crl_der, drop.crl_der, fresh.crl_der_len, drop.crl_der_len, 0},
      {"previous from another CA of the same name (other serials)", &drop, drop.crl_der, revoked.crl_der, drop.crl_der_len,
       revoked.crl_der_len, 0},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    int has = judged_has(t[i].sc, t[i].crl, t[i].crl_len, t[i].prev, t[i].prev_len, 2 * H,
                         "CRL_ENTRY_DROPPED");
    CS_CHECK_MSG(has == t[i].want, "%s: got %d", t[i].what, has);
  }
  CS_CHECK_EQ_I64(judged_has(&revoked, revoked.crl_der, revoked.crl_der_len, NULL, 0, 2 * H,
                             "REVOKED"),
                  1);
  cs_lab_scenario_free(&drop);
  cs_lab_scenario_free(&revoked);
  cs_lab_scenario_free(&fresh);
}

int main(void) {
  if (cs_fx_tempdir(dir, sizeof(dir)) != 0)
    return 1;
  test_store();
  test_analysis();
  if (cs_test_failures == 0)
    cs_fx_rmdir(dir);
  else
    fprintf(stderr, "kept %s for inspection\n", dir);
  return cs_test_done(__FILE__);
}
