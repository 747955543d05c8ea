/*
 * Fuzz target: SCT list parsing as certskew meets it (TLS encoding from the
 * TLS extension, DER OCTET STRING from the X.509/OCSP extension), the
 * RFC 6962 signed-data builder fed by it, and the precertificate TBS
 * rebuild (extension removal) on the same bytes taken as a TBSCertificate.
 * Seeds: fuzz/corpus/fuzz_sct_list/, made by fuzz/make_seeds_ct.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "certskew/ct/ct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const cs_sct_t *scts, size_t n, const uint8_t *data, size_t size) {
  static const uint8_t HASH[32] = {0};
  for (size_t i = 0; i < n; i++) {
    uint8_t *sd = NULL;
    size_t sd_len = 0;
    if (size > 0 && cs_ct_signed_data(CS_CT_ENTRY_PRECERT, scts[i].timestamp_ms, HASH, data, size,
                                      scts[i].extensions, scts[i].extensions_len, &sd,
                                      &sd_len) == 0)
      free(sd);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static cs_sct_t scts[CS_SCT_LIST_MAX];
  size_t n = 0;
  uint8_t *out = NULL;
  size_t out_len = 0;
  int found = 0;
  if (cs_sct_list_parse(data, size, CS_SCT_SOURCE_TLS, scts, CS_SCT_LIST_MAX, &n, NULL) == 0)
    exercise(scts, n, data, size);
  if (cs_sct_list_parse_der(data, size, CS_SCT_SOURCE_EMBEDDED, scts, CS_SCT_LIST_MAX, &n, NULL) == 0)
    exercise(scts, n, data, size);
  if (cs_ct_tbs_remove_ext(data, size, CS_CT_OID_SCT_LIST, sizeof(CS_CT_OID_SCT_LIST), &out,
                           &out_len, &found) == 0) {
    /* Removing again must find nothing: the result has no such extension. */
    uint8_t *again = NULL;
    size_t again_len = 0;
    int found2 = 1;
    if (cs_ct_tbs_remove_ext(out, out_len, CS_CT_OID_SCT_LIST, sizeof(CS_CT_OID_SCT_LIST), &again,
                             &again_len, &found2) != 0 || found2 != 0)
      __builtin_trap();
    free(again);
    free(out);
  }
  return 0;
}
