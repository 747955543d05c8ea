/* libFuzzer target: the `certskew repro` script parser (repro/repro_script.c). */
#include <stddef.h>
#include <stdint.h>

#include "certskew/repro/repro_script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cs_repro_script_t *s = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_repro_script_parse(&s, data, size, &eb) == 0)
    cs_repro_script_free(s);
  return 0;
}
