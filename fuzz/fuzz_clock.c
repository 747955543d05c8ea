/* Fuzz target: clock model, instant and duration parsers, and the exact
 * inverse checked against the forward clock on whatever parses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/core/clock.h"
#include "certskew/core/time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char text[256];
  if (size >= sizeof(text))
    size = sizeof(text) - 1;
  memcpy(text, data, size);
  text[size] = '\0';
  int64_t v;
  char shown[CS_TIME_STRLEN];
  if (cs_time_parse(text, &v) == 0)
    cs_time_format(v, shown);
  if (cs_duration_parse(text, &v) == 0)
    cs_time_format(v, shown);
  cs_clock_t c;
  if (cs_clock_parse(&c, text, NULL) != 0)
    return 0;
  /* Property: first_reaching(target) is the least t reaching target. */
  static const int64_t targets[] = {0, -1, 1795467783095, INT64_MAX - 1, INT64_MIN + 1};
  for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
    int64_t t = cs_clock_first_reaching(&c, targets[i]), b;
    if (t == CS_TIME_NEG_INF || t == CS_TIME_POS_INF)
      continue;
    if (cs_clock_apply(&c, t, &b) == 0 && b < targets[i])
      abort();
    if (t > INT64_MIN && cs_clock_apply(&c, t - 1, &b) == 0 && b >= targets[i])
      abort();
  }
  char out[512];
  cs_clock_format(&c, out, sizeof(out));
  return 0;
}
