/*
 * OCSP and CRL times in the replay engine: a response produced by openssl
 * ocsp and a CRL by openssl ca -gencrl, replayed under exact, slow and
 * minute-truncating clocks. Expected windows are computed here by plain
 * arithmetic on the times openssl printed into the objects, not by the
 * clock code under test.
 */
#include "cs_test.h"

#include "certskew/core/chain.h"
#include "certskew/core/replay.h"
#include "certskew/revocation/revocation.h"
#include "revocation_fixtures.h"

static char g_dir[256];

static int load_all(cs_chain_t **chain, cs_ocsp_response_t **ocsp, cs_crl_info_t *crl) {
  uint8_t *pem, *der, *cbuf;
  size_t pl, dl, cl;
  cs_crl_info_init(crl);
  if (rv_sh(g_dir, "cat good.crt ca.crt > chain.pem") != 0 ||
      rv_read(g_dir, "chain.pem", &pem, &pl) != 0)
    return -1;
  int ret = cs_chain_load(chain, pem, pl, NULL);
  free(pem);
  if (ret != 0 || rv_read(g_dir, "good.resp", &der, &dl) != 0)
    return -1;
  ret = cs_ocsp_parse(ocsp, der, dl, NULL);
  free(der);
  if (ret != 0 || rv_read(g_dir, "ca.crl", &cbuf, &cl) != 0)
    return -1;
  ret = cs_crl_parse(crl, cbuf, cl, NULL);
  free(cbuf);
  return ret;
}

static int64_t ceil_minute(int64_t t) { return (t + 59999) / 60000 * 60000; } /* t > 0 */

static void test_windows(void) {
  cs_chain_t *chain = NULL;
  cs_ocsp_response_t *ocsp = NULL;
  cs_crl_info_t crl;
  CS_REQUIRE(load_all(&chain, &ocsp, &crl) == 0);
  const cs_ocsp_single_t *s = cs_ocsp_response_single(ocsp, 0);
  const cs_ocsp_info_t *info = cs_ocsp_response_info(ocsp);
  CS_REQUIRE(s != NULL && s->has_next_update);
  cs_clock_t clocks[3];
  CS_REQUIRE(cs_clock_parse(&clocks[0], "exact", NULL) == 0);
  CS_REQUIRE(cs_clock_parse(&clocks[1], "skew:-90s", NULL) == 0);
  CS_REQUIRE(cs_clock_parse(&clocks[2], "trunc:1m", NULL) == 0);
  /* The instant asked: 30 s after the responder produced the answer. */
  int64_t at = s->this_update_ms + 30000;
  cs_replay_opts_t o = {clocks, 3, 1, at, 0, 0, 0};
  cs_replay_t *r = NULL;
  CS_REQUIRE(cs_replay_new(&r, chain, &o, NULL) == 0);
  size_t base = cs_replay_nchecks(r);
  CS_REQUIRE(cs_revocation_add_checks(r, ocsp, &crl) == 0);
  CS_REQUIRE(cs_replay_nchecks(r) == base + 5);
  cs_findings_t *fs = cs_findings_new();
  CS_REQUIRE(cs_replay_run(r, fs) == 0);
  struct {
    cs_check_kind_t kind;
    size_t clock;
    int64_t from_ms, to_ms;
    int fails_at;
  } t[] = {
      /* thisUpdate: fails before it (exact), 90 s longer when slow, until the
       * next whole minute when truncating to minutes. */
      {CS_CHECK_OCSP_THIS_UPDATE, 0, CS_TIME_NEG_INF, s->this_update_ms, 0},
      {CS_CHECK_OCSP_THIS_UPDATE, 1, CS_TIME_NEG_INF, s->this_update_ms + 90000, 1},
      {CS_CHECK_OCSP_THIS_UPDATE, 2, CS_TIME_NEG_INF, ceil_minute(s->this_update_ms),
       at < ceil_minute(s->this_update_ms)},
      {CS_CHECK_OCSP_PRODUCED_AT, 1, CS_TIME_NEG_INF, info->produced_at_ms + 90000, 1},
      /* nextUpdate passed: from bound + 1 ms (exact), 90 s later when slow. */
      {CS_CHECK_OCSP_NEXT_UPDATE, 0, s->next_update_ms + 1, CS_TIME_POS_INF, 0},
      {CS_CHECK_OCSP_NEXT_UPDATE, 1, s->next_update_ms + 1 + 90000, CS_TIME_POS_INF, 0},
      {CS_CHECK_CRL_THIS_UPDATE, 1, CS_TIME_NEG_INF, crl.this_update_ms + 90000,
       at < crl.this_update_ms + 90000},
      {CS_CHECK_CRL_NEXT_UPDATE, 0, crl.next_update_ms + 1, CS_TIME_POS_INF, 0},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    size_t k = base;
    while (k < cs_replay_nchecks(r) && cs_replay_check(r, k)->kind != t[i].kind)
      k++;
    CS_REQUIRE(k < cs_replay_nchecks(r));
    cs_interval_t w = cs_replay_window(r, k, t[i].clock);
    CS_CHECK_EQ_I64(w.from_ms, t[i].from_ms);
    CS_CHECK_EQ_I64(w.to_ms, t[i].to_ms);
    CS_CHECK_EQ_I64(cs_replay_fails_at(r, k, t[i].clock), t[i].fails_at);
  }
  /* The slow clock fails now: the replay diagnoses it per clock. */
  CS_CHECK(cs_findings_has(fs, "OCSP_NOT_YET_VALID"));
  CS_CHECK(cs_findings_has(fs, "OCSP_PRODUCED_IN_FUTURE"));
  /* With the replay owning time findings, the diagnosis does not repeat them. */
  const cs_cert_info_t *leaf = cs_chain_cert(chain, 0), *ca = cs_chain_cert(chain, 1);
  cs_findings_t *fd = cs_findings_new();
  cs_revocation_input_t in = {leaf->crt, ca->crt, leaf->not_before_ms, ocsp, 1, NULL, &crl, 0,
                              s->next_update_ms + 1, 0, 1};
  CS_CHECK(cs_revocation_diagnose(&in, fd) == 0);
  CS_CHECK_EQ_I64(cs_findings_has(fd, "OCSP_STALE"), 0);
  in.time_checks_in_replay = 0;
  CS_CHECK(cs_revocation_diagnose(&in, fd) == 0);
  CS_CHECK_EQ_I64(cs_findings_has(fd, "OCSP_STALE"), 1);
  cs_findings_free(fd);
  cs_findings_free(fs);
  cs_replay_free(r);
  cs_ocsp_response_free(ocsp);
  cs_crl_info_free(&crl);
  cs_chain_free(chain);
}

static void test_setup(void) {
  CS_REQUIRE(cs_fx_tempdir(g_dir, sizeof(g_dir)) == 0);
  CS_REQUIRE(rv_make_pki(g_dir, 8) == 0);
  CS_REQUIRE(rv_sh(g_dir, "openssl ocsp -index index.txt -rsigner ca.crt -rkey ca.key -CA ca.crt "
                          "-issuer ca.crt -cert good.crt -respout good.resp -ndays 2") == 0);
}

static void test_teardown(void) { cs_fx_rmdir(g_dir); }

CS_TEST_MAIN(CS_TEST(test_setup), CS_TEST(test_windows), CS_TEST(test_teardown))
