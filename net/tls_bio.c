/* Memory BIO for mbedTLS under libuv (see tls_bio.h). */
#include "certskew/net/tls_bio.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/ssl.h>

void cs_tls_bio_init(cs_tls_bio_t *b) { memset(b, 0, sizeof *b); }

void cs_tls_bio_free(cs_tls_bio_t *b) {
  free(b->in);
  free(b->out);
  b->in = b->out = NULL;
  b->in_off = b->in_len = b->in_cap = b->out_len = b->out_cap = 0;
}

static int reserve(uint8_t **buf, size_t *cap, size_t need) {
  if (need <= *cap)
    return 0;
  size_t n = *cap ? *cap : 4096;
  while (n < need)
    n *= 2;
  uint8_t *p = realloc(*buf, n);
  if (p == NULL)
    return CS_ENOMEM;
  *buf = p;
  *cap = n;
  return 0;
}

int cs_tls_bio_push(cs_tls_bio_t *b, const uint8_t *data, size_t len) {
  if (b->nfirst < sizeof b->first) {
    size_t k = sizeof b->first - b->nfirst;
    if (k > len)
      k = len;
    memcpy(b->first + b->nfirst, data, k);
    b->nfirst += k;
  }
  /* Compact consumed bytes before growing. */
  if (b->in_off > 0) {
    memmove(b->in, b->in + b->in_off, b->in_len - b->in_off);
    b->in_len -= b->in_off;
    b->in_off = 0;
  }
  if (reserve(&b->in, &b->in_cap, b->in_len + len) != 0)
    return CS_ENOMEM;
  memcpy(b->in + b->in_len, data, len);
  b->in_len += len;
  return 0;
}

int cs_tls_bio_unshift(cs_tls_bio_t *b, const uint8_t *data, size_t len) {
  if (len == 0)
    return 0;
  if (b->in_off >= len) {
    b->in_off -= len;
    memcpy(b->in + b->in_off, data, len);
    return 0;
  }
  size_t rest = b->in_len - b->in_off;
  if (reserve(&b->in, &b->in_cap, rest + len) != 0)
    return CS_ENOMEM;
  memmove(b->in + len, b->in + b->in_off, rest);
  memcpy(b->in, data, len);
  b->in_off = 0;
  b->in_len = rest + len;
  return 0;
}

uint8_t *cs_tls_bio_in_data(cs_tls_bio_t *b, size_t *len) {
  *len = b->in_len - b->in_off;
  return *len > 0 ? b->in + b->in_off : NULL;
}

void cs_tls_bio_in_consume(cs_tls_bio_t *b, size_t n) {
  b->in_off += n;
  if (b->in_off < b->in_len)
    return;
  /* Empty: the buffer goes (an idle tunnel holds none; issue #21). */
  free(b->in);
  b->in = NULL;
  b->in_off = b->in_len = b->in_cap = 0;
}

uint8_t *cs_tls_bio_out_space(cs_tls_bio_t *b, size_t need) {
  /* Sealed records are written in batches of up to 64 KB plus one record
   * (proxy/conn_relay.c's RELAY_BATCH): room for a whole batch at once spares the
   * doublings from 4 KB, each a copy of what was sealed. */
  if (b->out_cap == 0 && need <= CS_TLS_BIO_OUT_BATCH) {
    b->out = malloc(CS_TLS_BIO_OUT_BATCH); /* handed over by cs_tls_bio_take */
    if (b->out == NULL)
      return NULL;
    b->out_cap = CS_TLS_BIO_OUT_BATCH;
  }
  if (reserve(&b->out, &b->out_cap, b->out_len + need) != 0)
    return NULL;
  return b->out + b->out_len;
}

void cs_tls_bio_out_commit(cs_tls_bio_t *b, size_t n) { b->out_len += n; }

size_t cs_tls_bio_pending_in(const cs_tls_bio_t *b) { return b->in_len - b->in_off; }

uint8_t *cs_tls_bio_take(cs_tls_bio_t *b, size_t *len) {
  *len = b->out_len;
  if (b->out_len == 0)
    return NULL;
  uint8_t *p = b->out;
  b->out = NULL;
  b->out_len = b->out_cap = 0;
  return p;
}

int cs_tls_bio_send(void *ctx, const unsigned char *buf, size_t len) {
  cs_tls_bio_t *b = ctx;
  if (reserve(&b->out, &b->out_cap, b->out_len + len) != 0)
    return MBEDTLS_ERR_SSL_ALLOC_FAILED;
  memcpy(b->out + b->out_len, buf, len);
  b->out_len += len;
  return (int)len;
}

int cs_tls_bio_recv(void *ctx, unsigned char *buf, size_t len) {
  cs_tls_bio_t *b = ctx;
  size_t avail = b->in_len - b->in_off;
  if (avail == 0)
    return b->eof ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
  size_t n = len < avail ? len : avail;
  memcpy(buf, b->in + b->in_off, n);
  b->in_off += n;
  return (int)n;
}
