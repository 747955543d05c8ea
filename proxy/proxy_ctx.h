/*
 * State of one running proxy (private).
 *
 * Threading (--workers N, proxy/listener.c): each worker is one thread with
 * its own loop and its own cs_proxy_ctx_t, owning its connections from
 * accept to close. Per worker, never shared: the loop, the connection list,
 * the RNG of the client-side TLS contexts (a CTR-DRBG per thread instead of
 * one contended lock), the upstream conf (trust, ssl config, RNG and the
 * upstream session cache: resumption is per worker), a copy of the leaf key
 * (signatures use no shared bignum state), the busy log's rate limit.
 *
 * Shared, reached through px->sh:
 *  - the CA and the minted-leaf cache: cs_mint_t's own mutex (proxy_mint.c);
 *  - the client-side session-ticket keys: one mbedtls_ssl_ticket_context,
 *    thread-safe by its own mutex (this mbedTLS has MBEDTLS_THREADING_C), so
 *    a client resumes whichever worker the kernel hands it to;
 *  - the judge (verdict cache), the capture store and the enrichment
 *    queue's waiting list: one mutex, sh->state (cs_proxy_lock). Locked, not
 *    owned by one loop behind messages, because judging is synchronous in
 *    the connection's state machine and rare (the 1 s verdict cache answers
 *    most handshakes); a message would make every judged handshake wait for
 *    another loop. The enrichment itself runs on worker 0's loop (its
 *    fetches are libuv I/O): other workers wake it with a uv_async.
 *  - the live-connection count, for --max-conns across workers: an atomic.
 */
#ifndef CERTSKEW_PROXY_CTX_H
#define CERTSKEW_PROXY_CTX_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <mbedtls/pk.h>
#include <mbedtls/ssl_ticket.h>
#include <uv.h>

#include "certskew/proxy/ca.h"
#include "certskew/store/capture.h"
#include "certskew/proxy/proxy.h"
#include "certskew/net/rng.h"
#include "certskew/net/upstream.h"
#include "certskew/fetch/verdict.h"

struct cs_conn;

typedef struct cs_proxy_shared {
  uv_mutex_t state;            /* judge, capture store, enrichment queue */
  atomic_size_t nconns;        /* live client connections, every worker */
  atomic_uint_fast64_t closed_total; /* connections freed, every worker */
  mbedtls_ssl_ticket_context *tickets; /* worker 0's, thread-safe */
  int nworkers;
} cs_proxy_shared_t;

typedef struct cs_proxy_ctx {
  uv_loop_t *loop;
  const cs_proxy_config_t *cfg;
  cs_ca_t *ca;
  cs_mint_t *mint;            /* shared, locks itself */
  mbedtls_pk_context leaf_key; /* this worker's copy of the mint's key */
  cs_proxy_shared_t *sh;
  int worker;                 /* 0 .. nworkers-1 */
  cs_rng_t rng;               /* for the client-side TLS server contexts */
  cs_upstream_conf_t up;
  cs_capture_store_t *store;  /* shared, under sh->state; NULL if it could not be opened */
  cs_judge_t *judge;          /* shared, under sh->state */
  const char *web_dir;
  char self_text[96];         /* "127.0.0.1:8080": how clients name us */
  int self_port;
  int listen_loopback;
  size_t nconns;
  struct cs_conn *conns;      /* list of live connections */
  int stopping;
  uint64_t accepted, refused;
  uint64_t closed_total;      /* connections freed since start */
  uint64_t busy_log_last_ms, busy_log_skipped; /* busy.c's log rate limit */
} cs_proxy_ctx_t;

/* The lock of the judge, the capture store and the enrichment queue. */
static inline void cs_proxy_lock(cs_proxy_ctx_t *px) { uv_mutex_lock(&px->sh->state); }
static inline void cs_proxy_unlock(cs_proxy_ctx_t *px) { uv_mutex_unlock(&px->sh->state); }

/* Takes a freshly accepted client (server is the listening handle). */
void cs_conn_accept(cs_proxy_ctx_t *px, uv_stream_t *server);
/* Closes every live connection (at shutdown). */
void cs_conn_close_all(cs_proxy_ctx_t *px);

#endif
