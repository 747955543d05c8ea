/*
 * Fuzz target for the proxy's request handling: the llhttp-based head
 * reader with its limits (fed in pieces whose size comes from the input),
 * request-target classification (CONNECT authority, absolute and origin
 * form), header lookups, static-path cleaning and API routing (with no
 * store and no web directory, so nothing touches the disk).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "certskew/proxy/http_head.h"
#include "static_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  size_t step = (size_t)(data[0] % 64) + 1;
  data++;
  size--;
  cs_http_head_t *h = malloc(sizeof *h);
  if (h == NULL)
    return 0;
  cs_http_head_init(h);
  int rc = 0;
  size_t off = 0, used = 0;
  while (off < size && rc == 0) {
    size_t n = size - off < step ? size - off : step;
    rc = cs_http_head_feed(h, (const char *)data + off, n, &used);
    if (used > n)
      abort(); /* never claims more than it was given */
    off += n;
  }
  if (rc == 1) {
    const char *method = cs_http_head_method(h), *url = cs_http_head_url(h);
    (void)cs_http_head_header(h, "Via");
    for (size_t i = 0; i < cs_http_head_count(h); i++)
      if (cs_http_head_name(h, i) == NULL || cs_http_head_value(h, i) == NULL)
        abort();
    cs_http_target_t t;
    if (cs_http_target_parse(method, url, &t) == 0) {
      if (t.port < 0 || t.port > 65535 || strlen(t.host) >= sizeof t.host)
        abort();
      if (t.kind == CS_TARGET_ORIGIN) {
        char clean[512];
        if (cs_static_clean_path(t.path, clean, sizeof clean) == 0 && strstr(clean, "..") != NULL &&
            (strncmp(clean, "../", 3) == 0 || strstr(clean, "/../") != NULL ||
             strcmp(clean, "..") == 0))
          abort(); /* traversal must never survive cleaning */
        /* Host and Origin from the input: the origin checks are fuzzed too. */
        cs_api_ctx_t ctx = {.host = cs_http_head_header(h, "Host"),
                            .origin = cs_http_head_header(h, "Origin"),
                            .self_text = "127.0.0.1:8080",
                            .self_port = 8080};
        cs_http_response_t r;
        cs_http_response_init(&r);
        if (cs_api_handle(&ctx, method, t.path, (const char *)data, size, &r) == 0) {
          size_t len = 0;
          free(cs_http_response_serialize(&r, 0, &len));
        }
        cs_http_response_free(&r);
      }
    }
  }
  free(h);
  return 0;
}
