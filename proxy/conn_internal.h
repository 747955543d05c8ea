/*
 * Private to proxy/conn*.c: one client connection of the proxy (see conn.c
 * for its stages), shared by the files that drive it.
 *   conn.c        accept, the request head, upstream, the client's TLS
 *                 handshake, our own responses, timers
 *   conn_plain.c  plain HTTP (absolute-form), one request at a time
 *   conn_relay.c  a tunnel's bytes both ways once it is established: the
 *                 loop's relay, intercepted legs on the libcrypto record
 *                 layer, passthrough tunnels moved to splice(2)
 */
#ifndef CERTSKEW_PROXY_CONN_INTERNAL_H
#define CERTSKEW_PROXY_CONN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/error.h"
#include "certskew/fetch/verdict.h"
#include "certskew/net/endpoint.h"
#include "certskew/net/splice_relay.h"
#include "certskew/net/upstream.h"
#include "certskew/proxy/http_head.h"
#include "passthrough.h"
#include "proxy_ctx.h"

/* Client bytes held past a request head (pipelined requests, bytes before
 * the upstream is ready) at most. */
#define PENDING_MAX (CS_EP_READ_CHUNK * 2)

typedef enum conn_state {
  ST_HEAD = 1,  /* reading the request head */
  ST_API_BODY,  /* reading a request body for the API */
  ST_UPSTREAM,  /* connecting / handshaking upstream */
  ST_CLIENT_HS, /* TLS handshake with the client */
  ST_TLS_HEAD,  /* reading the decrypted request head to answer with an error */
  ST_RELAY,     /* relaying both ways */
  ST_FINAL,     /* our own response is queued; waiting for it to drain */
  ST_PLAIN,     /* plain HTTP: one request forwarded, its response relayed */
  ST_PLAIN_NEXT, /* plain HTTP: response done, upstream closing, next request follows */
  ST_CLOSING,
} conn_state_t;

typedef struct cs_conn {
  cs_proxy_ctx_t *px;
  struct cs_conn *prev, *next;
  cs_endpoint_t client, upstream;
  cs_upstream_t up;
  uv_timer_t timer;
  int timer_open;
  conn_state_t state;
  cs_http_head_t *head;     /* owned while reading a head */
  cs_http_target_t target;
  char method[16];
  char url[2048];
  uint8_t *pending;         /* owned: client bytes that followed the head */
  size_t pending_len;
  char *body;               /* owned: API request body */
  size_t body_len, body_want;
  int is_connect;
  cs_leaf_t *leaf;          /* references held for the handshake */
  cs_leaf_t *sni_leaf;
  cs_verdict_t verdict;
  cs_passthrough_t *pt;     /* passthrough observer (owned until released), NULL when intercepting */
  cs_splice_relay_t *splice; /* owned until conn_close: the tunnel's zero-copy relay, once the
                                observer has seen enough (try_splice) */
  int splice_refused;       /* the splice relay could not start: the loop relays */
  int failed;
  int ua_pending;           /* some client profile fails: the User-Agent of the first
                               request inside the tunnel decides (decide_by_user_agent) */
  uint8_t *held;            /* owned: that request's bytes, held until it decides */
  uint8_t *hello;           /* owned: the client's first TLS bytes until its ClientHello is
                               whole (client_hs_push) */
  size_t hello_len;
  int hello_done;           /* the ClientHello went to mbedTLS */
  size_t held_len;
  char fail_code[48];
  char fail_msg[CS_VERDICT_REASONS];
  char judged_for[40];      /* the profile the 502 page was decided for, "" if none */
  int judged_by_ua;         /* 1: from the User-Agent, 0: --browser */
  int sighted;              /* this connection's sighting is recorded */
  uint64_t last_activity;
  uint64_t accepted_at;     /* loop time of accept: the handshake deadline counts from it */
  /* Plain HTTP (absolute-form), one request at a time (see "plain HTTP"). */
  cs_http_head_t *resp;     /* owned: the response head being read */
  long long req_left;       /* request body bytes still to forward; -1: chunked */
  int req_done;             /* the whole request went upstream */
  int resp_body;            /* the response head went to the client */
  int plain_keep;           /* the client connection serves another request */
  int plain_head_only;      /* a HEAD request: the response has no body */
} cs_conn_t;

/* conn.c */
/* Closes both sides and the timer; the connection is freed once every
 * handle has closed. Idempotent. */
void cs_conn_close(cs_conn_t *c);
/* Activity now: the idle timer counts from here. */
void cs_conn_touch(cs_conn_t *c);
/* A line on stderr with --verbose, prefixed with the target. */
void cs_conn_log(const cs_conn_t *c, const char *fmt, ...) CS_PRINTF(2, 3);
/* Records what this connection's client was given (once; see conn.c). */
void cs_conn_note_sighting(cs_conn_t *c, const char *ua, const char *action);
/* The User-Agent of a request head at the start of buf, or "". */
void cs_conn_sniff_user_agent(const unsigned char *buf, size_t n, char *out, size_t cap);

/* Frees c once it is closing and every handle has closed. */
void cs_conn_maybe_free(cs_conn_t *c);
/* An endpoint's close callback: cs_conn_maybe_free of its owner. */
void cs_conn_on_ep_closed(cs_endpoint_t *ep);
/* Our own response was written and half-closed: linger for the client's EOF. */
void cs_conn_on_final_shutdown(cs_endpoint_t *ep, int status);
/* Answers status with msg (a small page) and closes after it drains. */
void cs_conn_send_simple(cs_conn_t *c, int status, const char *msg);
/* The client's bytes while a request head is read. */
void cs_conn_on_client_read(cs_endpoint_t *ep, uint8_t *buf, ssize_t nread);
/* Feeds client bytes to the head parser (handle_head once it is whole). */
void cs_conn_head_feed(cs_conn_t *c, const uint8_t *buf, size_t len);
/* Appends client bytes that followed a request head to c->pending (the
 * caller bounds the total by PENDING_MAX). 0 or CS_ENOMEM. */
int cs_conn_hold(cs_conn_t *c, const uint8_t *buf, size_t len) CS_MUST_CHECK;
/* A complete request head: CONNECT, plain HTTP or the API. */
void cs_conn_handle_head(cs_conn_t *c);

/* conn_plain.c */
/* A request the proxy will not forward (folded headers, framing two parsers
 * could read differently): why, or NULL when fine. */
const char *cs_conn_plain_refusal(const cs_conn_t *c);
/* Sends the parsed request to its upstream and relays the response. */
void cs_conn_plain_start(cs_conn_t *c);

/* conn_relay.c */
/* The tunnel relays both ways from now on (state ST_RELAY). */
void cs_conn_start_relay(cs_conn_t *c);
/* A write to ep failed: logged, the connection closed. */
void cs_conn_on_write_error(cs_endpoint_t *ep, int status);
/* Backpressure: stop reading `from` until the other side drains. */
void cs_conn_pause_side(cs_endpoint_t *from);
/* The other side of the connection. */
cs_endpoint_t *cs_conn_peer_of(cs_conn_t *c, cs_endpoint_t *ep);

#endif
