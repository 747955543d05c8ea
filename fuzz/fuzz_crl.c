/* Fuzz target: CRL wrapper (mbedTLS parse + time conversion + serial lookup). */
#include <stddef.h>
#include <stdint.h>

#include "certskew/crl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cs_crl_info_t info;
  cs_crl_info_init(&info);
  if (cs_crl_parse(&info, data, size, NULL) == 0) {
    int64_t when;
    (void)cs_crl_find_serial(&info, data, size > 8 ? 8 : size, &when);
  }
  cs_crl_info_free(&info);
  cs_crl_info_free(&info); /* safe twice */
  return 0;
}
