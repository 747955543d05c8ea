/*
 * Joining a ClientHello split over several TLS records (pure).
 *
 * A TLS client may split any handshake message over records (RFC 8446
 * §5.1, RFC 5246 §6.2.1), and large ClientHellos (post-quantum key shares,
 * many extensions) or clients that cap their record size do. mbedTLS 2.28's
 * server reads the ClientHello from one record and closes the connection
 * otherwise. The proxy shows it the client's first bytes through
 * cs_tls_hello_join until the whole message is there, then hands it one
 * record holding the whole ClientHello, followed by whatever came after.
 */
#ifndef CERTSKEW_TLS_TLS_HELLO_JOIN_H
#define CERTSKEW_TLS_TLS_HELLO_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/error.h"

/* The largest ClientHello joined: one record's plaintext (2^14 bytes),
 * what mbedTLS 2.28 reads a ClientHello into. */
#define CS_TLS_HELLO_JOIN_MAX 16384

typedef enum cs_tls_hello_join_result {
  CS_HELLO_JOIN_NEED_MORE = 0, /* the message is not complete yet: buffer more bytes */
  CS_HELLO_JOIN_AS_IS = 1,     /* hand in[] over unchanged (the first record holds the
                                  whole message, or it is no TLS handshake record at all:
                                  mbedTLS judges it) */
  CS_HELLO_JOIN_JOINED = 2,    /* hand *out over instead of in[] */
} cs_tls_hello_join_result_t;

/* in/len: every byte the client sent so far (borrowed). Returns a
 * cs_tls_hello_join_result_t, or CS_ETOOBIG when the ClientHello is larger
 * than CS_TLS_HELLO_JOIN_MAX, CS_EPARSE when a record other than a
 * handshake record interrupts it, CS_ENOMEM. On CS_HELLO_JOIN_JOINED, *out
 * (newly allocated, caller free()) holds one handshake record with the
 * version of the first record and every handshake byte of the records that
 * carried the message, then the bytes after those records unchanged. */
int cs_tls_hello_join(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
    CS_MUST_CHECK;

#endif
