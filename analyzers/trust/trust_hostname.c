/*
 * Hostname matching (include/certskew/trust/trust.h, cs_trust_hostname_matches):
 * RFC 6125 as browsers apply it, with OpenSSL's CN fallback.
 */
#include "certskew/trust/trust.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/oid.h>

#include "trust_der.h"

#define HOST_MAX 253 /* longest DNS name in text form (RFC 1035 §2.3.4) */

typedef struct match_ctx {
  const char *host;    /* lower-case, no trailing dot */
  size_t host_len;
  int is_ip;
  uint8_t ip[16];
  size_t ip_len;
  int saw_dns;         /* the certificate has a dNSName SAN */
  char *matched;
  size_t matched_len;
} match_ctx_t;

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

static int ieq(const char *a, const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (lower(a[i]) != lower((char)b[i]))
      return 0;
  return 1;
}

/* 1 if pattern (a dNSName or CN, not NUL-terminated) matches the host. */
static int dns_pattern_matches(const uint8_t *pat, size_t pat_len, const char *host,
                               size_t host_len) {
  if (pat_len > 0 && pat[pat_len - 1] == '.')
    pat_len--; /* an absolute name in a SAN still names the same host */
  if (pat_len == 0 || memchr(pat, '\0', pat_len) != NULL)
    return 0; /* an embedded NUL is the classic spoofing trick: never match */
  const uint8_t *star = memchr(pat, '*', pat_len);
  if (star == NULL)
    return pat_len == host_len && ieq(host, pat, pat_len);
  /* Only "*." as the whole left-most label; nothing partial, one star. */
  if (star != pat || pat_len < 3 || pat[1] != '.' || memchr(pat + 1, '*', pat_len - 1) != NULL)
    return 0;
  const uint8_t *suffix = pat + 1; /* ".example.com" */
  size_t suffix_len = pat_len - 1;
  /* At least two labels after the wildcard ("*.com" would cover a TLD). */
  if (memchr(suffix + 1, '.', suffix_len - 1) == NULL)
    return 0;
  const char *dot = memchr(host, '.', host_len);
  if (dot == NULL || dot == host)
    return 0; /* the wildcard stands for exactly one non-empty label */
  size_t rest = host_len - (size_t)(dot - host);
  return rest == suffix_len && ieq(dot, suffix, suffix_len);
}

static void note_match(match_ctx_t *m, const uint8_t *val, size_t len) {
  if (m->matched == NULL || m->matched_len == 0)
    return;
  size_t n = len < m->matched_len - 1 ? len : m->matched_len - 1;
  memcpy(m->matched, val, n);
  m->matched[n] = '\0';
}

static void note_ip(match_ctx_t *m) {
  if (m->matched == NULL || m->matched_len == 0)
    return;
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(m->ip_len == 4 ? AF_INET : AF_INET6, m->ip, text, sizeof(text)) == NULL)
    text[0] = '\0';
  snprintf(m->matched, m->matched_len, "IP:%s", text);
}

static int on_san(void *ctx, int tag, const uint8_t *val, size_t len) {
  match_ctx_t *m = ctx;
  if (tag == MBEDTLS_X509_SAN_DNS_NAME) {
    m->saw_dns = 1;
    if (!m->is_ip && dns_pattern_matches(val, len, m->host, m->host_len)) {
      note_match(m, val, len);
      return 1;
    }
  } else if (tag == MBEDTLS_X509_SAN_IP_ADDRESS && m->is_ip && len == m->ip_len &&
             memcmp(val, m->ip, len) == 0) {
    note_ip(m);
    return 1;
  }
  return 0;
}

/* The last CN of the subject (OpenSSL's choice when there is no dNSName). */
static int cn_matches(const mbedtls_x509_crt *crt, match_ctx_t *m) {
  const mbedtls_x509_buf *cn = NULL;
  for (const mbedtls_x509_name *n = &crt->subject; n != NULL; n = n->next)
    if (n->oid.p != NULL && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0)
      cn = &n->val;
  if (cn == NULL || !dns_pattern_matches(cn->p, cn->len, m->host, m->host_len))
    return 0;
  note_match(m, cn->p, cn->len);
  return 1;
}

static int parse_ip(match_ctx_t *m, const char *host, size_t len) {
  char buf[64];
  if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
    host++;
    len -= 2;
  }
  if (len == 0 || len >= sizeof(buf))
    return 0;
  memcpy(buf, host, len);
  buf[len] = '\0';
  if (inet_pton(AF_INET, buf, m->ip) == 1) {
    m->ip_len = 4;
    return 1;
  }
  if (inet_pton(AF_INET6, buf, m->ip) == 1) {
    m->ip_len = 16;
    return 1;
  }
  return 0;
}

int cs_trust_hostname_matches(const mbedtls_x509_crt *crt, const char *host, char *matched,
                              size_t matched_len) {
  if (crt == NULL || host == NULL)
    return CS_EINVAL;
  size_t len = strlen(host);
  if (len > 0 && host[len - 1] == '.')
    len--;
  if (len == 0 || len > HOST_MAX)
    return CS_EINVAL;
  char lowered[HOST_MAX + 1];
  for (size_t i = 0; i < len; i++)
    lowered[i] = lower(host[i]);
  lowered[len] = '\0';
  if (matched != NULL && matched_len > 0)
    matched[0] = '\0';
  match_ctx_t m = {lowered, len, 0, {0}, 0, 0, matched, matched_len};
  m.is_ip = parse_ip(&m, lowered, len);
  /* A host that itself contains a wildcard names nothing. */
  if (!m.is_ip && memchr(lowered, '*', len) != NULL)
    return 0;
  int ret = cs_trust_der_each_san(crt, on_san, &m);
  if (ret == 1)
    return 1;
  if (ret < 0)
    return 0; /* a malformed SAN matches nothing */
  if (m.is_ip || m.saw_dns)
    return 0;
  return cn_matches(crt, &m);
}
