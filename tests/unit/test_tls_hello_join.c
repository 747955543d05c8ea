/*
 * cs_tls_hello_join (a ClientHello split over records, joined into one for
 * mbedTLS) as a table of cases, the fallback's report part
 * (INTERCEPTION_FELL_BACK, capture.relayed_because) and the profiles'
 * min_tls as a version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/clients/profile.h"
#include "certskew/tls/passthrough_report.h"
#include "certskew/tls/tls_hello_join.h"
#include "cs_test.h"

/* A ClientHello-shaped message: type 1, 3-byte length, body of n bytes
 * (byte i of the body is i & 0xff). */
static size_t hello(uint8_t *m, size_t n) {
  m[0] = 1;
  m[1] = (uint8_t)(n >> 16);
  m[2] = (uint8_t)(n >> 8);
  m[3] = (uint8_t)n;
  for (size_t i = 0; i < n; i++)
    m[4 + i] = (uint8_t)i;
  return 4 + n;
}

/* Splits msg into records of at most frag bytes (type 22, version 3.1). */
static size_t records(uint8_t *out, const uint8_t *msg, size_t len, size_t frag, uint8_t type) {
  size_t w = 0;
  for (size_t off = 0; off < len; off += frag) {
    size_t n = len - off < frag ? len - off : frag;
    out[w++] = type;
    out[w++] = 3;
    out[w++] = 1;
    out[w++] = (uint8_t)(n >> 8);
    out[w++] = (uint8_t)n;
    memcpy(out + w, msg + off, n);
    w += n;
  }
  return w;
}

typedef struct join_case {
  const char *name;
  size_t body;     /* ClientHello body length */
  size_t frag;     /* record size the client used */
  size_t cut;      /* bytes delivered (0: all) */
  size_t trailer;  /* bytes after the records (e.g. the next record) */
  int want;        /* result */
} join_case_t;

static void test_join_table(void) {
  static const join_case_t cases[] = {
      {"one record", 500, 16384, 0, 0, CS_HELLO_JOIN_AS_IS},
      {"one record, header only so far", 500, 16384, 3, 0, CS_HELLO_JOIN_NEED_MORE},
      {"one record, half of it", 500, 16384, 200, 0, CS_HELLO_JOIN_NEED_MORE},
      {"two records", 500, 300, 0, 0, CS_HELLO_JOIN_JOINED},
      {"two records, second cut", 500, 300, 400, 0, CS_HELLO_JOIN_NEED_MORE},
      {"handshake header split (1-byte records)", 40, 1, 0, 0, CS_HELLO_JOIN_JOINED},
      {"512-byte records of a 3000-byte hello, then more", 2996, 512, 0, 37,
       CS_HELLO_JOIN_JOINED},
      {"largest joinable (16384 with header)", 16380, 1000, 0, 0, CS_HELLO_JOIN_JOINED},
      {"one byte too large", 16381, 1000, 0, 0, CS_ETOOBIG},
      {"far too large, refused from its header", 100000, 1000, 1005, 0, CS_ETOOBIG},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const join_case_t *c = &cases[i];
    uint8_t *msg = malloc(4 + c->body), *in = malloc(2 * (4 + c->body) + 6 * (c->body / c->frag + 2) + 64);
    CS_CHECK(msg != NULL && in != NULL);
    size_t mlen = hello(msg, c->body);
    size_t len = records(in, msg, mlen, c->frag, 22);
    for (size_t t = 0; t < c->trailer; t++)
      in[len++] = (uint8_t)(0xa0 + t);
    if (c->cut != 0)
      len = c->cut;
    uint8_t *out = NULL;
    size_t out_len = 0;
    int got = cs_tls_hello_join(in, len, &out, &out_len);
    if (got != c->want)
      CS_FAIL_AT("case %s: got %d, want %d", c->name, got, c->want);
    if (got == CS_HELLO_JOIN_JOINED) {
      /* One record holding the whole message, then the trailer. */
      CS_CHECK_EQ_I64((int64_t)out_len, (int64_t)(5 + mlen + c->trailer));
      CS_CHECK(out[0] == 22 && out[1] == 3 && out[2] == 1);
      CS_CHECK_EQ_I64((int64_t)((out[3] << 8) | out[4]), (int64_t)mlen);
      CS_CHECK(memcmp(out + 5, msg, mlen) == 0);
      for (size_t t = 0; t < c->trailer; t++)
        CS_CHECK(out[5 + mlen + t] == (uint8_t)(0xa0 + t));
    } else {
      CS_CHECK(out == NULL);
    }
    free(out);
    free(msg);
    free(in);
  }
}

static void test_join_not_handshake(void) {
  uint8_t msg[64], in[256], *out = NULL;
  size_t out_len = 0, mlen = hello(msg, 60);
  /* An SSLv2-style or non-TLS first byte: mbedTLS judges it. */
  static const uint8_t http[] = "GET / HTTP/1.1\r\n\r\n";
  CS_CHECK_EQ_I64(cs_tls_hello_join(http, sizeof http - 1, &out, &out_len), CS_HELLO_JOIN_AS_IS);
  /* An alert record in the middle of a split hello. */
  size_t len = records(in, msg, 30, 30, 22);
  len += records(in + len, msg + 30, 2, 2, 21);
  CS_CHECK_EQ_I64(cs_tls_hello_join(in, len, &out, &out_len), CS_EPARSE);
  /* A first handshake message that is no ClientHello. */
  msg[0] = 2;
  len = records(in, msg, mlen, 20, 22);
  CS_CHECK_EQ_I64(cs_tls_hello_join(in, len, &out, &out_len), CS_HELLO_JOIN_AS_IS);
  CS_CHECK(out == NULL);
}

static void test_relayed_report(void) {
  cs_findings_t *f = cs_findings_new();
  CS_CHECK(f != NULL);
  CS_CHECK_EQ_I64(cs_passthrough_add_fallback_finding(f, NULL), 0);
  CS_CHECK_EQ_I64((int64_t)cs_findings_count(f), 0);
  cs_relay_reason_t why = {.code = "UPSTREAM_TLS13_ONLY", .message = "speaks only TLS 1.3"};
  CS_CHECK_EQ_I64(cs_passthrough_add_fallback_finding(f, &why), 0);
  CS_CHECK_EQ_I64((int64_t)cs_findings_count(f), 1);
  CS_CHECK_EQ_STR(cs_findings_get(f, 0)->code, "INTERCEPTION_FELL_BACK");
  CS_CHECK(cs_findings_get(f, 0)->severity == CS_SEV_INFO);
  cs_findings_free(f);
  cs_tls_sniff_info_t info;
  memset(&info, 0, sizeof(info));
  char *out = NULL;
  CS_CHECK_EQ_I64(cs_passthrough_decorate_report_ex("{\"findings\":[]}", &info,
                                                    CS_CAPTURE_METHOD_SIDE_TLS13, &why, &out),
                  0);
  CS_CHECK(out != NULL && strstr(out, "\"relayed_because\"") != NULL &&
           strstr(out, "UPSTREAM_TLS13_ONLY") != NULL);
  free(out);
  CS_CHECK_EQ_I64(cs_passthrough_decorate_report_ex("{}", &info, CS_CAPTURE_METHOD_PASSIVE, NULL,
                                                    &out),
                  0);
  CS_CHECK(out != NULL && strstr(out, "relayed_because") == NULL);
  free(out);
}

static void test_min_tls(void) {
  static const struct {
    const char *min_tls;
    int want;
  } cases[] = {{"1.0", 0x0301}, {"1.1", 0x0302}, {"1.2", 0x0303}, {"1.3", 0x0304},
               {"1.4", 0}, {"", 0}, {NULL, 0}, {"1.2 ", 0}, {"2.0", 0}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    cs_client_profile_t p;
    memset(&p, 0, sizeof(p));
    p.min_tls = cases[i].min_tls;
    CS_CHECK_EQ_I64(cs_client_min_tls_version(&p), cases[i].want);
  }
  CS_CHECK_EQ_I64(cs_client_min_tls_version(cs_client_profile_find("chrome")), 0x0303);
  CS_CHECK_EQ_I64(cs_client_min_tls_version(cs_client_profile_find("openssl-1.0.2")), 0x0301);
}

CS_TEST_MAIN(CS_TEST(test_join_table), CS_TEST(test_join_not_handshake),
             CS_TEST(test_relayed_report), CS_TEST(test_min_tls))
