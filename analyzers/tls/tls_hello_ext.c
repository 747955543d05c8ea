/* ClientHello extensions shared by the probe's two builders (see tls_hello_ext.h). */
#include "tls_hello_ext.h"

#include <string.h>

/* Certificate and CertificateVerify signatures the probe can check: ECDSA
 * and RSA-PSS (rsae) for TLS 1.3, PKCS#1 v1.5 only for TLS 1.2 and
 * certificate signatures; no Ed25519 (mbedTLS 2.28 has none). */
static const uint16_t SIGALGS[] = {0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806,
                                   0x0401, 0x0501, 0x0601, 0x0203, 0x0201};

void cs_tls_hello_put_sni(cs_wbuf_t *w, const char *sni) {
  size_t n = sni != NULL ? strlen(sni) : 0;
  if (n == 0 || !cs_tls_is_dns_name(sni))
    return;
  cs_wbuf_put16(w, 0);
  cs_wbuf_put16(w, (uint32_t)n + 5);
  cs_wbuf_put16(w, (uint32_t)n + 3);
  cs_wbuf_put8(w, 0); /* host_name */
  cs_wbuf_put16(w, (uint32_t)n);
  cs_wbuf_put(w, sni, n);
}

void cs_tls_hello_put_status_request(cs_wbuf_t *w) {
  cs_wbuf_put16(w, 5);
  cs_wbuf_put16(w, 5);
  cs_wbuf_put8(w, 1); /* ocsp */
  cs_wbuf_put16(w, 0);
  cs_wbuf_put16(w, 0);
}

void cs_tls_hello_put_groups(cs_wbuf_t *w, const uint16_t *groups, size_t n) {
  cs_wbuf_put16(w, 10);
  cs_wbuf_put16(w, (uint32_t)(2 + 2 * n));
  cs_wbuf_put_u16_list(w, groups, n);
}

void cs_tls_hello_put_point_formats(cs_wbuf_t *w) {
  cs_wbuf_put16(w, 11);
  cs_wbuf_put16(w, 2);
  cs_wbuf_put8(w, 1);
  cs_wbuf_put8(w, 0); /* uncompressed */
}

void cs_tls_hello_put_sigalgs(cs_wbuf_t *w) {
  cs_wbuf_put16(w, 13);
  cs_wbuf_put16(w, 2 + sizeof(SIGALGS));
  cs_wbuf_put_u16_list(w, SIGALGS, sizeof(SIGALGS) / sizeof(SIGALGS[0]));
}

void cs_tls_hello_put_sct_request(cs_wbuf_t *w) {
  cs_wbuf_put16(w, 18);
  cs_wbuf_put16(w, 0);
}

void cs_tls_hello_put_ems(cs_wbuf_t *w) {
  cs_wbuf_put16(w, 23);
  cs_wbuf_put16(w, 0);
}
