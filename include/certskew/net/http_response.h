/* HTTP responses the proxy makes itself (API, static files, error pages). */
#ifndef CERTSKEW_NET_HTTP_RESPONSE_H
#define CERTSKEW_NET_HTTP_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/error.h"

typedef struct cs_http_response {
  int status;
  const char *content_type; /* static string */
  char *body;               /* owned */
  size_t body_len;
  char extra[512];          /* extra header lines, each ending in \r\n */
} cs_http_response_t;

/* Cannot fail. */
void cs_http_response_init(cs_http_response_t *r);
/* Safe twice. */
void cs_http_response_free(cs_http_response_t *r);
/* Sets status, type and a copy of body. CS_ENOMEM. */
int cs_http_response_set(cs_http_response_t *r, int status, const char *content_type,
                         const char *body, size_t len) CS_MUST_CHECK;
/* Takes ownership of body (malloc'ed). */
void cs_http_response_adopt(cs_http_response_t *r, int status, const char *content_type,
                            char *body, size_t len);
/* {"error": msg} with status. */
int cs_http_response_json_error(cs_http_response_t *r, int status, const char *msg) CS_MUST_CHECK;
/* Appends one header line ("Name: value"); silently truncates past 512. */
void cs_http_response_header(cs_http_response_t *r, const char *name, const char *value);
/* Status line, headers (Content-Length, Connection: close, no-store) and
 * body, newly allocated (caller frees); NULL on allocation failure. */
uint8_t *cs_http_response_serialize(const cs_http_response_t *r, int head_only, size_t *len);
const char *cs_http_status_text(int status);
/* Escapes text for HTML into a new string (caller frees), NULL on OOM. */
char *cs_html_escape(const char *text);

#endif
