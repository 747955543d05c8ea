/*
 * Exact failure windows on a chain made by real openssl: a leaf whose SCT
 * says 2026-11-23T21:03:03.095Z with notBefore backdated one hour (the macOS
 * trustd case). For each clock model the expected window end is written out
 * by hand, and the forward clock is probed 1 ms either side of it.
 */
#include <stdlib.h>

#include "certskew/analysis/analysis.h"
#include "certskew/core/replay.h"
#include "certskew/core/time.h"
#include "cs_test.h"
#include "fixture.h"

static char g_dir[512];
static cs_chain_t *g_chain;
static int64_t g_sct_ms, g_sct2_ms, g_nb_ms, g_na_ms;

static int64_t T(const char *s) {
  int64_t v = 0;
  if (cs_time_parse(s, &v) != 0)
    abort();
  return v;
}

static int make_chain(void) {
  g_sct_ms = T("2026-11-23T21:03:03.095Z");
  g_sct2_ms = T("2026-11-23T21:03:03.157Z");
  g_nb_ms = T("2026-11-23T20:03:03Z");
  g_na_ms = T("2027-02-21T20:03:02Z");
  int64_t ts[2] = {g_sct_ms, g_sct2_ms};
  char hex[2048], sct[2100], nb[24], na[24], nbs[40], nas[40];
  if (cs_fx_tempdir(g_dir, sizeof(g_dir)) != 0 || cs_fx_sct_ext_hex(ts, 2, hex, sizeof(hex)) != 0)
    return -1;
  snprintf(sct, sizeof(sct), "LEAF_SCT_HEX=%s", hex);
  snprintf(nbs, sizeof(nbs), "LEAF_NB=%s", cs_fx_gentime(g_nb_ms, nb));
  snprintf(nas, sizeof(nas), "LEAF_NA=%s", cs_fx_gentime(g_na_ms, na));
  const char *settings[] = {sct, nbs, nas, NULL};
  if (cs_fx_mkchain(g_dir, settings) != 0)
    return -1;
  char path[600];
  snprintf(path, sizeof(path), "%s/full.pem", g_dir);
  return cs_fx_load_chain(path, &g_chain, NULL);
}

/* Index of the first check of a kind on a certificate (and item). */
static size_t find_check(const cs_replay_t *r, cs_check_kind_t kind, int cert, int item) {
  for (size_t k = 0; k < cs_replay_nchecks(r); k++) {
    const cs_time_check_t *c = cs_replay_check(r, k);
    if (c->kind == kind && c->cert_index == cert && c->item_index == item)
      return k;
  }
  return (size_t)-1;
}

/* Forward truth: does the clock fail the check at true time t? */
static int fails_forward(const cs_clock_t *clock, const cs_time_check_t *k, int64_t t) {
  int64_t b;
  if (cs_clock_apply(clock, t, &b) != 0)
    return -1;
  return k->dir == CS_NEED_AT_OR_AFTER ? b < k->bound_ms : b > k->bound_ms;
}

typedef struct window_case {
  const char *clock;
  cs_check_kind_t kind;
  int item;
  const char *edge; /* expected window end (prefix) or start (suffix); NULL = never fails */
} window_case_t;

static const window_case_t cases[] = {
    /* SCT #0 at 21:03:03.095 */
    {"exact", CS_CHECK_SCT_TIMESTAMP, 0, "2026-11-23T21:03:03.095Z"},
    {"trunc:1s", CS_CHECK_SCT_TIMESTAMP, 0, "2026-11-23T21:03:04.000Z"},
    {"trustd", CS_CHECK_SCT_TIMESTAMP, 0, "2026-11-23T21:03:04.000Z"},
    {"ceil:1s", CS_CHECK_SCT_TIMESTAMP, 0, "2026-11-23T21:03:03.001Z"},
    {"-90s", CS_CHECK_SCT_TIMESTAMP, 0, "2026-11-23T21:04:33.095Z"},
    {"skew:+300ms", CS_CHECK_SCT_TIMESTAMP, 0, "2026-11-23T21:03:02.795Z"},
    {"skew:-2s,trunc:1s", CS_CHECK_SCT_TIMESTAMP, 0, "2026-11-23T21:03:06.000Z"},
    {"trunc:1s,skew:-2s", CS_CHECK_SCT_TIMESTAMP, 0, "2026-11-23T21:03:06.000Z"},
    {"trunc:1m", CS_CHECK_SCT_TIMESTAMP, 0, "2026-11-23T21:04:00.000Z"},
    {"openssl-ct", CS_CHECK_SCT_TIMESTAMP, 0, "2026-11-23T20:58:04.000Z"},
    {"day", CS_CHECK_SCT_TIMESTAMP, 0, "2026-11-24T00:00:00.000Z"},
    {"ceil:1s,-1s", CS_CHECK_SCT_TIMESTAMP, 0, "2026-11-23T21:03:04.001Z"},
    /* SCT #1 at .157: 62 ms after #0 */
    {"exact", CS_CHECK_SCT_TIMESTAMP, 1, "2026-11-23T21:03:03.157Z"},
    {"trustd", CS_CHECK_SCT_TIMESTAMP, 1, "2026-11-23T21:03:04.000Z"},
    /* notBefore 20:03:03 (whole second) */
    {"exact", CS_CHECK_NOT_BEFORE, -1, "2026-11-23T20:03:03.000Z"},
    {"trustd", CS_CHECK_NOT_BEFORE, -1, "2026-11-23T20:03:03.000Z"},
    {"ceil:1s", CS_CHECK_NOT_BEFORE, -1, "2026-11-23T20:03:02.001Z"},
    {"-1h", CS_CHECK_NOT_BEFORE, -1, "2026-11-23T21:03:03.000Z"},
    {"+2h", CS_CHECK_NOT_BEFORE, -1, "2026-11-23T18:03:03.000Z"},
    /* notAfter 2027-02-21T20:03:02, inclusive through .999 */
    {"exact", CS_CHECK_NOT_AFTER, -1, "2027-02-21T20:03:03.000Z"},
    {"trustd", CS_CHECK_NOT_AFTER, -1, "2027-02-21T20:03:03.000Z"},
    {"ceil:1s", CS_CHECK_NOT_AFTER, -1, "2027-02-21T20:03:02.001Z"},
    {"+2h", CS_CHECK_NOT_AFTER, -1, "2027-02-21T18:03:03.000Z"},
    {"day", CS_CHECK_NOT_AFTER, -1, "2027-02-22T00:00:00.000Z"},
    /* stopped clocks: always or never */
    {"fixed:2000-01-01T00:00:00Z", CS_CHECK_SCT_TIMESTAMP, 0, "+inf"},
    {"fixed:2030-01-01T00:00:00Z", CS_CHECK_SCT_TIMESTAMP, 0, NULL},
    {"fixed:2030-01-01T00:00:00Z", CS_CHECK_NOT_AFTER, -1, "-inf"},
};

static void test_windows_exact_bounds(void) {
  CS_REQUIRE(g_chain != NULL);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const window_case_t *tc = &cases[i];
    cs_clock_t clock;
    CS_REQUIRE(cs_clock_parse(&clock, tc->clock, NULL) == 0);
    cs_replay_opts_t o = {&clock, 1, 0, 0, 0, 0, 0};
    cs_replay_t *r = NULL;
    CS_REQUIRE(cs_replay_new(&r, g_chain, &o, NULL) == 0);
    CS_REQUIRE(cs_replay_run(r, NULL) == 0);
    size_t k = find_check(r, tc->kind, 0, tc->item);
    CS_REQUIRE(k != (size_t)-1);
    const cs_time_check_t *ck = cs_replay_check(r, k);
    cs_interval_t w = cs_replay_window(r, k, 0);
    int prefix = ck->dir == CS_NEED_AT_OR_AFTER;
    if (tc->edge == NULL) {
      if (!cs_interval_empty(w))
        CS_FAIL_AT("case %zu (%s): expected no failure window", i, tc->clock);
    } else if (strcmp(tc->edge, "+inf") == 0 || strcmp(tc->edge, "-inf") == 0) {
      CS_CHECK(w.from_ms == CS_TIME_NEG_INF && w.to_ms == CS_TIME_POS_INF);
    } else {
      int64_t edge = T(tc->edge);
      int64_t got = prefix ? w.to_ms : w.from_ms;
      if (got != edge) {
        char a[CS_TIME_STRLEN];
        cs_time_format(got, a);
        CS_FAIL_AT("case %zu (%s, %s): window edge %s, expected %s", i, tc->clock,
                   cs_check_kind_name(tc->kind), a, tc->edge);
      }
      /* 1 ms either side, against the forward clock. */
      CS_CHECK_EQ_I64(fails_forward(&clock, ck, edge - 1), prefix ? 1 : 0);
      CS_CHECK_EQ_I64(fails_forward(&clock, ck, edge), prefix ? 0 : 1);
      CS_CHECK_EQ_I64(fails_forward(&clock, ck, edge + 1), prefix ? 0 : 1);
      CS_CHECK_EQ_I64(cs_interval_contains(w, edge - 1), prefix ? 1 : 0);
      CS_CHECK_EQ_I64(cs_interval_contains(w, edge), prefix ? 0 : 1);
    }
    cs_replay_free(r);
  }
}

/* The chain passes, for each clock, on exactly one interval. */
static void test_pass_window_and_offsets(void) {
  CS_REQUIRE(g_chain != NULL);
  cs_clock_t clocks[2];
  CS_REQUIRE(cs_clock_parse(&clocks[0], "exact", NULL) == 0);
  CS_REQUIRE(cs_clock_parse(&clocks[1], "trustd", NULL) == 0);
  int64_t at = T("2026-11-23T21:03:03.500Z");
  cs_replay_opts_t o = {clocks, 2, 1, at, 0, 0, 0};
  cs_replay_t *r = NULL;
  CS_REQUIRE(cs_replay_new(&r, g_chain, &o, NULL) == 0);
  cs_findings_t *fs = cs_findings_new();
  CS_REQUIRE(cs_replay_run(r, fs) == 0);
  /* exact: from the later SCT (.157) to the leaf's last valid ms. */
  cs_interval_t p = cs_replay_pass_window(r, 0);
  CS_CHECK_EQ_I64(p.from_ms, g_sct2_ms);
  CS_CHECK_EQ_I64(p.to_ms, g_na_ms + 1000);
  /* trustd at .500 believes .000 < .095: fails; passes from 04.000. */
  p = cs_replay_pass_window(r, 1);
  CS_CHECK_EQ_I64(p.from_ms, T("2026-11-23T21:03:04Z"));
  int64_t believed;
  CS_REQUIRE(cs_replay_believed(r, 1, &believed) == 0);
  CS_CHECK_EQ_I64(believed, T("2026-11-23T21:03:03Z"));
  /* Offsets: exact passes at .500 with skews in [-343 ms, ...). */
  cs_interval_t off = cs_replay_pass_offsets(r, 0);
  CS_CHECK_EQ_I64(off.from_ms, g_sct2_ms - at);
  CS_CHECK_EQ_I64(off.to_ms, g_na_ms + 1000 - at);
  /* trustd needs +500 ms or more at .500. */
  off = cs_replay_pass_offsets(r, 1);
  CS_CHECK_EQ_I64(off.from_ms, 500);
  /* Diagnosis: SCT_IN_FUTURE is an error (trustd fails now), first. */
  const cs_finding_t *top = cs_findings_get(fs, 0);
  CS_REQUIRE(top != NULL);
  CS_CHECK_EQ_STR(top->code, "SCT_IN_FUTURE");
  CS_CHECK_EQ_I64(top->severity, CS_SEV_ERROR);
  CS_CHECK(strstr(top->fix, "2026-11-23T21:03:04.000Z") != NULL);
  CS_CHECK(cs_findings_has(fs, "NOTBEFORE_BACKDATED"));
  CS_CHECK(!cs_findings_has(fs, "NOT_YET_VALID"));
  cs_findings_free(fs);
  cs_replay_free(r);
}

/* Without an instant, the after-issuance windows are warnings. */
static void test_windows_without_instant_are_warnings(void) {
  CS_REQUIRE(g_chain != NULL);
  cs_clock_t clocks[8];
  size_t n = cs_clock_default_set(clocks, 8);
  CS_REQUIRE(n == 8);
  cs_replay_opts_t o = {clocks, n, 0, 0, 0, 0, 0};
  cs_replay_t *r = NULL;
  CS_REQUIRE(cs_replay_new(&r, g_chain, &o, NULL) == 0);
  cs_findings_t *fs = cs_findings_new();
  CS_REQUIRE(cs_replay_run(r, fs) == 0);
  const cs_finding_t *top = cs_findings_get(fs, 0);
  CS_REQUIRE(top != NULL);
  CS_CHECK_EQ_STR(top->code, "SCT_IN_FUTURE");
  CS_CHECK_EQ_I64(top->severity, CS_SEV_WARNING);
  CS_CHECK(cs_findings_worst(fs) == CS_SEV_WARNING);
  cs_findings_free(fs);
  cs_replay_free(r);
}

/* The example: 62 ms after issuance a second-truncated client fails,
 * an exact one passes; a second later both pass. */
static void test_truncated_client_62ms_after_issuance(void) {
  CS_REQUIRE(g_chain != NULL);
  static const struct {
    const char *at;
    int exact_fails, trustd_fails;
  } rows[] = {
      {"2026-11-23T21:03:03.219Z", 0, 1}, /* 62 ms after the later SCT */
      {"2026-11-23T21:03:03.999Z", 0, 1},
      {"2026-11-23T21:03:04.000Z", 0, 0},
      {"2026-11-23T21:03:03.156Z", 1, 1},
  };
  cs_clock_t clocks[2];
  CS_REQUIRE(cs_clock_parse(&clocks[0], "exact", NULL) == 0);
  CS_REQUIRE(cs_clock_parse(&clocks[1], "trustd", NULL) == 0);
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    cs_analysis_opts_t o = {.source = "fixture", .clocks = clocks, .nclocks = 2, .has_at = 1, .at_ms = T(rows[i].at)};
    char path[600];
    snprintf(path, sizeof(path), "%s/chain.pem", g_dir);
    uint8_t *pem = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "rb");
    CS_REQUIRE(f != NULL);
    pem = malloc(1 << 16);
    len = fread(pem, 1, 1 << 16, f);
    fclose(f);
    cs_analysis_t *a = NULL;
    CS_REQUIRE(cs_analyze(&a, pem, len, &o, NULL) == 0);
    const cs_replay_t *r = cs_analysis_replay(a);
    int fails[2] = {0, 0};
    for (size_t k = 0; k < cs_replay_nchecks(r); k++)
      for (size_t c = 0; c < 2; c++)
        fails[c] |= cs_replay_fails_at(r, k, c);
    if (fails[0] != rows[i].exact_fails || fails[1] != rows[i].trustd_fails)
      CS_FAIL_AT("at %s: exact %d trustd %d, expected %d %d", rows[i].at, fails[0], fails[1],
                 rows[i].exact_fails, rows[i].trustd_fails);
    cs_analysis_free(a);
    free(pem);
  }
}

static void setup(void) {
  if (make_chain() != 0)
    CS_FAIL_AT("could not make the openssl fixture chain in %s", g_dir);
}

static void teardown(void) {
  cs_chain_free(g_chain);
  cs_fx_rmdir(g_dir);
}

CS_TEST_MAIN(CS_TEST(setup), CS_TEST(test_windows_exact_bounds), CS_TEST(test_pass_window_and_offsets),
             CS_TEST(test_windows_without_instant_are_warnings),
             CS_TEST(test_truncated_client_62ms_after_issuance), CS_TEST(teardown))
