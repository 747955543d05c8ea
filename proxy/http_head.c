/* Request-head parsing with llhttp and target classification (see http_head.h). */
#include "certskew/proxy/http_head.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

static cs_http_head_t *from(llhttp_t *p) { return p->data; }

/* Appends to the arena, extending span when it is the last thing written
 * (llhttp may deliver one token in several pieces). */
static int append(cs_http_head_t *h, cs_http_span_t *span, const char *at, size_t len) {
  if (h->arena_used + len + 1 > sizeof h->arena) {
    h->limit_hit = 1;
    return -1;
  }
  if (span->len == 0)
    span->off = h->arena_used;
  else if (span->off + span->len + 1 != h->arena_used)
    return -1; /* not contiguous: cannot happen with llhttp's callback order */
  else
    h->arena_used--; /* overwrite the previous terminator */
  memcpy(h->arena + h->arena_used, at, len);
  h->arena_used += len;
  h->arena[h->arena_used++] = '\0';
  span->len += len;
  return 0;
}

static int on_method(llhttp_t *p, const char *at, size_t len) {
  return append(from(p), &from(p)->method, at, len);
}

static int on_url(llhttp_t *p, const char *at, size_t len) {
  return append(from(p), &from(p)->url, at, len);
}

static int on_field(llhttp_t *p, const char *at, size_t len) {
  cs_http_head_t *h = from(p);
  /* A field after a value (or the first field) starts a new header; a field
   * delivered in pieces keeps extending the current name. */
  if (h->nheaders == 0 || h->in_value) {
    if (h->nheaders == CS_HTTP_HEADERS_MAX) {
      h->limit_hit = 1;
      return -1;
    }
    memset(&h->names[h->nheaders], 0, sizeof(cs_http_span_t));
    memset(&h->values[h->nheaders], 0, sizeof(cs_http_span_t));
    h->nheaders++;
  }
  h->in_value = 0;
  return append(h, &h->names[h->nheaders - 1], at, len);
}

static int on_value(llhttp_t *p, const char *at, size_t len) {
  cs_http_head_t *h = from(p);
  if (h->nheaders == 0)
    return -1;
  h->in_value = 1;
  return append(h, &h->values[h->nheaders - 1], at, len);
}

static int on_value_complete(llhttp_t *p) {
  cs_http_head_t *h = from(p);
  /* An empty value never calls on_value: give it its own empty string so
   * the next header starts a new slot. */
  if (h->nheaders > 0 && h->values[h->nheaders - 1].len == 0) {
    if (h->arena_used + 1 > sizeof h->arena) {
      h->limit_hit = 1;
      return -1;
    }
    h->values[h->nheaders - 1].off = h->arena_used;
    h->arena[h->arena_used++] = '\0';
  }
  h->in_value = 1;
  return 0;
}

static int on_status(llhttp_t *p, const char *at, size_t len) {
  return append(from(p), &from(p)->url, at, len); /* responses: the reason phrase */
}

static int on_message_complete(llhttp_t *p) {
  from(p)->message_done = 1;
  return HPE_PAUSED; /* the caller learns where the message ended */
}

static int on_headers_complete(llhttp_t *p) {
  cs_http_head_t *h = from(p);
  h->done = 1;
  h->status_code = p->status_code;
  h->http_major = p->http_major;
  h->http_minor = p->http_minor;
  h->keep_alive = llhttp_should_keep_alive(p);
  h->chunked = (p->flags & F_CHUNKED) != 0;
  h->content_length = (p->flags & F_CONTENT_LENGTH) ? (long long)p->content_length : -1;
  return HPE_PAUSED;
}

void cs_http_head_init(cs_http_head_t *h) {
  memset(h, 0, sizeof *h);
  llhttp_settings_init(&h->settings);
  h->settings.on_method = on_method;
  h->settings.on_url = on_url;
  h->settings.on_header_field = on_field;
  h->settings.on_header_value = on_value;
  h->settings.on_header_value_complete = on_value_complete;
  h->settings.on_headers_complete = on_headers_complete;
  h->settings.on_message_complete = on_message_complete;
  llhttp_init(&h->parser, HTTP_REQUEST, &h->settings);
  h->parser.data = h;
  h->content_length = -1;
}

static int head_feed(cs_http_head_t *h, const char *data, size_t len, size_t *consumed);

/* obs-fold: a line of the head that starts with a space or tab (llhttp
 * accepts it and joins the lines). */
static void scan_fold(cs_http_head_t *h, const char *data, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (h->last_byte == '\n' && (data[i] == ' ' || data[i] == '\t'))
      h->obs_fold = 1;
    h->last_byte = data[i];
  }
}

int cs_http_head_feed(cs_http_head_t *h, const char *data, size_t len, size_t *consumed) {
  int rc = head_feed(h, data, len, consumed);
  if (rc >= 0)
    scan_fold(h, data, *consumed);
  return rc;
}

static int head_feed(cs_http_head_t *h, const char *data, size_t len, size_t *consumed) {
  *consumed = 0;
  if (h->done)
    return 1;
  /* Never look further than the head limit allows. */
  size_t room = CS_HTTP_HEAD_MAX - h->fed;
  size_t n = len < room ? len : room;
  llhttp_errno_t err = llhttp_execute(&h->parser, data, n);
  if (h->done && (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE || err == HPE_OK)) {
    const char *pos = llhttp_get_error_pos(&h->parser);
    *consumed = (pos != NULL && pos >= data && pos <= data + n) ? (size_t)(pos - data) : n;
    h->fed += *consumed;
    return 1;
  }
  if (h->limit_hit)
    return CS_ETOOBIG;
  if (err != HPE_OK)
    return CS_EPARSE;
  h->fed += n;
  *consumed = n;
  if (h->fed >= CS_HTTP_HEAD_MAX)
    return CS_ETOOBIG;
  return 0;
}

void cs_http_head_init_response(cs_http_head_t *h) {
  cs_http_head_init(h);
  h->settings.on_status = on_status;
  llhttp_init(&h->parser, HTTP_RESPONSE, &h->settings);
  h->parser.data = h;
}

int cs_http_head_feed_body(cs_http_head_t *h, const char *data, size_t len, size_t *consumed) {
  *consumed = 0;
  if (h->message_done)
    return 1;
  if (!h->body_started) {
    h->body_started = 1;
    llhttp_resume(&h->parser);
  }
  llhttp_errno_t err = llhttp_execute(&h->parser, data, len);
  if (h->message_done && (err == HPE_PAUSED || err == HPE_OK)) {
    const char *pos = llhttp_get_error_pos(&h->parser);
    *consumed = (err == HPE_PAUSED && pos != NULL && pos >= data && pos <= data + len)
                    ? (size_t)(pos - data)
                    : len;
    return 1;
  }
  if (err != HPE_OK)
    return CS_EPARSE;
  *consumed = len;
  return 0;
}

int cs_http_head_finish(cs_http_head_t *h) {
  if (h->message_done)
    return 1;
  if (!h->body_started) {
    h->body_started = 1;
    llhttp_resume(&h->parser);
  }
  llhttp_errno_t err = llhttp_finish(&h->parser);
  return (err == HPE_OK || err == HPE_PAUSED) && h->message_done ? 1 : 0;
}

int cs_http_head_has_obs_fold(const cs_http_head_t *h) { return h->obs_fold; }

static const char *span_str(const cs_http_head_t *h, cs_http_span_t s) {
  return s.len == 0 && s.off == 0 && h->arena_used == 0 ? "" : h->arena + s.off;
}

const char *cs_http_head_method(const cs_http_head_t *h) {
  return h->method.len ? span_str(h, h->method) : "";
}
const char *cs_http_head_url(const cs_http_head_t *h) {
  return h->url.len ? span_str(h, h->url) : "";
}
size_t cs_http_head_count(const cs_http_head_t *h) { return h->nheaders; }
const char *cs_http_head_name(const cs_http_head_t *h, size_t i) {
  return i < h->nheaders ? span_str(h, h->names[i]) : NULL;
}
const char *cs_http_head_value(const cs_http_head_t *h, size_t i) {
  return i < h->nheaders ? span_str(h, h->values[i]) : NULL;
}

const char *cs_http_head_header(const cs_http_head_t *h, const char *name) {
  for (size_t i = 0; i < h->nheaders; i++)
    if (strcasecmp(span_str(h, h->names[i]), name) == 0)
      return span_str(h, h->values[i]);
  return NULL;
}

static int host_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '-' || c == '_';
}

int cs_http_authority_parse(const char *s, size_t len, int default_port, char *host,
                            size_t hostcap, int *port) {
  const char *end = s + len, *host_start = s, *host_end = NULL, *colon = NULL;
  if (len == 0)
    return CS_EPARSE;
  if (s[0] == '[') {
    const char *rb = memchr(s, ']', len);
    if (rb == NULL)
      return CS_EPARSE;
    host_start = s + 1;
    host_end = rb;
    for (const char *c = host_start; c < host_end; c++)
      if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') || (*c >= 'A' && *c <= 'F') ||
            *c == ':' || *c == '.'))
        return CS_EPARSE;
    if (rb + 1 < end) {
      if (rb[1] != ':')
        return CS_EPARSE;
      colon = rb + 1;
    }
  } else {
    colon = memchr(s, ':', len);
    host_end = colon != NULL ? colon : end;
    for (const char *c = host_start; c < host_end; c++)
      if (!host_char_ok(*c))
        return CS_EPARSE;
  }
  size_t hl = (size_t)(host_end - host_start);
  if (hl == 0 || hl >= hostcap)
    return CS_EPARSE;
  long p = default_port;
  if (colon != NULL) {
    const char *d = colon + 1;
    if (d == end || end - d > 5)
      return CS_EPARSE;
    p = 0;
    for (; d < end; d++) {
      if (*d < '0' || *d > '9')
        return CS_EPARSE;
      p = p * 10 + (*d - '0');
    }
  }
  if (p < 1 || p > 65535)
    return CS_EPARSE;
  memcpy(host, host_start, hl);
  host[hl] = '\0';
  *port = (int)p;
  return 0;
}

int cs_http_target_parse(const char *method, const char *url, cs_http_target_t *t) {
  memset(t, 0, sizeof *t);
  size_t n = strlen(url);
  if (strcmp(method, "CONNECT") == 0) {
    t->kind = CS_TARGET_AUTHORITY;
    t->path = "";
    /* CONNECT needs an explicit port (RFC 9110 §9.3.6). */
    if (memchr(url, ':', n) == NULL || url[n - 1] == ']')
      return CS_EPARSE;
    return cs_http_authority_parse(url, n, 0, t->host, sizeof t->host, &t->port);
  }
  if (n > 0 && url[0] == '/') {
    t->kind = CS_TARGET_ORIGIN;
    t->path = url;
    return 0;
  }
  static const char scheme[] = "http://";
  if (strncasecmp(url, scheme, sizeof scheme - 1) != 0)
    return CS_EPARSE;
  const char *auth = url + sizeof scheme - 1;
  const char *slash = strpbrk(auth, "/?#");
  size_t alen = slash != NULL ? (size_t)(slash - auth) : strlen(auth);
  if (memchr(auth, '@', alen) != NULL)
    return CS_EPARSE; /* userinfo in a proxy request is refused */
  t->kind = CS_TARGET_ABSOLUTE;
  /* "" or "?q" become "/" and "/?q" when the request line is rewritten. */
  t->path = slash != NULL ? slash : "";
  return cs_http_authority_parse(auth, alen, 80, t->host, sizeof t->host, &t->port);
}
