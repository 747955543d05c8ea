/*
 * An HTTP/1.1 request head read with llhttp, with limits: the head (request
 * line and headers) must fit CS_HTTP_HEAD_MAX bytes and carry at most
 * CS_HTTP_HEADERS_MAX headers. Parsing stops at the end of the head; bytes
 * after it (a body, or TLS after CONNECT) are left to the caller.
 *
 * Plus the classification of the request target the proxy acts on:
 * authority-form (CONNECT host:port), absolute-form (http://host[:port]/p)
 * and origin-form (/p, a request to the proxy itself).
 */
#ifndef CERTSKEW_PROXY_HTTP_HEAD_H
#define CERTSKEW_PROXY_HTTP_HEAD_H

#include <stddef.h>

#include <llhttp.h>

#include "certskew/core/error.h"

#define CS_HTTP_HEAD_MAX 16384
#define CS_HTTP_HEADERS_MAX 100
#define CS_HTTP_HOST_MAX 256

typedef struct cs_http_span {
  size_t off, len; /* into cs_http_head_t.arena */
} cs_http_span_t;

typedef struct cs_http_head {
  llhttp_t parser;
  llhttp_settings_t settings;
  char arena[CS_HTTP_HEAD_MAX + 1];
  size_t arena_used;
  size_t fed;                 /* bytes of head seen so far */
  cs_http_span_t method, url;
  cs_http_span_t names[CS_HTTP_HEADERS_MAX], values[CS_HTTP_HEADERS_MAX];
  size_t nheaders;
  int in_value;               /* last callback was a header value */
  int done;
  int limit_hit;              /* CS_ETOOBIG reason, 0 if none */
  int http_major, http_minor;
  int keep_alive;
  long long content_length;   /* -1 if none */
  int chunked;
  int status_code;            /* responses */
  int body_started;           /* cs_http_head_feed_body resumed the parser */
  int message_done;           /* the whole message (head and body) was parsed */
  int obs_fold;               /* a head line started with a space or tab */
  char last_byte;             /* the last byte of head fed (for obs_fold) */
} cs_http_head_t;

/* Prepares h for one request head. Cannot fail. */
void cs_http_head_init(cs_http_head_t *h);
/* Prepares h for one response head (cs_http_head_url is then the reason
 * phrase; status_code is set once the head is complete). Cannot fail. */
void cs_http_head_init_response(cs_http_head_t *h);
/* After the head is complete: feeds bytes of the body (Content-Length or
 * chunked framing, as llhttp reads it). Returns 1 when the message ended
 * (*consumed says how many of these bytes belonged to it), 0 when more are
 * needed (all consumed), CS_EPARSE on malformed framing. */
int cs_http_head_feed_body(cs_http_head_t *h, const char *data, size_t len, size_t *consumed);
/* At the peer's EOF: 1 if that ends the message (a response delimited by
 * the end of the connection), else 0 (truncated). */
int cs_http_head_finish(cs_http_head_t *h);
/* 1 if a header value was folded over lines (obs-fold, RFC 9112 §5.2). */
int cs_http_head_has_obs_fold(const cs_http_head_t *h);
/* Feeds bytes. Returns 1 when the head is complete (*consumed says how many
 * of these bytes belonged to it), 0 when more bytes are needed (all
 * consumed), CS_ETOOBIG when a limit is exceeded, CS_EPARSE on malformed
 * input. */
int cs_http_head_feed(cs_http_head_t *h, const char *data, size_t len, size_t *consumed);
/* The head's parts as NUL-terminated strings inside h (valid until the
 * next _init). Header lookup is case-insensitive; NULL when absent. */
const char *cs_http_head_method(const cs_http_head_t *h);
const char *cs_http_head_url(const cs_http_head_t *h);
const char *cs_http_head_header(const cs_http_head_t *h, const char *name);
size_t cs_http_head_count(const cs_http_head_t *h);
const char *cs_http_head_name(const cs_http_head_t *h, size_t i);
const char *cs_http_head_value(const cs_http_head_t *h, size_t i);

typedef enum cs_http_target_kind {
  CS_TARGET_AUTHORITY = 1, /* CONNECT host:port */
  CS_TARGET_ABSOLUTE,      /* http://host[:port]/path */
  CS_TARGET_ORIGIN,        /* /path */
} cs_http_target_kind_t;

typedef struct cs_http_target {
  cs_http_target_kind_t kind;
  char host[CS_HTTP_HOST_MAX]; /* without brackets for IPv6; "" for origin-form */
  int port;
  const char *path; /* points into the url: "/..." or "?..." or "" (then "/" is meant) */
} cs_http_target_t;

/* Classifies method + url. Only the http scheme is accepted in absolute
 * form (https goes through CONNECT). CS_EPARSE for anything else: missing
 * port in CONNECT, port outside 1..65535, empty or invalid host. */
int cs_http_target_parse(const char *method, const char *url, cs_http_target_t *t) CS_MUST_CHECK;
/* Parses "host:port" / "[v6]:port" / "host" (default_port used when the
 * port is missing and default_port > 0). */
int cs_http_authority_parse(const char *s, size_t len, int default_port, char *host,
                            size_t hostcap, int *port) CS_MUST_CHECK;

#endif
