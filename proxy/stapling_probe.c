/*
 * Stapling probe I/O (proxy/stapling_probe.h). The parser decides; this file
 * only moves bytes and enforces the timeouts. Memory is released once both
 * handles (tcp, timer) are closed.
 */
#include "stapling_probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_rng.h"

/* A client-mode ClientHello record: SNI, a P-384 share and a cookie fit. */
#define HELLO_CAP 2560

typedef struct probe {
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_connect_t conn;
  uv_write_t wr[2];             /* ClientHello, and a second one after HelloRetryRequest */
  uint8_t hello[2][HELLO_CAP];  /* their bytes, alive until the writes complete */
  size_t hello_len[2];
  int nwrites;
  cs_rng_t rng;                 /* owned: used when the caller gives no f_rng */
  int own_rng;
  uint8_t rbuf[16384];
  cs_tls_probe_parser_t *parser; /* owned */
  uint64_t handshake_timeout_ms;
  int open_handles;
  int done;
  cs_stapling_probe_cb cb;
  void *ud;
} probe_t;

static void on_close(uv_handle_t *h) {
  probe_t *p = h->data;
  if (--p->open_handles > 0)
    return;
  cs_tls_probe_parser_free(p->parser);
  if (p->own_rng)
    cs_rng_free(&p->rng);
  free(p);
}

static void finish(probe_t *p, int err, const char *detail) {
  if (p->done)
    return;
  p->done = 1;
  const cs_tls_probe_result_t *res = cs_tls_probe_parser_result(p->parser);
  p->cb(err, res, detail != NULL ? detail : res->detail, p->ud);
  uv_close((uv_handle_t *)&p->timer, on_close);
  uv_close((uv_handle_t *)&p->tcp, on_close);
}

static int send_output(probe_t *p);

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  probe_t *p = h->data;
  (void)suggested;
  *buf = uv_buf_init((char *)p->rbuf, sizeof(p->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  probe_t *p = s->data;
  if (p->done || n == 0)
    return;
  if (n < 0) {
    char d[128];
    snprintf(d, sizeof(d), "connection ended before the server's flight was complete: %s",
             uv_strerror((int)n));
    finish(p, CS_ENET, d);
    return;
  }
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  int ret = cs_tls_probe_parser_feed(p->parser, (const uint8_t *)buf->base, (size_t)n, &eb);
  if (ret != 0) {
    finish(p, ret, eb.msg);
    return;
  }
  if (cs_tls_probe_parser_result(p->parser)->outcome != CS_TLS_PROBE_INCOMPLETE) {
    finish(p, 0, NULL);
    return;
  }
  int r = send_output(p);
  if (r < 0) {
    char d[128];
    snprintf(d, sizeof(d), "write: %s", uv_strerror(r));
    finish(p, CS_ENET, d);
  }
}

static void on_write(uv_write_t *w, int status);

/* Queues what the parser wants sent (at most two ClientHellos per probe). */
static int send_output(probe_t *p) {
  const uint8_t *out;
  size_t len;
  cs_tls_probe_parser_take_output(p->parser, &out, &len);
  if (len == 0)
    return 0;
  if (p->nwrites == 2 || len > sizeof(p->hello[0]))
    return UV_EINVAL;
  int i = p->nwrites++;
  memcpy(p->hello[i], out, len);
  p->hello_len[i] = len;
  uv_buf_t b = uv_buf_init((char *)p->hello[i], (unsigned)len);
  p->wr[i].data = p;
  return uv_write(&p->wr[i], (uv_stream_t *)&p->tcp, &b, 1, on_write);
}

static void on_timeout(uv_timer_t *t) {
  probe_t *p = t->data;
  finish(p, CS_ETIMEDOUT, "no complete TLS server flight in time");
}

static void on_write(uv_write_t *w, int status) {
  probe_t *p = w->data;
  if (status < 0 && !p->done) {
    char d[128];
    snprintf(d, sizeof(d), "write: %s", uv_strerror(status));
    finish(p, CS_ENET, d);
  }
}

static void on_connect(uv_connect_t *c, int status) {
  probe_t *p = c->data;
  if (p->done)
    return;
  char d[128];
  if (status < 0) {
    snprintf(d, sizeof(d), "connect: %s", uv_strerror(status));
    finish(p, CS_ENET, d);
    return;
  }
  uv_timer_start(&p->timer, on_timeout, p->handshake_timeout_ms, 0);
  int r = send_output(p);
  if (r == 0)
    r = uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read);
  if (r < 0) {
    snprintf(d, sizeof(d), "write: %s", uv_strerror(r));
    finish(p, CS_ENET, d);
  }
}

int cs_stapling_probe_start(uv_loop_t *loop, const cs_stapling_probe_opts_t *opts,
                            cs_stapling_probe_cb cb, void *ud) {
  if (loop == NULL || opts == NULL || opts->addr == NULL || cb == NULL)
    return CS_EINVAL;
  probe_t *p = calloc(1, sizeof(*p)); /* owned by the loop until both handles close */
  if (p == NULL)
    return CS_ENOMEM;
  cs_tls_probe_rng_fn f_rng = opts->f_rng;
  void *p_rng = opts->p_rng;
  int ret = 0;
  if (f_rng == NULL) {
    p->own_rng = 1;
    ret = cs_rng_init(&p->rng, "certskew-probe") == 0 ? 0 : CS_EIO;
    f_rng = cs_rng_fill;
    p_rng = &p->rng;
  }
  if (ret == 0)
    ret = cs_tls_probe_client_new(opts->sni, f_rng, p_rng, &p->parser, NULL);
  if (ret == 0 && uv_tcp_init(loop, &p->tcp) != 0)
    ret = CS_ENET;
  if (ret != 0) {
    cs_tls_probe_parser_free(p->parser);
    if (p->own_rng)
      cs_rng_free(&p->rng);
    free(p);
    return ret == CS_ECRYPTO ? CS_EIO : ret;
  }
  p->cb = cb;
  p->ud = ud;
  p->handshake_timeout_ms = opts->handshake_timeout_ms ? opts->handshake_timeout_ms
                                                       : CS_PROBE_DEFAULT_HANDSHAKE_TIMEOUT_MS;
  p->tcp.data = p;
  p->timer.data = p;
  p->conn.data = p;
  uv_timer_init(loop, &p->timer); /* cannot fail for a valid loop */
  p->open_handles = 2;
  uv_timer_start(&p->timer, on_timeout,
                 opts->connect_timeout_ms ? opts->connect_timeout_ms
                                          : CS_PROBE_DEFAULT_CONNECT_TIMEOUT_MS,
                 0);
  int r = uv_tcp_connect(&p->conn, &p->tcp, opts->addr, on_connect);
  if (r < 0) {
    char d[128];
    snprintf(d, sizeof(d), "connect: %s", uv_strerror(r));
    finish(p, CS_ENET, d); /* the callback runs now, as documented for 0 */
  }
  return 0;
}
