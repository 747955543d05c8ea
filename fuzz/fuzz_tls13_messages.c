/* Fuzz target: the plaintext parsers of the TLS 1.3 server messages the
 * capture probe reads (analyzers/tls/tls13_parse.c). Real flights are encrypted
 * under ephemeral keys, so the parsers are fuzzed directly: the first byte
 * selects ServerHello/HelloRetryRequest (0), EncryptedExtensions (1),
 * Certificate (2) or CertificateVerify (3); the rest is the message body.
 * Every pointer a parser returns must lie inside the input (checked), and
 * every byte it points at is read (for ASan). Seeds: fuzz/make_seeds_tls13.sh. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls13_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

static void inside(const uint8_t *b, size_t n, const uint8_t *p, size_t len) {
  if (p == NULL && len == 0)
    return;
  if (p == NULL || p < b || len > n || (size_t)(p - b) > n - len)
    abort(); /* a borrowed pointer outside the message */
  for (size_t i = 0; i < len; i++)
    sink ^= p[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  const uint8_t *b = data + 1;
  size_t n = size - 1;
  cs_tls_probe_result_t res;
  memset(&res, 0, sizeof(res));
  switch (data[0] % 4) {
  case 0: {
    cs_tls13_server_hello_t sh;
    if (cs_tls13_server_hello_parse(b, n, &sh, NULL) == 0) {
      inside(b, n, sh.share, sh.share_len);
      inside(b, n, sh.cookie, sh.cookie_len);
    }
    break;
  }
  case 1:
    if (cs_tls13_ee_parse(b, n, &res, NULL) == 0 && strlen(res.alpn) >= sizeof(res.alpn))
      abort();
    break;
  case 2:
    if (cs_tls13_certificate_parse(b, n, &res, NULL) == 0) {
      if (res.ncerts == 0 || res.ncerts > CS_TLS_PROBE_MAX_CERTS)
        abort();
      for (size_t i = 0; i < res.ncerts; i++)
        inside(b, n, res.certs[i], res.cert_lens[i]);
      inside(b, n, res.ocsp, res.ocsp_len);
      inside(b, n, res.sct_list, res.sct_list_len);
    }
    break;
  default: {
    uint16_t alg;
    const uint8_t *sig;
    size_t sig_len;
    if (cs_tls13_cert_verify_parse(b, n, &alg, &sig, &sig_len, NULL) == 0)
      inside(b, n, sig, sig_len);
    break;
  }
  }
  return 0;
}
