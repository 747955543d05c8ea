/*
 * The passthrough sniffer against real TLS conversations: openssl s_client
 * talking to openssl s_server through a recording relay
 * (fuzz/make_seeds_passthrough.sh, run here into a temporary directory),
 * each replayed into the sniffer whole and in 1-, 2-, 5- and 13-byte pieces.
 * Table: what the tunnel showed (flight, version, chain length, staple) and
 * what the client did (its alert code, or that it went on). Also: the
 * project's own ClientHello (SNI, status_request, SCT), non-TLS tunnels, the
 * report's finding and "capture" object, and the --passthrough/--intercept
 * host rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certskew/tls/passthrough_report.h"
#include "certskew/tls/tls_sniff.h"
#include "cs_test.h"
#include "passthrough.h"

static char seeds[512];

static int make_seeds(void) {
  if (seeds[0] != '\0')
    return 0;
  const char *src = getenv("CS_SRC");
  const char *tmp = getenv("TMPDIR");
  snprintf(seeds, sizeof(seeds), "%s/cs-ptsniff-XXXXXX", tmp ? tmp : "/tmp");
  if (src == NULL || mkdtemp(seeds) == NULL)
    return -1;
  char cmd[1400];
  snprintf(cmd, sizeof(cmd), "bash '%s/fuzz/make_seeds_passthrough.sh' '%s' > /dev/null 2>&1", src,
           seeds);
  return system(cmd) == 0 ? 0 : -1;
}

static uint8_t *slurp(const char *name, size_t *len) {
  char path[700];
  snprintf(path, sizeof(path), "%s/%s", seeds, name);
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  uint8_t *buf = malloc(1 << 20);
  *len = buf ? fread(buf, 1, 1 << 20, f) : 0;
  fclose(f);
  return buf;
}

/* Replays a recorded conversation in pieces of at most step bytes. */
static int replay(cs_tls_sniff_t *s, const uint8_t *b, size_t n, size_t step) {
  size_t off = 0;
  while (n - off >= 3) {
    int kind = b[off];
    size_t len = (size_t)b[off + 1] << 8 | b[off + 2];
    off += 3;
    if (len > n - off)
      return -1;
    if (kind >= 2)
      cs_tls_sniff_close(s, kind == 2);
    for (size_t k = 0; kind < 2 && k < len; k += step) {
      size_t m = len - k < step ? len - k : step;
      if (cs_tls_sniff_feed(s, kind == 0, b + off + k, m) != 0)
        return -1;
    }
    off += len;
  }
  return 0;
}

typedef struct sniff_case {
  const char *name;
  cs_sniff_flight_t flight;
  uint16_t version;
  size_t ncerts;     /* TLS 1.2 flights */
  int has_ocsp;
  cs_sniff_reaction_t reaction;
  int alert;         /* -1: none */
} sniff_case_t;

static const sniff_case_t CASES[] = {
    {"tls12_accepted", CS_SNIFF_FLIGHT_TLS12, 0x0303, 1, 0, CS_SNIFF_CLIENT_ACCEPTED, -1},
    {"tls12_unknown_ca", CS_SNIFF_FLIGHT_TLS12, 0x0303, 1, 0, CS_SNIFF_CLIENT_ALERT, 48},
    {"tls12_expired", CS_SNIFF_FLIGHT_TLS12, 0x0303, 1, 0, CS_SNIFF_CLIENT_ALERT, 45},
    {"tls12_staple", CS_SNIFF_FLIGHT_TLS12, 0x0303, 1, 1, CS_SNIFF_CLIENT_ACCEPTED, -1},
    {"tls13_accepted", CS_SNIFF_FLIGHT_TLS13, 0x0304, 0, 0, CS_SNIFF_CLIENT_ACCEPTED, -1},
    /* OpenSSL's client sends this alert before switching to handshake keys. */
    {"tls13_unknown_ca", CS_SNIFF_FLIGHT_TLS13, 0x0304, 0, 0, CS_SNIFF_CLIENT_ALERT, 48},
};

static void test_recorded_conversations(void) {
  CS_REQUIRE(make_seeds() == 0);
  static const size_t steps[] = {(size_t)-1, 1, 2, 5, 13};
  for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
    const sniff_case_t *c = &CASES[i];
    size_t n = 0;
    uint8_t *b = slurp(c->name, &n);
    if (b == NULL || n == 0) {
      CS_FAIL_AT("%s: no recording", c->name);
      free(b);
      continue;
    }
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
      cs_tls_sniff_t *s = cs_tls_sniff_new();
      CS_REQUIRE(s != NULL);
      CS_CHECK(replay(s, b, n, steps[k]) == 0);
      const cs_tls_sniff_info_t *in = cs_tls_sniff_info(s);
      if (in->flight != c->flight || in->reaction != c->reaction || in->alert != c->alert ||
          in->version != c->version)
        CS_FAIL_AT("%s step %zu: flight %d reaction %d alert %d version %04x (%s)", c->name,
                   steps[k], in->flight, in->reaction, in->alert, in->version, in->detail);
      CS_CHECK_EQ_STR(in->sni, "localhost");
      CS_CHECK(in->client_hello_seen);
      CS_CHECK(cs_tls_sniff_done(s));
      if (c->flight == CS_SNIFF_FLIGHT_TLS12) {
        CS_REQUIRE(in->server != NULL);
        CS_CHECK_EQ_I64(in->server->ncerts, c->ncerts);
        CS_CHECK_EQ_I64(in->server->ocsp != NULL, c->has_ocsp);
        CS_CHECK_EQ_I64(in->client_status_request, c->has_ocsp);
      } else {
        CS_CHECK(in->server == NULL);
      }
      cs_tls_sniff_free(s);
    }
    free(b);
  }
}

/* The project's own ClientHello, then a server that is not TLS. */
static int counter_rng(void *p_rng, unsigned char *out, size_t len) {
  uint32_t *c = p_rng;
  for (size_t i = 0; i < len; i++)
    out[i] = (uint8_t)((*c)++ * 167u);
  return 0;
}

static void test_own_hello_and_not_tls(void) {
  uint8_t hello[CS_TLS_PROBE_HELLO_MAX], random[32] = {1, 2, 3};
  size_t len = 0;
  CS_REQUIRE(cs_tls_probe_hello_build("example.test", random, hello, sizeof(hello), &len) == 0);
  cs_tls_sniff_t *s = cs_tls_sniff_new();
  CS_REQUIRE(s != NULL);
  CS_CHECK(cs_tls_sniff_feed(s, 1, hello, len) == 0);
  const cs_tls_sniff_info_t *in = cs_tls_sniff_info(s);
  CS_CHECK_EQ_STR(in->sni, "example.test");
  CS_CHECK(in->client_status_request && in->client_sct);
  CS_CHECK_EQ_I64(in->client_max_version, 0x0303);
  CS_CHECK(!cs_tls_sniff_done(s));
  static const char http[] = "HTTP/1.1 200 OK\r\n\r\n";
  CS_CHECK(cs_tls_sniff_feed(s, 0, (const uint8_t *)http, sizeof(http) - 1) == 0);
  CS_CHECK_EQ_I64(in->flight, CS_SNIFF_FLIGHT_NOT_TLS);
  CS_CHECK(cs_tls_sniff_done(s));
  cs_tls_sniff_free(s);

  /* The capture probe's own ClientHello (TLS 1.3 and 1.2 in one) reads as such. */
  uint32_t ctr = 7;
  cs_tls_probe_parser_t *p = NULL;
  CS_REQUIRE(cs_tls_probe_client_new("example.test", counter_rng, &ctr, &p, NULL) == 0);
  const uint8_t *h13;
  size_t h13_len;
  cs_tls_probe_parser_take_output(p, &h13, &h13_len);
  s = cs_tls_sniff_new();
  CS_REQUIRE(s != NULL);
  CS_CHECK(cs_tls_sniff_feed(s, 1, h13, h13_len) == 0);
  in = cs_tls_sniff_info(s);
  CS_CHECK_EQ_STR(in->sni, "example.test");
  CS_CHECK(in->client_status_request && in->client_sct);
  CS_CHECK_EQ_I64(in->client_max_version, 0x0304);
  cs_tls_sniff_free(s);
  cs_tls_probe_parser_free(p);

  /* A client speaking plain HTTP in the tunnel. */
  s = cs_tls_sniff_new();
  CS_REQUIRE(s != NULL);
  static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  CS_CHECK(cs_tls_sniff_feed(s, 1, (const uint8_t *)get, sizeof(get) - 1) == 0);
  CS_CHECK_EQ_I64(cs_tls_sniff_info(s)->flight, CS_SNIFF_FLIGHT_NOT_TLS);
  cs_tls_sniff_free(s);
  cs_tls_sniff_free(NULL);
}

/* Findings and the capture object for the recorded rejections. */
static void test_report_part(void) {
  CS_REQUIRE(make_seeds() == 0);
  size_t n = 0;
  uint8_t *b = slurp("tls12_unknown_ca", &n);
  CS_REQUIRE(b != NULL);
  cs_tls_sniff_t *s = cs_tls_sniff_new();
  CS_REQUIRE(s != NULL && replay(s, b, n, (size_t)-1) == 0);
  const cs_tls_sniff_info_t *in = cs_tls_sniff_info(s);
  /* With the matching analysis finding: "agrees". */
  cs_findings_t *f = cs_findings_new();
  CS_REQUIRE(f != NULL);
  CS_CHECK(cs_findings_add(f, "ANCHOR_NOT_TRUSTED", CS_SEV_ERROR, 20, 0, -1, "s", "e", NULL,
                           NULL) == 0);
  CS_CHECK(cs_passthrough_add_finding(f, in) == 0);
  const cs_finding_t *fi = NULL;
  for (size_t i = 0; i < cs_findings_count(f); i++)
    if (strcmp(cs_findings_get(f, i)->code, "CLIENT_REJECTED_CHAIN") == 0)
      fi = cs_findings_get(f, i);
  CS_REQUIRE(fi != NULL);
  CS_CHECK(fi->severity == CS_SEV_ERROR);
  CS_CHECK(strstr(fi->summary, "unknown_ca(48)") != NULL);
  CS_CHECK(strstr(fi->explanation, "agrees: ANCHOR_NOT_TRUSTED") != NULL);
  cs_findings_free(f);
  /* Without: certskew disagrees with the client, and says so. */
  f = cs_findings_new();
  CS_REQUIRE(f != NULL);
  CS_CHECK(cs_passthrough_add_finding(f, in) == 0);
  CS_CHECK(strstr(cs_findings_get(f, 0)->explanation, "finds no error") != NULL);
  cs_findings_free(f);
  char *out = NULL;
  CS_CHECK(cs_passthrough_decorate_report("{\"findings\":[]}", in, CS_CAPTURE_METHOD_PASSIVE,
                                          &out) == 0);
  CS_CHECK(out != NULL && strstr(out, "\"unknown_ca\"") != NULL &&
           strstr(out, "\"passive TLS 1.2 handshake\"") != NULL);
  free(out);
  out = NULL;
  CS_CHECK(cs_passthrough_decorate_report("[1]", in, CS_CAPTURE_METHOD_PASSIVE, &out) ==
           CS_EPARSE);
  CS_CHECK(out == NULL);
  cs_tls_sniff_free(s);
  free(b);
}

typedef struct rule_case {
  int dflt;
  const char *pass, *icpt;
  const char *host;
  int port;
  int want;
} rule_case_t;

static void test_host_rules(void) {
  static const rule_case_t cases[] = {
      {0, NULL, NULL, "a.test", 443, 0},
      {1, NULL, NULL, "a.test", 443, 1},
      {0, "a.test", NULL, "A.TEST", 443, 1},
      {0, "a.test", NULL, "b.test", 443, 0},
      {0, "*.test", NULL, "x.a.test", 443, 1},
      {0, "*.test", NULL, "test", 443, 0},
      {1, NULL, "*.test", "a.test", 443, 0},
      {1, "a.test", "*.test", "a.test", 443, 1},     /* exact beats wildcard */
      {1, "*.test", "a.test", "a.test", 443, 0},
      {0, "*.test", "*.a.test", "x.a.test", 443, 0}, /* longer suffix wins */
      {1, NULL, "a.test:8443", "a.test", 443, 1},
      {1, NULL, "a.test:8443", "a.test", 8443, 0},
      {0, "x.test,a.test", NULL, "a.test", 443, 1},  /* comma-separated */
      {0, "a.test", "a.test", "a.test", 443, 0},     /* tie: intercept */
      {0, "::1", NULL, "::1", 443, 1},               /* IPv6 literal, no port */
      {0, "a.test:x", NULL, "a.test", 443, 0},
      {0, ",,", NULL, "a.test", 443, 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const rule_case_t *c = &cases[i];
    cs_proxy_config_t cfg;
    cs_proxy_config_init(&cfg);
    cfg.passthrough = c->dflt;
    const char *p[1] = {c->pass}, *q[1] = {c->icpt};
    cfg.passthrough_hosts = p;
    cfg.npassthrough_hosts = c->pass != NULL;
    cfg.intercept_hosts = q;
    cfg.nintercept_hosts = c->icpt != NULL;
    int got = cs_passthrough_wanted(&cfg, c->host, c->port);
    if (got != c->want)
      CS_FAIL_AT("case %zu (%s:%d): got %d, want %d", i, c->host, c->port, got, c->want);
  }
}

static void cleanup(void) {
  if (seeds[0] != '\0') {
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", seeds);
    if (system(cmd) != 0)
      fprintf(stderr, "cannot remove %s\n", seeds);
  }
}

static void test_cleanup(void) { cleanup(); }

CS_TEST_MAIN(CS_TEST(test_host_rules), CS_TEST(test_own_hello_and_not_tls),
             CS_TEST(test_recorded_conversations), CS_TEST(test_report_part),
             CS_TEST(test_cleanup))
