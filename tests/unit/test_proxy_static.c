/* Static files: path cleaning (no traversal), content types, serving, and
 * the API's routing of unknown endpoints and methods. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "cs_test.h"
#include "static_files.h"

typedef struct path_case {
  const char *in;
  int rc;
  const char *out;
} path_case_t;

static const path_case_t path_cases[] = {
    {"/", 0, ""},
    {"/index.html", 0, "index.html"},
    {"/app.js?v=1", 0, "app.js"},
    {"/a/b.css#frag", 0, "a/b.css"},
    {"/sp%20ace.txt", 0, "sp ace.txt"},
    {"/..", CS_EINVAL, NULL},
    {"/../etc/passwd", CS_EINVAL, NULL},
    {"/a/../../etc/passwd", CS_EINVAL, NULL},
    {"/%2e%2e/etc/passwd", CS_EINVAL, NULL},
    {"/%2E%2E%2Fetc", CS_EINVAL, NULL},
    {"/a%2fb", CS_EINVAL, NULL},
    {"/a%00b", CS_EINVAL, NULL},
    {"/a\\..\\b", CS_EINVAL, NULL},
    {"/./x", CS_EINVAL, NULL},
    {"/a//b", CS_EINVAL, NULL},
    {"/%zz", CS_EINVAL, NULL},
    {"/%4", CS_EINVAL, NULL},
};

static void test_clean_path(void) {
  for (size_t i = 0; i < sizeof path_cases / sizeof path_cases[0]; i++) {
    char out[256];
    int rc = cs_static_clean_path(path_cases[i].in, out, sizeof out);
    if (rc != path_cases[i].rc) {
      CS_FAIL_AT("%s: rc %d, want %d", path_cases[i].in, rc, path_cases[i].rc);
      continue;
    }
    if (rc == 0)
      CS_CHECK_EQ_STR(out, path_cases[i].out);
  }
  char small[4];
  CS_CHECK_EQ_I64(cs_static_clean_path("/abcdef", small, sizeof small), CS_ENOSPACE);
}

static void test_content_types(void) {
  CS_CHECK_EQ_STR(cs_static_content_type("index.html"), "text/html; charset=utf-8");
  CS_CHECK_EQ_STR(cs_static_content_type("x/app.JS"), "text/javascript; charset=utf-8");
  CS_CHECK_EQ_STR(cs_static_content_type("a.css"), "text/css; charset=utf-8");
  CS_CHECK_EQ_STR(cs_static_content_type("a.json"), "application/json");
  CS_CHECK_EQ_STR(cs_static_content_type("a.svg"), "image/svg+xml");
  CS_CHECK_EQ_STR(cs_static_content_type("noext"), "application/octet-stream");
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f == NULL)
    abort();
  fputs(text, f);
  fclose(f);
}

typedef struct serve_case {
  const char *method, *path;
  int status;
  const char *body_has; /* substring of the body, or NULL */
} serve_case_t;

static void test_serve(void) {
  char dir[] = "/tmp/cs_static_XXXXXX";
  CS_REQUIRE(mkdtemp(dir) != NULL);
  char web[64], p[128];
  snprintf(web, sizeof web, "%s/web", dir);
  CS_REQUIRE(mkdir(web, 0700) == 0);
  snprintf(p, sizeof p, "%s/index.html", web);
  write_file(p, "<h1>ui</h1>");
  snprintf(p, sizeof p, "%s/secret", dir);
  write_file(p, "secret");
  char link[128];
  snprintf(link, sizeof link, "%s/out", web);
  CS_REQUIRE(symlink(p, link) == 0);
  const serve_case_t cases[] = {
      {"GET", "/", 200, "<h1>ui</h1>"},
      {"HEAD", "/index.html", 200, NULL},
      {"GET", "/missing.js", 404, "not found"},
      {"GET", "/out", 400, "invalid path"}, /* a symlink leading outside */
      {"GET", "/../secret", 400, "invalid path"},
      {"POST", "/", 405, NULL},
      {"GET", "/api/nope", 404, "unknown API endpoint"},
      {"GET", "/api/replay", 405, "use POST"},
      {"POST", "/api/captures", 405, NULL},
      {"GET", "/api/captures", 503, "not available"},
      {"POST", "/api/replay", 404, "not available"},
  };
  cs_api_ctx_t ctx = {.store = NULL, .web_dir = web, .ca_pem = NULL, .now_ms = 0,
                      .host = "127.0.0.1:8080", .self_text = "127.0.0.1:8080", .self_port = 8080};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cs_http_response_t r;
    cs_http_response_init(&r);
    CS_REQUIRE(cs_api_handle(&ctx, cases[i].method, cases[i].path, "{}", 2, &r) == 0);
    if (r.status != cases[i].status)
      CS_FAIL_AT("%s %s: status %d, want %d", cases[i].method, cases[i].path, r.status,
                 cases[i].status);
    if (cases[i].body_has != NULL && (r.body == NULL || strstr(r.body, cases[i].body_has) == NULL))
      CS_FAIL_AT("%s %s: body lacks '%s'", cases[i].method, cases[i].path, cases[i].body_has);
    CS_CHECK(r.body == NULL || strstr(r.body, "secret") == NULL);
    cs_http_response_free(&r);
    cs_http_response_free(&r);
  }
  /* Without a web directory "/" still answers with the built-in page. */
  ctx.web_dir = "/nonexistent/certskew-web";
  cs_http_response_t r;
  cs_http_response_init(&r);
  CS_REQUIRE(cs_api_handle(&ctx, "GET", "/", NULL, 0, &r) == 0);
  CS_CHECK_EQ_I64(r.status, 200);
  CS_CHECK(r.body != NULL && strstr(r.body, "/api/captures") != NULL);
  cs_http_response_free(&r);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CS_CHECK(system(cmd) == 0);
}

static void test_html_escape(void) {
  char *e = cs_html_escape("<a href=\"x\">'&'</a>");
  CS_CHECK_EQ_STR(e, "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;");
  free(e);
}

CS_TEST_MAIN(CS_TEST(test_clean_path), CS_TEST(test_content_types), CS_TEST(test_serve),
             CS_TEST(test_html_escape))
