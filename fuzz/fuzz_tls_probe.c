/* Fuzz target: the stapling probe's TLS record/handshake parser. The input is
 * fed whole and again in small splits (size-derived step): reassembly must
 * not crash, and both ways must reach the same verdict (differential check). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/tls/tls_probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cs_tls_probe_parser_t *whole = cs_tls_probe_parser_new();
  cs_tls_probe_parser_t *split = cs_tls_probe_parser_new();
  if (whole == NULL || split == NULL)
    goto out;
  int rw = cs_tls_probe_parser_feed(whole, data, size, NULL);
  size_t step = size % 13 + 1;
  int rs = 0;
  for (size_t off = 0; off < size && rs == 0; off += step)
    rs = cs_tls_probe_parser_feed(split, data + off, off + step > size ? size - off : step, NULL);
  const cs_tls_probe_result_t *a = cs_tls_probe_parser_result(whole);
  const cs_tls_probe_result_t *b = cs_tls_probe_parser_result(split);
  if ((rw == 0) != (rs == 0) || a->outcome != b->outcome || a->ncerts != b->ncerts ||
      a->ocsp_len != b->ocsp_len ||
      (a->ocsp != NULL && memcmp(a->ocsp, b->ocsp, a->ocsp_len) != 0))
    abort(); /* the split changed the verdict: a reassembly bug */
  for (size_t i = 0; i < a->ncerts; i++)
    if (a->cert_lens[i] != b->cert_lens[i] || memcmp(a->certs[i], b->certs[i], a->cert_lens[i]) != 0)
      abort();
out:
  cs_tls_probe_parser_free(whole);
  cs_tls_probe_parser_free(split);
  return 0;
}
