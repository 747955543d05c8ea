/* The local CA and minted leaves: files and modes, reload, validity that
 * starts a day back at midnight, SANs, the cache, and a full TLS handshake
 * over the memory BIO between a minted leaf and a client trusting the CA. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/oid.h>
#include <mbedtls/ssl.h>

#include "certskew/proxy/ca.h"
#include "certskew/core/time.h"
#include "cs_test.h"
#include "certskew/net/rng.h"
#include "certskew/net/tls_bio.h"

/* 2026-11-23T16:00:00Z */
#define NOW_MS INT64_C(1795449600000)

static char dir[256];

static void make_dir(void) {
  snprintf(dir, sizeof dir, "/tmp/cs_mint_XXXXXX");
  if (mkdtemp(dir) == NULL)
    abort();
  snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/home");
}

static void cleanup(void) {
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%.*s'", (int)(strlen(dir) - 5), dir);
  if (system(cmd) != 0)
    fprintf(stderr, "cleanup failed\n");
}

static int64_t crt_time_ms(const mbedtls_x509_time *t) {
  cs_civil_t c = {t->year, t->mon, t->day, t->hour, t->min, t->sec, 0};
  int64_t ms = 0;
  return cs_time_from_civil(&c, &ms) == 0 ? ms : -1;
}

static void test_ca_files(void) {
  make_dir();
  cs_ca_t *ca = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  CS_CHECK_EQ_I64(cs_ca_open(&ca, dir, 0, NOW_MS, &eb), CS_ENOTFOUND);
  CS_REQUIRE(cs_ca_open(&ca, dir, 1, NOW_MS, &eb) == 0);
  struct stat st;
  char key[400];
  snprintf(key, sizeof key, "%s/" CS_CA_KEY_FILE, dir);
  CS_REQUIRE(stat(key, &st) == 0);
  CS_CHECK_EQ_I64(st.st_mode & 0777, 0600);
  CS_REQUIRE(stat(dir, &st) == 0);
  CS_CHECK_EQ_I64(st.st_mode & 0777, 0700);
  mbedtls_x509_crt *crt = cs_ca_cert(ca);
  CS_CHECK(crt->ca_istrue);
  CS_CHECK_EQ_I64(mbedtls_pk_get_type(&crt->pk), MBEDTLS_PK_ECKEY);
  CS_CHECK_EQ_I64(mbedtls_pk_get_bitlen(&crt->pk), 256);
  CS_CHECK_EQ_I64(crt_time_ms(&crt->valid_from), NOW_MS - 16 * CS_MS_PER_HOUR - CS_MS_PER_DAY);
  /* Reopening loads the same CA rather than making a new one. */
  char *pem = strdup(cs_ca_cert_pem(ca));
  cs_ca_free(ca);
  CS_REQUIRE(cs_ca_open(&ca, dir, 1, NOW_MS + CS_MS_PER_DAY, &eb) == 0);
  CS_CHECK_EQ_STR(cs_ca_cert_pem(ca), pem);
  free(pem);
  cs_ca_free(ca);
  cs_ca_free(NULL);
  /* A key that does not match the certificate is an error, not a silent regeneration. */
  FILE *f = fopen(key, "w");
  CS_REQUIRE(f != NULL);
  fputs("not a key\n", f);
  fclose(f);
  CS_CHECK(cs_ca_open(&ca, dir, 1, NOW_MS, &eb) != 0);
  CS_CHECK(eb.msg[0] != '\0');
  cleanup();
}

static int has_san(const mbedtls_x509_crt *c, int type, const void *val, size_t len) {
  for (const mbedtls_x509_sequence *s = &c->subject_alt_names; s != NULL && s->buf.p; s = s->next)
    if ((s->buf.tag & 0x1f) == type && s->buf.len == len && memcmp(s->buf.p, val, len) == 0)
      return 1;
  return 0;
}

typedef struct leaf_case {
  const char *host;
  int ok;
  int san_type; /* 2 dNSName, 7 iPAddress */
  unsigned char ip[16];
  size_t ip_len;
} leaf_case_t;

static const leaf_case_t leaf_cases[] = {
    {"example.com", 1, 2, {0}, 0},
    {"127.0.0.1", 1, 7, {127, 0, 0, 1}, 4},
    {"::1", 1, 7, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 16},
    {"a-very-long-label-that-makes-the-common-name-exceed-sixty-four.example.com", 1, 2, {0}, 0},
    {"", 0, 0, {0}, 0},
    {"bad host", 0, 0, {0}, 0},
    {"evil.com,O=x", 0, 0, {0}, 0},
};

static void test_leaves(void) {
  make_dir();
  cs_ca_t *ca = NULL;
  cs_mint_t *m = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  CS_REQUIRE(cs_ca_open(&ca, dir, 1, NOW_MS, &eb) == 0);
  CS_REQUIRE(cs_mint_new(&m, ca, 2, &eb) == 0);
  for (size_t i = 0; i < sizeof leaf_cases / sizeof leaf_cases[0]; i++) {
    const leaf_case_t *c = &leaf_cases[i];
    cs_leaf_t *leaf = NULL;
    int rc = cs_mint_get(m, c->host, NOW_MS, &leaf, &eb);
    CS_CHECK_EQ_I64(rc == 0, c->ok);
    if (rc != 0)
      continue;
    mbedtls_x509_crt *crt = cs_leaf_chain(leaf);
    uint32_t flags = 0;
    /* mbedTLS judges dates by the system clock; NOW_MS is fixed, so only
     * the non-time flags are checked here (dates are checked below). */
    (void)mbedtls_x509_crt_verify(crt, cs_ca_cert(ca), NULL, c->san_type == 2 ? c->host : NULL,
                                  &flags, NULL, NULL);
    CS_CHECK_EQ_I64(flags & ~(uint32_t)(MBEDTLS_X509_BADCERT_FUTURE | MBEDTLS_X509_BADCERT_EXPIRED), 0);
    if (c->san_type == 2)
      CS_CHECK(has_san(crt, 2, c->host, strlen(c->host)));
    else
      CS_CHECK(has_san(crt, 7, c->ip, c->ip_len));
    CS_CHECK(!crt->ca_istrue);
    CS_CHECK(crt->next != NULL); /* the CA follows the leaf */
    /* notBefore: the midnight before now, minus a day. */
    CS_CHECK_EQ_I64(crt_time_ms(&crt->valid_from), NOW_MS - 16 * CS_MS_PER_HOUR - CS_MS_PER_DAY);
    CS_CHECK(crt_time_ms(&crt->valid_to) > NOW_MS + 30 * CS_MS_PER_DAY);
    cs_leaf_release(leaf);
  }
  /* The cache: same host, same leaf; eviction keeps a held leaf alive. */
  size_t before = cs_mint_count(m);
  cs_leaf_t *a = NULL, *b = NULL, *c = NULL, *d = NULL;
  CS_REQUIRE(cs_mint_get(m, "a.test", NOW_MS, &a, &eb) == 0);
  CS_REQUIRE(cs_mint_get(m, "a.test", NOW_MS, &b, &eb) == 0);
  CS_CHECK(a == b);
  CS_CHECK_EQ_I64(cs_mint_count(m), before + 1);
  CS_REQUIRE(cs_mint_get(m, "b.test", NOW_MS, &c, &eb) == 0);
  CS_REQUIRE(cs_mint_get(m, "c.test", NOW_MS, &d, &eb) == 0); /* evicts a.test */
  CS_CHECK(cs_leaf_chain(a)->raw.len > 0);                       /* still usable */
  cs_leaf_release(a);
  cs_leaf_release(b);
  cs_leaf_release(c);
  cs_leaf_release(d);
  cs_mint_free(m);
  cs_ca_free(ca);
  cleanup();
}

/* Moves bytes between two memory BIOs like a socket pair would. */
static void shuttle(cs_tls_bio_t *from, cs_tls_bio_t *to) {
  size_t len = 0;
  uint8_t *p = cs_tls_bio_take(from, &len);
  if (p != NULL && cs_tls_bio_push(to, p, len) != 0)
    abort();
  free(p);
}

static void test_handshake_over_memory_bio(void) {
  make_dir();
  cs_ca_t *ca = NULL;
  cs_mint_t *m = NULL;
  cs_leaf_t *leaf = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  int64_t now = (int64_t)time(NULL) * 1000; /* mbedTLS checks dates with the real clock */
  CS_REQUIRE(cs_ca_open(&ca, dir, 1, now, &eb) == 0);
  CS_REQUIRE(cs_mint_new(&m, ca, 4, &eb) == 0);
  CS_REQUIRE(cs_mint_get(m, "intercepted.test", now, &leaf, &eb) == 0);
  cs_rng_t rng;
  CS_REQUIRE(cs_rng_init(&rng, "test") == 0);
  mbedtls_ssl_config sconf, cconf;
  mbedtls_ssl_context srv, cli;
  mbedtls_ssl_config_init(&sconf);
  mbedtls_ssl_config_init(&cconf);
  mbedtls_ssl_init(&srv);
  mbedtls_ssl_init(&cli);
  cs_tls_bio_t sbio, cbio;
  cs_tls_bio_init(&sbio);
  cs_tls_bio_init(&cbio);
  CS_REQUIRE(mbedtls_ssl_config_defaults(&sconf, MBEDTLS_SSL_IS_SERVER, 0, 0) == 0);
  CS_REQUIRE(mbedtls_ssl_config_defaults(&cconf, MBEDTLS_SSL_IS_CLIENT, 0, 0) == 0);
  mbedtls_ssl_conf_rng(&sconf, cs_rng_fill, &rng);
  mbedtls_ssl_conf_rng(&cconf, cs_rng_fill, &rng);
  CS_REQUIRE(mbedtls_ssl_conf_own_cert(&sconf, cs_leaf_chain(leaf), cs_mint_key(m)) == 0);
  mbedtls_ssl_conf_authmode(&cconf, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(&cconf, cs_ca_cert(ca), NULL);
  CS_REQUIRE(mbedtls_ssl_setup(&srv, &sconf) == 0 && mbedtls_ssl_setup(&cli, &cconf) == 0);
  CS_REQUIRE(mbedtls_ssl_set_hostname(&cli, "intercepted.test") == 0);
  mbedtls_ssl_set_bio(&srv, &sbio, cs_tls_bio_send, cs_tls_bio_recv, NULL);
  mbedtls_ssl_set_bio(&cli, &cbio, cs_tls_bio_send, cs_tls_bio_recv, NULL);
  int rs = MBEDTLS_ERR_SSL_WANT_READ, rcl = MBEDTLS_ERR_SSL_WANT_READ;
  /* "No bytes yet" must be WANT_READ, never an error; bounded rounds. */
  for (int round = 0; round < 50 && (rs != 0 || rcl != 0); round++) {
    if (rcl != 0)
      rcl = mbedtls_ssl_handshake(&cli);
    shuttle(&cbio, &sbio);
    if (rs != 0)
      rs = mbedtls_ssl_handshake(&srv);
    shuttle(&sbio, &cbio);
    CS_REQUIRE(rcl == 0 || rcl == MBEDTLS_ERR_SSL_WANT_READ);
    CS_REQUIRE(rs == 0 || rs == MBEDTLS_ERR_SSL_WANT_READ);
  }
  CS_CHECK_EQ_I64(rcl, 0);
  CS_CHECK_EQ_I64(rs, 0);
  CS_CHECK_EQ_I64(mbedtls_ssl_get_verify_result(&cli), 0);
  static const char msg[] = "GET / HTTP/1.1\r\n\r\n";
  CS_CHECK_EQ_I64(mbedtls_ssl_write(&cli, (const unsigned char *)msg, sizeof msg - 1), sizeof msg - 1);
  shuttle(&cbio, &sbio);
  unsigned char buf[64];
  CS_CHECK_EQ_I64(mbedtls_ssl_read(&srv, buf, sizeof buf), sizeof msg - 1);
  CS_CHECK(memcmp(buf, msg, sizeof msg - 1) == 0);
  CS_CHECK_EQ_I64(mbedtls_ssl_read(&srv, buf, sizeof buf), MBEDTLS_ERR_SSL_WANT_READ);
  mbedtls_ssl_free(&srv);
  mbedtls_ssl_free(&cli);
  mbedtls_ssl_config_free(&sconf);
  mbedtls_ssl_config_free(&cconf);
  cs_tls_bio_free(&sbio);
  cs_tls_bio_free(&sbio);
  cs_tls_bio_free(&cbio);
  cs_rng_free(&rng);
  cs_rng_free(&rng);
  cs_leaf_release(leaf);
  cs_mint_free(m);
  cs_ca_free(ca);
  cleanup();
}

static void test_home_dir(void) {
  char buf[512];
  setenv("CERTSKEW_HOME", "/x/home", 1);
  CS_REQUIRE(cs_ca_home_dir(buf, sizeof buf) == 0);
  CS_CHECK_EQ_STR(buf, "/x/home");
  unsetenv("CERTSKEW_HOME");
  setenv("XDG_DATA_HOME", "/x/data", 1);
  CS_REQUIRE(cs_ca_home_dir(buf, sizeof buf) == 0);
  CS_CHECK_EQ_STR(buf, "/x/data/certskew");
  unsetenv("XDG_DATA_HOME");
  setenv("HOME", "/x/user", 1);
  CS_REQUIRE(cs_ca_home_dir(buf, sizeof buf) == 0);
  CS_CHECK_EQ_STR(buf, "/x/user/.local/share/certskew");
  CS_CHECK_EQ_I64(cs_ca_home_dir(buf, 5), CS_ENOSPACE);
  unsetenv("HOME");
  CS_CHECK_EQ_I64(cs_ca_home_dir(buf, sizeof buf), CS_ENOTFOUND);
}

CS_TEST_MAIN(CS_TEST(test_ca_files), CS_TEST(test_leaves), CS_TEST(test_handshake_over_memory_bio),
             CS_TEST(test_home_dir))
