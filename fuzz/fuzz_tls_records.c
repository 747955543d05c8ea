/* Fuzz target: opening TLS 1.2 AEAD records (certskew/net/tls_records.h),
 * the bytes a relayed peer sends once the handshake is over. Fixed keys
 * (the same as fuzz/make_seeds_tls_records.sh's, so its seeds decrypt):
 * the first input byte picks the suite (AES-128-GCM, AES-256-GCM,
 * ChaCha20-Poly1305), the rest is the wire from the client, fed in
 * arrivals of varying size. Checks, beyond no crash: a record consumed
 * lies within the input, plaintext lies inside the record and is at most
 * 16384 bytes, nothing is released with an error, and after an error the
 * layer refuses everything. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ssl_ciphersuites.h>

#include "certskew/net/tls_records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int SUITES[] = {MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                             MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                             MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256};

/* Key block: client key 0x10.., server key 0x40.., client IV 0x70..,
 * server IV 0x90.. (keylen and ivlen per suite). */
static void fixed_keys(cs_tls_keys_t *k, size_t keylen, size_t ivlen) {
  memset(k, 0, sizeof *k);
  uint8_t *p = k->block;
  for (size_t i = 0; i < keylen; i++)
    *p++ = (uint8_t)(0x10 + i);
  for (size_t i = 0; i < keylen; i++)
    *p++ = (uint8_t)(0x40 + i);
  for (size_t i = 0; i < ivlen; i++)
    *p++ = (uint8_t)(0x70 + i);
  for (size_t i = 0; i < ivlen; i++)
    *p++ = (uint8_t)(0x90 + i);
  k->keylen = keylen;
  k->ivlen = ivlen;
  k->ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 256 * 1024)
    return 0;
  unsigned pick = data[0] % 3;
  cs_tls_keys_t k;
  fixed_keys(&k, pick == 0 ? 16 : 32, pick == 2 ? 12 : 4);
  cs_tls_records_t *r = NULL;
  /* Our side is the server; the client's next record is number 1 (its
   * Finished was 0). */
  if (cs_tls_records_new_keys(&r, SUITES[pick], 1, &k, 1, 1, 0) != 0)
    abort();
  uint8_t *buf = malloc(size); /* the receive buffer, opened in place */
  cs_tls_bio_t reply;
  cs_tls_bio_init(&reply);
  size_t have = 0, off = 0, step = 1 + (size % 61);
  const uint8_t *wire = data + 1;
  size_t wire_len = size - 1;
  int failed = 0;
  for (size_t i = 0; i < wire_len && !failed;) {
    size_t n = wire_len - i < step ? wire_len - i : step;
    memcpy(buf + have, wire + i, n);
    have += n;
    i += n;
    step = step * 3 % 4099 + 1;
    for (;;) {
      cs_tls_opened_t o;
      int rc = cs_tls_records_open(r, buf + off, have - off, &o, &reply);
      if (rc != 0) {
        if (o.data != NULL || o.len != 0)
          abort(); /* plaintext released with an error */
        failed = 1;
        break;
      }
      if (o.used > have - off)
        abort();
      if (o.used == 0)
        break;
      if (o.len > 16384 || (o.len > 0 && (o.data < buf + off || o.data + o.len > buf + off + o.used)))
        abort();
      off += o.used;
    }
  }
  if (failed) {
    cs_tls_opened_t o;
    if (cs_tls_records_open(r, buf, have, &o, &reply) != CS_ESTATE ||
        cs_tls_records_seal(r, data, 1, &reply) != CS_ESTATE)
      abort();
  }
  cs_tls_bio_free(&reply);
  free(buf);
  cs_tls_records_free(r);
  return 0;
}
