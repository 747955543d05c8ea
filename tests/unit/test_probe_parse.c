/*
 * The probe parser on server flights built here byte by byte, for the cases
 * openssl cannot be made to send to a TLS 1.2-only ClientHello: a TLS 1.3
 * ServerHello, a HelloRetryRequest, alerts, and protocol violations. Each is
 * fed whole and one byte at a time (both must agree).
 */
#include "cs_test.h"

#include "certskew/tls/tls_probe.h"

typedef struct buf {
  uint8_t b[4096];
  size_t n;
} buf_t;

static void put(buf_t *w, const void *p, size_t n) {
  memcpy(w->b + w->n, p, n);
  w->n += n;
}
static void u8(buf_t *w, unsigned v) { w->b[w->n++] = (uint8_t)v; }
static void u16(buf_t *w, unsigned v) { u8(w, v >> 8); u8(w, v & 0xff); }
static void u24(buf_t *w, unsigned v) { u8(w, v >> 16); u16(w, v & 0xffff); }

/* ServerHello body: version, random (HRR magic if hrr), no session id,
 * suite 0xC02F, null compression, then the given extensions block. */
static void server_hello(buf_t *hs, unsigned version, int hrr, const buf_t *exts) {
  static const uint8_t HRR[32] = {0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
                                  0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
                                  0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
  uint8_t rnd[32];
  memset(rnd, 0x42, sizeof(rnd));
  u8(hs, 2);
  u24(hs, 2 + 32 + 1 + 3 + (exts ? 2 + (unsigned)exts->n : 0));
  u16(hs, version);
  put(hs, hrr ? HRR : rnd, 32);
  u8(hs, 0);
  u16(hs, 0xC02F);
  u8(hs, 0);
  if (exts) {
    u16(hs, (unsigned)exts->n);
    put(hs, exts->b, exts->n);
  }
}

static void record(buf_t *out, unsigned type, const buf_t *frag, size_t from, size_t len) {
  u8(out, type);
  u16(out, 0x0303);
  u16(out, (unsigned)len);
  put(out, frag->b + from, len);
}

typedef struct pcase {
  const char *name;
  buf_t flight;
  int ret;                      /* expected return of the whole feed */
  cs_tls_probe_outcome_t outcome;
  size_t ncerts;
  int ocsp_len;
  int acked;
} pcase_t;

static pcase_t cases[12];
static size_t ncases;

static void build_cases(void) {
  buf_t ext, hs;
  pcase_t *c;
  /* 1: TLS 1.2 flight: SH (status_request + SCT ext), Certificate (2 certs),
   * CertificateStatus, ServerHelloDone, all in one record split in two. */
  c = &cases[ncases++];
  c->name = "tls12_full";
  memset(&ext, 0, sizeof(ext));
  memset(&hs, 0, sizeof(hs));
  u16(&ext, 5); u16(&ext, 0);
  u16(&ext, 18); u16(&ext, 6); u16(&ext, 4); u16(&ext, 2); u16(&ext, 0xABCD);
  server_hello(&hs, 0x0303, 0, &ext);
  u8(&hs, 11); u24(&hs, 3 + 3 + 3 + 3 + 2); u24(&hs, 3 + 3 + 3 + 2);
  u24(&hs, 3); u8(&hs, 0x30); u8(&hs, 1); u8(&hs, 0);
  u24(&hs, 2); u8(&hs, 0x30); u8(&hs, 0);
  u8(&hs, 22); u24(&hs, 4 + 5); u8(&hs, 1); u24(&hs, 5); put(&hs, "\x30\x03\x0a\x01\x00", 5);
  u8(&hs, 14); u24(&hs, 0);
  record(&c->flight, 22, &hs, 0, 20);
  record(&c->flight, 22, &hs, 20, hs.n - 20);
  c->outcome = CS_TLS_PROBE_DONE;
  c->ncerts = 2;
  c->ocsp_len = 5;
  c->acked = 1;
  /* 2: negotiated TLS 1.3 through supported_versions. */
  c = &cases[ncases++];
  c->name = "tls13_negotiated";
  memset(&ext, 0, sizeof(ext));
  memset(&hs, 0, sizeof(hs));
  u16(&ext, 43); u16(&ext, 2); u16(&ext, 0x0304);
  server_hello(&hs, 0x0303, 0, &ext);
  record(&c->flight, 22, &hs, 0, hs.n);
  c->outcome = CS_TLS_PROBE_NOT_OBSERVABLE;
  /* 3: HelloRetryRequest. */
  c = &cases[ncases++];
  c->name = "hrr";
  memset(&hs, 0, sizeof(hs));
  server_hello(&hs, 0x0303, 1, NULL);
  record(&c->flight, 22, &hs, 0, hs.n);
  c->outcome = CS_TLS_PROBE_NOT_OBSERVABLE;
  /* 4: alert protocol_version; 5: alert handshake_failure. */
  unsigned alerts[2] = {70, 40};
  for (int i = 0; i < 2; i++) {
    c = &cases[ncases++];
    c->name = i == 0 ? "alert_protocol_version" : "alert_handshake_failure";
    memset(&hs, 0, sizeof(hs));
    u8(&hs, 2); u8(&hs, alerts[i]);
    record(&c->flight, 21, &hs, 0, 2);
    c->outcome = i == 0 ? CS_TLS_PROBE_NOT_OBSERVABLE : CS_TLS_PROBE_ALERT;
  }
  /* 6: duplicate status_request extension. */
  c = &cases[ncases++];
  c->name = "duplicate_extension";
  memset(&ext, 0, sizeof(ext));
  memset(&hs, 0, sizeof(hs));
  u16(&ext, 5); u16(&ext, 0); u16(&ext, 5); u16(&ext, 0);
  server_hello(&hs, 0x0303, 0, &ext);
  record(&c->flight, 22, &hs, 0, hs.n);
  c->ret = CS_EPARSE;
  /* 7: SSL 3.0 ServerHello. */
  c = &cases[ncases++];
  c->name = "ssl3";
  memset(&hs, 0, sizeof(hs));
  server_hello(&hs, 0x0300, 0, NULL);
  record(&c->flight, 22, &hs, 0, hs.n);
  c->ret = CS_EUNSUPPORTED;
  /* 8: Certificate before ServerHello. */
  c = &cases[ncases++];
  c->name = "certificate_first";
  memset(&hs, 0, sizeof(hs));
  u8(&hs, 11); u24(&hs, 3); u24(&hs, 0);
  record(&c->flight, 22, &hs, 0, hs.n);
  c->ret = CS_EPARSE;
  /* 9: a record longer than TLS allows. */
  c = &cases[ncases++];
  c->name = "oversize_record";
  u8(&c->flight, 22); u16(&c->flight, 0x0303); u16(&c->flight, 0x5000);
  c->ret = CS_EPARSE;
  /* 10: a CertificateStatus whose inner length lies. */
  c = &cases[ncases++];
  c->name = "status_length_lies";
  memset(&hs, 0, sizeof(hs));
  server_hello(&hs, 0x0303, 0, NULL);
  u8(&hs, 22); u24(&hs, 6); u8(&hs, 1); u24(&hs, 9); u16(&hs, 0);
  record(&c->flight, 22, &hs, 0, hs.n);
  c->ret = CS_EPARSE;
}

static void check_case(const pcase_t *c, size_t step) {
  cs_tls_probe_parser_t *p = cs_tls_probe_parser_new();
  CS_REQUIRE(p != NULL);
  int ret = 0;
  for (size_t off = 0; off < c->flight.n && ret == 0; off += step)
    ret = cs_tls_probe_parser_feed(p, c->flight.b + off,
                                   off + step > c->flight.n ? c->flight.n - off : step, NULL);
  const cs_tls_probe_result_t *r = cs_tls_probe_parser_result(p);
  if (ret != c->ret || (c->ret == 0 && r->outcome != c->outcome))
    fprintf(stderr, "  case %s step %zu\n", c->name, step);
  CS_CHECK_EQ_I64(ret, c->ret);
  if (c->ret == 0) {
    CS_CHECK_EQ_I64(r->outcome, c->outcome);
    CS_CHECK_EQ_I64(r->ncerts, c->ncerts);
    CS_CHECK_EQ_I64(r->ocsp_len, c->ocsp_len);
    CS_CHECK_EQ_I64(r->status_request_acked, c->acked);
  } else {
    CS_CHECK_EQ_I64(cs_tls_probe_parser_feed(p, (const uint8_t *)"x", 1, NULL), CS_ESTATE);
  }
  cs_tls_probe_parser_free(p);
}

static void test_cases(void) {
  build_cases();
  for (size_t i = 0; i < ncases; i++) {
    check_case(&cases[i], cases[i].flight.n);
    check_case(&cases[i], 1);
  }
}

/* The full flight's SCT list is the extension data, length prefix included. */
static void test_sct_and_certs(void) {
  cs_tls_probe_parser_t *p = cs_tls_probe_parser_new();
  CS_REQUIRE(p != NULL);
  CS_REQUIRE(cs_tls_probe_parser_feed(p, cases[0].flight.b, cases[0].flight.n, NULL) == 0);
  const cs_tls_probe_result_t *r = cs_tls_probe_parser_result(p);
  CS_CHECK_EQ_I64(r->sct_ext_present, 1);
  CS_CHECK_EQ_I64(r->sct_list_len, 6);
  CS_CHECK(r->sct_list != NULL && r->sct_list[5] == 0xCD);
  CS_CHECK_EQ_I64(r->cert_lens[0], 3);
  CS_CHECK_EQ_I64(r->cert_lens[1], 2);
  CS_CHECK_EQ_I64(r->version, 0x0303);
  CS_CHECK_EQ_I64(r->cipher_suite, 0xC02F);
  cs_tls_probe_parser_free(p);
}

static int contains(const uint8_t *b, size_t n, const char *s) {
  size_t l = strlen(s);
  for (size_t i = 0; i + l <= n; i++)
    if (memcmp(b + i, s, l) == 0)
      return 1;
  return 0;
}

/* The ClientHello: one record, TLS 1.2, SNI only for DNS names. */
static void test_hello(void) {
  uint8_t rnd[32] = {0}, b[CS_TLS_PROBE_HELLO_MAX];
  size_t n = 0, n_ip = 0;
  CS_REQUIRE(cs_tls_probe_hello_build("example.com", rnd, b, sizeof(b), &n) == 0);
  CS_CHECK_EQ_I64(b[0], 22);
  CS_CHECK_EQ_I64(((size_t)b[3] << 8 | b[4]) + 5, n);
  CS_CHECK_EQ_I64(b[5], 1);
  CS_CHECK_EQ_I64(b[9] << 8 | b[10], 0x0303);
  CS_CHECK(contains(b, n, "example.com"));
  CS_REQUIRE(cs_tls_probe_hello_build("127.0.0.1", rnd, b, sizeof(b), &n_ip) == 0);
  CS_CHECK(!contains(b, n_ip, "127.0.0.1"));
  CS_CHECK_EQ_I64(n - n_ip, 9 + 11); /* server_name: 4 header + 5 list framing + name */
  CS_CHECK_EQ_I64(cs_tls_probe_hello_build("example.com", rnd, b, 40, &n), CS_ENOSPACE);
  char longname[300];
  memset(longname, 'a', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  CS_CHECK_EQ_I64(cs_tls_probe_hello_build(longname, rnd, b, sizeof(b), &n), CS_EINVAL);
}

CS_TEST_MAIN(CS_TEST(test_cases), CS_TEST(test_sct_and_certs), CS_TEST(test_hello))
