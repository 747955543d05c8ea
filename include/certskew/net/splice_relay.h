/*
 * Zero-copy relay between two connected TCP sockets: Linux splice(2) moves
 * each direction's bytes socket -> pipe -> socket inside the kernel, so a
 * relayed byte is never copied into the process and back. The passthrough
 * tunnel switches to it once its observer has seen the handshake it
 * captures (issue #21: the relay's CPU per GB, on a machine it shares with
 * the browser and the server, is throughput the user loses).
 *
 * The sockets stay owned by their libuv TCP handles (the caller closes
 * them); while the relay runs, it watches them with its own uv_poll_t
 * handles. libuv allows that only while the TCP handles watch nothing:
 * reading stopped and no write or shutdown queued. cs_splice_relay_start
 * refuses (UV_EEXIST from uv_poll_init) otherwise, and the caller keeps its
 * ordinary relay.
 *
 * Lifetime: the relay is owned by the caller until cs_splice_relay_close,
 * which must run BEFORE the TCP handles are closed (closing a TCP handle
 * drops its descriptor from the event loop, poll handles included); from
 * then on it frees itself once its handles have closed and never calls
 * back again.
 */
#ifndef CERTSKEW_NET_SPLICE_RELAY_H
#define CERTSKEW_NET_SPLICE_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "certskew/core/error.h"

typedef struct cs_splice_relay cs_splice_relay_t;

typedef struct cs_splice_relay_cbs {
  void *data;
  /* Bytes moved (either direction): the owner's idle timer. */
  void (*on_activity)(void *data);
  /* Both directions ended (status 0: each side's end of stream was passed
   * on as a half-close) or one failed (a negative UV_* code). Called once;
   * the owner then closes the relay and its sockets. */
  void (*on_done)(void *data, int status);
} cs_splice_relay_cbs_t;

/* Bytes already read from one side that still have to reach the other
 * before the relay's own (borrowed for the call; copied). */
typedef struct cs_splice_relay_pending {
  const uint8_t *a_to_b;
  size_t a_to_b_len;
  const uint8_t *b_to_a;
  size_t b_to_a_len;
} cs_splice_relay_pending_t;

/* 1 when this build and kernel can splice sockets (Linux). */
int cs_splice_relay_supported(void);

/* Starts relaying between a and b (both connected, non-blocking; reading
 * stopped, nothing queued). *out owned by the caller until
 * cs_splice_relay_close. CS_EUNSUPPORTED (not Linux), CS_ENOMEM, CS_ENET
 * (no pipes: descriptors exhausted; or libuv refused to watch the sockets):
 * then nothing was started and nothing was written. */
int cs_splice_relay_start(cs_splice_relay_t **out, uv_loop_t *loop, uv_tcp_t *a, uv_tcp_t *b,
                          const cs_splice_relay_pending_t *pending,
                          const cs_splice_relay_cbs_t *cbs) CS_MUST_CHECK;

/* Stops at once (no callback after this) and frees r once libuv is done
 * with its handles. NULL is fine. */
void cs_splice_relay_close(cs_splice_relay_t *r);

#endif
