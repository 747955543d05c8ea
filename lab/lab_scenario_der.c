/* Forward DER writer for the lab (see lab_scenario_der.h). */
#include "lab_scenario_der.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/oid.h>
#include <mbedtls/sha256.h>

#include "certskew/core/time.h"

void lab_der_init(lab_der_t *d) { memset(d, 0, sizeof(*d)); }

void lab_der_free(lab_der_t *d) {
  free(d->buf);
  memset(d, 0, sizeof(*d));
}

static int reserve(lab_der_t *d, size_t more) {
  if (d->err != 0)
    return d->err;
  if (more > SIZE_MAX / 2 - d->len)
    return d->err = CS_ETOOBIG;
  if (d->len + more <= d->cap)
    return 0;
  size_t cap = d->cap ? d->cap : 512;
  while (cap < d->len + more)
    cap *= 2;
  uint8_t *p = realloc(d->buf, cap);
  if (p == NULL)
    return d->err = CS_ENOMEM;
  d->buf = p;
  d->cap = cap;
  return 0;
}

void lab_der_raw(lab_der_t *d, const uint8_t *c, size_t n) {
  if (n == 0 || reserve(d, n) != 0)
    return;
  memcpy(d->buf + d->len, c, n);
  d->len += n;
}

/* Definite length octets for n into out; returns how many. */
static size_t len_octets(size_t n, uint8_t out[9]) {
  if (n < 0x80) {
    out[0] = (uint8_t)n;
    return 1;
  }
  size_t k = 0;
  for (size_t v = n; v > 0; v >>= 8)
    k++;
  out[0] = (uint8_t)(0x80 | k);
  for (size_t i = 0; i < k; i++)
    out[1 + i] = (uint8_t)(n >> (8 * (k - 1 - i)));
  return 1 + k;
}

void lab_der_open(lab_der_t *d, uint8_t tag) {
  if (d->err == 0 && d->depth == LAB_DER_MAX_DEPTH)
    d->err = CS_EINVAL;
  lab_der_raw(d, &tag, 1);
  if (d->err == 0)
    d->open[d->depth++] = d->len;
}

void lab_der_close(lab_der_t *d) {
  if (d->err != 0)
    return;
  if (d->depth == 0) {
    d->err = CS_EINVAL;
    return;
  }
  size_t start = d->open[--d->depth], n = d->len - start;
  uint8_t l[9];
  size_t k = len_octets(n, l);
  if (reserve(d, k) != 0)
    return;
  memmove(d->buf + start + k, d->buf + start, n);
  memcpy(d->buf + start, l, k);
  d->len += k;
}

void lab_der_tlv(lab_der_t *d, uint8_t tag, const uint8_t *c, size_t n) {
  uint8_t l[9];
  size_t k = len_octets(n, l);
  lab_der_raw(d, &tag, 1);
  lab_der_raw(d, l, k);
  lab_der_raw(d, c, n);
}

void lab_der_uint(lab_der_t *d, uint8_t tag, uint64_t v) {
  uint8_t b[9];
  size_t n = 0;
  for (int i = 7; i >= 0; i--) {
    uint8_t byte = (uint8_t)(v >> (8 * i));
    if (n == 0 && byte == 0 && i > 0)
      continue;
    if (n == 0 && (byte & 0x80))
      b[n++] = 0; /* keep it positive */
    b[n++] = byte;
  }
  lab_der_tlv(d, tag, b, n);
}

void lab_der_time(lab_der_t *d, int generalized, int64_t t_ms) {
  cs_civil_t c;
  cs_time_to_civil(t_ms, &c);
  char s[24];
  if (d->err == 0 && (c.year < 0 || c.year > 9999 || (!generalized && (c.year < 1950 || c.year > 2049))))
    d->err = CS_ERANGE;
  if (d->err != 0)
    return;
  if (generalized)
    (void)snprintf(s, sizeof(s), "%04d%02d%02d%02d%02d%02dZ", (int)c.year, c.month, c.day, c.hour,
                   c.minute, c.second);
  else
    (void)snprintf(s, sizeof(s), "%02d%02d%02d%02d%02d%02dZ", (int)(c.year % 100), c.month, c.day,
                   c.hour, c.minute, c.second);
  lab_der_tlv(d, generalized ? 0x18 : 0x17, (const uint8_t *)s, strlen(s));
}

void lab_der_x509_time(lab_der_t *d, int64_t t_ms) {
  cs_civil_t c;
  cs_time_to_civil(t_ms, &c);
  lab_der_time(d, !(c.year >= 1950 && c.year <= 2049), t_ms);
}

void lab_der_sig_alg(lab_der_t *d, const mbedtls_pk_context *key) {
  const char *oid = NULL;
  size_t oid_len = 0;
  mbedtls_pk_type_t t = mbedtls_pk_get_type(key);
  if (d->err == 0 && (t == MBEDTLS_PK_ECKEY || t == MBEDTLS_PK_ECDSA))
    t = MBEDTLS_PK_ECDSA;
  if (d->err == 0 && mbedtls_oid_get_oid_by_sig_alg(t, MBEDTLS_MD_SHA256, &oid, &oid_len) != 0)
    d->err = CS_EUNSUPPORTED;
  lab_der_open(d, 0x30);
  lab_der_tlv(d, 0x06, (const uint8_t *)oid, oid_len);
  if (t == MBEDTLS_PK_RSA)
    lab_der_tlv(d, 0x05, NULL, 0); /* RFC 4055: NULL parameters for RSA */
  lab_der_close(d);
}

void lab_der_signature(lab_der_t *d, const mbedtls_pk_context *key, const uint8_t *tbs, size_t n,
                       cs_lab_rng_fn f_rng, void *p_rng) {
  uint8_t hash[32], sig[1 + MBEDTLS_PK_SIGNATURE_MAX_SIZE];
  size_t sig_len = 0;
  if (d->err != 0)
    return;
  if (mbedtls_sha256_ret(tbs, n, hash, 0) != 0 ||
      mbedtls_pk_sign((mbedtls_pk_context *)key, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig + 1,
                      &sig_len, f_rng, p_rng) != 0) {
    d->err = CS_ECRYPTO;
    return;
  }
  sig[0] = 0; /* no unused bits */
  lab_der_tlv(d, 0x03, sig, sig_len + 1);
}

int lab_der_take(lab_der_t *d, uint8_t **out, size_t *len) {
  *out = NULL;
  *len = 0;
  if (d->err == 0 && d->depth != 0)
    d->err = CS_EINVAL;
  if (d->err != 0)
    return d->err;
  *out = d->buf; /* ownership passes to the caller */
  *len = d->len;
  d->buf = NULL;
  d->len = d->cap = 0;
  return 0;
}
