/*
 * One side of a proxied connection: a libuv TCP handle, optionally with an
 * mbedTLS context over a memory BIO, and a write queue with byte counting
 * for backpressure. The owner installs callbacks and switches them as its
 * state machine moves on.
 *
 * Memory: the endpoint is embedded in its owner; the handle's memory is
 * released only after the close callback (cs_endpoint_close + on_closed).
 */
#ifndef CERTSKEW_NET_ENDPOINT_H
#define CERTSKEW_NET_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ssl.h>
#include <uv.h>

#include "certskew/core/error.h"
#include "certskew/net/tls_bio.h"
#include "certskew/net/tls_records.h"

/* Stop reading the other side above HIGH queued bytes, resume below LOW. */
#define CS_EP_WRITE_HIGH (1024u * 1024)
#define CS_EP_WRITE_LOW (256u * 1024)
#define CS_EP_READ_CHUNK (64u * 1024)

typedef struct cs_endpoint cs_endpoint_t;

/* Raw bytes arrived (buf owned by the callee: free() it), or nread < 0 for
 * EOF (UV_EOF) or an error. */
typedef void (*cs_ep_read_cb)(cs_endpoint_t *ep, uint8_t *buf, ssize_t nread);
typedef void (*cs_ep_cb)(cs_endpoint_t *ep);
typedef void (*cs_ep_status_cb)(cs_endpoint_t *ep, int status);

struct cs_endpoint {
  uv_tcp_t tcp;          /* tcp.data points at the endpoint */
  void *owner;
  void *aux;             /* for the module driving the endpoint (upstream.c) */
  const char *name;      /* "client" / "upstream" for messages */
  int open;              /* handle initialised, close pending or not */
  int closing;
  int reading;
  int shut;              /* uv_shutdown issued */
  int shut_done;         /* ... and completed (all queued writes flushed) */
  int paused;            /* reading stopped by backpressure */
  int eof;               /* the peer finished sending */
  int has_ssl;           /* a TLS side: on mbedTLS, or on rec once handed over */
  mbedtls_ssl_context ssl; /* freed at the handover (its ~34 KB of record buffers) */
  mbedtls_ssl_config *own_conf; /* owned when non-NULL (per-connection conf) */
  cs_tls_records_t *rec; /* owned; our record layer after cs_endpoint_tls_take_over */
  cs_tls_keys_t keys;    /* the last handshake's key block (export callback); wiped once used */
  cs_tls_bio_t bio;
  size_t queued;         /* bytes handed to uv_write and not yet completed */
  uint64_t bytes_in, bytes_out;
  cs_ep_read_cb on_read;
  cs_ep_cb on_drain;     /* queued fell below CS_EP_WRITE_LOW */
  cs_ep_status_cb on_write_error;
  cs_ep_cb on_closed;
  cs_ep_status_cb on_shutdown; /* the half-close completed (or failed) */
};

/* Prepares ep (no handle yet). Cannot fail. */
void cs_endpoint_init(cs_endpoint_t *ep, void *owner, const char *name);
/* uv_tcp_init on loop; CS_ENET on failure. */
int cs_endpoint_open(cs_endpoint_t *ep, uv_loop_t *loop) CS_MUST_CHECK;
/* Sets up TLS on ep with conf (borrowed, must outlive ep unless stored in
 * own_conf). */
int cs_endpoint_tls_setup(cs_endpoint_t *ep, const mbedtls_ssl_config *conf) CS_MUST_CHECK;
int cs_endpoint_read_start(cs_endpoint_t *ep) CS_MUST_CHECK;
void cs_endpoint_read_stop(cs_endpoint_t *ep);
/* Queues a raw write; takes ownership of data (malloc'ed). */
int cs_endpoint_write_owned(cs_endpoint_t *ep, uint8_t *data, size_t len) CS_MUST_CHECK;
/* Queues a raw write of a copy of data. */
int cs_endpoint_write_copy(cs_endpoint_t *ep, const void *data, size_t len) CS_MUST_CHECK;
/* Encrypts data (TLS endpoints) and queues the records; for plain
 * endpoints the same as write_copy. */
int cs_endpoint_send(cs_endpoint_t *ep, const void *data, size_t len) CS_MUST_CHECK;
/* Encrypts data into the TLS output buffer without writing it yet, so a
 * burst of records leaves in one write (cs_endpoint_flush); plain
 * endpoints queue a copy at once. */
int cs_endpoint_send_nf(cs_endpoint_t *ep, const void *data, size_t len) CS_MUST_CHECK;
/* Encrypted bytes waiting for cs_endpoint_flush. */
size_t cs_endpoint_unflushed(const cs_endpoint_t *ep);
/* Queues whatever the TLS engine produced (handshake, alerts). */
int cs_endpoint_flush(cs_endpoint_t *ep) CS_MUST_CHECK;
/* Half-close after queued writes (TLS: close_notify first). */
void cs_endpoint_shutdown(cs_endpoint_t *ep);
/* Closes the handle (idempotent); on_closed runs afterwards. Frees TLS state. */
void cs_endpoint_close(cs_endpoint_t *ep);
/* Hands a relaying TLS 1.2 AEAD side from mbedTLS to our record layer
 * (certskew/net/tls_records.h) once mbedtls_ssl_read answered WANT_READ:
 * the partial record mbedTLS had pulled goes back in front of the BIO's
 * input, and the mbedTLS context (and own_conf) is freed. Returns 1 when
 * handed over (or already), 0 when the side stays on mbedTLS (CBC suite,
 * TLS < 1.2, bytes pending inside mbedTLS), or CS_ENOMEM / CS_ECRYPTO. */
int cs_endpoint_tls_take_over(cs_endpoint_t *ep) CS_MUST_CHECK;
/* Opens the first record of buf[0..len) on a handed-over side; alerts for
 * the peer are sealed into the side's output (cs_endpoint_flush). See
 * cs_tls_records_open. */
int cs_endpoint_tls_open(cs_endpoint_t *ep, uint8_t *buf, size_t len,
                         cs_tls_opened_t *out) CS_MUST_CHECK;
/* Frees TLS state (also done by close). Safe twice. */
void cs_endpoint_tls_free(cs_endpoint_t *ep);

#endif
