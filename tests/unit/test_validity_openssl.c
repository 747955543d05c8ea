/*
 * Differential test: certskew's verdict for an exact clock equals
 * `openssl verify -attime T` at T-1 s, T and T+1 s around every validity
 * bound of every certificate, for chains made by openssl, with dates in
 * UTCTime and GeneralizedTime, before 1970 and after 2038 and 2050.
 */
#include <stdlib.h>

#include "certskew/analysis/analysis.h"
#include "certskew/core/time.h"
#include "cs_test.h"
#include "certskew/store/file_io.h"
#include "fixture.h"

typedef struct chain_case {
  const char *name;
  const char *settings[8];
} chain_case_t;

static const chain_case_t chains[] = {
    {"fresh leaf",
     {"ROOT_NB=20200101000000Z", "ROOT_NA=20400101000000Z", "INT_NB=20240601120000Z",
      "INT_NA=20280601120000Z", "LEAF_NB=20261123200303Z", "LEAF_NA=20270221200302Z", NULL}},
    {"old root, leaf beyond 2038 and 2050",
     {"ROOT_NB=19650101000000Z", "ROOT_NA=20991231235959Z", "INT_NB=19700101000001Z",
      "INT_NA=20700101000000Z", "LEAF_NB=20380119031407Z", "LEAF_NA=20510101000000Z", NULL}},
};

/* openssl's verdict: 1 pass, 0 fail, -1 could not run. */
static int openssl_passes(const char *dir, int64_t at_s) {
  int rc = cs_fx_run("openssl verify -attime %lld -CAfile '%s/root.pem' -untrusted '%s/int.pem' "
                     "'%s/leaf.pem' >/dev/null 2>&1",
                     (long long)at_s, dir, dir, dir);
  return rc == 0 ? 1 : rc == 2 ? 0 : -1;
}

/* certskew's verdict: 1 pass, 0 fail, -1 error; *disagreement is set when
 * the report flags the notAfter second (where OpenSSL differs from RFC 5280). */
static int certskew_passes(const uint8_t *pem, size_t len, int64_t at_ms, int *disagreement) {
  cs_clock_t clock;
  cs_clock_init_exact(&clock);
  cs_analysis_opts_t o = {.source = "full.pem", .clocks = &clock, .nclocks = 1, .has_at = 1, .at_ms = at_ms};
  cs_analysis_t *a = NULL;
  if (cs_analyze(&a, pem, len, &o, NULL) != 0)
    return -1;
  int pass = cs_findings_worst(cs_analysis_findings(a)) != CS_SEV_ERROR;
  *disagreement = cs_findings_has(cs_analysis_findings(a), "NOTAFTER_SECOND");
  cs_analysis_free(a);
  return pass;
}

static void test_bounds_match_openssl(void) {
  for (size_t ci = 0; ci < sizeof(chains) / sizeof(chains[0]); ci++) {
    char dir[512], path[600];
    CS_REQUIRE(cs_fx_tempdir(dir, sizeof(dir)) == 0);
    CS_REQUIRE(cs_fx_mkchain(dir, chains[ci].settings) == 0);
    snprintf(path, sizeof(path), "%s/full.pem", dir);
    uint8_t *pem = NULL;
    size_t len = 0;
    CS_REQUIRE(cs_file_read(path, 1 << 20, &pem, &len, NULL) == 0);
    cs_chain_t *chain = NULL;
    CS_REQUIRE(cs_chain_load(&chain, pem, len, NULL) == 0);
    int compared = 0;
    for (size_t i = 0; i < cs_chain_count(chain); i++) {
      const cs_cert_info_t *c = cs_chain_cert(chain, i);
      int64_t bounds[2] = {c->not_before_ms / 1000, c->not_after_ms / 1000};
      for (int b = 0; b < 2; b++) {
        for (int64_t d = -1; d <= 1; d++) {
          int64_t at_s = bounds[b] + d;
          if (at_s < 0)
            continue; /* openssl -attime takes no negative times */
          int want = openssl_passes(dir, at_s);
          CS_REQUIRE(want >= 0);
          /* Both ends of the second: notAfter is inclusive through .999. */
          int flag_start = 0, flag_end = 0;
          int got_start = certskew_passes(pem, len, at_s * 1000, &flag_start);
          int got_end = certskew_passes(pem, len, at_s * 1000 + 999, &flag_end);
          char tb[CS_TIME_STRLEN];
          cs_time_format(at_s * 1000, tb);
          int in_notafter_second = b == 1 && d == 0;
          /* Inside the notAfter second only, OpenSSL rejects where RFC 5280
           * accepts: certskew must pass AND report the disagreement. */
          if (in_notafter_second) {
            /* RFC 5280: the chain is as good as one second earlier. */
            int rfc = openssl_passes(dir, at_s - 1);
            if (want != 0 || got_start != rfc || got_end != rfc || !flag_start || !flag_end)
              CS_FAIL_AT("%s, cert #%zu notAfter second (%s): openssl %s, certskew %d/%d, flagged %d/%d",
                         chains[ci].name, i, tb, want ? "OK" : "fails", got_start, got_end, flag_start,
                         flag_end);
            compared++;
            continue;
          }
          if (flag_start || flag_end)
            CS_FAIL_AT("%s: NOTAFTER_SECOND flagged outside the notAfter second at %s", chains[ci].name, tb);
          if (got_start != want || got_end != want)
            CS_FAIL_AT("%s, cert #%zu %s %+lld s (%s): openssl %s, certskew %d/%d", chains[ci].name, i,
                       b ? "notAfter" : "notBefore", (long long)d, tb, want ? "OK" : "fails",
                       got_start, got_end);
          compared++;
        }
      }
    }
    CS_CHECK(compared >= 15);
    cs_chain_free(chain);
    free(pem);
    cs_fx_rmdir(dir);
  }
}

CS_TEST_MAIN(CS_TEST(test_bounds_match_openssl))
