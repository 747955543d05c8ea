/* Test runner (see cs_test.h): runs every case, or those named in argv. */
#include "cs_test.h"

int cs_test_failures;

int cs_test_run(const cs_test_case_t *cases, size_t n, int argc, char **argv) {
  int passed = 0, failed = 0;
  for (size_t i = 0; i < n; i++) {
    if (argc > 1) {
      int wanted = 0;
      for (int a = 1; a < argc; a++)
        wanted |= strcmp(argv[a], cases[i].name) == 0;
      if (!wanted)
        continue;
    }
    cs_test_failures = 0;
    cases[i].fn();
    if (cs_test_failures == 0) {
      passed++;
      printf("ok   %s\n", cases[i].name);
    } else {
      failed++;
      printf("FAIL %s (%d)\n", cases[i].name, cs_test_failures);
    }
    fflush(stdout);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}

int cs_test_done(const char *name) {
  if (cs_test_failures != 0)
    printf("FAIL %s (%d)\n0 passed, 1 failed\n", name, cs_test_failures);
  else
    printf("ok   %s\n1 passed, 0 failed\n", name);
  return cs_test_failures != 0;
}
