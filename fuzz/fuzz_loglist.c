/*
 * Fuzz target: the Chrome v3 log list loader (cs_ct_log_list_load) and the
 * lookups a loaded list answers. Any input must load or fail cleanly.
 * Seeds: fuzz/corpus/fuzz_loglist/, made by fuzz/make_seeds_ct.sh.
 */
#include <stddef.h>
#include <stdint.h>

#include "certskew/ct/ct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cs_ct_log_list_t *list = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_ct_log_list_load(&list, data, size, &eb) != 0)
    return 0;
  for (size_t i = 0; i < cs_ct_log_list_count(list); i++) {
    const cs_ct_log_t *log = cs_ct_log_list_get(list, i);
    int inferred;
    if (cs_ct_log_list_find(list, log->log_id) == NULL)
      __builtin_trap(); /* every listed log must be found by its own id */
    (void)cs_ct_log_state_at(log, 0, &inferred);
    (void)cs_ct_log_state_at(log, INT64_MAX, &inferred);
  }
  cs_ct_log_list_free(list);
  return 0;
}
