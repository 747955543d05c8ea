/* Responses made by the proxy itself (see http_response.h). */
#include "certskew/net/http_response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

void cs_http_response_init(cs_http_response_t *r) {
  memset(r, 0, sizeof *r);
  r->status = 500;
  r->content_type = "text/plain; charset=utf-8";
}

void cs_http_response_free(cs_http_response_t *r) {
  free(r->body);
  r->body = NULL;
  r->body_len = 0;
}

int cs_http_response_set(cs_http_response_t *r, int status, const char *content_type,
                         const char *body, size_t len) {
  char *copy = malloc(len + 1); /* owned by r */
  if (copy == NULL)
    return CS_ENOMEM;
  memcpy(copy, body, len);
  copy[len] = '\0';
  cs_http_response_adopt(r, status, content_type, copy, len);
  return 0;
}

void cs_http_response_adopt(cs_http_response_t *r, int status, const char *content_type,
                            char *body, size_t len) {
  free(r->body);
  r->status = status;
  r->content_type = content_type;
  r->body = body;
  r->body_len = len;
}

int cs_http_response_json_error(cs_http_response_t *r, int status, const char *msg) {
  cJSON *o = cJSON_CreateObject();
  if (o == NULL || cJSON_AddStringToObject(o, "error", msg) == NULL) {
    cJSON_Delete(o);
    return CS_ENOMEM;
  }
  char *text = cJSON_Print(o);
  cJSON_Delete(o);
  if (text == NULL)
    return CS_ENOMEM;
  cs_http_response_adopt(r, status, "application/json", text, strlen(text));
  return 0;
}

void cs_http_response_header(cs_http_response_t *r, const char *name, const char *value) {
  size_t used = strlen(r->extra);
  /* Header values we set never contain CR/LF; refuse any that would. */
  if (strpbrk(value, "\r\n") != NULL || strpbrk(name, "\r\n:") != NULL)
    return;
  snprintf(r->extra + used, sizeof r->extra - used, "%s: %s\r\n", name, value);
}

const char *cs_http_status_text(int status) {
  switch (status) {
  case 200: return "OK";
  case 204: return "No Content";
  case 400: return "Bad Request";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 411: return "Length Required";
  case 413: return "Payload Too Large";
  case 421: return "Misdirected Request";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 508: return "Loop Detected";
  default: return "Unknown";
  }
}

uint8_t *cs_http_response_serialize(const cs_http_response_t *r, int head_only, size_t *len) {
  char head[1024];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                   "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                   "Connection: close\r\n%s\r\n",
                   r->status, cs_http_status_text(r->status), r->content_type, r->body_len,
                   r->extra);
  if (n < 0 || (size_t)n >= sizeof head)
    return NULL;
  size_t body = head_only ? 0 : r->body_len;
  uint8_t *out = malloc((size_t)n + body + 1); /* owned by the caller */
  if (out == NULL)
    return NULL;
  memcpy(out, head, (size_t)n);
  if (body > 0)
    memcpy(out + n, r->body, body);
  *len = (size_t)n + body;
  return out;
}

char *cs_html_escape(const char *text) {
  size_t n = 0;
  for (const char *p = text; *p; p++)
    n += (*p == '<' || *p == '>') ? 4 : *p == '&' ? 5 : (*p == '"' || *p == '\'') ? 6 : 1;
  char *out = malloc(n + 1); /* owned by the caller */
  if (out == NULL)
    return NULL;
  char *o = out;
  for (const char *p = text; *p; p++) {
    const char *rep = NULL;
    switch (*p) {
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '&': rep = "&amp;"; break;
    case '"': rep = "&quot;"; break;
    case '\'': rep = "&#x27;"; break;
    default: break;
    }
    if (rep != NULL) {
      size_t k = strlen(rep);
      memcpy(o, rep, k);
      o += k;
    } else {
      *o++ = *p;
    }
  }
  *o = '\0';
  return out;
}
