/*
 * The probe's ClientHello (include/certskew/tls/tls_probe.h): TLS 1.2 only, so a
 * server that could do TLS 1.3 answers with a plaintext Certificate and
 * CertificateStatus, with enough common suites, groups and signature
 * algorithms that real servers accept it.
 */
#include "certskew/tls/tls_probe.h"

#include <string.h>

#include "tls_hello_ext.h"

static const uint16_t SUITES[] = {
    0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, /* ECDHE AEAD */
    0xC009, 0xC013, 0xC00A, 0xC014,                 /* ECDHE CBC */
    0x009C, 0x009D, 0x002F, 0x0035,                 /* RSA key exchange */
    0x00FF,                                         /* renegotiation SCSV */
};
static const uint16_t GROUPS[] = {0x001D, 0x0017, 0x0018, 0x0019};

int cs_tls_probe_hello_build(const char *sni, const uint8_t random[32], uint8_t *buf,
                             size_t cap, size_t *len) {
  if (random == NULL || buf == NULL || len == NULL)
    return CS_EINVAL;
  size_t sni_len = sni != NULL ? strlen(sni) : 0;
  if (sni_len > 255)
    return CS_EINVAL;
  cs_wbuf_t w = {buf, cap, 0, 0};
  cs_wbuf_put8(&w, 22);
  cs_wbuf_put16(&w, 0x0301); /* record version 1.0 for the first flight, as browsers did */
  size_t rec_len_at = w.len;
  cs_wbuf_put16(&w, 0);
  cs_wbuf_put8(&w, 1); /* client_hello */
  size_t hs_len_at = w.len;
  cs_wbuf_put8(&w, 0);
  cs_wbuf_put16(&w, 0);
  cs_wbuf_put16(&w, 0x0303);
  cs_wbuf_put(&w, random, 32);
  cs_wbuf_put8(&w, 0); /* no session id: we never resume */
  cs_wbuf_put_u16_list(&w, SUITES, sizeof(SUITES) / sizeof(SUITES[0]));
  cs_wbuf_put8(&w, 1);
  cs_wbuf_put8(&w, 0);
  size_t ext_at = w.len;
  cs_wbuf_put16(&w, 0);
  cs_tls_hello_put_sni(&w, sni);
  cs_tls_hello_put_status_request(&w);
  cs_tls_hello_put_groups(&w, GROUPS, sizeof(GROUPS) / sizeof(GROUPS[0]));
  cs_tls_hello_put_point_formats(&w);
  cs_tls_hello_put_sigalgs(&w);
  cs_tls_hello_put_sct_request(&w);
  cs_tls_hello_put_ems(&w);
  cs_wbuf_patch(&w, ext_at, 2);
  cs_wbuf_patch(&w, hs_len_at, 3);
  cs_wbuf_patch(&w, rec_len_at, 2);
  if (w.overflow)
    return CS_ENOSPACE;
  *len = w.len;
  return 0;
}
