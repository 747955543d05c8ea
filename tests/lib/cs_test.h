/*
 * Minimal test harness: one function per behaviour, assertions that print
 * both values, and a closing "N passed, M failed" line.
 *
 *   static void test_x(void) { CS_CHECK_EQ_I64(a, b); }
 *   CS_TEST_MAIN(CS_TEST(test_x), CS_TEST(test_y))
 */
#ifndef CS_TEST_H
#define CS_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cs_test_case {
  const char *name;
  void (*fn)(void);
} cs_test_case_t;

extern int cs_test_failures; /* failures in the running test */

#define CS_TEST(fn) {#fn, fn}

#define CS_FAIL_AT(...)                                      \
  do {                                                       \
    fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);        \
    fprintf(stderr, __VA_ARGS__);                            \
    fprintf(stderr, "\n");                                   \
    cs_test_failures++;                                      \
  } while (0)

#define CS_CHECK(cond)                                       \
  do {                                                       \
    if (!(cond))                                             \
      CS_FAIL_AT("check failed: %s", #cond);                 \
  } while (0)

/* CS_CHECK with a printf-style explanation of the values involved. */
#define CS_CHECK_MSG(cond, ...)                              \
  do {                                                       \
    if (!(cond)) {                                           \
      CS_FAIL_AT("check failed: %s", #cond);                 \
      fprintf(stderr, "    ");                               \
      fprintf(stderr, __VA_ARGS__);                          \
      fprintf(stderr, "\n");                                 \
    }                                                        \
  } while (0)

#define CS_CHECK_EQ_I64(a, b)                                                             \
  do {                                                                                    \
    int64_t cs_a_ = (int64_t)(a), cs_b_ = (int64_t)(b);                                   \
    if (cs_a_ != cs_b_)                                                                   \
      CS_FAIL_AT("%s == %s: %" PRId64 " != %" PRId64, #a, #b, cs_a_, cs_b_);              \
  } while (0)

#define CS_CHECK_EQ_STR(a, b)                                                             \
  do {                                                                                    \
    const char *cs_a_ = (a), *cs_b_ = (b);                                                \
    if (cs_a_ == NULL || cs_b_ == NULL || strcmp(cs_a_, cs_b_) != 0)                      \
      CS_FAIL_AT("%s == %s: \"%s\" != \"%s\"", #a, #b, cs_a_ ? cs_a_ : "(null)",          \
                 cs_b_ ? cs_b_ : "(null)");                                               \
  } while (0)

/* Like CS_CHECK but stops the test (for preconditions of later checks). */
#define CS_REQUIRE(cond)                                     \
  do {                                                       \
    if (!(cond)) {                                           \
      CS_FAIL_AT("requirement failed: %s", #cond);           \
      return;                                                \
    }                                                        \
  } while (0)

int cs_test_run(const cs_test_case_t *cases, size_t n, int argc, char **argv);

/* For tests with their own main: reports cs_test_failures as one test named
 * name ("1 passed, 0 failed" or "0 passed, 1 failed") and returns the exit
 * status. */
int cs_test_done(const char *name);

#define CS_TEST_MAIN(...)                                                        \
  int main(int argc, char **argv) {                                              \
    static const cs_test_case_t cs_cases_[] = {__VA_ARGS__};                       \
    return cs_test_run(cs_cases_, sizeof(cs_cases_) / sizeof(cs_cases_[0]), argc, argv);     \
  }

#endif
