/*
 * A minimal asynchronous HTTP/1.1 client on libuv for revocation data
 * (OCSP POST, CRL and caIssuers GET). http:// only: OCSP, CRL and AIA URLs
 * are plain HTTP by design (RFC 5280 §4.2.2.1, RFC 6960 App. A), and an
 * https:// URL there would be a loop (validating the validator).
 * Responses are parsed with llhttp. Never blocks: everything runs on the
 * caller's loop, bounded by a total timeout and a body size limit.
 */
#ifndef CERTSKEW_FETCH_HTTP_FETCH_H
#define CERTSKEW_FETCH_HTTP_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "certskew/core/error.h"

#define CS_HTTP_DEFAULT_TIMEOUT_MS 10000
#define CS_HTTP_DEFAULT_MAX_BODY (4u * 1024 * 1024)

typedef struct cs_http_request {
  const char *url;          /* http://host[:port]/path (copied) */
  const char *method;       /* "GET" or "POST" (NULL = GET) */
  const char *content_type; /* for POST, e.g. "application/ocsp-request" */
  const uint8_t *body;      /* POST body (copied), may be NULL */
  size_t body_len;
  uint64_t timeout_ms;      /* whole exchange; 0 = CS_HTTP_DEFAULT_TIMEOUT_MS */
  size_t max_body;          /* 0 = CS_HTTP_DEFAULT_MAX_BODY */
} cs_http_request_t;

typedef struct cs_http_result {
  int error;                /* 0, or CS_ENET / CS_ETIMEDOUT / CS_EPARSE / CS_ETOOBIG / CS_ENOMEM */
  int status;               /* HTTP status code (0 if no response) */
  char content_type[128];
  const uint8_t *body;      /* borrowed: valid only during the callback */
  size_t body_len;
  char detail[192];         /* human detail when error != 0 */
} cs_http_result_t;

typedef void (*cs_http_cb)(const cs_http_result_t *res, void *ud);

/* Starts a fetch on loop. On 0, cb is called exactly once (from the loop, or
 * before this returns if name resolution cannot even start) and all
 * resources are released by the loop afterwards. On error
 * (CS_EINVAL for a bad or non-http URL, CS_ENOMEM), cb is never called. */
int cs_http_fetch(uv_loop_t *loop, const cs_http_request_t *req, cs_http_cb cb,
                  void *ud) CS_MUST_CHECK;

/* Splits an http:// URL. host gets the name without brackets; port defaults
 * to 80; path to "/". CS_EINVAL for other schemes or oversize parts. */
int cs_http_url_parse(const char *url, char host[256], uint16_t *port,
                      char path[2048]) CS_MUST_CHECK;

#endif
