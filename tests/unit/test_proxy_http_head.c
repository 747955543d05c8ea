/* Request-head parsing (llhttp) with limits, and request-target classification. */
#include <string.h>

#include "cs_test.h"
#include "certskew/proxy/http_head.h"

typedef struct head_case {
  const char *input;
  int rc;              /* 1 complete, 0 needs more, or CS_E* */
  const char *method;
  const char *url;
  size_t consumed;     /* bytes of the head when complete */
  const char *hdr;     /* a header to look up, or NULL */
  const char *hdr_value;
} head_case_t;

static const head_case_t head_cases[] = {
    {"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 1, "CONNECT",
     "example.com:443", 59, "host", "example.com:443"},
    {"CONNECT a:1 HTTP/1.1\r\n\r\n\x16\x03\x01", 1, "CONNECT", "a:1", 24, NULL, NULL},
    {"GET http://h/p?q HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-After: v\r\n\r\nBODY", 1, "GET",
     "http://h/p?q", 60, "x-after", "v"},
    {"GET http://h/ HTTP/1.1\r\nX-Empty:\r\n\r\n", 1, "GET", "http://h/", 36, "X-Empty", ""},
    {"POST /api/replay HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 1, "POST", "/api/replay", 48,
     "content-length", "2"},
    {"GET / HTTP/1.1\r\nHost: x\r\n", 0, NULL, NULL, 0, NULL, NULL},
    {"GARBAGE\r\n\r\n", CS_EPARSE, NULL, NULL, 0, NULL, NULL},
    {"GET / HTTP/1.1\r\nBad Header\r\n\r\n", CS_EPARSE, NULL, NULL, 0, NULL, NULL},
    {"GET / HTTP/9.9\r\n\r\n", CS_EPARSE, NULL, NULL, 0, NULL, NULL},
};

static int feed_all(cs_http_head_t *h, const char *in, size_t len, size_t step, size_t *total) {
  *total = 0;
  for (size_t off = 0; off < len;) {
    size_t n = len - off < step ? len - off : step, used = 0;
    int rc = cs_http_head_feed(h, in + off, n, &used);
    *total += used;
    if (rc != 0)
      return rc;
    off += n;
  }
  return 0;
}

static void test_head_table(void) {
  static const size_t steps[] = {1, 3, 7, 100000};
  for (size_t i = 0; i < sizeof head_cases / sizeof head_cases[0]; i++) {
    const head_case_t *c = &head_cases[i];
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
      cs_http_head_t *h = malloc(sizeof *h);
      CS_REQUIRE(h != NULL);
      cs_http_head_init(h);
      size_t total = 0;
      int rc = feed_all(h, c->input, strlen(c->input), steps[s], &total);
      if (rc != c->rc)
        CS_FAIL_AT("case %zu step %zu: rc %d, want %d", i, steps[s], rc, c->rc);
      if (rc == 1 && c->rc == 1) {
        CS_CHECK_EQ_STR(cs_http_head_method(h), c->method);
        CS_CHECK_EQ_STR(cs_http_head_url(h), c->url);
        CS_CHECK_EQ_I64(total, c->consumed);
        if (c->hdr != NULL)
          CS_CHECK_EQ_STR(cs_http_head_header(h, c->hdr), c->hdr_value);
      }
      free(h);
    }
  }
}

static void test_limits(void) {
  cs_http_head_t *h = malloc(sizeof *h);
  CS_REQUIRE(h != NULL);
  /* One header too many. */
  char buf[8192];
  size_t n = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\n");
  for (int i = 0; i <= CS_HTTP_HEADERS_MAX; i++)
    n += (size_t)snprintf(buf + n, sizeof buf - n, "X-%d: v\r\n", i);
  n += (size_t)snprintf(buf + n, sizeof buf - n, "\r\n");
  cs_http_head_init(h);
  size_t used = 0;
  CS_CHECK_EQ_I64(cs_http_head_feed(h, buf, n, &used), CS_ETOOBIG);
  /* Exactly the maximum is fine. */
  n = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\n");
  for (int i = 0; i < CS_HTTP_HEADERS_MAX; i++)
    n += (size_t)snprintf(buf + n, sizeof buf - n, "X-%d: v\r\n", i);
  n += (size_t)snprintf(buf + n, sizeof buf - n, "\r\n");
  cs_http_head_init(h);
  CS_CHECK_EQ_I64(cs_http_head_feed(h, buf, n, &used), 1);
  CS_CHECK_EQ_I64(cs_http_head_count(h), CS_HTTP_HEADERS_MAX);
  /* A head longer than CS_HTTP_HEAD_MAX, fed in pieces, never completes. */
  cs_http_head_init(h);
  static const char start[] = "GET / HTTP/1.1\r\nX-Long: ";
  CS_CHECK_EQ_I64(cs_http_head_feed(h, start, sizeof start - 1, &used), 0);
  char chunk[1000];
  memset(chunk, 'a', sizeof chunk);
  int rc = 0;
  for (int i = 0; i < 40 && rc == 0; i++)
    rc = cs_http_head_feed(h, chunk, sizeof chunk, &used);
  CS_CHECK_EQ_I64(rc, CS_ETOOBIG);
  free(h);
}

typedef struct target_case {
  const char *method, *url;
  int rc;
  cs_http_target_kind_t kind;
  const char *host;
  int port;
  const char *path;
} target_case_t;

static const target_case_t target_cases[] = {
    {"CONNECT", "example.com:443", 0, CS_TARGET_AUTHORITY, "example.com", 443, ""},
    {"CONNECT", "127.0.0.1:8443", 0, CS_TARGET_AUTHORITY, "127.0.0.1", 8443, ""},
    {"CONNECT", "[::1]:443", 0, CS_TARGET_AUTHORITY, "::1", 443, ""},
    {"CONNECT", "example.com", CS_EPARSE, 0, NULL, 0, NULL},    /* port required */
    {"CONNECT", "[::1]", CS_EPARSE, 0, NULL, 0, NULL},
    {"CONNECT", "example.com:0", CS_EPARSE, 0, NULL, 0, NULL},
    {"CONNECT", "example.com:65536", CS_EPARSE, 0, NULL, 0, NULL},
    {"CONNECT", "example.com:44x", CS_EPARSE, 0, NULL, 0, NULL},
    {"CONNECT", ":443", CS_EPARSE, 0, NULL, 0, NULL},
    {"CONNECT", "ex ample.com:443", CS_EPARSE, 0, NULL, 0, NULL},
    {"CONNECT", "[zz::1]:443", CS_EPARSE, 0, NULL, 0, NULL},
    {"GET", "http://example.com/a/b?c", 0, CS_TARGET_ABSOLUTE, "example.com", 80, "/a/b?c"},
    {"GET", "HTTP://example.com:8080", 0, CS_TARGET_ABSOLUTE, "example.com", 8080, ""},
    {"GET", "http://example.com?q", 0, CS_TARGET_ABSOLUTE, "example.com", 80, "?q"},
    {"GET", "http://[::1]:81/", 0, CS_TARGET_ABSOLUTE, "::1", 81, "/"},
    {"GET", "http://user@example.com/", CS_EPARSE, 0, NULL, 0, NULL},
    {"GET", "https://example.com/", CS_EPARSE, 0, NULL, 0, NULL},
    {"GET", "ftp://example.com/", CS_EPARSE, 0, NULL, 0, NULL},
    {"GET", "http:///x", CS_EPARSE, 0, NULL, 0, NULL},
    {"GET", "/api/captures", 0, CS_TARGET_ORIGIN, "", 0, "/api/captures"},
    {"GET", "*", CS_EPARSE, 0, NULL, 0, NULL},
};

static void test_targets(void) {
  for (size_t i = 0; i < sizeof target_cases / sizeof target_cases[0]; i++) {
    const target_case_t *c = &target_cases[i];
    cs_http_target_t t;
    int rc = cs_http_target_parse(c->method, c->url, &t);
    if (rc != c->rc) {
      CS_FAIL_AT("%s %s: rc %d, want %d", c->method, c->url, rc, c->rc);
      continue;
    }
    if (rc != 0)
      continue;
    CS_CHECK_EQ_I64(t.kind, c->kind);
    CS_CHECK_EQ_STR(t.host, c->host);
    CS_CHECK_EQ_I64(t.port, c->port);
    CS_CHECK_EQ_STR(t.path, c->path);
  }
}

CS_TEST_MAIN(CS_TEST(test_head_table), CS_TEST(test_limits), CS_TEST(test_targets))
