/*
 * Memory BIO between an mbedTLS context and a libuv stream: mbedTLS never
 * touches a socket. Bytes read from the socket are pushed in; recv hands
 * them to mbedTLS and answers MBEDTLS_ERR_SSL_WANT_READ when there are none
 * yet (a retry, never an error). send appends to an output buffer that the
 * owner takes and writes with uv_write.
 */
#ifndef CERTSKEW_NET_TLS_BIO_H
#define CERTSKEW_NET_TLS_BIO_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/error.h"

typedef struct cs_tls_bio {
  uint8_t *in;  /* owned */
  size_t in_off, in_len, in_cap;
  uint8_t *out; /* owned until taken */
  size_t out_len, out_cap;
  int eof;      /* the peer closed: recv returns 0 once in is drained */
  uint8_t first[8]; /* the first bytes ever received (to name an alert) */
  size_t nfirst;
} cs_tls_bio_t;

void cs_tls_bio_init(cs_tls_bio_t *b);
/* Safe twice. */
void cs_tls_bio_free(cs_tls_bio_t *b);
/* Appends received ciphertext (copied). CS_ENOMEM. */
int cs_tls_bio_push(cs_tls_bio_t *b, const uint8_t *data, size_t len) CS_MUST_CHECK;
/* Ciphertext received but not yet consumed by mbedTLS. */
size_t cs_tls_bio_pending_in(const cs_tls_bio_t *b);
/* Hands the output buffer to the caller (free() it) and resets it; NULL
 * when there is nothing to send. */
uint8_t *cs_tls_bio_take(cs_tls_bio_t *b, size_t *len);
/* Puts data (copied) in front of the unread input: the partial record
 * mbedTLS had already pulled when the record layer changes hands. */
int cs_tls_bio_unshift(cs_tls_bio_t *b, const uint8_t *data, size_t len) CS_MUST_CHECK;
/* Unread input in place (NULL when none) and its consumption (the buffer
 * is freed once all of it is consumed). */
uint8_t *cs_tls_bio_in_data(cs_tls_bio_t *b, size_t *len);
void cs_tls_bio_in_consume(cs_tls_bio_t *b, size_t n);
/* Room for need more output bytes at the end of the output buffer (NULL:
 * out of memory); cs_tls_bio_out_commit then counts the n written. Lets a
 * record be sealed straight into the buffer that is written. */
uint8_t *cs_tls_bio_out_space(cs_tls_bio_t *b, size_t need);
#define CS_TLS_BIO_OUT_BATCH (96u * 1024) /* first capacity of out_space's buffer */
void cs_tls_bio_out_commit(cs_tls_bio_t *b, size_t n);
/* mbedTLS callbacks (ctx is the cs_tls_bio_t). */
int cs_tls_bio_send(void *ctx, const unsigned char *buf, size_t len);
int cs_tls_bio_recv(void *ctx, unsigned char *buf, size_t len);

#endif
