/* Fuzz target: the stapling probe's TLS record/handshake parser. The input is
 * fed whole and again in small splits (size-derived step): reassembly must
 * not crash, and both ways must reach the same verdict (differential check).
 * Passive mode, then client mode (a fixed RNG): there a TLS 1.3 ServerHello
 * or HelloRetryRequest drives the key share, second ClientHello, key
 * schedule and record opening (whose tags fail on fuzzed bytes: the TLS 1.3
 * message parsers themselves are fuzzed by fuzz_tls13_messages.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/tls/tls_probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Deterministic: the same input gives the same shares in both parsers. */
static int fixed_rng(void *p_rng, unsigned char *out, size_t len) {
  uint32_t *state = p_rng;
  for (size_t i = 0; i < len; i++) {
    *state = *state * 1103515245u + 12345u;
    out[i] = (uint8_t)(*state >> 16);
  }
  return 0;
}

static void run(const uint8_t *data, size_t size, int client) {
  cs_tls_probe_parser_t *whole = NULL, *split = NULL;
  uint32_t s1 = 1, s2 = 1;
  if (client) {
    if (cs_tls_probe_client_new("fuzz.test", fixed_rng, &s1, &whole, NULL) != 0 ||
        cs_tls_probe_client_new("fuzz.test", fixed_rng, &s2, &split, NULL) != 0)
      goto out;
  } else {
    whole = cs_tls_probe_parser_new();
    split = cs_tls_probe_parser_new();
  }
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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  run(data, size, 0);
  run(data, size, 1);
  return 0;
}
