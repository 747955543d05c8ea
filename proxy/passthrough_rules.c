/*
 * Which CONNECT tunnels are passed through (proxy/passthrough.h): the most
 * specific matching pattern of --passthrough / --intercept wins, the default
 * applies when none matches.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "passthrough.h"

/* Specificity of pattern pat[0..n) for host:port, 0 when it does not match:
 * an exact name beats any wildcard, a longer suffix a shorter one, and a
 * pattern naming the port beats one that does not. */
static size_t score(const char *pat, size_t n, const char *host, int port) {
  size_t bonus = 0;
  const char *colon = memchr(pat, ':', n);
  if (colon != NULL && memchr(colon + 1, ':', n - (size_t)(colon + 1 - pat)) == NULL) {
    /* host:port (an IPv6 literal has several colons and never a port here) */
    char *end = NULL;
    long p = strtol(colon + 1, &end, 10);
    if (end != pat + n || colon + 1 == pat + n || p != port)
      return 0;
    n = (size_t)(colon - pat);
    bonus = 4096;
  }
  size_t hl = strlen(host);
  if (n >= 2 && pat[0] == '*' && pat[1] == '.') {
    size_t sl = n - 1; /* ".suffix" */
    if (hl > sl && strncasecmp(host + hl - sl, pat + 1, sl) == 0)
      return bonus + sl;
    return 0;
  }
  if (n == 0 || n != hl || strncasecmp(host, pat, n) != 0)
    return 0;
  return bonus + 2048 + n;
}

static size_t best(const char *const *list, size_t count, const char *host, int port) {
  size_t top = 0;
  for (size_t i = 0; i < count; i++) {
    const char *p = list[i];
    while (p != NULL && *p != '\0') {
      const char *comma = strchr(p, ',');
      size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
      size_t s = score(p, n, host, port);
      if (s > top)
        top = s;
      p = comma != NULL ? comma + 1 : NULL;
    }
  }
  return top;
}

int cs_passthrough_wanted(const cs_proxy_config_t *cfg, const char *host, int port) {
  size_t p = best(cfg->passthrough_hosts, cfg->npassthrough_hosts, host, port);
  size_t i = best(cfg->intercept_hosts, cfg->nintercept_hosts, host, port);
  if (p == 0 && i == 0)
    return cfg->passthrough != 0;
  return p > i;
}
