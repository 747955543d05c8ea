/*
 * Fuzz target: cs_http_url_parse, which splits the http:// URLs taken from
 * certificates (AIA caIssuers, OCSP responder) that certskew then fetches:
 * attacker-controlled text. Whatever the input, a success gives a
 * NUL-terminated non-empty host of name or address characters only (it goes
 * into a Host header), a port in 1..65535 and a path starting with '/'
 * without spaces or line breaks (it goes into the request line).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/fetch/http_fetch.h"

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
    if (host[0] == '\0' || port == 0 || path[0] != '/' || strpbrk(path, " \r\n") != NULL)
      abort();
    /* The host goes into a Host header: name or address characters only. */
    if (host[strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:")] != '\0')
      abort();
  }
  free(url);
  return 0;
}
