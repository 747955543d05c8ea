/*
 * The TLS 1.3 probe's pure pieces on inputs built here byte by byte, for
 * what no real server sends: the message parsers' bounds (tables of cases),
 * record opening (padding, inner type, bad tag, sequence numbers), the
 * ClientHello's own bounds, and the CertificateVerify check with a key made
 * by openssl (verified; one transcript bit flipped; wrong curve; an
 * algorithm we do not offer). test_probe_tls13.c runs it all against
 * openssl and gnutls servers.
 */
#include <stdio.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "cs_test.h"
#include "fixture.h"
#include "revocation_fixtures.h"
#include "tls13_internal.h"

typedef struct buf {
  uint8_t b[70000];
  size_t n;
} buf_t;

static void put(buf_t *w, const void *p, size_t n) {
  memcpy(w->b + w->n, p, n);
  w->n += n;
}
static void u8(buf_t *w, unsigned v) { w->b[w->n++] = (uint8_t)v; }
static void u16(buf_t *w, unsigned v) { u8(w, v >> 8); u8(w, v & 0xff); }
static void u24(buf_t *w, unsigned v) { u8(w, v >> 16); u16(w, v & 0xffff); }

/* ---- ServerHello / HelloRetryRequest ---- */

static const uint8_t HRR[32] = {0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
                                0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
                                0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

enum { SH_OK, SH_HRR_COOKIE, SH_SID, SH_NO_SHARE, SH_TLS12, SH_UNSOLICITED, SH_DUP, SH_COOKIE_IN_SH,
       SH_SHORT };

static void build_sh(buf_t *b, int kind) {
  buf_t e = {{0}, 0};
  int hrr = kind == SH_HRR_COOKIE;
  u16(&e, 43);
  u16(&e, 2);
  u16(&e, kind == SH_TLS12 ? 0x0303 : 0x0304);
  if (kind != SH_NO_SHARE) {
    u16(&e, 51);
    if (hrr) {
      u16(&e, 2);
      u16(&e, 0x0017);
    } else {
      u16(&e, 4 + 32);
      u16(&e, 0x001D);
      u16(&e, 32);
      for (int i = 0; i < 32; i++)
        u8(&e, 9);
    }
  }
  if (hrr || kind == SH_COOKIE_IN_SH) {
    u16(&e, 44);
    u16(&e, 2 + 5);
    u16(&e, 5);
    put(&e, "abcde", 5);
  }
  if (kind == SH_UNSOLICITED) {
    u16(&e, 41); /* pre_shared_key: never offered */
    u16(&e, 2);
    u16(&e, 0);
  }
  if (kind == SH_DUP) {
    u16(&e, 43);
    u16(&e, 2);
    u16(&e, 0x0304);
  }
  b->n = 0;
  u16(b, 0x0303);
  if (hrr) {
    put(b, HRR, 32);
  } else {
    for (int i = 0; i < 32; i++)
      u8(b, 0x42);
  }
  u8(b, kind == SH_SID ? 1 : 0);
  if (kind == SH_SID)
    u8(b, 7);
  u16(b, 0x1301);
  u8(b, 0);
  u16(b, (unsigned)e.n);
  put(b, e.b, e.n);
  if (kind == SH_SHORT)
    b->n = 36;
}

static void test_server_hello(void) {
  static const struct {
    int kind, ret, hrr;
    uint16_t group;
  } t[] = {
      {SH_OK, 0, 0, 0x1D},          {SH_HRR_COOKIE, 0, 1, 0x17},   {SH_SID, CS_EPARSE, 0, 0},
      {SH_NO_SHARE, CS_EPARSE, 0, 0}, {SH_TLS12, CS_EPARSE, 0, 0}, {SH_UNSOLICITED, CS_EPARSE, 0, 0},
      {SH_DUP, CS_EPARSE, 0, 0},    {SH_COOKIE_IN_SH, CS_EPARSE, 0, 0},
      {SH_SHORT, CS_ETRUNC, 0, 0},
  };
  static buf_t b;
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    build_sh(&b, t[i].kind);
    cs_tls13_server_hello_t sh;
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    int ret = cs_tls13_server_hello_parse(b.b, b.n, &sh, &eb);
    CS_CHECK_MSG(ret == t[i].ret, "case %zu: %d (%s)", i, ret, eb.msg);
    if (ret != 0)
      continue;
    CS_CHECK_EQ_I64(sh.hrr, t[i].hrr);
    CS_CHECK_EQ_I64(sh.group, t[i].group);
    CS_CHECK_EQ_I64(sh.suite, 0x1301);
    if (t[i].hrr)
      CS_CHECK(sh.cookie_len == 5 && memcmp(sh.cookie, "abcde", 5) == 0);
    else
      CS_CHECK_EQ_I64(sh.share_len, 32);
  }
}

/* ---- EncryptedExtensions ---- */

static void test_encrypted_extensions(void) {
  static const struct {
    const char *name;
    const char *alpn_block; /* ProtocolNameList contents, NULL: no ALPN */
    size_t alpn_len;
    int ret;
    const char *alpn;
  } t[] = {
      {"none", NULL, 0, 0, ""},
      {"h2", "\x02h2", 3, 0, "h2"},
      {"two names", "\x02h2\x08http/1.1", 12, CS_EPARSE, ""},
      {"empty name", "\x00", 1, CS_EPARSE, ""},
      {"40-byte name", "\x28" "0123456789012345678901234567890123456789", 41, 0,
       "0123456789012345678901234567890123456789"},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    static buf_t b;
    buf_t e = {{0}, 0};
    u16(&e, 0); /* server_name ack: ignored */
    u16(&e, 0);
    if (t[i].alpn_block != NULL) {
      u16(&e, 16);
      u16(&e, (unsigned)t[i].alpn_len + 2);
      u16(&e, (unsigned)t[i].alpn_len);
      put(&e, t[i].alpn_block, t[i].alpn_len);
    }
    b.n = 0;
    u16(&b, (unsigned)e.n);
    put(&b, e.b, e.n);
    cs_tls_probe_result_t res;
    memset(&res, 0, sizeof(res));
    CS_CHECK_MSG(cs_tls13_ee_parse(b.b, b.n, &res, NULL) == t[i].ret, "%s", t[i].name);
    CS_CHECK_EQ_STR(res.alpn, t[i].alpn);
    CS_CHECK_EQ_I64(cs_tls13_ee_parse(b.b, b.n - 1, &res, NULL), CS_EPARSE); /* truncated */
  }
}

/* ---- Certificate ---- */

enum { C_OK, C_CONTEXT, C_EMPTY, C_65, C_64, C_EXT_OVERRUN, C_BAD_STATUS, C_BAD_SCT, C_DUP_EXT };

static void build_cert(buf_t *b, int kind) {
  static buf_t l;
  l.n = 0;
  size_t n = kind == C_65 ? 65 : kind == C_64 ? 64 : kind == C_EMPTY ? 0 : 2;
  for (size_t i = 0; i < n; i++) {
    u24(&l, 3);
    put(&l, i == 0 ? "LEF" : "INT", 3);
    buf_t e = {{0}, 0};
    /* status_request: ocsp(1), OCSPResponse "RESP" (on every entry: only the leaf's counts) */
    u16(&e, 5);
    u16(&e, 4 + 4);
    u8(&e, kind == C_BAD_STATUS ? 2 : 1);
    u24(&e, 4);
    put(&e, i == 0 ? "RESP" : "resp", 4);
    u16(&e, 18);
    u16(&e, 2 + 3);
    u16(&e, kind == C_BAD_SCT ? 4 : 3);
    put(&e, i == 0 ? "SCT" : "sct", 3);
    if (kind == C_DUP_EXT) {
      u16(&e, 18);
      u16(&e, 2);
      u16(&e, 0);
    }
    u16(&l, (unsigned)e.n + (kind == C_EXT_OVERRUN ? 100 : 0));
    put(&l, e.b, e.n);
  }
  b->n = 0;
  u8(b, kind == C_CONTEXT ? 1 : 0);
  if (kind == C_CONTEXT)
    u8(b, 9);
  u24(b, (unsigned)l.n);
  put(b, l.b, l.n);
}

static void test_certificate(void) {
  static const struct {
    int kind, ret;
    size_t ncerts;
  } t[] = {
      {C_OK, 0, 2},          {C_CONTEXT, CS_EPARSE, 0},  {C_EMPTY, CS_EPARSE, 0},
      {C_65, CS_ETOOBIG, 0}, {C_64, 0, 64},              {C_EXT_OVERRUN, CS_EPARSE, 0},
      {C_BAD_STATUS, CS_EPARSE, 0}, {C_BAD_SCT, CS_EPARSE, 0}, {C_DUP_EXT, CS_EPARSE, 0},
  };
  static buf_t b;
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    build_cert(&b, t[i].kind);
    cs_tls_probe_result_t res;
    memset(&res, 0, sizeof(res));
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    int ret = cs_tls13_certificate_parse(b.b, b.n, &res, &eb);
    CS_CHECK_MSG(ret == t[i].ret, "case %zu: %d (%s)", i, ret, eb.msg);
    if (ret != 0)
      continue;
    CS_CHECK_EQ_I64(res.ncerts, t[i].ncerts);
    CS_CHECK(res.cert_lens[0] == 3 && memcmp(res.certs[0], "LEF", 3) == 0);
    CS_CHECK(res.ocsp_len == 4 && memcmp(res.ocsp, "RESP", 4) == 0); /* the leaf's */
    CS_CHECK(res.sct_list_len == 5 && memcmp(res.sct_list + 2, "SCT", 3) == 0);
    CS_CHECK(res.status_request_acked && res.sct_ext_present);
  }
}

static void test_cert_verify_parse(void) {
  const uint8_t ok[] = {0x04, 0x03, 0x00, 0x02, 0xAA, 0xBB};
  const uint8_t empty[] = {0x04, 0x03, 0x00, 0x00};
  const uint8_t overrun[] = {0x04, 0x03, 0x00, 0x03, 0xAA, 0xBB};
  uint16_t alg = 0;
  const uint8_t *sig = NULL;
  size_t sl = 0;
  CS_CHECK_EQ_I64(cs_tls13_cert_verify_parse(ok, sizeof(ok), &alg, &sig, &sl, NULL), 0);
  CS_CHECK(alg == 0x0403 && sl == 2 && sig == ok + 4);
  CS_CHECK_EQ_I64(cs_tls13_cert_verify_parse(empty, sizeof(empty), &alg, &sig, &sl, NULL), CS_EPARSE);
  CS_CHECK_EQ_I64(cs_tls13_cert_verify_parse(overrun, sizeof(overrun), &alg, &sig, &sl, NULL),
                  CS_EPARSE);
  CS_CHECK_EQ_I64(cs_tls13_cert_verify_parse(ok, 3, &alg, &sig, &sl, NULL), CS_EPARSE);
}

/* ---- record opening ---- */

static void seal(const cs_tls13_suite_t *s, const uint8_t *secret, uint64_t seq,
                 const uint8_t *plain, size_t n, buf_t *rec) {
  uint8_t key[32], iv[12], nonce[12];
  CS_CHECK_EQ_I64(cs_tls13_expand_label(s, secret, "key", NULL, 0, key, s->key_len), 0);
  CS_CHECK_EQ_I64(cs_tls13_expand_label(s, secret, "iv", NULL, 0, iv, 12), 0);
  memcpy(nonce, iv, 12);
  for (int i = 0; i < 8; i++)
    nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
  rec->n = 0;
  u8(rec, 23);
  u16(rec, 0x0303);
  u16(rec, (unsigned)n + 16);
  mbedtls_gcm_context g;
  mbedtls_gcm_init(&g);
  CS_CHECK_EQ_I64(mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, (unsigned)s->key_len * 8), 0);
  CS_CHECK_EQ_I64(mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, n, nonce, 12, rec->b, 5,
                                            plain, rec->b + 5, 16, rec->b + 5 + n),
                  0);
  rec->n = 5 + n + 16;
  mbedtls_gcm_free(&g);
}

static void test_record_open(void) {
  const cs_tls13_suite_t *s = cs_tls13_suite_find(0x1301);
  CS_REQUIRE(s != NULL && cs_tls13_suite_find(0x1304) == NULL);
  uint8_t secret[32];
  memset(secret, 0x5A, sizeof(secret));
  cs_tls13_rx_t rx;
  cs_tls13_rx_init(&rx);
  static buf_t rec;
  static uint8_t out[CS_TLS13_REC_MAX];
  size_t n;
  uint8_t type;
  CS_CHECK_EQ_I64(cs_tls13_rx_open(&rx, rec.b, rec.b, 20, out, &n, &type, NULL), CS_ESTATE);
  CS_REQUIRE(cs_tls13_rx_key(&rx, s, secret) == 0);
  /* seq 0: "hello" + handshake type + 3 bytes of padding */
  seal(s, secret, 0, (const uint8_t *)"hello\x16\0\0\0", 9, &rec);
  CS_CHECK_EQ_I64(cs_tls13_rx_open(&rx, rec.b, rec.b + 5, rec.n - 5, out, &n, &type, NULL), 0);
  CS_CHECK(n == 5 && memcmp(out, "hello", 5) == 0 && type == 22);
  /* seq 1: an alert; replaying seq 0's record now fails (nonce moved on) */
  CS_CHECK_EQ_I64(cs_tls13_rx_open(&rx, rec.b, rec.b + 5, rec.n - 5, out, &n, &type, NULL),
                  CS_ECRYPTO);
  cs_tls13_rx_free(&rx);
  cs_tls13_rx_init(&rx);
  CS_REQUIRE(cs_tls13_rx_key(&rx, s, secret) == 0);
  CS_CHECK_EQ_I64(cs_tls13_rx_open(&rx, rec.b, rec.b + 5, rec.n - 5, out, &n, &type, NULL), 0);
  seal(s, secret, 1, (const uint8_t *)"\x02\x28\x15", 3, &rec);
  rec.b[7] ^= 1; /* tampered ciphertext */
  CS_CHECK_EQ_I64(cs_tls13_rx_open(&rx, rec.b, rec.b + 5, rec.n - 5, out, &n, &type, NULL),
                  CS_ECRYPTO);
  rec.b[7] ^= 1;
  CS_CHECK_EQ_I64(cs_tls13_rx_open(&rx, rec.b, rec.b + 5, rec.n - 5, out, &n, &type, NULL), 0);
  CS_CHECK(n == 2 && type == 21);
  /* seq 2: only padding, no content type */
  seal(s, secret, 2, (const uint8_t *)"\0\0\0\0", 4, &rec);
  CS_CHECK_EQ_I64(cs_tls13_rx_open(&rx, rec.b, rec.b + 5, rec.n - 5, out, &n, &type, NULL),
                  CS_EPARSE);
  /* bounds: shorter than a tag, longer than 2^14 + 256 */
  CS_CHECK_EQ_I64(cs_tls13_rx_open(&rx, rec.b, rec.b + 5, 16, out, &n, &type, NULL), CS_EPARSE);
  CS_CHECK_EQ_I64(cs_tls13_rx_open(&rx, rec.b, rec.b, CS_TLS13_REC_MAX + 1, out, &n, &type, NULL),
                  CS_EPARSE);
  cs_tls13_rx_free(&rx);
  cs_tls13_rx_free(&rx); /* safe twice */
}

/* ---- ClientHello bounds and ECDHE ---- */

static int counter_rng(void *p, unsigned char *out, size_t len) {
  uint32_t *c = p;
  for (size_t i = 0; i < len; i++)
    out[i] = (uint8_t)((*c)++ * 131u);
  return 0;
}

static void test_hello_and_shares(void) {
  uint32_t ctr = 1;
  uint8_t pub[CS_TLS13_SHARE_MAX], rnd[32] = {0};
  size_t pl = 0, n = 0;
  cs_tls13_share_t a, b;
  cs_tls13_share_init(&a);
  cs_tls13_share_init(&b);
  const uint16_t groups[] = {CS_TLS13_GROUP_X25519, CS_TLS13_GROUP_P256, CS_TLS13_GROUP_P384};
  for (size_t i = 0; i < 3; i++) {
    uint8_t pub2[CS_TLS13_SHARE_MAX], z1[48], z2[48];
    size_t pl2, n1, n2;
    CS_REQUIRE(cs_tls13_share_generate(&a, groups[i], counter_rng, &ctr, pub, sizeof(pub), &pl) == 0);
    CS_REQUIRE(cs_tls13_share_generate(&b, groups[i], counter_rng, &ctr, pub2, sizeof(pub2), &pl2) == 0);
    CS_CHECK(cs_tls13_group_offered(groups[i]));
    CS_CHECK_EQ_I64(cs_tls13_share_compute(&a, pub2, pl2, counter_rng, &ctr, z1, &n1), 0);
    CS_CHECK_EQ_I64(cs_tls13_share_compute(&b, pub, pl, counter_rng, &ctr, z2, &n2), 0);
    CS_CHECK(n1 == n2 && memcmp(z1, z2, n1) == 0); /* both sides agree */
    pub2[pl2 - 1] ^= 0xFF;
    if (groups[i] != CS_TLS13_GROUP_X25519) /* not on the curve any more */
      CS_CHECK_EQ_I64(cs_tls13_share_compute(&a, pub2, pl2, counter_rng, &ctr, z1, &n1), CS_EPARSE);
    CS_CHECK_EQ_I64(cs_tls13_share_compute(&a, pub2, pl2 - 1, counter_rng, &ctr, z1, &n1),
                    CS_EPARSE);
  }
  /* X25519: the all-zero point gives an all-zero secret: refused (RFC 8446 §7.4.2). */
  uint8_t zero[32] = {0}, z[48];
  size_t zn;
  CS_REQUIRE(cs_tls13_share_generate(&a, CS_TLS13_GROUP_X25519, counter_rng, &ctr, pub, sizeof(pub), &pl) == 0);
  CS_CHECK(cs_tls13_share_compute(&a, zero, 32, counter_rng, &ctr, z, &zn) != 0);
  CS_CHECK_EQ_I64(cs_tls13_share_generate(&a, 0x0019, counter_rng, &ctr, pub, sizeof(pub), &pl),
                  CS_EUNSUPPORTED);
  CS_CHECK(!cs_tls13_group_offered(0x0019));
  cs_tls13_share_free(&a);
  cs_tls13_share_free(&b);
  cs_tls13_share_free(&b);
  static uint8_t hb[4096];
  cs_tls13_hello_params_t hp = {"example.com", rnd, 0x1D, pub, 32, NULL, 0};
  CS_CHECK_EQ_I64(cs_tls13_hello_build(&hp, hb, sizeof(hb), &n), 0);
  CS_CHECK(n > 200 && hb[0] == 1);
  CS_CHECK_EQ_I64(cs_tls13_hello_build(&hp, hb, 100, &n), CS_ENOSPACE);
  char longname[300];
  memset(longname, 'a', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  hp.sni = longname;
  CS_CHECK_EQ_I64(cs_tls13_hello_build(&hp, hb, sizeof(hb), &n), CS_EINVAL);
  hp.sni = NULL;
  hp.cookie = rnd;
  hp.cookie_len = CS_TLS13_COOKIE_MAX + 1;
  CS_CHECK_EQ_I64(cs_tls13_hello_build(&hp, hb, sizeof(hb), &n), CS_EINVAL);
  /* The client-mode parser: its first output is a record holding a ClientHello. */
  cs_tls_probe_parser_t *p = NULL;
  CS_CHECK_EQ_I64(cs_tls_probe_client_new("example.com", NULL, NULL, &p, NULL), CS_EINVAL);
  CS_REQUIRE(cs_tls_probe_client_new("example.com", counter_rng, &ctr, &p, NULL) == 0);
  const uint8_t *o;
  size_t ol;
  cs_tls_probe_parser_take_output(p, &o, &ol);
  CS_CHECK(ol > 5 && o[0] == 22 && o[5] == 1 && (size_t)(o[3] << 8 | o[4]) == ol - 5);
  cs_tls_probe_parser_take_output(p, &o, &ol);
  CS_CHECK_EQ_I64(ol, 0); /* taken */
  cs_tls_probe_parser_free(p);
}

/* ---- CertificateVerify with a key made by openssl ---- */

static void test_cert_verify_check(void) {
  char dir[256];
  CS_REQUIRE(cs_fx_tempdir(dir, sizeof(dir)) == 0);
  CS_REQUIRE(rv_sh(dir, "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                        "-keyout k.pem -out c.pem -subj /CN=cv.test -days 1 && "
                        "openssl x509 -in c.pem -outform DER -out c.der") == 0);
  uint8_t *der = NULL;
  size_t der_len = 0;
  CS_REQUIRE(rv_read(dir, "c.der", &der, &der_len) == 0);
  mbedtls_pk_context key;
  mbedtls_pk_init(&key);
  mbedtls_entropy_context ent;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_entropy_init(&ent);
  mbedtls_ctr_drbg_init(&drbg);
  char kp[300];
  snprintf(kp, sizeof(kp), "%s/k.pem", dir);
  int ok = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent, NULL, 0) == 0 &&
           mbedtls_pk_parse_keyfile(&key, kp, NULL) == 0;
  CS_CHECK(ok);
  /* The content signed: 64 spaces, context string, 0, transcript hash. */
  uint8_t th[32], content[64 + 34 + 32], digest[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
  size_t sl = 0;
  memset(th, 0x33, sizeof(th));
  memset(content, 0x20, 64);
  memcpy(content + 64, "TLS 1.3, server CertificateVerify", 34);
  memcpy(content + 98, th, 32);
  ok = ok && mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), content, sizeof(content),
                        digest) == 0 &&
       mbedtls_pk_sign(&key, MBEDTLS_MD_SHA256, digest, 32, sig, &sl, mbedtls_ctr_drbg_random,
                       &drbg) == 0;
  CS_CHECK(ok);
  char d[128];
  if (ok) {
    CS_CHECK_EQ_I64(cs_tls13_cert_verify_check(der, der_len, 0x0403, th, 32, sig, sl, d, sizeof(d)),
                    CS_TLS_PROBE_CV_VERIFIED);
    th[7] ^= 0x01; /* another transcript: the signature proves nothing about it */
    CS_CHECK_EQ_I64(cs_tls13_cert_verify_check(der, der_len, 0x0403, th, 32, sig, sl, d, sizeof(d)),
                    CS_TLS_PROBE_CV_BAD_SIGNATURE);
    th[7] ^= 0x01;
    /* The P-256 key under the P-384 scheme: TLS 1.3 binds the curve. */
    CS_CHECK_EQ_I64(cs_tls13_cert_verify_check(der, der_len, 0x0503, th, 32, sig, sl, d, sizeof(d)),
                    CS_TLS_PROBE_CV_BAD_SIGNATURE);
    /* RSA-PSS with an EC key; Ed25519 (not offered, mbedTLS 2.28 has none). */
    CS_CHECK_EQ_I64(cs_tls13_cert_verify_check(der, der_len, 0x0804, th, 32, sig, sl, d, sizeof(d)),
                    CS_TLS_PROBE_CV_BAD_SIGNATURE);
    CS_CHECK_EQ_I64(cs_tls13_cert_verify_check(der, der_len, 0x0807, th, 32, sig, sl, d, sizeof(d)),
                    CS_TLS_PROBE_CV_UNSUPPORTED);
    CS_CHECK(strstr(d, "0x0807") != NULL);
    CS_CHECK_EQ_I64(cs_tls13_cert_verify_check(der, der_len - 1, 0x0403, th, 32, sig, sl, d,
                                               sizeof(d)),
                    CS_TLS_PROBE_CV_UNSUPPORTED);
  }
  mbedtls_pk_free(&key);
  mbedtls_ctr_drbg_free(&drbg);
  mbedtls_entropy_free(&ent);
  free(der);
  cs_fx_rmdir(dir);
}

int main(int argc, char **argv) {
  static const cs_test_case_t cases[] = {
      CS_TEST(test_server_hello),     CS_TEST(test_encrypted_extensions),
      CS_TEST(test_certificate),      CS_TEST(test_cert_verify_parse),
      CS_TEST(test_record_open),      CS_TEST(test_hello_and_shares),
      CS_TEST(test_cert_verify_check),
  };
  return cs_test_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
