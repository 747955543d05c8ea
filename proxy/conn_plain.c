/*
 * Plain HTTP through the proxy (absolute-form requests, conn_internal.h):
 * one request at a time, each to its own upstream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "certskew/net/http_response.h"
#include "conn_internal.h"

/* ---- plain HTTP (absolute-form): one request at a time ----
 *
 * Every request of a client connection is parsed (llhttp): its own
 * upstream (from its URL), Host set from the URL (RFC 9112 §3.2.2), hop
 * headers and Proxy-* dropped, "Connection: close" upstream. Its body is
 * forwarded by its framing (Content-Length or chunked); the response head
 * is parsed and rewritten (Connection for the client), its body relayed
 * by its framing. Pipelined requests wait in c->pending until the response
 * before them is complete, then go through handle_head like the first. */

static void plain_client_read(cs_endpoint_t *ep, uint8_t *buf, ssize_t nread);
static void plain_upstream_read(cs_endpoint_t *ep, uint8_t *buf, ssize_t nread);

static int hop_header(const char *name) {
  static const char *const hop[] = {"Host", "Connection", "Keep-Alive", "Proxy-Connection",
                                    "Proxy-Authorization", "Proxy-Authenticate", "TE",
                                    "Upgrade", "Via"};
  for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++)
    if (strcasecmp(name, hop[i]) == 0)
      return 1;
  return 0;
}

/* A request the proxy will not forward: folded headers, or framing that
 * two parsers could read differently. NULL when fine. */
const char *cs_conn_plain_refusal(const cs_conn_t *c) {
  const cs_http_head_t *h = c->head;
  if (cs_http_head_has_obs_fold(h))
    return "header folded over lines (obs-fold): refused";
  int ncl = 0, nte = 0;
  for (size_t i = 0; i < cs_http_head_count(h); i++) {
    ncl += strcasecmp(cs_http_head_name(h, i), "Content-Length") == 0;
    nte += strcasecmp(cs_http_head_name(h, i), "Transfer-Encoding") == 0;
  }
  if (ncl > 1 || (ncl > 0 && nte > 0) || nte > 1)
    return "ambiguous request framing (Content-Length and Transfer-Encoding): refused";
  if (nte > 0 && !h->chunked)
    return "Transfer-Encoding without chunked as the last coding: refused";
  return NULL;
}

static void plain_fail(cs_conn_t *c, int status, const char *msg) {
  cs_conn_log(c, "plain HTTP: %s", msg);
  cs_endpoint_close(&c->upstream);
  if (c->resp_body) {
    cs_conn_close(c); /* part of a response went out: only closing can tell */
    return;
  }
  c->client.on_read = cs_conn_on_client_read;
  cs_conn_send_simple(c, status, msg);
}

/* The request head as the origin server gets it. */
static int plain_request_head(cs_conn_t *c, char **out, size_t *len) {
  const cs_http_head_t *h = c->head;
  size_t cap = CS_HTTP_HEAD_MAX + 1024, n = 0;
  char *buf = malloc(cap); /* handed to the caller */
  if (buf == NULL)
    return CS_ENOMEM;
  const char *path = c->target.path;
  int v6 = strchr(c->target.host, ':') != NULL;
  char port[16] = "";
  if (c->target.port != 80)
    snprintf(port, sizeof port, ":%d", c->target.port);
  n += (size_t)snprintf(buf, cap, "%s %s%s HTTP/1.1\r\nHost: %s%s%s%s\r\n", c->method,
                        path[0] == '/' ? "" : "/", path, v6 ? "[" : "", c->target.host,
                        v6 ? "]" : "", port);
  for (size_t i = 0; i < cs_http_head_count(h) && n < cap; i++) {
    const char *name = cs_http_head_name(h, i);
    if (hop_header(name))
      continue;
    n += (size_t)snprintf(buf + n, cap - n, "%s: %s\r\n", name, cs_http_head_value(h, i));
  }
  if (n < cap)
    n += (size_t)snprintf(buf + n, cap - n, "Connection: close\r\nVia: 1.1 certskew\r\n\r\n");
  if (n >= cap) {
    free(buf);
    return CS_ETOOBIG;
  }
  *out = buf;
  *len = n;
  return 0;
}

/* The response head as the client gets it: hop headers replaced by our
 * own Connection. */
static int plain_response_head(cs_conn_t *c, char **out, size_t *len) {
  const cs_http_head_t *r = c->resp;
  size_t cap = CS_HTTP_HEAD_MAX + 1024, n = 0;
  char *buf = malloc(cap); /* handed to the caller */
  if (buf == NULL)
    return CS_ENOMEM;
  n += (size_t)snprintf(buf, cap, "HTTP/1.1 %d %s\r\n", r->status_code, cs_http_head_url(r));
  for (size_t i = 0; i < cs_http_head_count(r) && n < cap; i++) {
    const char *name = cs_http_head_name(r, i);
    if (strcasecmp(name, "Connection") == 0 || strcasecmp(name, "Keep-Alive") == 0 ||
        strcasecmp(name, "Proxy-Connection") == 0)
      continue;
    n += (size_t)snprintf(buf + n, cap - n, "%s: %s\r\n", name, cs_http_head_value(r, i));
  }
  if (n < cap && r->status_code >= 200)
    n += (size_t)snprintf(buf + n, cap - n, "Connection: %s\r\n",
                          c->plain_keep ? "keep-alive" : "close");
  if (n < cap)
    n += (size_t)snprintf(buf + n, cap - n, "\r\n");
  if (n >= cap) {
    free(buf);
    return CS_ETOOBIG;
  }
  *out = buf;
  *len = n;
  return 0;
}

/* Client bytes while a request is being forwarded: its body goes
 * upstream, whatever follows waits (a pipelined request). */
static void plain_client_bytes(cs_conn_t *c, const uint8_t *buf, size_t len) {
  size_t used = 0;
  if (!c->req_done && len > 0) {
    if (c->req_left < 0) {
      int rc = cs_http_head_feed_body(c->head, (const char *)buf, len, &used);
      if (rc < 0) {
        plain_fail(c, 400, "malformed chunked request body");
        return;
      }
      c->req_done = rc == 1;
    } else {
      used = (unsigned long long)c->req_left < len ? (size_t)c->req_left : len;
      c->req_left -= (long long)used;
      c->req_done = c->req_left == 0;
    }
    if (used > 0 && cs_endpoint_write_copy(&c->upstream, buf, used) != 0) {
      cs_conn_close(c);
      return;
    }
  }
  if (used < len && cs_conn_hold(c, buf + used, len - used) != 0) {
    cs_conn_close(c);
    return;
  }
  /* Backpressure: the upstream's queue, or requests piling up. */
  if (c->upstream.queued >= CS_EP_WRITE_HIGH || c->pending_len >= PENDING_MAX)
    cs_conn_pause_side(&c->client);
}

static void plain_client_read(cs_endpoint_t *ep, uint8_t *buf, ssize_t nread) {
  cs_conn_t *c = ep->owner;
  cs_conn_touch(c);
  if (nread < 0) {
    ep->eof = 1;
    c->plain_keep = 0;
    if (!c->req_done)
      cs_conn_close(c); /* the request was cut short */
    return;
  }
  plain_client_bytes(c, buf, (size_t)nread);
  free(buf);
}

static void plain_drain(cs_endpoint_t *to) {
  cs_conn_t *c = to->owner;
  cs_endpoint_t *from = cs_conn_peer_of(c, to);
  cs_conn_touch(c);
  if (c->state != ST_PLAIN || !from->paused || from->eof)
    return;
  if (from == &c->client && c->pending_len >= PENDING_MAX)
    return;
  from->paused = 0;
  if (cs_endpoint_read_start(from) != 0)
    cs_conn_close(c);
}

static void plain_next(cs_conn_t *c);

static void plain_upstream_closed(cs_endpoint_t *ep) {
  cs_conn_t *c = ep->owner;
  if (c->state == ST_PLAIN_NEXT)
    plain_next(c);
  else
    cs_conn_maybe_free(c);
}

static void plain_response_done(cs_conn_t *c) {
  cs_endpoint_read_stop(&c->upstream);
  c->client.on_read = cs_conn_on_client_read;
  if (!c->plain_keep || !c->req_done) {
    c->state = ST_FINAL;
    cs_endpoint_close(&c->upstream);
    c->client.on_shutdown = cs_conn_on_final_shutdown;
    cs_endpoint_shutdown(&c->client);
    if (!c->client.eof && cs_endpoint_read_start(&c->client) != 0)
      cs_conn_close(c);
    return;
  }
  c->state = ST_PLAIN_NEXT;
  cs_endpoint_read_stop(&c->client);
  c->upstream.on_closed = plain_upstream_closed;
  cs_endpoint_close(&c->upstream);
}

/* The upstream handle is closed: the connection starts over with the
 * requests that waited. */
static void plain_next(cs_conn_t *c) {
  cs_upstream_free(&c->up);
  cs_upstream_init(&c->up);
  cs_endpoint_init(&c->upstream, c, "upstream");
  c->upstream.on_closed = cs_conn_on_ep_closed;
  c->upstream.on_write_error = cs_conn_on_write_error;
  free(c->resp);
  c->resp = NULL;
  c->resp_body = c->req_done = 0;
  c->client.paused = 0;
  cs_http_head_init(c->head);
  c->state = ST_HEAD;
  c->accepted_at = uv_now(c->px->loop); /* the next head has its own deadline */
  uint8_t *p = c->pending;
  size_t n = c->pending_len;
  c->pending = NULL;
  c->pending_len = 0;
  if (n > 0)
    cs_conn_head_feed(c, p, n);
  free(p);
  if (c->state == ST_HEAD && cs_endpoint_read_start(&c->client) != 0)
    cs_conn_close(c);
}

/* Response bytes: the head is parsed and rewritten, the body relayed by
 * its framing; what a server sends after its response is dropped. */
static void plain_response_bytes(cs_conn_t *c, const uint8_t *buf, size_t len) {
  size_t off = 0;
  while (off < len && c->state == ST_PLAIN) {
    size_t used = 0;
    if (!c->resp_body) {
      int rc = cs_http_head_feed(c->resp, (const char *)buf + off, len - off, &used);
      if (rc < 0) {
        plain_fail(c, 502, "malformed response from the upstream server");
        return;
      }
      if (rc == 0)
        return;
      off += used;
      int status = c->resp->status_code;
      if (status == 101) {
        plain_fail(c, 502, "protocol upgrades are not relayed over plain HTTP");
        return;
      }
      int interim = status >= 100 && status < 200;
      int nobody = c->plain_head_only || status == 204 || status == 304 ||
                   (!c->resp->chunked && c->resp->content_length == 0);
      if (!interim && !nobody && !c->resp->chunked && c->resp->content_length < 0)
        c->plain_keep = 0; /* delimited by the end of the connection */
      char *head = NULL;
      size_t hlen = 0;
      if (plain_response_head(c, &head, &hlen) != 0) {
        plain_fail(c, 502, "response head too large to relay");
        return;
      }
      if (cs_endpoint_write_owned(&c->client, (uint8_t *)head, hlen) != 0) {
        cs_conn_close(c);
        return;
      }
      if (interim) {
        cs_http_head_init_response(c->resp); /* the final response follows */
        continue;
      }
      c->resp_body = 1;
      if (nobody) {
        plain_response_done(c);
        return;
      }
      continue;
    }
    int rc = cs_http_head_feed_body(c->resp, (const char *)buf + off, len - off, &used);
    if (rc < 0) {
      cs_conn_log(c, "plain HTTP: malformed response body");
      cs_conn_close(c);
      return;
    }
    if (used > 0 && cs_endpoint_write_copy(&c->client, buf + off, used) != 0) {
      cs_conn_close(c);
      return;
    }
    off += used;
    if (rc == 1) {
      plain_response_done(c);
      return;
    }
  }
  if (c->state == ST_PLAIN && c->client.queued >= CS_EP_WRITE_HIGH)
    cs_conn_pause_side(&c->upstream);
}

static void plain_upstream_read(cs_endpoint_t *ep, uint8_t *buf, ssize_t nread) {
  cs_conn_t *c = ep->owner;
  cs_conn_touch(c);
  if (nread >= 0) {
    plain_response_bytes(c, buf, (size_t)nread);
    free(buf);
    return;
  }
  ep->eof = 1;
  if (!c->resp_body) {
    plain_fail(c, 502, "the upstream server closed the connection without a response");
    return;
  }
  if (cs_http_head_finish(c->resp) == 1) {
    plain_response_done(c);
    return;
  }
  cs_conn_log(c, "plain HTTP: response cut short by the upstream server");
  cs_conn_close(c);
}

/* The upstream is connected: the request goes out, then its body. */
void cs_conn_plain_start(cs_conn_t *c) {
  char *head = NULL;
  size_t hlen = 0;
  int rc = plain_request_head(c, &head, &hlen);
  if (rc != 0) {
    cs_conn_send_simple(c, rc == CS_ETOOBIG ? 431 : 500, "request head too large to forward");
    return;
  }
  if (cs_endpoint_write_owned(&c->upstream, (uint8_t *)head, hlen) != 0) {
    cs_conn_close(c);
    return;
  }
  c->resp = malloc(sizeof *c->resp); /* owned by c */
  if (c->resp == NULL) {
    cs_conn_close(c);
    return;
  }
  cs_http_head_init_response(c->resp);
  c->state = ST_PLAIN;
  cs_conn_touch(c);
  c->plain_keep = c->head->keep_alive;
  c->plain_head_only = strcmp(c->method, "HEAD") == 0;
  c->req_left = c->head->chunked ? -1 : c->head->content_length > 0 ? c->head->content_length : 0;
  c->req_done = c->req_left == 0;
  c->resp_body = 0;
  c->client.on_read = plain_client_read;
  c->upstream.on_read = plain_upstream_read;
  c->client.on_drain = plain_drain;
  c->upstream.on_drain = plain_drain;
  uint8_t *p = c->pending;
  size_t n = c->pending_len;
  c->pending = NULL;
  c->pending_len = 0;
  plain_client_bytes(c, p, n);
  free(p);
  if (c->state != ST_PLAIN)
    return;
  if ((!c->client.paused && !c->client.eof && cs_endpoint_read_start(&c->client) != 0) ||
      cs_endpoint_read_start(&c->upstream) != 0)
    cs_conn_close(c);
}

