/*
 * Asynchronous HTTP/1.1 fetch (include/certskew/fetch/http_fetch.h): getaddrinfo -> connect
 * -> one write -> read until llhttp reports the message complete (or EOF).
 *
 * Lifetime: one heap object per fetch, freed only when every handle has been
 * closed and the getaddrinfo request has returned (libuv rule: a handle's
 * memory is released in its close callback).
 */
#include "certskew/fetch/http_fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <llhttp.h>

typedef struct fetch {
  uv_loop_t *loop;
  uv_getaddrinfo_t gai;
  uv_connect_t conn;
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_write_t wr;
  llhttp_t parser;
  llhttp_settings_t settings;
  char host[256];
  char port_str[8];
  char *reqbuf;          /* owned: the serialized request */
  size_t reqlen;
  uint8_t *body;         /* owned: response body */
  size_t body_len, body_cap, max_body;
  char content_type[128];
  int in_content_type;   /* the header being read is Content-Type */
  int complete;          /* llhttp saw the end of the message */
  int body_error;        /* CS_ETOOBIG / CS_ENOMEM raised in on_body */
  int gai_pending;
  int tcp_open;
  int open_handles;      /* handles not yet closed */
  int done;              /* cb has been called */
  cs_http_cb cb;
  void *ud;
} fetch_t;

int cs_http_url_parse(const char *url, char host[256], uint16_t *port, char path[2048]) {
  if (url == NULL || strncasecmp(url, "http://", 7) != 0)
    return CS_EINVAL;
  const char *h = url + 7, *hend;
  if (*h == '[') {
    hend = strchr(h, ']');
    if (hend == NULL)
      return CS_EINVAL;
    h++;
  } else {
    hend = h + strcspn(h, ":/?#");
  }
  size_t hl = (size_t)(hend - h);
  if (hl == 0 || hl >= 256)
    return CS_EINVAL;
  /* The host comes from a certificate (AIA, OCSP URL) and goes into the
   * Host header: only name or address characters, never CR/LF, spaces,
   * '@' or brackets inside a name. */
  const char *allowed = *hend == ']' ? "0123456789abcdefABCDEF:." :
                                       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_";
  for (size_t i = 0; i < hl; i++)
    if (strchr(allowed, h[i]) == NULL)
      return CS_EINVAL;
  memcpy(host, h, hl);
  host[hl] = '\0';
  const char *rest = *hend == ']' ? hend + 1 : hend;
  *port = 80;
  if (*rest == ':') {
    if (rest[1] < '0' || rest[1] > '9')
      return CS_EINVAL; /* strtol would take "+80" or " 80" */
    char *e;
    long v = strtol(rest + 1, &e, 10);
    if (e == rest + 1 || v <= 0 || v > 65535)
      return CS_EINVAL;
    *port = (uint16_t)v;
    rest = e;
  }
  if (*rest == '\0')
    rest = "/";
  if (*rest != '/' || strlen(rest) >= 2048 || strpbrk(rest, " \r\n") != NULL)
    return CS_EINVAL;
  snprintf(path, 2048, "%s", rest);
  return 0;
}

static void maybe_free(fetch_t *f) {
  if (f->open_handles > 0 || f->gai_pending)
    return;
  free(f->reqbuf);
  free(f->body);
  free(f);
}

static void on_close(uv_handle_t *h) {
  fetch_t *f = h->data;
  f->open_handles--;
  maybe_free(f);
}

/* Reports once: detail is what failed followed by why (both may be ""). */
static void finish(fetch_t *f, int err, const char *what, const char *why) {
  if (f->done)
    return;
  f->done = 1;
  cs_http_result_t res;
  memset(&res, 0, sizeof(res));
  res.error = err;
  res.status = err == 0 ? (int)f->parser.status_code : 0;
  snprintf(res.content_type, sizeof(res.content_type), "%s", f->content_type);
  res.body = f->body;
  res.body_len = f->body_len;
  snprintf(res.detail, sizeof(res.detail), "%s%s", what != NULL ? what : "",
           why != NULL ? why : "");
  f->cb(&res, f->ud);
  uv_close((uv_handle_t *)&f->timer, on_close);
  if (f->tcp_open)
    uv_close((uv_handle_t *)&f->tcp, on_close);
  if (f->gai_pending)
    uv_cancel((uv_req_t *)&f->gai);
}

static int on_header_field(llhttp_t *p, const char *at, size_t len) {
  fetch_t *f = p->data;
  f->in_content_type = len == 12 && strncasecmp(at, "content-type", 12) == 0;
  return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len) {
  fetch_t *f = p->data;
  if (f->in_content_type) {
    size_t have = strlen(f->content_type);
    size_t room = sizeof(f->content_type) - 1 - have;
    memcpy(f->content_type + have, at, len < room ? len : room);
    f->content_type[have + (len < room ? len : room)] = '\0';
  }
  return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
  fetch_t *f = p->data;
  if (len > f->max_body - f->body_len) {
    f->body_error = CS_ETOOBIG;
    return -1; /* stops llhttp with a user error */
  }
  if (f->body_len + len > f->body_cap) {
    size_t cap = f->body_cap ? f->body_cap : 16384;
    while (cap < f->body_len + len)
      cap *= 2;
    uint8_t *nb = realloc(f->body, cap); /* owned by f */
    if (nb == NULL) {
      f->body_error = CS_ENOMEM;
      return -1;
    }
    f->body = nb;
    f->body_cap = cap;
  }
  memcpy(f->body + f->body_len, at, len);
  f->body_len += len;
  return 0;
}

static int on_message_complete(llhttp_t *p) {
  fetch_t *f = p->data;
  f->complete = 1;
  return HPE_PAUSED; /* stop at the end of the first response */
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  static _Thread_local char slab[65536]; /* reads are consumed synchronously in on_read */
  *buf = uv_buf_init(slab, sizeof(slab));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  fetch_t *f = s->data;
  if (f->done)
    return;
  if (n == UV_EOF) {
    if (llhttp_finish(&f->parser) == HPE_OK && f->complete)
      finish(f, 0, NULL, NULL);
    else
      finish(f, CS_EPARSE, "connection closed before the end of the HTTP response", NULL);
    return;
  }
  if (n < 0) {
    finish(f, CS_ENET, "read: ", uv_strerror((int)n));
    return;
  }
  llhttp_errno_t e = llhttp_execute(&f->parser, buf->base, (size_t)n);
  if (f->complete) {
    finish(f, 0, NULL, NULL);
    return;
  }
  if (f->body_error != 0)
    finish(f, f->body_error, "HTTP body: ", cs_strerror(f->body_error));
  else if (e != HPE_OK)
    finish(f, CS_EPARSE, "malformed HTTP response: ", llhttp_errno_name(e));
}

static void on_write(uv_write_t *w, int status) {
  fetch_t *f = w->data;
  if (status < 0)
    finish(f, CS_ENET, "write: ", uv_strerror(status));
}

static void on_connect(uv_connect_t *c, int status) {
  fetch_t *f = c->data;
  if (f->done)
    return;
  if (status < 0) {
    finish(f, CS_ENET, "connect: ", uv_strerror(status));
    return;
  }
  uv_buf_t b = uv_buf_init(f->reqbuf, (unsigned)f->reqlen);
  f->wr.data = f;
  int r = uv_write(&f->wr, (uv_stream_t *)&f->tcp, &b, 1, on_write);
  if (r == 0)
    r = uv_read_start((uv_stream_t *)&f->tcp, on_alloc, on_read);
  if (r < 0)
    finish(f, CS_ENET, "write: ", uv_strerror(r));
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *ai) {
  fetch_t *f = g->data;
  f->gai_pending = 0;
  if (f->done || status < 0) {
    if (!f->done)
      finish(f, CS_ENET, "resolve: ", uv_strerror(status));
    uv_freeaddrinfo(ai);
    maybe_free(f);
    return;
  }
  int r = uv_tcp_init(f->loop, &f->tcp);
  if (r == 0) {
    f->tcp.data = f;
    f->tcp_open = 1;
    f->open_handles++;
    f->conn.data = f;
    r = uv_tcp_connect(&f->conn, &f->tcp, ai->ai_addr, on_connect);
  }
  uv_freeaddrinfo(ai);
  if (r < 0)
    finish(f, CS_ENET, "connect: ", uv_strerror(r));
}

static void on_timeout(uv_timer_t *t) {
  fetch_t *f = t->data;
  finish(f, CS_ETIMEDOUT, "no complete HTTP response in time", NULL);
}

static int build_request(fetch_t *f, const cs_http_request_t *req, const char *path,
                         uint16_t port) {
  const char *method = req->method != NULL ? req->method : "GET";
  int post = strcmp(method, "POST") == 0;
  if (!post && strcmp(method, "GET") != 0)
    return CS_EINVAL;
  char head[2600], port_part[8] = "";
  if (port != 80)
    snprintf(port_part, sizeof(port_part), ":%u", (unsigned)port);
  int v6 = strchr(f->host, ':') != NULL; /* an IPv6 literal goes in brackets */
  int n = snprintf(head, sizeof(head),
                   "%s %s HTTP/1.1\r\nHost: %s%s%s%s\r\nUser-Agent: certskew\r\n"
                   "Accept: */*\r\nConnection: close\r\n",
                   method, path, v6 ? "[" : "", f->host, v6 ? "]" : "", port_part);
  if (n < 0 || (size_t)n >= sizeof(head))
    return CS_EINVAL;
  if (post)
    n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Type: %s\r\nContent-Length: %zu\r\n",
                  req->content_type ? req->content_type : "application/octet-stream",
                  req->body_len);
  if ((size_t)n + 3 >= sizeof(head))
    return CS_EINVAL;
  n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
  size_t blen = post ? req->body_len : 0;
  f->reqbuf = malloc((size_t)n + blen); /* owned by f */
  if (f->reqbuf == NULL)
    return CS_ENOMEM;
  memcpy(f->reqbuf, head, (size_t)n);
  if (blen > 0)
    memcpy(f->reqbuf + n, req->body, blen);
  f->reqlen = (size_t)n + blen;
  return 0;
}

int cs_http_fetch(uv_loop_t *loop, const cs_http_request_t *req, cs_http_cb cb, void *ud) {
  if (loop == NULL || req == NULL || cb == NULL || (req->body == NULL && req->body_len > 0))
    return CS_EINVAL;
  char path[2048];
  uint16_t port;
  fetch_t *f = calloc(1, sizeof(*f)); /* owned by the loop until maybe_free */
  if (f == NULL)
    return CS_ENOMEM;
  int ret = cs_http_url_parse(req->url, f->host, &port, path);
  snprintf(f->port_str, sizeof(f->port_str), "%u", (unsigned)port);
  if (ret == 0)
    ret = build_request(f, req, path, port);
  if (ret != 0) {
    free(f->reqbuf);
    free(f);
    return ret;
  }
  f->loop = loop;
  f->cb = cb;
  f->ud = ud;
  f->max_body = req->max_body ? req->max_body : CS_HTTP_DEFAULT_MAX_BODY;
  llhttp_settings_init(&f->settings);
  f->settings.on_header_field = on_header_field;
  f->settings.on_header_value = on_header_value;
  f->settings.on_body = on_body;
  f->settings.on_message_complete = on_message_complete;
  llhttp_init(&f->parser, HTTP_RESPONSE, &f->settings);
  f->parser.data = f;
  uv_timer_init(loop, &f->timer); /* cannot fail for a valid loop */
  f->timer.data = f;
  f->open_handles = 1;
  uv_timer_start(&f->timer, on_timeout, req->timeout_ms ? req->timeout_ms : CS_HTTP_DEFAULT_TIMEOUT_MS, 0);
  struct addrinfo hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  f->gai.data = f;
  f->gai_pending = 1;
  int r = uv_getaddrinfo(loop, &f->gai, on_resolved, f->host, f->port_str, &hints);
  if (r < 0) {
    f->gai_pending = 0;
    finish(f, CS_ENET, "resolve: ", uv_strerror(r));
  }
  return 0;
}
