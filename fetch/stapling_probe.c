/*
 * Stapling probe I/O (include/certskew/fetch/stapling_probe.h). The parsers decide; this file
 * only moves bytes and enforces the timeouts. Memory is released once every
 * handle (the timer, each TCP connection opened) is closed.
 *
 * Two connections at most: the main one (client-mode parser, TLS 1.3 or
 * 1.2), and, when a TLS 1.3 capture lacks a staple or an SCT list, a TLS
 * 1.2-only follow-up: servers configured with OpenSSL's version-1
 * serverinfo (nginx-ct and the like) send TLS-extension SCTs in TLS 1.2
 * only. What the follow-up finds for the same leaf fills the gaps; its
 * failures never fail the probe.
 */
#include "certskew/fetch/stapling_probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/net/rng.h"

/* A client-mode ClientHello record: SNI, a P-384 share and a cookie fit. */
#define HELLO_CAP 2560

enum { MAIN = 0, FOLLOW_UP = 1 };

typedef struct probe {
  uv_loop_t *loop;
  uv_tcp_t tcp[2];              /* MAIN, FOLLOW_UP */
  int tcp_open[2];
  uv_connect_t conn[2];
  uv_timer_t timer;
  uv_write_t wr[3];             /* ClientHello, one after HelloRetryRequest, the follow-up's */
  uint8_t hello[3][HELLO_CAP];  /* their bytes, alive until the writes complete */
  int nwrites;
  struct sockaddr_storage addr;
  char sni[256];
  int phase;                    /* MAIN or FOLLOW_UP */
  cs_rng_t rng;                 /* owned: used when the caller gives no f_rng */
  int own_rng;
  cs_tls_probe_rng_fn f_rng;
  void *p_rng;
  uint8_t rbuf[16384];
  cs_tls_probe_parser_t *parser;   /* owned: the main connection's */
  cs_tls_probe_parser_t *parser12; /* owned: the follow-up's (passive, TLS 1.2 hello) */
  cs_tls_probe_result_t merged;    /* FOLLOW_UP: the main result with the gaps filled */
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
  cs_tls_probe_parser_free(p->parser12);
  if (p->own_rng)
    cs_rng_free(&p->rng);
  free(p);
}

static void close_tcp(probe_t *p, int i) {
  if (!p->tcp_open[i])
    return;
  p->tcp_open[i] = 0;
  uv_close((uv_handle_t *)&p->tcp[i], on_close);
}

static void finish(probe_t *p, int err, const char *detail) {
  if (p->done)
    return;
  p->done = 1;
  const cs_tls_probe_result_t *res =
      p->phase == FOLLOW_UP ? &p->merged : cs_tls_probe_parser_result(p->parser);
  p->cb(err, res, detail != NULL ? detail : res->detail, p->ud);
  uv_close((uv_handle_t *)&p->timer, on_close);
  close_tcp(p, MAIN);
  close_tcp(p, FOLLOW_UP);
}

/* The follow-up ended (any way): take what it saw for the same leaf. */
static void follow_up_done(probe_t *p) {
  const cs_tls_probe_result_t *r = cs_tls_probe_parser_result(p->parser12);
  cs_tls_probe_result_t *m = &p->merged;
  int same_leaf = r != NULL && r->outcome == CS_TLS_PROBE_DONE && r->ncerts > 0 &&
                  r->cert_lens[0] == m->cert_lens[0] &&
                  memcmp(r->certs[0], m->certs[0], m->cert_lens[0]) == 0;
  const char *took = NULL;
  if (same_leaf && m->ocsp == NULL && r->ocsp != NULL) {
    m->ocsp = r->ocsp;
    m->ocsp_len = r->ocsp_len;
    m->status_request_acked = 1;
    took = "staple";
  }
  if (same_leaf && !m->sct_ext_present && r->sct_ext_present) {
    m->sct_ext_present = 1;
    m->sct_list = r->sct_list;
    m->sct_list_len = r->sct_list_len;
    took = took != NULL ? "staple and SCT list" : "SCT list";
  }
  if (took != NULL) {
    char d[sizeof(m->detail)];
    snprintf(d, sizeof(d), "%.80s; %s from a TLS 1.2 follow-up", m->detail, took);
    memcpy(m->detail, d, sizeof(d));
  }
  finish(p, 0, NULL);
}

/* Something failed: on the main connection it is the probe's error, on the
 * follow-up it only ends the follow-up. */
static void fail(probe_t *p, int err, const char *detail) {
  if (p->phase == FOLLOW_UP)
    follow_up_done(p);
  else
    finish(p, err, detail);
}

static void on_write(uv_write_t *w, int status) {
  probe_t *p = w->data;
  /* ECANCELED: the connection was closed on purpose (done, or the follow-up began). */
  if (status < 0 && status != UV_ECANCELED && !p->done) {
    char d[128];
    snprintf(d, sizeof(d), "write: %s", uv_strerror(status));
    fail(p, CS_ENET, d);
  }
}

static int queue_write(probe_t *p, uv_tcp_t *tcp, const uint8_t *b, size_t len) {
  if (p->nwrites == 3 || len > sizeof(p->hello[0]))
    return UV_EINVAL;
  int i = p->nwrites++;
  memcpy(p->hello[i], b, len);
  uv_buf_t buf = uv_buf_init((char *)p->hello[i], (unsigned)len);
  p->wr[i].data = p;
  return uv_write(&p->wr[i], (uv_stream_t *)tcp, &buf, 1, on_write);
}

/* Sends what the main parser wants sent (its ClientHellos). */
static int send_output(probe_t *p) {
  const uint8_t *out;
  size_t len;
  cs_tls_probe_parser_take_output(p->parser, &out, &len);
  return len == 0 ? 0 : queue_write(p, &p->tcp[MAIN], out, len);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  probe_t *p = h->data;
  (void)suggested;
  *buf = uv_buf_init((char *)p->rbuf, sizeof(p->rbuf));
}

static void on_timeout(uv_timer_t *t) {
  probe_t *p = t->data;
  fail(p, CS_ETIMEDOUT, "no complete TLS server flight in time");
}

static void on_connect(uv_connect_t *c, int status);

/* The TLS 1.3 capture has no staple or no SCT list: ask again in TLS 1.2. */
static int wants_follow_up(const cs_tls_probe_result_t *r) {
  return r->outcome == CS_TLS_PROBE_DONE && r->version == 0x0304 && r->ncerts > 0 &&
         (r->ocsp == NULL || !r->sct_ext_present);
}

static void start_follow_up(probe_t *p) {
  p->merged = *cs_tls_probe_parser_result(p->parser);
  p->phase = FOLLOW_UP;
  close_tcp(p, MAIN);
  uint8_t random[32];
  if ((p->parser12 = cs_tls_probe_parser_new()) == NULL ||
      p->f_rng(p->p_rng, random, sizeof(random)) != 0 ||
      uv_tcp_init(p->loop, &p->tcp[FOLLOW_UP]) != 0) {
    follow_up_done(p);
    return;
  }
  p->tcp_open[FOLLOW_UP] = 1;
  p->open_handles++;
  p->tcp[FOLLOW_UP].data = p;
  p->conn[FOLLOW_UP].data = p;
  uv_timer_start(&p->timer, on_timeout, p->handshake_timeout_ms, 0);
  if (uv_tcp_connect(&p->conn[FOLLOW_UP], &p->tcp[FOLLOW_UP], (const struct sockaddr *)&p->addr,
                     on_connect) != 0)
    follow_up_done(p);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  probe_t *p = s->data;
  if (p->done || n == 0)
    return;
  if (n < 0) {
    char d[128];
    snprintf(d, sizeof(d), "connection ended before the server's flight was complete: %s",
             uv_strerror((int)n));
    fail(p, CS_ENET, d);
    return;
  }
  cs_tls_probe_parser_t *parser = p->phase == FOLLOW_UP ? p->parser12 : p->parser;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  int ret = cs_tls_probe_parser_feed(parser, (const uint8_t *)buf->base, (size_t)n, &eb);
  if (ret != 0) {
    fail(p, ret, eb.msg);
    return;
  }
  const cs_tls_probe_result_t *r = cs_tls_probe_parser_result(parser);
  if (r->outcome != CS_TLS_PROBE_INCOMPLETE) {
    if (p->phase == FOLLOW_UP)
      follow_up_done(p);
    else if (wants_follow_up(r))
      start_follow_up(p);
    else
      finish(p, 0, NULL);
    return;
  }
  int w = p->phase == FOLLOW_UP ? 0 : send_output(p);
  if (w < 0) {
    char d[128];
    snprintf(d, sizeof(d), "write: %s", uv_strerror(w));
    fail(p, CS_ENET, d);
  }
}

static void on_connect(uv_connect_t *c, int status) {
  probe_t *p = c->data;
  if (p->done || status == UV_ECANCELED)
    return;
  char d[128];
  if (status < 0) {
    snprintf(d, sizeof(d), "connect: %s", uv_strerror(status));
    fail(p, CS_ENET, d);
    return;
  }
  uv_timer_start(&p->timer, on_timeout, p->handshake_timeout_ms, 0);
  int r;
  if (p->phase == FOLLOW_UP) {
    uint8_t hello[CS_TLS_PROBE_HELLO_MAX], random[32];
    size_t len = 0;
    r = UV_EINVAL;
    if (p->f_rng(p->p_rng, random, sizeof(random)) == 0 &&
        cs_tls_probe_hello_build(p->sni[0] ? p->sni : NULL, random, hello, sizeof(hello),
                                 &len) == 0)
      r = queue_write(p, &p->tcp[FOLLOW_UP], hello, len);
    if (r == 0)
      r = uv_read_start((uv_stream_t *)&p->tcp[FOLLOW_UP], on_alloc, on_read);
  } else {
    r = send_output(p);
    if (r == 0)
      r = uv_read_start((uv_stream_t *)&p->tcp[MAIN], on_alloc, on_read);
  }
  if (r < 0) {
    snprintf(d, sizeof(d), "write: %s", uv_strerror(r));
    fail(p, CS_ENET, d);
  }
}

int cs_stapling_probe_start(uv_loop_t *loop, const cs_stapling_probe_opts_t *opts,
                            cs_stapling_probe_cb cb, void *ud) {
  if (loop == NULL || opts == NULL || opts->addr == NULL || cb == NULL)
    return CS_EINVAL;
  size_t alen = opts->addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                  : sizeof(struct sockaddr_in);
  if (opts->sni != NULL && strlen(opts->sni) >= sizeof(((probe_t *)0)->sni))
    return CS_EINVAL;
  probe_t *p = calloc(1, sizeof(*p)); /* owned by the loop until every handle closes */
  if (p == NULL)
    return CS_ENOMEM;
  memcpy(&p->addr, opts->addr, alen);
  snprintf(p->sni, sizeof(p->sni), "%s", opts->sni != NULL ? opts->sni : "");
  p->f_rng = opts->f_rng;
  p->p_rng = opts->p_rng;
  int ret = 0;
  if (p->f_rng == NULL) {
    p->own_rng = 1;
    ret = cs_rng_init(&p->rng, "certskew-probe") == 0 ? 0 : CS_EIO;
    p->f_rng = cs_rng_fill;
    p->p_rng = &p->rng;
  }
  if (ret == 0)
    ret = cs_tls_probe_client_new(opts->sni, p->f_rng, p->p_rng, &p->parser, NULL);
  if (ret == 0 && uv_tcp_init(loop, &p->tcp[MAIN]) != 0)
    ret = CS_ENET;
  if (ret != 0) {
    cs_tls_probe_parser_free(p->parser);
    if (p->own_rng)
      cs_rng_free(&p->rng);
    free(p);
    return ret == CS_ECRYPTO ? CS_EIO : ret;
  }
  p->loop = loop;
  p->cb = cb;
  p->ud = ud;
  p->handshake_timeout_ms = opts->handshake_timeout_ms ? opts->handshake_timeout_ms
                                                       : CS_PROBE_DEFAULT_HANDSHAKE_TIMEOUT_MS;
  p->tcp[MAIN].data = p;
  p->tcp_open[MAIN] = 1;
  p->timer.data = p;
  p->conn[MAIN].data = p;
  uv_timer_init(loop, &p->timer); /* cannot fail for a valid loop */
  p->open_handles = 2;
  uv_timer_start(&p->timer, on_timeout,
                 opts->connect_timeout_ms ? opts->connect_timeout_ms
                                          : CS_PROBE_DEFAULT_CONNECT_TIMEOUT_MS,
                 0);
  int r = uv_tcp_connect(&p->conn[MAIN], &p->tcp[MAIN], opts->addr, on_connect);
  if (r < 0) {
    char d[128];
    snprintf(d, sizeof(d), "connect: %s", uv_strerror(r));
    finish(p, CS_ENET, d); /* the callback runs now, as documented for 0 */
  }
  return 0;
}
