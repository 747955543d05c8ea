/* Checked time arithmetic, civil conversion, parsing and formatting. */
#include "certskew/core/time.h"
#include "cs_test.h"

typedef struct civil_case {
  const char *text; /* RFC 3339 input */
  int64_t ms;       /* expected epoch ms */
} civil_case_t;

static const civil_case_t civil_cases[] = {
    {"1970-01-01T00:00:00Z", 0},
    {"1970-01-01T00:00:00.001Z", 1},
    {"1969-12-31T23:59:59.999Z", -1},
    {"1900-03-01T00:00:00Z", INT64_C(-2203891200000)}, /* 1900 is not a leap year */
    {"2000-02-29T12:00:00Z", INT64_C(951825600000)},   /* 2000 is */
    {"2038-01-19T03:14:07Z", INT64_C(2147483647000)},  /* last second of 32-bit time_t */
    {"2038-01-19T03:14:08Z", INT64_C(2147483648000)},
    {"2106-02-07T06:28:15Z", INT64_C(4294967295000)},  /* last second of unsigned 32-bit */
    {"2262-04-11T23:47:16.854Z", INT64_C(9223372036854)}, /* int64 ns limit */
    {"9999-12-31T23:59:59.999Z", INT64_C(253402300799999)},
    {"0000-01-01T00:00:00Z", INT64_C(-62167219200000)},
    {"2026-11-23T21:03:03.095Z", INT64_C(1795467783095)},
    {"2026-11-23T22:03:03.095+01:00", INT64_C(1795467783095)},
    {"2026-11-23 21:03:03.095Z", INT64_C(1795467783095)},
    {"2026-11-23T21:03:03.09500Z", INT64_C(1795467783095)},
    {"2026-11-23T21:03:03.1Z", INT64_C(1795467783100)},
};

static void test_civil_roundtrip(void) {
  for (size_t i = 0; i < sizeof(civil_cases) / sizeof(civil_cases[0]); i++) {
    int64_t v = 0;
    int err = cs_time_parse(civil_cases[i].text, &v);
    if (err != 0) {
      CS_FAIL_AT("parse %s: %s", civil_cases[i].text, cs_strerror(err));
      continue;
    }
    CS_CHECK_EQ_I64(v, civil_cases[i].ms);
    cs_civil_t c;
    cs_time_to_civil(v, &c);
    int64_t back = 0;
    CS_CHECK(cs_time_from_civil(&c, &back) == 0);
    CS_CHECK_EQ_I64(back, v);
  }
}

static void test_parse_rejects(void) {
  static const char *bad[] = {"",
                              "2026-13-01T00:00:00Z",
                              "2026-02-29T00:00:00Z", /* not a leap year */
                              "2026-11-23T24:00:00Z",
                              "2026-11-23T21:03:60Z", /* leap second */
                              "2026-11-23T21:03:03",  /* no zone */
                              "2026-11-23T21:03:03.Z",
                              "2026-11-23T21:03:03.0951Z", /* sub-ms digits */
                              "2026-11-23T21:03:03Zjunk",
                              "12x",
                              "9223372036854775808", /* > INT64_MAX */
                              "@9223372036854775807", /* seconds overflow ms */
                              "--5"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int64_t v;
    if (cs_time_parse(bad[i], &v) == 0)
      CS_FAIL_AT("'%s' parsed as %" PRId64, bad[i], v);
  }
}

static void test_epoch_forms(void) {
  int64_t v;
  CS_REQUIRE(cs_time_parse("1795467783095", &v) == 0);
  CS_CHECK_EQ_I64(v, INT64_C(1795467783095));
  CS_REQUIRE(cs_time_parse("-5ms", &v) == 0);
  CS_CHECK_EQ_I64(v, -5);
  CS_REQUIRE(cs_time_parse("@1795467783", &v) == 0);
  CS_CHECK_EQ_I64(v, INT64_C(1795467783000));
  CS_REQUIRE(cs_time_parse("9223372036854775807", &v) == 0);
  CS_CHECK_EQ_I64(v, INT64_MAX);
}

static void test_checked_arithmetic(void) {
  int64_t r = 7;
  CS_CHECK(cs_time_add(INT64_MAX, 1, &r) == CS_EOVERFLOW);
  CS_CHECK_EQ_I64(r, 7); /* untouched on error */
  CS_CHECK(cs_time_sub(INT64_MIN, 1, &r) == CS_EOVERFLOW);
  CS_CHECK(cs_time_mul(INT64_MAX / 2 + 1, 2, &r) == CS_EOVERFLOW);
  CS_CHECK(cs_time_add(INT64_MAX - 1, 1, &r) == 0 && r == INT64_MAX);
  /* floor/ceil are mathematical, also below zero */
  CS_CHECK(cs_time_floor(-1, 1000, &r) == 0 && r == -1000);
  CS_CHECK(cs_time_ceil(-1, 1000, &r) == 0 && r == 0);
  CS_CHECK(cs_time_ceil(1, 1000, &r) == 0 && r == 1000);
  CS_CHECK(cs_time_floor(INT64_MIN, 1000, &r) == CS_EOVERFLOW);
  CS_CHECK(cs_time_ceil(INT64_MAX, 1000, &r) == CS_EOVERFLOW);
  CS_CHECK(cs_time_floor(INT64_MAX, 1000, &r) == 0 && r == INT64_MAX - INT64_MAX % 1000);
  CS_CHECK(cs_time_floor(5, 0, &r) == CS_EINVAL);
}

static void test_civil_extremes(void) {
  cs_civil_t c;
  int64_t v;
  cs_time_to_civil(INT64_MAX, &c);
  CS_CHECK_EQ_I64(c.year, 292278994);
  CS_CHECK(cs_time_from_civil(&c, &v) == 0 && v == INT64_MAX);
  cs_time_to_civil(INT64_MIN, &c);
  CS_CHECK_EQ_I64(c.year, -292275055);
  CS_CHECK(cs_time_from_civil(&c, &v) == 0 && v == INT64_MIN);
  c.year = 300000000;
  CS_CHECK(cs_time_from_civil(&c, &v) == CS_EOVERFLOW);
}

static void test_format(void) {
  char b[CS_TIME_STRLEN];
  cs_time_format(INT64_C(1795467783095), b);
  CS_CHECK_EQ_STR(b, "2026-11-23T21:03:03.095Z");
  cs_time_format(-1, b);
  CS_CHECK_EQ_STR(b, "1969-12-31T23:59:59.999Z");
  cs_time_format(INT64_C(253402300800000), b);
  CS_CHECK_EQ_STR(b, "+10000-01-01T00:00:00.000Z");
  cs_time_format(INT64_MAX, b);
  CS_CHECK_EQ_STR(b, "+inf");
  cs_time_format(INT64_MAX - 1, b);
  CS_CHECK_EQ_STR(b, "+292278994-08-17T07:12:55.806Z");
}

static void test_durations(void) {
  static const struct {
    const char *text;
    int64_t ms;
  } ok[] = {{"-90s", -90000}, {"+2h", 7200000}, {"-300ms", -300}, {"1h30m", 5400000},
            {"1.5s", 1500}, {"250", 250}, {"1d", 86400000}, {"1w", 604800000}, {"0s", 0}};
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    int64_t v = 0;
    int err = cs_duration_parse(ok[i].text, &v);
    if (err != 0)
      CS_FAIL_AT("'%s': %s", ok[i].text, cs_strerror(err));
    else
      CS_CHECK_EQ_I64(v, ok[i].ms);
  }
  static const char *bad[] = {"", "s", "1.5ms", "1x", "1h-2m", "+-1s", "106751991167301d"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int64_t v;
    if (cs_duration_parse(bad[i], &v) == 0)
      CS_FAIL_AT("'%s' parsed as %" PRId64, bad[i], v);
  }
  /* 290 years fits int64 ms (it does not fit int64 ns). */
  int64_t v;
  CS_CHECK(cs_duration_parse("105924d", &v) == 0 && v == INT64_C(105924) * 86400000);
  char b[CS_DURATION_STRLEN];
  cs_duration_format(905, b);
  CS_CHECK_EQ_STR(b, "905 ms");
  cs_duration_format(-3723095, b);
  CS_CHECK_EQ_STR(b, "-1h 2m 3.095s");
  cs_duration_format(INT64_MIN, b);
  CS_CHECK_EQ_STR(b, "-9223372036854775808 ms");
}

CS_TEST_MAIN(CS_TEST(test_civil_roundtrip), CS_TEST(test_parse_rejects), CS_TEST(test_epoch_forms),
             CS_TEST(test_checked_arithmetic), CS_TEST(test_civil_extremes), CS_TEST(test_format),
             CS_TEST(test_durations))
