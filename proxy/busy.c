/* Refusing clients with 503 when the proxy is full (see busy.h). */
#include "busy.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* After the answer, the client's EOF is awaited this long (closing with
 * unread input would reset the connection and could destroy the answer). */
#define LINGER_MS 200

typedef struct refusal {
  cs_proxy_ctx_t *px;
  uv_tcp_t *tcp;            /* owned */
  uv_timer_t timer;
  uv_write_t write;
  uv_shutdown_t shut;
  char buf[512];
  int open;                 /* handles still to close: 2, then 1, then 0 */
} refusal_t;

/* Refusals being answered, every worker's: the cap protects the process's
 * descriptor reserve, so it is one atomic counter, not one per worker. The
 * log's rate limit is per worker (px->busy_log_*). */
static atomic_size_t inflight;

int cs_busy_fd_low(int fd) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return 0;
  return (rlim_t)fd + CS_BUSY_FD_RESERVE >= rl.rlim_cur;
}

static void log_refusal(cs_proxy_ctx_t *px, const char *why) {
  uint64_t now = uv_now(px->loop);
  if (px->busy_log_last_ms != 0 && now - px->busy_log_last_ms < 1000) {
    px->busy_log_skipped++;
    return;
  }
  if (px->busy_log_skipped > 0)
    fprintf(stderr, "certskew: refusing a client with 503: %s (and %llu more in the last second)\n",
            why, (unsigned long long)px->busy_log_skipped);
  else
    fprintf(stderr, "certskew: refusing a client with 503: %s\n", why);
  px->busy_log_last_ms = now;
  px->busy_log_skipped = 0;
}

static void on_free_handle(uv_handle_t *h) { free(h); }

static void on_part_closed(uv_handle_t *h) {
  refusal_t *r = h->data;
  if (h == (uv_handle_t *)r->tcp) {
    free(r->tcp);
    r->tcp = NULL;
  }
  if (--r->open > 0)
    return;
  atomic_fetch_sub(&inflight, 1);
  free(r);
}

static void finish(refusal_t *r) {
  if (r->tcp == NULL || uv_is_closing((uv_handle_t *)r->tcp))
    return;
  uv_close((uv_handle_t *)r->tcp, on_part_closed);
  uv_close((uv_handle_t *)&r->timer, on_part_closed);
}

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *b) {
  (void)size;
  static _Thread_local char sink[4096]; /* what the client sent is discarded (per thread) */
  (void)h;
  *b = uv_buf_init(sink, sizeof sink);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  (void)b;
  if (n < 0)
    finish(s->data); /* the client's EOF after our answer, or an error */
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  (void)req;
  (void)status;
}

static void on_written(uv_write_t *w, int status) {
  refusal_t *r = w->data;
  if (status != 0 || uv_shutdown(&r->shut, (uv_stream_t *)r->tcp, on_shutdown) != 0)
    finish(r);
}

static void on_linger(uv_timer_t *t) { finish(t->data); }

void cs_busy_refuse(cs_proxy_ctx_t *px, uv_tcp_t *t, const char *code, const char *why) {
  px->refused++;
  log_refusal(px, why);
  /* Near the descriptor limit, answering holds a descriptor of the reserve. */
  size_t cap = strcmp(code, "PROXY_FD_LIMIT") == 0 ? CS_BUSY_FD_RESERVE / 2 : CS_BUSY_INFLIGHT_MAX;
  refusal_t *r = NULL;
  if (atomic_fetch_add(&inflight, 1) < cap)
    r = calloc(1, sizeof *r); /* freed in on_part_closed */
  if (r == NULL) {
    atomic_fetch_sub(&inflight, 1);
    uv_close((uv_handle_t *)t, on_free_handle);
    return;
  }
  r->px = px;
  r->tcp = t;
  r->open = 2;
  t->data = r;
  uv_timer_init(px->loop, &r->timer);
  r->timer.data = r;
  r->write.data = r;
  char body[300];
  int bn = snprintf(body, sizeof body, "{\"error\": \"certskew: %s; try again later\"}\n", why);
  int n = snprintf(r->buf, sizeof r->buf,
                   "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\nConnection: close\r\nRetry-After: 1\r\n"
                   "X-Certskew-Error: %s\r\n\r\n%s",
                   bn, code, body);
  uv_buf_t b = uv_buf_init(r->buf, n > 0 && (size_t)n < sizeof r->buf ? (unsigned)n : 0);
  uv_timer_start(&r->timer, on_linger, LINGER_MS, 0);
  if (uv_write(&r->write, (uv_stream_t *)t, &b, 1, on_written) != 0 ||
      uv_read_start((uv_stream_t *)t, on_alloc, on_read) != 0)
    finish(r);
}

void cs_busy_accept_refuse(cs_proxy_ctx_t *px, uv_stream_t *server, const char *code,
                           const char *why) {
  uv_tcp_t *t = malloc(sizeof *t); /* owned by cs_busy_refuse */
  if (t == NULL)
    return;
  uv_tcp_init(px->loop, t);
  if (uv_accept(server, (uv_stream_t *)t) != 0) {
    uv_close((uv_handle_t *)t, on_free_handle);
    return;
  }
  cs_busy_refuse(px, t, code, why);
}
