/*
 * A bounded byte writer shared by the two ClientHello builders
 * (tls_probe_hello.c, tls13_hello.c): writes past cap set overflow instead
 * of writing, so a builder checks once at the end.
 */
#ifndef CERTSKEW_TLS_WBUF_H
#define CERTSKEW_TLS_WBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct cs_wbuf {
  uint8_t *b;
  size_t cap, len;
  int overflow;
} cs_wbuf_t;

static inline void cs_wbuf_put(cs_wbuf_t *w, const void *src, size_t n) {
  if (w->overflow || n > w->cap - w->len) {
    w->overflow = 1;
    return;
  }
  if (n > 0)
    memcpy(w->b + w->len, src, n);
  w->len += n;
}
static inline void cs_wbuf_put8(cs_wbuf_t *w, uint32_t v) {
  uint8_t b = (uint8_t)v;
  cs_wbuf_put(w, &b, 1);
}
static inline void cs_wbuf_put16(cs_wbuf_t *w, uint32_t v) {
  cs_wbuf_put8(w, v >> 8);
  cs_wbuf_put8(w, v);
}
/* Back-patches a length of `bytes` bytes at position at: everything after it. */
static inline void cs_wbuf_patch(cs_wbuf_t *w, size_t at, size_t bytes) {
  if (w->overflow)
    return;
  size_t v = w->len - at - bytes;
  for (size_t i = 0; i < bytes; i++)
    w->b[at + i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}
static inline void cs_wbuf_put_u16_list(cs_wbuf_t *w, const uint16_t *v, size_t n) {
  cs_wbuf_put16(w, (uint32_t)(n * 2));
  for (size_t i = 0; i < n; i++)
    cs_wbuf_put16(w, v[i]);
}

/* SNI carries DNS names only (RFC 6066 §3): no IP literals. */
static inline int cs_tls_is_dns_name(const char *s) {
  int alpha = 0;
  for (const char *c = s; *c; c++) {
    if (*c == ':')
      return 0;
    if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '-')
      alpha = 1;
  }
  return alpha;
}

#endif
