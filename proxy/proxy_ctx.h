/* State shared by every connection of one running proxy (private). */
#ifndef CERTSKEW_PROXY_CTX_H
#define CERTSKEW_PROXY_CTX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#include "certskew/proxy/ca.h"
#include "certskew/store/capture.h"
#include "certskew/proxy/proxy.h"
#include "certskew/net/rng.h"
#include "certskew/net/upstream.h"
#include "certskew/fetch/verdict.h"

struct cs_conn;

typedef struct cs_proxy_ctx {
  uv_loop_t *loop;
  const cs_proxy_config_t *cfg;
  cs_ca_t *ca;
  cs_mint_t *mint;
  cs_rng_t rng;               /* for the client-side TLS server contexts */
  cs_upstream_conf_t up;
  cs_capture_store_t *store;  /* NULL if the store could not be opened */
  cs_judge_t judge;
  const char *web_dir;
  char self_text[96];         /* "127.0.0.1:8080": how clients name us */
  int self_port;
  int listen_loopback;
  size_t nconns;
  struct cs_conn *conns;      /* list of live connections */
  int stopping;
  uint64_t accepted, refused;
  uint64_t closed_total;      /* connections freed since start */
} cs_proxy_ctx_t;

/* Takes a freshly accepted client (server is the listening handle). */
void cs_conn_accept(cs_proxy_ctx_t *px, uv_stream_t *server);
/* Closes every live connection (at shutdown). */
void cs_conn_close_all(cs_proxy_ctx_t *px);

#endif
