/* Our TLS 1.2 record layer (certskew/net/tls_records.h) against mbedTLS as
 * the independent implementation: a client and a server context handshake
 * in memory, exchange data with mbedTLS, then one side is handed over and
 * data must flow both ways between our layer and the still-mbedTLS peer,
 * for each AEAD suite and both roles: 1 byte, 16384 bytes, 1 MB, input
 * fed 1 byte at a time and in odd splits; a flipped bit is an error with no
 * plaintext; a truncated record waits; close_notify both ways; a fatal
 * alert is named; a HelloRequest is declined and the connection goes on; a
 * renegotiating ClientHello is fatal; an oversized record is refused; a
 * partial record mbedTLS had already pulled is carried over; sequence
 * numbers are taken over and never wrap; a CBC suite is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ssl.h>

#include "certskew/net/rng.h"
#include "certskew/net/tls_bio.h"
#include "certskew/net/tls_records.h"
#include "certskew/proxy/ca.h"
#include "cs_test.h"

static const int SUITES[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                             MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                             MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256};
#define CBC_SUITE MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256

typedef struct pair {
  char dir[64];
  cs_ca_t *ca;
  cs_mint_t *mint;
  cs_leaf_t *leaf;
  cs_rng_t rng;
  int suites[2];
  mbedtls_ssl_config sconf, cconf;
  mbedtls_ssl_context ssl[2]; /* [0] client, [1] server */
  cs_tls_bio_t bio[2];        /* each context's own BIO */
  cs_tls_keys_t keys[2];
} pair_t;

static void shuttle(cs_tls_bio_t *from, cs_tls_bio_t *to) {
  size_t len = 0;
  uint8_t *p = cs_tls_bio_take(from, &len);
  if (p != NULL && cs_tls_bio_push(to, p, len) != 0)
    abort();
  free(p);
}

static void pair_close(pair_t *p) {
  for (int i = 0; i < 2; i++) {
    mbedtls_ssl_free(&p->ssl[i]);
    cs_tls_bio_free(&p->bio[i]);
    cs_tls_keys_wipe(&p->keys[i]);
  }
  mbedtls_ssl_config_free(&p->sconf);
  mbedtls_ssl_config_free(&p->cconf);
  cs_leaf_release(p->leaf);
  cs_mint_free(p->mint);
  cs_ca_free(p->ca);
  cs_rng_free(&p->rng);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
  if (system(cmd) != 0)
    fprintf(stderr, "cleanup failed\n");
}

/* Both contexts handshake with suite and exchange one message each way
 * with mbedTLS (so sequence numbers are not 0 at the handover). */
static int pair_open(pair_t *p, int suite, int renegotiation) {
  memset(p, 0, sizeof *p);
  snprintf(p->dir, sizeof p->dir, "/tmp/cs_rec_XXXXXX");
  if (mkdtemp(p->dir) == NULL)
    return -1;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  int64_t now = (int64_t)time(NULL) * 1000; /* mbedTLS checks dates with the real clock */
  mbedtls_ssl_config_init(&p->sconf);
  mbedtls_ssl_config_init(&p->cconf);
  for (int i = 0; i < 2; i++) {
    mbedtls_ssl_init(&p->ssl[i]);
    cs_tls_bio_init(&p->bio[i]);
  }
  if (cs_rng_init(&p->rng, "test") != 0 || cs_ca_open(&p->ca, p->dir, 1, now, &eb) != 0 ||
      cs_mint_new(&p->mint, p->ca, 4, &eb) != 0 ||
      cs_mint_get(p->mint, "127.0.0.1", now, &p->leaf, &eb) != 0)
    return -1;
  p->suites[0] = suite;
  if (mbedtls_ssl_config_defaults(&p->sconf, MBEDTLS_SSL_IS_SERVER, 0, 0) != 0 ||
      mbedtls_ssl_conf_own_cert(&p->sconf, cs_leaf_chain(p->leaf), cs_mint_key(p->mint)) != 0 ||
      mbedtls_ssl_config_defaults(&p->cconf, MBEDTLS_SSL_IS_CLIENT, 0, 0) != 0)
    return -1;
  mbedtls_ssl_config *confs[2] = {&p->cconf, &p->sconf};
  for (int i = 0; i < 2; i++) {
    mbedtls_ssl_conf_rng(confs[i], cs_rng_fill, &p->rng);
    mbedtls_ssl_conf_ciphersuites(confs[i], p->suites);
    mbedtls_ssl_conf_min_version(confs[i], 3, 3);
    mbedtls_ssl_conf_max_version(confs[i], 3, 3);
    mbedtls_ssl_conf_export_keys_ext_cb(confs[i], cs_tls_keys_export, &p->keys[i]);
    mbedtls_ssl_conf_renegotiation(confs[i], renegotiation);
    if (mbedtls_ssl_setup(&p->ssl[i], confs[i]) != 0)
      return -1;
    mbedtls_ssl_set_bio(&p->ssl[i], &p->bio[i], cs_tls_bio_send, cs_tls_bio_recv, NULL);
  }
  mbedtls_ssl_conf_authmode(&p->cconf, MBEDTLS_SSL_VERIFY_NONE);
  for (int round = 0; round < 20; round++) {
    int rc = mbedtls_ssl_handshake(&p->ssl[0]);
    int rs = mbedtls_ssl_handshake(&p->ssl[1]);
    shuttle(&p->bio[0], &p->bio[1]);
    shuttle(&p->bio[1], &p->bio[0]);
    if (rc == 0 && rs == 0)
      break;
    if ((rc != 0 && rc != MBEDTLS_ERR_SSL_WANT_READ) || (rs != 0 && rs != MBEDTLS_ERR_SSL_WANT_READ))
      return -1;
  }
  for (int i = 0; i < 2; i++) {
    unsigned char b[16];
    if (mbedtls_ssl_write(&p->ssl[i], (const unsigned char *)"warm", 4) != 4)
      return -1;
    shuttle(&p->bio[i], &p->bio[1 - i]);
    if (mbedtls_ssl_read(&p->ssl[1 - i], b, sizeof b) != 4 || memcmp(b, "warm", 4) != 0)
      return -1;
  }
  return 0;
}

/* Hands side's context over to a new record layer, the way the proxy does:
 * after a read that wanted more. A partial raw record is carried into
 * *carry (malloc'ed, may be NULL). */
static cs_tls_records_t *take(pair_t *p, int side, uint8_t **carry, size_t *carry_len) {
  unsigned char b[16];
  if (mbedtls_ssl_read(&p->ssl[side], b, sizeof b) != MBEDTLS_ERR_SSL_WANT_READ)
    return NULL;
  if (!cs_tls_records_ready(&p->ssl[side], &p->keys[side]))
    return NULL;
  cs_tls_records_t *r = NULL;
  if (cs_tls_records_new(&r, &p->ssl[side], &p->keys[side]) != 0)
    return NULL;
  if (carry != NULL) {
    size_t rest = 0;
    const uint8_t *in = cs_tls_bio_in_data(&p->bio[side], &rest);
    *carry_len = p->ssl[side].in_left + rest;
    *carry = malloc(*carry_len + 1);
    memcpy(*carry, p->ssl[side].in_hdr, p->ssl[side].in_left);
    if (rest > 0)
      memcpy(*carry + p->ssl[side].in_left, in, rest);
  }
  return r;
}

/* A reader as the proxy runs one: wire fed chunk bytes at a time into a
 * buffer, every whole record opened in place. Plaintext appended to out. */
typedef struct reader {
  uint8_t *buf;
  size_t off, len, cap;
  uint8_t *out;
  size_t out_len;
  int eof;
  int rc;
} reader_t;

static void reader_feed(reader_t *rd, cs_tls_records_t *r, const uint8_t *wire, size_t n,
                        size_t chunk, cs_tls_bio_t *reply) {
  for (size_t i = 0, k = 0; i < n && rd->rc == 0; i += k) {
    k = n - i < chunk ? n - i : chunk;
    if (rd->len + k > rd->cap) {
      rd->cap = (rd->len + k) * 2;
      rd->buf = realloc(rd->buf, rd->cap);
    }
    memcpy(rd->buf + rd->len, wire + i, k);
    rd->len += k;
    for (;;) {
      cs_tls_opened_t o;
      rd->rc = cs_tls_records_open(r, rd->buf + rd->off, rd->len - rd->off, &o, reply);
      if (rd->rc != 0) {
        if (o.data != NULL || o.len != 0)
          rd->rc = -999; /* plaintext released with an error */
        break;
      }
      if (o.used == 0)
        break;
      rd->off += o.used;
      if (o.len > 0) {
        rd->out = realloc(rd->out, rd->out_len + o.len);
        memcpy(rd->out + rd->out_len, o.data, o.len);
        rd->out_len += o.len;
      }
      rd->eof |= o.eof;
    }
    if (rd->off == rd->len)
      rd->off = rd->len = 0;
  }
}

static void reader_free(reader_t *rd) {
  free(rd->buf);
  free(rd->out);
  memset(rd, 0, sizeof *rd);
}

static uint8_t *pattern(size_t n, unsigned seed) {
  uint8_t *d = malloc(n + 1);
  for (size_t i = 0; i < n; i++)
    d[i] = (uint8_t)(i * 31 + seed + (i >> 8));
  return d;
}

/* mbedTLS peer writes n bytes; returns the wire bytes (malloc'ed). */
static uint8_t *peer_write(pair_t *p, int peer, const uint8_t *d, size_t n, size_t *wire_len) {
  size_t done = 0;
  while (done < n) {
    int w = mbedtls_ssl_write(&p->ssl[peer], d + done, n - done);
    if (w <= 0)
      return NULL;
    done += (size_t)w;
  }
  uint8_t *wire = cs_tls_bio_take(&p->bio[peer], wire_len);
  return wire;
}

/* mbedTLS peer reads everything available into out (n max); returns the
 * count or a negative mbedTLS error. */
static long peer_read(pair_t *p, int peer, uint8_t *out, size_t n) {
  size_t got = 0;
  for (;;) {
    int r = mbedtls_ssl_read(&p->ssl[peer], out + got, n - got);
    if (r > 0) {
      got += (size_t)r;
      if (got == n)
        return (long)got;
      continue;
    }
    if (r == MBEDTLS_ERR_SSL_WANT_READ)
      return (long)got;
    return r;
  }
}

/* Data both ways for one suite, our layer on side ours. */
static void check_suite(int suite, int ours) {
  pair_t p;
  CS_REQUIRE(pair_open(&p, suite, MBEDTLS_SSL_RENEGOTIATION_DISABLED) == 0);
  int peer = 1 - ours;
  cs_tls_records_t *r = take(&p, ours, NULL, NULL);
  CS_REQUIRE(r != NULL);
  CS_CHECK(strstr(cs_tls_records_suite(r), "ECDSA") != NULL);
  static const size_t sizes[] = {1, 16384, 1u << 20};
  static const size_t chunks[] = {1, 7, 1000, 16389, SIZE_MAX};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    /* ours -> mbedTLS */
    uint8_t *d = pattern(sizes[s], (unsigned)s);
    cs_tls_bio_t out;
    cs_tls_bio_init(&out);
    CS_CHECK_EQ_I64(cs_tls_records_seal(r, d, sizes[s], &out), 0);
    shuttle(&out, &p.bio[peer]);
    uint8_t *got = malloc(sizes[s] + 1);
    CS_CHECK_EQ_I64(peer_read(&p, peer, got, sizes[s]), (long)sizes[s]);
    CS_CHECK(memcmp(got, d, sizes[s]) == 0);
    /* mbedTLS -> ours, in every split (1-byte feeding only up to 16 KB:
     * a 1 MB stream one byte at a time adds nothing but time). */
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
      if (chunks[c] == 1 && sizes[s] > 16384)
        continue;
      size_t wl = 0;
      uint8_t *wire = peer_write(&p, peer, d, sizes[s], &wl);
      CS_REQUIRE(wire != NULL);
      reader_t rd = {0};
      reader_feed(&rd, r, wire, wl, chunks[c], &out);
      CS_CHECK_EQ_I64(rd.rc, 0);
      CS_CHECK_EQ_I64(rd.out_len, sizes[s]);
      CS_CHECK(rd.out_len == sizes[s] && memcmp(rd.out, d, sizes[s]) == 0);
      CS_CHECK_EQ_I64(rd.len - rd.off, 0);
      reader_free(&rd);
      free(wire);
    }
    free(got);
    free(d);
    cs_tls_bio_free(&out);
  }
  /* close_notify both ways. */
  cs_tls_bio_t out;
  cs_tls_bio_init(&out);
  CS_CHECK_EQ_I64(cs_tls_records_seal_alert(r, 1, 0, &out), 0);
  shuttle(&out, &p.bio[peer]);
  uint8_t b[8];
  CS_CHECK_EQ_I64(peer_read(&p, peer, b, sizeof b), MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY);
  CS_CHECK_EQ_I64(mbedtls_ssl_close_notify(&p.ssl[peer]), 0);
  size_t wl = 0;
  uint8_t *wire = cs_tls_bio_take(&p.bio[peer], &wl);
  reader_t rd = {0};
  reader_feed(&rd, r, wire, wl, SIZE_MAX, &out);
  CS_CHECK_EQ_I64(rd.rc, 0);
  CS_CHECK(rd.eof);
  reader_free(&rd);
  free(wire);
  cs_tls_bio_free(&out);
  cs_tls_records_free(r);
  pair_close(&p);
}

static void test_aead_suites_both_roles(void) {
  for (size_t i = 0; i < sizeof SUITES / sizeof SUITES[0]; i++)
    for (int ours = 0; ours < 2; ours++)
      check_suite(SUITES[i], ours);
}

/* A flipped bit in the second record: the first is released, the second
 * is an error with no plaintext, bad_record_mac goes to the peer. */
static void test_flipped_bit(void) {
  for (size_t i = 0; i < sizeof SUITES / sizeof SUITES[0]; i++) {
    pair_t p;
    CS_REQUIRE(pair_open(&p, SUITES[i], MBEDTLS_SSL_RENEGOTIATION_DISABLED) == 0);
    cs_tls_records_t *r = take(&p, 1, NULL, NULL);
    CS_REQUIRE(r != NULL);
    uint8_t *d = pattern(20000, 3); /* two records: 16384 + 3616 */
    size_t wl = 0;
    uint8_t *wire = peer_write(&p, 0, d, 20000, &wl);
    CS_REQUIRE(wire != NULL && wl > 16384 + 40);
    wire[wl - 20] ^= 0x04;
    cs_tls_bio_t reply;
    cs_tls_bio_init(&reply);
    reader_t rd = {0};
    reader_feed(&rd, r, wire, wl, SIZE_MAX, &reply);
    CS_CHECK_EQ_I64(rd.rc, CS_ECRYPTO);
    CS_CHECK_EQ_I64(rd.out_len, 16384);
    CS_CHECK(strstr(cs_tls_records_error(r), "authentication") != NULL);
    /* The layer is dead afterwards. */
    CS_CHECK_EQ_I64(cs_tls_records_seal(r, d, 1, &reply), CS_ESTATE);
    shuttle(&reply, &p.bio[0]);
    uint8_t b[8];
    CS_CHECK_EQ_I64(peer_read(&p, 0, b, sizeof b), MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE);
    CS_CHECK_EQ_I64(p.ssl[0].in_msg[1], MBEDTLS_SSL_ALERT_MSG_BAD_RECORD_MAC);
    reader_free(&rd);
    cs_tls_bio_free(&reply);
    free(wire);
    free(d);
    cs_tls_records_free(r);
    pair_close(&p);
  }
}

/* Truncated: everything but the last byte waits; the last byte completes. */
static void test_truncated_waits(void) {
  pair_t p;
  CS_REQUIRE(pair_open(&p, SUITES[0], MBEDTLS_SSL_RENEGOTIATION_DISABLED) == 0);
  cs_tls_records_t *r = take(&p, 0, NULL, NULL);
  CS_REQUIRE(r != NULL);
  size_t wl = 0;
  uint8_t *wire = peer_write(&p, 1, (const uint8_t *)"abcdef", 6, &wl);
  CS_REQUIRE(wire != NULL);
  cs_tls_opened_t o;
  for (size_t n = 0; n < wl; n++) {
    CS_CHECK_EQ_I64(cs_tls_records_open(r, wire, n, &o, NULL), 0);
    CS_CHECK_EQ_I64(o.used, 0);
  }
  CS_CHECK_EQ_I64(cs_tls_records_open(r, wire, wl, &o, NULL), 0);
  CS_CHECK_EQ_I64(o.used, wl);
  CS_CHECK(o.len == 6 && memcmp(o.data, "abcdef", 6) == 0);
  free(wire);
  cs_tls_records_free(r);
  pair_close(&p);
}

/* A record mbedTLS had partly pulled before the handover is carried over
 * (in_hdr, in_left) and opened by our layer. */
static void test_partial_record_carried(void) {
  pair_t p;
  CS_REQUIRE(pair_open(&p, SUITES[2], MBEDTLS_SSL_RENEGOTIATION_DISABLED) == 0);
  size_t wl = 0;
  uint8_t *wire = peer_write(&p, 1, (const uint8_t *)"carried over", 12, &wl);
  CS_REQUIRE(wire != NULL);
  /* 3 bytes (inside the header), then 10 (inside the body). */
  static const size_t firsts[] = {3, 10};
  for (int t = 0; t < 2; t++) {
    if (t == 1) {
      pair_close(&p);
      free(wire);
      CS_REQUIRE(pair_open(&p, SUITES[2], MBEDTLS_SSL_RENEGOTIATION_DISABLED) == 0);
      wire = peer_write(&p, 1, (const uint8_t *)"carried over", 12, &wl);
      CS_REQUIRE(wire != NULL);
    }
    CS_CHECK_EQ_I64(cs_tls_bio_push(&p.bio[0], wire, firsts[t]), 0);
    uint8_t *carry = NULL;
    size_t carry_len = 0;
    cs_tls_records_t *r = take(&p, 0, &carry, &carry_len);
    CS_REQUIRE(r != NULL);
    CS_CHECK_EQ_I64(carry_len, firsts[t]);
    CS_CHECK_EQ_I64(p.ssl[0].in_left, firsts[t]);
    reader_t rd = {0};
    reader_feed(&rd, r, carry, carry_len, SIZE_MAX, NULL);
    reader_feed(&rd, r, wire + firsts[t], wl - firsts[t], SIZE_MAX, NULL);
    CS_CHECK_EQ_I64(rd.rc, 0);
    CS_CHECK(rd.out_len == 12 && memcmp(rd.out, "carried over", 12) == 0);
    reader_free(&rd);
    free(carry);
    cs_tls_records_free(r);
  }
  free(wire);
  pair_close(&p);
}

/* A fatal alert from the peer is an error that names it. */
static void test_fatal_alert_named(void) {
  pair_t p;
  CS_REQUIRE(pair_open(&p, SUITES[1], MBEDTLS_SSL_RENEGOTIATION_DISABLED) == 0);
  cs_tls_records_t *r = take(&p, 1, NULL, NULL);
  CS_REQUIRE(r != NULL);
  CS_CHECK_EQ_I64(mbedtls_ssl_send_alert_message(&p.ssl[0], MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                                 MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE),
                  0);
  size_t wl = 0;
  uint8_t *wire = cs_tls_bio_take(&p.bio[0], &wl);
  reader_t rd = {0};
  reader_feed(&rd, r, wire, wl, SIZE_MAX, NULL);
  CS_CHECK_EQ_I64(rd.rc, CS_EIO);
  CS_CHECK_MSG(strstr(cs_tls_records_error(r), "handshake_failure") != NULL, "%s",
               cs_tls_records_error(r));
  reader_free(&rd);
  free(wire);
  cs_tls_records_free(r);
  pair_close(&p);
}

/* An mbedTLS server asks for renegotiation (HelloRequest): our client
 * declines with a warning no_renegotiation and data goes on both ways. */
static void test_hello_request_declined(void) {
  pair_t p;
  CS_REQUIRE(pair_open(&p, SUITES[0], MBEDTLS_SSL_RENEGOTIATION_ENABLED) == 0);
  cs_tls_records_t *r = take(&p, 0, NULL, NULL);
  CS_REQUIRE(r != NULL);
  int rr = mbedtls_ssl_renegotiate(&p.ssl[1]);
  CS_CHECK(rr == 0 || rr == MBEDTLS_ERR_SSL_WANT_READ);
  size_t wl = 0;
  uint8_t *wire = cs_tls_bio_take(&p.bio[1], &wl);
  CS_REQUIRE(wire != NULL);
  cs_tls_bio_t reply;
  cs_tls_bio_init(&reply);
  reader_t rd = {0};
  reader_feed(&rd, r, wire, wl, SIZE_MAX, &reply);
  CS_CHECK_EQ_I64(rd.rc, 0);
  CS_CHECK_EQ_I64(rd.out_len, 0);
  CS_CHECK_EQ_I64(reply.out_len, 5 + 2 + 8 + 16); /* one sealed alert */
  CS_CHECK_EQ_I64(cs_tls_records_seal(r, (const uint8_t *)"still here", 10, &reply), 0);
  shuttle(&reply, &p.bio[1]);
  uint8_t b[16];
  /* mbedTLS 2.28 answers WANT_READ after skipping a warning alert
   * (ssl_msg.c, "ignoring non-fatal non-closure alert"). */
  CS_CHECK_EQ_I64(peer_read(&p, 1, b, sizeof b), 0);
  CS_CHECK_EQ_I64(peer_read(&p, 1, b, sizeof b), 10);
  CS_CHECK(memcmp(b, "still here", 10) == 0);
  free(wire);
  wire = peer_write(&p, 1, (const uint8_t *)"and back", 8, &wl);
  CS_REQUIRE(wire != NULL);
  reader_feed(&rd, r, wire, wl, SIZE_MAX, &reply);
  CS_CHECK_EQ_I64(rd.rc, 0);
  CS_CHECK(rd.out_len == 8 && memcmp(rd.out, "and back", 8) == 0);
  reader_free(&rd);
  cs_tls_bio_free(&reply);
  free(wire);
  cs_tls_records_free(r);
  pair_close(&p);
}

/* A client renegotiating (ClientHello after the handshake) against our
 * server: fatal unexpected_message, read by mbedTLS as such. */
static void test_client_hello_fatal(void) {
  pair_t p;
  CS_REQUIRE(pair_open(&p, SUITES[2], MBEDTLS_SSL_RENEGOTIATION_ENABLED) == 0);
  cs_tls_records_t *r = take(&p, 1, NULL, NULL);
  CS_REQUIRE(r != NULL);
  (void)mbedtls_ssl_renegotiate(&p.ssl[0]);
  size_t wl = 0;
  uint8_t *wire = cs_tls_bio_take(&p.bio[0], &wl);
  CS_REQUIRE(wire != NULL);
  cs_tls_bio_t reply;
  cs_tls_bio_init(&reply);
  reader_t rd = {0};
  reader_feed(&rd, r, wire, wl, SIZE_MAX, &reply);
  CS_CHECK_EQ_I64(rd.rc, CS_EPARSE);
  CS_CHECK_EQ_I64(rd.out_len, 0);
  shuttle(&reply, &p.bio[0]);
  CS_CHECK_EQ_I64(mbedtls_ssl_renegotiate(&p.ssl[0]), MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE);
  CS_CHECK_EQ_I64(p.ssl[0].in_msg[1], MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE);
  reader_free(&rd);
  cs_tls_bio_free(&reply);
  free(wire);
  cs_tls_records_free(r);
  pair_close(&p);
}

/* Header checks before any decryption: length, type, version. */
static void test_bad_headers(void) {
  static const struct {
    uint8_t hdr[5];
    int rc;
  } cases[] = {
      {{23, 3, 3, 0x41, 0x01}, CS_ETOOBIG}, /* 16384 + 257 */
      {{23, 3, 3, 0xff, 0xff}, CS_ETOOBIG},
      {{24, 3, 3, 0x00, 0x20}, CS_EPARSE},  /* unknown type */
      {{23, 3, 1, 0x00, 0x20}, CS_EPARSE},  /* TLS 1.0 */
      {{23, 3, 3, 0x00, 0x10}, CS_ECRYPTO}, /* shorter than nonce + tag */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pair_t p;
    CS_REQUIRE(pair_open(&p, SUITES[0], MBEDTLS_SSL_RENEGOTIATION_DISABLED) == 0);
    cs_tls_records_t *r = take(&p, 1, NULL, NULL);
    CS_REQUIRE(r != NULL);
    uint8_t rec[5 + 32] = {0};
    memcpy(rec, cases[i].hdr, 5);
    cs_tls_opened_t o;
    CS_CHECK_EQ_I64(cs_tls_records_open(r, rec, sizeof rec, &o, NULL), cases[i].rc);
    CS_CHECK(o.data == NULL && o.len == 0);
    cs_tls_records_free(r);
    pair_close(&p);
  }
}

/* Sequence numbers come from mbedTLS; the last one is never used. */
static void test_sequence_exhausted(void) {
  pair_t p;
  CS_REQUIRE(pair_open(&p, SUITES[2], MBEDTLS_SSL_RENEGOTIATION_DISABLED) == 0);
  unsigned char b[8];
  CS_REQUIRE(mbedtls_ssl_read(&p.ssl[1], b, sizeof b) == MBEDTLS_ERR_SSL_WANT_READ);
  /* Both ends jump to 2^64 - 3 for records from the server. */
  memset(p.ssl[1].cur_out_ctr, 0xff, 8);
  p.ssl[1].cur_out_ctr[7] = 0xfd;
  memset(p.ssl[0].in_ctr, 0xff, 8);
  p.ssl[0].in_ctr[7] = 0xfd;
  cs_tls_records_t *r = take(&p, 1, NULL, NULL);
  CS_REQUIRE(r != NULL);
  cs_tls_bio_t out;
  cs_tls_bio_init(&out);
  CS_CHECK_EQ_I64(cs_tls_records_seal(r, (const uint8_t *)"ab", 2, &out), 0);
  CS_CHECK_EQ_I64(cs_tls_records_seal(r, (const uint8_t *)"cd", 2, &out), 0);
  CS_CHECK_EQ_I64(cs_tls_records_seal(r, (const uint8_t *)"ef", 2, &out), CS_EOVERFLOW);
  shuttle(&out, &p.bio[0]);
  CS_CHECK_EQ_I64(peer_read(&p, 0, b, 4), 4);
  CS_CHECK(memcmp(b, "abcd", 4) == 0);
  cs_tls_bio_free(&out);
  cs_tls_records_free(r);
  pair_close(&p);
}

/* A CBC suite stays on mbedTLS: no AEAD key block, not ready. */
static void test_cbc_refused(void) {
  pair_t p;
  CS_REQUIRE(pair_open(&p, CBC_SUITE, MBEDTLS_SSL_RENEGOTIATION_DISABLED) == 0);
  unsigned char b[8];
  CS_CHECK_EQ_I64(mbedtls_ssl_read(&p.ssl[1], b, sizeof b), MBEDTLS_ERR_SSL_WANT_READ);
  CS_CHECK_EQ_I64(p.keys[1].ready, 0);
  CS_CHECK_EQ_I64(cs_tls_records_ready(&p.ssl[1], &p.keys[1]), 0);
  cs_tls_records_t *r = (cs_tls_records_t *)1;
  CS_CHECK_EQ_I64(cs_tls_records_new(&r, &p.ssl[1], &p.keys[1]), CS_EUNSUPPORTED);
  CS_CHECK(r == NULL);
  /* ... and mbedTLS still carries the data. */
  size_t wl = 0;
  uint8_t *wire = peer_write(&p, 0, (const uint8_t *)"cbc", 3, &wl);
  CS_REQUIRE(wire != NULL);
  CS_CHECK_EQ_I64(cs_tls_bio_push(&p.bio[1], wire, wl), 0);
  CS_CHECK_EQ_I64(peer_read(&p, 1, b, 3), 3);
  free(wire);
  pair_close(&p);
}

/* Not ready while application data is unread. */
static void test_not_ready_with_pending(void) {
  pair_t p;
  CS_REQUIRE(pair_open(&p, SUITES[0], MBEDTLS_SSL_RENEGOTIATION_DISABLED) == 0);
  size_t wl = 0;
  uint8_t *wire = peer_write(&p, 0, (const uint8_t *)"0123456789", 10, &wl);
  CS_REQUIRE(wire != NULL);
  CS_CHECK_EQ_I64(cs_tls_bio_push(&p.bio[1], wire, wl), 0);
  unsigned char b[4];
  CS_CHECK_EQ_I64(mbedtls_ssl_read(&p.ssl[1], b, sizeof b), 4);
  CS_CHECK_EQ_I64(cs_tls_records_ready(&p.ssl[1], &p.keys[1]), 0);
  free(wire);
  pair_close(&p);
}

/* The BIO operations the handover uses: a partial record put back in
 * front (whether or not consumed room is there), input consumed in place
 * and released when empty, output sealed in place. */
static void test_bio_handover_ops(void) {
  static const struct {
    const char *pushed;
    size_t read_first; /* consumed by mbedTLS before the handover */
    const char *front;
    const char *want;
  } cases[] = {
      {"", 0, "ab", "ab"},      {"cdef", 0, "ab", "abcdef"}, {"xxcdef", 2, "ab", "abcdef"},
      {"xcdef", 1, "ab", "abcdef"}, {"cdef", 0, "", "cdef"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cs_tls_bio_t b;
    cs_tls_bio_init(&b);
    size_t n = strlen(cases[i].pushed);
    if (n > 0)
      CS_CHECK_EQ_I64(cs_tls_bio_push(&b, (const uint8_t *)cases[i].pushed, n), 0);
    unsigned char sink[8];
    if (cases[i].read_first > 0)
      CS_CHECK_EQ_I64(cs_tls_bio_recv(&b, sink, cases[i].read_first), (long)cases[i].read_first);
    CS_CHECK_EQ_I64(cs_tls_bio_unshift(&b, (const uint8_t *)cases[i].front, strlen(cases[i].front)), 0);
    size_t len = 0;
    uint8_t *p = cs_tls_bio_in_data(&b, &len);
    CS_CHECK_EQ_I64(len, strlen(cases[i].want));
    CS_CHECK(p != NULL && memcmp(p, cases[i].want, len) == 0);
    cs_tls_bio_in_consume(&b, 1);
    CS_CHECK_EQ_I64(cs_tls_bio_pending_in(&b), len - 1);
    cs_tls_bio_in_consume(&b, len - 1);
    CS_CHECK(b.in == NULL && cs_tls_bio_pending_in(&b) == 0);
    uint8_t *o = cs_tls_bio_out_space(&b, 3);
    CS_REQUIRE(o != NULL);
    memcpy(o, "xyz", 3);
    cs_tls_bio_out_commit(&b, 3);
    o = cs_tls_bio_out_space(&b, 200000); /* beyond the first capacity */
    CS_REQUIRE(o != NULL);
    o[199999] = 1;
    cs_tls_bio_out_commit(&b, 2);
    uint8_t *t = cs_tls_bio_take(&b, &len);
    CS_CHECK(len == 5 && memcmp(t, "xyz", 3) == 0);
    free(t);
    cs_tls_bio_free(&b);
  }
}

CS_TEST_MAIN(CS_TEST(test_bio_handover_ops), CS_TEST(test_aead_suites_both_roles), CS_TEST(test_flipped_bit),
             CS_TEST(test_truncated_waits), CS_TEST(test_partial_record_carried),
             CS_TEST(test_fatal_alert_named), CS_TEST(test_hello_request_declined),
             CS_TEST(test_client_hello_fatal), CS_TEST(test_bad_headers),
             CS_TEST(test_sequence_exhausted), CS_TEST(test_cbc_refused),
             CS_TEST(test_not_ready_with_pending))
