/* Option-value parsers for the proxy commands (see cmd_args.h). */
#include "cmd_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "certskew/core/time.h"

const char *cs_cmd_value(int argc, char **argv, int *i, const char *cmd) {
  if (*i + 1 >= argc) {
    fprintf(stderr, "certskew %s: %s needs a value\n", cmd, argv[*i]);
    return NULL;
  }
  return argv[++*i];
}

int cs_cmd_uint(const char *cmd, const char *opt, const char *s, long long min, long long max,
                long long *out) {
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
    fprintf(stderr, "certskew %s: %s must be an integer in %lld..%lld, not '%s'\n", cmd, opt, min,
            max, s);
    return -1;
  }
  *out = v;
  return 0;
}

int cs_cmd_duration(const char *cmd, const char *opt, const char *s, int64_t *out_ms) {
  int64_t v = 0;
  if (cs_duration_parse(s, &v) != 0 || v <= 0) {
    fprintf(stderr, "certskew %s: %s must be a positive duration like 10s or 500ms, not '%s'\n",
            cmd, opt, s);
    return -1;
  }
  *out_ms = v;
  return 0;
}

int cs_cmd_clock(const char *cmd, const char *s, cs_clock_t *clocks, size_t *n) {
  if (*n >= CS_CMD_MAX_CLOCKS) {
    fprintf(stderr, "certskew %s: at most %d --clock options\n", cmd, CS_CMD_MAX_CLOCKS);
    return -1;
  }
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_clock_parse(&clocks[*n], s, &eb) != 0) {
    fprintf(stderr, "certskew %s: bad clock model '%s': %s\n", cmd, s, eb.msg);
    return -1;
  }
  (*n)++;
  return 0;
}
