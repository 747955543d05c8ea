/* Fuzz target: PEM/DER chain loading (with embedded SCT lists) and the whole
 * analysis and JSON report over whatever loads. */
#include <stdint.h>
#include <stdlib.h>

#include "certskew/analysis/analysis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cs_clock_t clocks[3];
  cs_clock_init_exact(&clocks[0]);
  if (cs_clock_parse(&clocks[1], "trustd", NULL) != 0 || cs_clock_parse(&clocks[2], "-90s", NULL) != 0)
    abort();
  cs_analysis_opts_t o = {.source = "fuzz", .clocks = clocks, .nclocks = 3, .has_at = 1,
                          .at_ms = INT64_C(1795467783219), .has_sweep = 1,
                          .sweep_from_ms = INT64_C(1795467700000), .sweep_to_ms = INT64_C(1795467800000)};
  cs_analysis_t *a = NULL;
  if (cs_analyze(&a, data, size, &o, NULL) == 0) {
    free(cs_analysis_report_json(a, 0));
    cs_analysis_free(a);
  }
  return 0;
}
