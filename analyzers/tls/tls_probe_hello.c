/*
 * The probe's ClientHello (include/certskew/tls/tls_probe.h): TLS 1.2 only, so a
 * server that could do TLS 1.3 answers with a plaintext Certificate and
 * CertificateStatus, with enough common suites, groups and signature
 * algorithms that real servers accept it.
 */
#include "certskew/tls/tls_probe.h"

#include <string.h>

static const uint16_t SUITES[] = {
    0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, /* ECDHE AEAD */
    0xC009, 0xC013, 0xC00A, 0xC014,                 /* ECDHE CBC */
    0x009C, 0x009D, 0x002F, 0x0035,                 /* RSA key exchange */
    0x00FF,                                         /* renegotiation SCSV */
};
static const uint16_t GROUPS[] = {0x001D, 0x0017, 0x0018, 0x0019};
static const uint16_t SIGALGS[] = {0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806,
                                   0x0401, 0x0501, 0x0601, 0x0203, 0x0201};

typedef struct wbuf {
  uint8_t *b;
  size_t cap, len;
  int overflow;
} wbuf_t;

static void put(wbuf_t *w, const void *src, size_t n) {
  if (w->overflow || n > w->cap - w->len) {
    w->overflow = 1;
    return;
  }
  memcpy(w->b + w->len, src, n);
  w->len += n;
}
static void put8(wbuf_t *w, uint32_t v) {
  uint8_t b = (uint8_t)v;
  put(w, &b, 1);
}
static void put16(wbuf_t *w, uint32_t v) {
  put8(w, v >> 8);
  put8(w, v);
}
/* Back-patches a length of `bytes` bytes at position at. */
static void patch(wbuf_t *w, size_t at, size_t bytes) {
  if (w->overflow)
    return;
  size_t v = w->len - at - bytes;
  for (size_t i = 0; i < bytes; i++)
    w->b[at + i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

/* SNI carries DNS names only (RFC 6066 §3): no IP literals. */
static int is_dns_name(const char *s) {
  int alpha = 0;
  for (const char *c = s; *c; c++) {
    if (*c == ':')
      return 0;
    if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '-')
      alpha = 1;
  }
  return alpha;
}

static void put_u16_list(wbuf_t *w, const uint16_t *v, size_t n) {
  put16(w, (uint32_t)(n * 2));
  for (size_t i = 0; i < n; i++)
    put16(w, v[i]);
}

int cs_tls_probe_hello_build(const char *sni, const uint8_t random[32], uint8_t *buf,
                             size_t cap, size_t *len) {
  if (random == NULL || buf == NULL || len == NULL)
    return CS_EINVAL;
  size_t sni_len = sni != NULL ? strlen(sni) : 0;
  if (sni_len > 255)
    return CS_EINVAL;
  wbuf_t w = {buf, cap, 0, 0};
  put8(&w, 22);
  put16(&w, 0x0301); /* record version 1.0 for the first flight, as browsers did */
  size_t rec_len_at = w.len;
  put16(&w, 0);
  put8(&w, 1); /* client_hello */
  size_t hs_len_at = w.len;
  put8(&w, 0);
  put16(&w, 0);
  put16(&w, 0x0303);
  put(&w, random, 32);
  put8(&w, 0); /* no session id: we never resume */
  put_u16_list(&w, SUITES, sizeof(SUITES) / sizeof(SUITES[0]));
  put8(&w, 1);
  put8(&w, 0);
  size_t ext_at = w.len;
  put16(&w, 0);
  if (sni_len > 0 && is_dns_name(sni)) {
    put16(&w, 0);
    put16(&w, (uint32_t)sni_len + 5);
    put16(&w, (uint32_t)sni_len + 3);
    put8(&w, 0);
    put16(&w, (uint32_t)sni_len);
    put(&w, sni, sni_len);
  }
  put16(&w, 5); /* status_request: ocsp, no responder ids, no extensions */
  put16(&w, 5);
  put8(&w, 1);
  put16(&w, 0);
  put16(&w, 0);
  put16(&w, 10);
  put16(&w, 2 + sizeof(GROUPS));
  put_u16_list(&w, GROUPS, sizeof(GROUPS) / sizeof(GROUPS[0]));
  put16(&w, 11); /* ec_point_formats: uncompressed */
  put16(&w, 2);
  put8(&w, 1);
  put8(&w, 0);
  put16(&w, 13);
  put16(&w, 2 + sizeof(SIGALGS));
  put_u16_list(&w, SIGALGS, sizeof(SIGALGS) / sizeof(SIGALGS[0]));
  put16(&w, 18); /* signed_certificate_timestamp: empty in the ClientHello */
  put16(&w, 0);
  put16(&w, 23); /* extended_master_secret */
  put16(&w, 0);
  patch(&w, ext_at, 2);
  patch(&w, hs_len_at, 3);
  patch(&w, rec_len_at, 2);
  if (w.overflow)
    return CS_ENOSPACE;
  *len = w.len;
  return 0;
}
