/*
 * Hostname matching (cs_trust_hostname_matches) over certificates generated
 * by openssl, cross-checked with `openssl x509 -checkhost/-checkip`
 * (X509_check_host/X509_check_ip). Rows where RFC 6125 and OpenSSL's
 * default flags differ (partial-label wildcards) assert both behaviours.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/core/chain.h"
#include "certskew/trust/trust.h"
#include "cs_test.h"
#include "trust_fixtures.h"


typedef struct cert_def {
  const char *name;
  const char *cn;
  const char *ext; /* "" for no extensions beyond basicConstraints */
} cert_def_t;

static const cert_def_t CERTS[] = {
    {"san", "ignored.example.test",
     "subjectAltName=DNS:www.example.test,DNS:*.wild.example.test,DNS:Mixed.Example.Test,"
     "IP:192.0.2.7,IP:2001:db8::1"},
    {"cnonly", "cn.example.test", ""},
    {"iponly", "cn.example.test", "subjectAltName=IP:192.0.2.9"},
    {"partial", "x", "subjectAltName=DNS:f*.example.test,DNS:*x.other.test"},
    {"tld", "x", "subjectAltName=DNS:*.test,DNS:*.*.deep.test"},
};

typedef struct row {
  const char *cert;
  const char *host;
  int ours;      /* expected cs_trust_hostname_matches result */
  int openssl;   /* expected openssl -checkhost/-checkip result */
} row_t;

static const row_t ROWS[] = {
    {"san", "www.example.test", 1, 1},
    {"san", "WWW.Example.TEST", 1, 1},
    {"san", "www.example.test.", 1, 0},       /* trailing dot: browsers strip it, OpenSSL does not */
    {"san", "mixed.example.test", 1, 1},      /* SAN case is not significant */
    {"san", "example.test", 0, 0},
    {"san", "ignored.example.test", 0, 0},    /* CN ignored when dNSName SANs exist */
    {"san", "a.wild.example.test", 1, 1},
    {"san", "wild.example.test", 0, 0},       /* the wildcard is one non-empty label */
    {"san", "a.b.wild.example.test", 0, 0},   /* ... and only one */
    {"san", "192.0.2.7", 1, 1},
    {"san", "192.0.2.8", 0, 0},
    {"san", "2001:db8::1", 1, 1},
    {"san", "2001:DB8:0::1", 1, 1},
    {"cnonly", "cn.example.test", 1, 1},      /* no SAN at all: CN fallback */
    {"cnonly", "other.example.test", 0, 0},
    {"iponly", "cn.example.test", 1, 1},      /* IP SANs only: CN still consulted */
    {"iponly", "192.0.2.9", 1, 1},
    {"partial", "foo.example.test", 0, 1},    /* RFC 6125: no partial wildcard; OpenSSL allows */
    {"partial", "ax.other.test", 0, 1},
    {"tld", "a.test", 0, 0},                  /* never a wildcard for a whole TLD */
    {"tld", "a.b.deep.test", 0, 0},
};

static int openssl_check(cs_tf_t *tf, const char *cert, const char *host) {
  char cmd[1024];
  int is_ip = strchr(host, ':') != NULL || (host[0] >= '0' && host[0] <= '9');
  snprintf(cmd, sizeof(cmd), "openssl x509 -in '%s/%s.pem' -noout %s '%s' 2>&1 | grep -q 'does match'",
           tf->dir, cert, is_ip ? "-checkip" : "-checkhost", host);
  return system(cmd) == 0;
}

int main(void) {
  cs_tf_t tf;
  if (cs_tf_init(&tf) != 0) {
    fprintf(stderr, "cannot create scratch dir\n");
    return 1;
  }
  const int64_t t0 = INT64_C(1767225600);
  cs_chain_t *chains[sizeof(CERTS) / sizeof(CERTS[0])] = {NULL};
  for (size_t i = 0; i < sizeof(CERTS) / sizeof(CERTS[0]); i++) {
    char ext[512];
    snprintf(ext, sizeof(ext), "basicConstraints=CA:FALSE\n%s", CERTS[i].ext);
    CS_CHECK_MSG(cs_tf_issue(&tf, CERTS[i].name, CERTS[i].cn, CERTS[i].name, NULL, NULL, t0,
                      t0 + 86400, ext) == 0,
          "issuing %s", CERTS[i].name);
    char file[128];
    snprintf(file, sizeof(file), "%s.pem", CERTS[i].name);
    size_t len = 0;
    uint8_t *buf = cs_tf_read(&tf, file, &len);
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    CS_CHECK_MSG(buf != NULL && cs_chain_load(&chains[i], buf, len, &eb) == 0, "loading %s: %s",
          CERTS[i].name, eb.msg);
    free(buf);
  }
  for (size_t r = 0; r < sizeof(ROWS) / sizeof(ROWS[0]); r++) {
    const row_t *row = &ROWS[r];
    size_t ci = 0;
    while (strcmp(CERTS[ci].name, row->cert) != 0)
      ci++;
    if (chains[ci] == NULL)
      continue;
    char matched[128];
    int ours = cs_trust_hostname_matches(cs_chain_cert(chains[ci], 0)->crt, row->host, matched,
                                         sizeof(matched));
    int theirs = openssl_check(&tf, row->cert, row->host);
    CS_CHECK_MSG(ours == row->ours, "%s vs %s: ours %d, expected %d", row->cert, row->host, ours,
          row->ours);
    CS_CHECK_MSG(theirs == row->openssl, "%s vs %s: openssl %d, expected %d", row->cert, row->host,
          theirs, row->openssl);
    CS_CHECK_MSG(ours != 1 || matched[0] != '\0', "%s vs %s: no matched name reported", row->cert,
          row->host);
  }
  /* Bad arguments are errors, not matches. */
  const mbedtls_x509_crt *crt = chains[0] ? cs_chain_cert(chains[0], 0)->crt : NULL;
  if (crt != NULL) {
    char longhost[300];
    memset(longhost, 'a', sizeof(longhost) - 1);
    longhost[sizeof(longhost) - 1] = '\0';
    CS_CHECK_MSG(cs_trust_hostname_matches(crt, "", NULL, 0) == CS_EINVAL, "empty host");
    CS_CHECK_MSG(cs_trust_hostname_matches(crt, ".", NULL, 0) == CS_EINVAL, "dot host");
    CS_CHECK_MSG(cs_trust_hostname_matches(crt, longhost, NULL, 0) == CS_EINVAL, "long host");
    CS_CHECK_MSG(cs_trust_hostname_matches(crt, NULL, NULL, 0) == CS_EINVAL, "NULL host");
    CS_CHECK_MSG(cs_trust_hostname_matches(NULL, "x", NULL, 0) == CS_EINVAL, "NULL cert");
    CS_CHECK_MSG(cs_trust_hostname_matches(crt, "*.wild.example.test", NULL, 0) == 0, "wildcard host");
  }
  for (size_t i = 0; i < sizeof(CERTS) / sizeof(CERTS[0]); i++)
    cs_chain_free(chains[i]);
  cs_tf_cleanup(&tf);
  printf("%zu rows\n", sizeof(ROWS) / sizeof(ROWS[0]));
  return cs_test_done(__FILE__);
}
