/* Fuzz target: OCSP response parser, then every accessor and a CertID match. */
#include <stddef.h>
#include <stdint.h>

#include "certskew/revocation/ocsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cs_ocsp_response_t *r = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_ocsp_parse(&r, data, size, &eb) != 0)
    return 0;
  const cs_ocsp_info_t *info = cs_ocsp_response_info(r);
  for (size_t i = 0; i < info->nsingles; i++)
    (void)cs_ocsp_response_single(r, i);
  const mbedtls_x509_crt *c = cs_ocsp_response_certs(r);
  if (c != NULL) {
    /* Use the embedded certificate as a would-be issuer: exercises the
     * responder match, delegate checks and signature path on hostile data. */
    cs_ocsp_verify_result_t v;
    if (cs_ocsp_verify(r, c, &v) == 0 && v.signature_ok)
      info = cs_ocsp_response_info(r);
  }
  cs_ocsp_response_free(r);
  return 0;
}
