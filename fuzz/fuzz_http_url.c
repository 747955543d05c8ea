/*
 * Fuzz target: cs_http_url_parse, which splits the http:// URLs taken from
 * certificates (AIA caIssuers, OCSP responder) that certskew then fetches:
 * attacker-controlled text. Whatever the input, a success gives a
 * NUL-terminated non-empty host without brackets or '/', a port in 1..65535
 * and a path starting with '/'.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_fetch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *url = malloc(size + 1); /* freed below */
  if (url == NULL)
    return 0;
  memcpy(url, data, size);
  url[size] = '\0';
  char host[256], path[2048];
  uint16_t port = 0;
  memset(host, 'x', sizeof host);
  memset(path, 'x', sizeof path);
  if (cs_http_url_parse(url, host, &port, path) == 0) {
    if (memchr(host, '\0', sizeof host) == NULL || memchr(path, '\0', sizeof path) == NULL)
      abort();
    if (host[0] == '\0' || strpbrk(host, "/[]") != NULL || port == 0 || path[0] != '/')
      abort();
  }
  free(url);
  return 0;
}
