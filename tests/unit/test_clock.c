/* Clock models: parsing, forward application, and the exact inverse. */
#include "certskew/core/clock.h"
#include "certskew/core/time.h"
#include "cs_test.h"

static void test_parse_models(void) {
  static const struct {
    const char *text;
    int64_t t, believed; /* apply at t */
  } rows[] = {
      {"exact", 1500, 1500},
      {"-90s", 100000, 10000},
      {"+2h", 0, 7200000},
      {"skew:-300ms", 1000, 700},
      {"offset:+1s", 0, 1000},
      {"trunc:1s", 1999, 1000},
      {"trunc:1s", -1, -1000},
      {"ceil:1s", 1001, 2000},
      {"ceil:1s", 1000, 1000},
      {"day", 86400000 + 5, 86400000},
      {"trunc:1m", 119999, 60000},
      {"skew:-2s,trunc:1s", 3500, 1000},
      {"trunc:1s,skew:-2s", 3500, 1000},
      {"trustd", 1795467783219, 1795467783000},
      {"openssl-ct", 1795467783219, 1795468083000},
      {"fixed:2000-01-01T00:00:00Z", 1795467783219, 946684800000},
      {"boot:2000-01-01T00:00:00Z@2026-01-01T00:00:00Z", 1767225600000 + 5000, 946684805000},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    cs_clock_t c;
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    if (cs_clock_parse(&c, rows[i].text, &eb) != 0) {
      CS_FAIL_AT("'%s': %s", rows[i].text, eb.msg);
      continue;
    }
    int64_t b = 0;
    CS_CHECK(cs_clock_apply(&c, rows[i].t, &b) == 0);
    if (b != rows[i].believed)
      CS_FAIL_AT("'%s' at %" PRId64 ": %" PRId64 " != %" PRId64, rows[i].text, rows[i].t, b,
                 rows[i].believed);
  }
}

/* Longer than CS_CLOCK_NAME_MAX. */
#define LONG_MODEL "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

static void test_parse_errors(void) {
  static const char *bad[] = {"", "trunc:0s", "trunc:-1s", "ceil:x", "bogus", "skew:", "1s",
                              "fixed:yesterday", "boot:2000-01-01T00:00:00Z", "a,,b",
                              "-1s,-1s,-1s,-1s,-1s,-1s,-1s,-1s,-1s", LONG_MODEL};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cs_clock_t c;
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    if (cs_clock_parse(&c, bad[i], &eb) == 0)
      CS_FAIL_AT("'%s' parsed", bad[i]);
    else if (eb.msg[0] == '\0')
      CS_FAIL_AT("'%s': no error detail", bad[i]);
  }
}

/* Deterministic xorshift: the property test is reproducible. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* first_reaching(target) is the least t with believed(t) >= target: checked
 * at the answer and 1 ms before it, for many models and targets. */
static void test_first_reaching_is_exact(void) {
  static const char *models[] = {"exact", "trunc:1s", "ceil:1s", "-90s", "+300ms", "skew:-2s,trunc:1s",
                                 "trunc:1s,skew:-2s", "ceil:1s,-1s", "trunc:7ms", "day", "trunc:1m,ceil:1s",
                                 "openssl-ct", "ceil:3ms,trunc:5ms,+1ms"};
  const int64_t base = INT64_C(1795467783095);
  for (size_t m = 0; m < sizeof(models) / sizeof(models[0]); m++) {
    cs_clock_t c;
    CS_REQUIRE(cs_clock_parse(&c, models[m], NULL) == 0);
    for (int i = 0; i < 2000; i++) {
      int64_t target = base + (int64_t)(rnd() % 400000) - 200000;
      int64_t t = cs_clock_first_reaching(&c, target), b;
      CS_REQUIRE(t != CS_TIME_NEG_INF && t != CS_TIME_POS_INF);
      CS_REQUIRE(cs_clock_apply(&c, t, &b) == 0);
      if (b < target)
        CS_FAIL_AT("%s: f(%" PRId64 ") = %" PRId64 " < %" PRId64, models[m], t, b, target);
      CS_REQUIRE(cs_clock_apply(&c, t - 1, &b) == 0);
      if (b >= target)
        CS_FAIL_AT("%s: f(%" PRId64 " - 1) = %" PRId64 " >= %" PRId64, models[m], t, b, target);
    }
  }
}

static void test_extremes(void) {
  cs_clock_t c;
  int64_t b;
  CS_REQUIRE(cs_clock_parse(&c, "+1h", NULL) == 0);
  CS_CHECK(cs_clock_apply(&c, INT64_MAX - 5, &b) == CS_EOVERFLOW);
  /* A bound below every reachable time: every t qualifies. */
  CS_CHECK_EQ_I64(cs_clock_first_reaching(&c, INT64_MIN + 5), CS_TIME_NEG_INF);
  CS_REQUIRE(cs_clock_parse(&c, "-1h", NULL) == 0);
  CS_CHECK_EQ_I64(cs_clock_first_reaching(&c, INT64_MAX - 5), CS_TIME_POS_INF);
  CS_REQUIRE(cs_clock_parse(&c, "trunc:1s", NULL) == 0);
  CS_CHECK_EQ_I64(cs_clock_first_reaching(&c, INT64_MAX - 5), CS_TIME_POS_INF);
  CS_CHECK(cs_clock_apply(&c, INT64_MIN, &b) == CS_EOVERFLOW);
  /* ceil's inverse near the bottom of int64 (found by fuzz_clock). */
  CS_REQUIRE(cs_clock_parse(&c, "ceil:1s", NULL) == 0);
  CS_CHECK_EQ_I64(cs_clock_first_reaching(&c, INT64_MIN + 1), CS_TIME_NEG_INF);
  CS_REQUIRE(cs_clock_parse(&c, "fixed:1970-01-01T00:00:00Z", NULL) == 0);
  CS_CHECK_EQ_I64(cs_clock_first_reaching(&c, 0), CS_TIME_NEG_INF);
  CS_CHECK_EQ_I64(cs_clock_first_reaching(&c, 1), CS_TIME_POS_INF);
  /* 290 years of skew is fine in ms (not in ns). */
  CS_REQUIRE(cs_clock_parse(&c, "skew:-105924d", NULL) == 0);
  CS_CHECK(cs_clock_apply(&c, INT64_C(1795467783095), &b) == 0);
  CS_CHECK(b < 0);
}

static void test_format_roundtrip(void) {
  static const char *models[] = {"skew:-2s,trunc:1s", "openssl-ct", "ceil:1s", "day",
                                 "fixed:2000-01-01T00:00:00Z"};
  for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
    cs_clock_t a, b;
    char text[256];
    CS_REQUIRE(cs_clock_parse(&a, models[i], NULL) == 0);
    cs_clock_format(&a, text, sizeof(text));
    CS_REQUIRE(cs_clock_parse(&b, text, NULL) == 0);
    CS_CHECK_EQ_I64(a.nsteps, b.nsteps);
    for (int s = 0; s < a.nsteps; s++) {
      CS_CHECK_EQ_I64(a.steps[s].kind, b.steps[s].kind);
      CS_CHECK_EQ_I64(a.steps[s].arg_ms, b.steps[s].arg_ms);
    }
  }
}

CS_TEST_MAIN(CS_TEST(test_parse_models), CS_TEST(test_parse_errors), CS_TEST(test_first_reaching_is_exact),
             CS_TEST(test_extremes), CS_TEST(test_format_roundtrip))
