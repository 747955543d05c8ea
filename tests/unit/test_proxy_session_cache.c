/* The upstream session cache with real mbedTLS handshakes over the memory
 * BIO: a saved session is offered with the chain saved with it and really
 * resumes (with the server's ticket keys, as the proxy issues them), and is
 * not offered once expired, after the clock went back, after forget, or
 * after eviction; a server with other ticket keys gets a full handshake;
 * bad arguments are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ssl.h>
#include <mbedtls/ssl_internal.h>
#include <mbedtls/ssl_ticket.h>

#include "certskew/proxy/ca.h"
#include "cs_test.h"
#include "certskew/net/rng.h"
#include "certskew/net/session_cache.h"
#include "certskew/net/tls_bio.h"

#define AGE_MS 60000

typedef struct peers {
  char dir[256];
  cs_ca_t *ca;
  cs_mint_t *mint;
  cs_leaf_t *leaf;
  cs_rng_t rng;
  mbedtls_ssl_ticket_context tickets, other_tickets;
  mbedtls_ssl_config sconf, other_sconf, cconf;
} peers_t;

static int peers_open(peers_t *p) {
  memset(p, 0, sizeof *p);
  snprintf(p->dir, sizeof p->dir, "/tmp/cs_sess_XXXXXX");
  if (mkdtemp(p->dir) == NULL)
    return -1;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  int64_t now = (int64_t)time(NULL) * 1000; /* mbedTLS checks dates with the real clock */
  mbedtls_ssl_ticket_init(&p->tickets);
  mbedtls_ssl_ticket_init(&p->other_tickets);
  mbedtls_ssl_config_init(&p->sconf);
  mbedtls_ssl_config_init(&p->other_sconf);
  mbedtls_ssl_config_init(&p->cconf);
  if (cs_rng_init(&p->rng, "test") != 0 || cs_ca_open(&p->ca, p->dir, 1, now, &eb) != 0 ||
      cs_mint_new(&p->mint, p->ca, 4, &eb) != 0 ||
      cs_mint_get(p->mint, "127.0.0.1", now, &p->leaf, &eb) != 0)
    return -1;
  mbedtls_ssl_ticket_context *tk[2] = {&p->tickets, &p->other_tickets};
  mbedtls_ssl_config *sc[2] = {&p->sconf, &p->other_sconf};
  for (int i = 0; i < 2; i++) {
    if (mbedtls_ssl_ticket_setup(tk[i], cs_rng_fill, &p->rng, MBEDTLS_CIPHER_AES_256_GCM, 3600) != 0 ||
        mbedtls_ssl_config_defaults(sc[i], MBEDTLS_SSL_IS_SERVER, 0, 0) != 0 ||
        mbedtls_ssl_conf_own_cert(sc[i], cs_leaf_chain(p->leaf), cs_mint_key(p->mint)) != 0)
      return -1;
    mbedtls_ssl_conf_rng(sc[i], cs_rng_fill, &p->rng);
    mbedtls_ssl_conf_session_tickets_cb(sc[i], mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse,
                                        tk[i]);
  }
  if (mbedtls_ssl_config_defaults(&p->cconf, MBEDTLS_SSL_IS_CLIENT, 0, 0) != 0)
    return -1;
  mbedtls_ssl_conf_rng(&p->cconf, cs_rng_fill, &p->rng);
  mbedtls_ssl_conf_authmode(&p->cconf, MBEDTLS_SSL_VERIFY_NONE);
  return 0;
}

static void peers_close(peers_t *p) {
  mbedtls_ssl_config_free(&p->sconf);
  mbedtls_ssl_config_free(&p->other_sconf);
  mbedtls_ssl_config_free(&p->cconf);
  mbedtls_ssl_ticket_free(&p->tickets);
  mbedtls_ssl_ticket_free(&p->other_tickets);
  cs_leaf_release(p->leaf);
  cs_mint_free(p->mint);
  cs_ca_free(p->ca);
  cs_rng_free(&p->rng);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
  if (system(cmd) != 0)
    fprintf(stderr, "cleanup failed\n");
}

static void shuttle(cs_tls_bio_t *from, cs_tls_bio_t *to) {
  size_t len = 0;
  uint8_t *p = cs_tls_bio_take(from, &len);
  if (p != NULL && cs_tls_bio_push(to, p, len) != 0)
    abort();
  free(p);
}

/* The client's handshake step by step, to read the resume flag before
 * mbedTLS frees it at the end (as upstream.c does). */
static int client_steps(mbedtls_ssl_context *cli, int *res) {
  while (cli->state != MBEDTLS_SSL_HANDSHAKE_OVER) {
    if (cli->handshake != NULL)
      *res = cli->handshake->resume;
    int r = mbedtls_ssl_handshake_step(cli);
    if (r != 0)
      return r;
  }
  return 0;
}

/* One handshake of a client offering the cache's session for key against
 * the server conf. Returns the offer's result; *resumed says whether the
 * server accepted it; *chain (owned by the caller) is the offered chain.
 * When save_chain is given, the session is saved with it afterwards. */
static int handshake(peers_t *p, mbedtls_ssl_config *sconf, cs_session_cache_t *cache,
                     const char *key, int64_t now_ms, int *resumed, uint8_t **chain,
                     size_t *chain_len, const char *save_chain) {
  mbedtls_ssl_context srv, cli;
  mbedtls_ssl_init(&srv);
  mbedtls_ssl_init(&cli);
  cs_tls_bio_t sbio, cbio;
  cs_tls_bio_init(&sbio);
  cs_tls_bio_init(&cbio);
  size_t ncerts = 0;
  *resumed = -1;
  int offered = -100;
  if (mbedtls_ssl_setup(&srv, sconf) != 0 || mbedtls_ssl_setup(&cli, &p->cconf) != 0)
    goto out;
  mbedtls_ssl_set_bio(&srv, &sbio, cs_tls_bio_send, cs_tls_bio_recv, NULL);
  mbedtls_ssl_set_bio(&cli, &cbio, cs_tls_bio_send, cs_tls_bio_recv, NULL);
  offered = cs_session_cache_offer(cache, key, &cli, now_ms, chain, chain_len, &ncerts);
  int rs = MBEDTLS_ERR_SSL_WANT_READ, rc = MBEDTLS_ERR_SSL_WANT_READ, res = 0;
  for (int round = 0; round < 50 && (rs != 0 || rc != 0); round++) {
    if (rc != 0)
      rc = client_steps(&cli, &res);
    shuttle(&cbio, &sbio);
    if (rs != 0)
      rs = mbedtls_ssl_handshake(&srv);
    shuttle(&sbio, &cbio);
    if ((rs != 0 && rs != MBEDTLS_ERR_SSL_WANT_READ) || (rc != 0 && rc != MBEDTLS_ERR_SSL_WANT_READ))
      break;
  }
  if (rs == 0 && rc == 0) {
    *resumed = res;
    if (save_chain != NULL &&
        cs_session_cache_save(cache, key, &cli, (const uint8_t *)save_chain, strlen(save_chain), 1,
                              now_ms) != 0)
      *resumed = -2;
  }
out:
  mbedtls_ssl_free(&srv);
  mbedtls_ssl_free(&cli);
  cs_tls_bio_free(&sbio);
  cs_tls_bio_free(&cbio);
  return offered;
}

static void test_offer_resume_expire(void) {
  peers_t p;
  CS_REQUIRE(peers_open(&p) == 0);
  cs_session_cache_t *c = NULL;
  CS_REQUIRE(cs_session_cache_new(&c, 4, AGE_MS) == 0);
  const int64_t t0 = 1795449600000;
  uint8_t *chain = NULL;
  size_t len = 0;
  int resumed = 0;
  /* Nothing saved: a full handshake, then saved with its chain. */
  CS_CHECK_EQ_I64(handshake(&p, &p.sconf, c, "a:443/a", t0, &resumed, &chain, &len, "CHAIN-A"), 0);
  CS_CHECK_EQ_I64(resumed, 0);
  CS_CHECK(chain == NULL);
  CS_CHECK_EQ_I64(cs_session_cache_count(c), 1);
  /* Table: offset from the save, expected offer, expected resumption. */
  static const struct {
    const char *name;
    int64_t at;
    int offered, resumed;
  } cases[] = {
      {"just saved", 0, 1, 1},
      {"just before max age", AGE_MS - 1, 1, 1},
      {"clock went back", -1, 0, 0}, /* drops the entry */
      {"after the drop", 10, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    chain = NULL;
    int got = handshake(&p, &p.sconf, c, "a:443/a", t0 + cases[i].at, &resumed, &chain, &len, NULL);
    if (got != cases[i].offered || resumed != cases[i].resumed)
      CS_FAIL_AT("%s: offered %d resumed %d", cases[i].name, got, resumed);
    if (cases[i].offered) {
      CS_CHECK(chain != NULL && len == 7 && memcmp(chain, "CHAIN-A", 7) == 0);
    } else {
      CS_CHECK(chain == NULL);
    }
    free(chain);
  }
  /* Expiry at exactly max age. */
  chain = NULL;
  CS_CHECK_EQ_I64(handshake(&p, &p.sconf, c, "a:443/a", t0, &resumed, &chain, &len, "CHAIN-A2"), 0);
  CS_CHECK_EQ_I64(handshake(&p, &p.sconf, c, "a:443/a", t0 + AGE_MS, &resumed, &chain, &len, NULL), 0);
  CS_CHECK_EQ_I64(resumed, 0);
  CS_CHECK_EQ_I64(cs_session_cache_count(c), 0);
  cs_session_cache_free(c);
  peers_close(&p);
}

static void test_other_server_forget_evict(void) {
  peers_t p;
  CS_REQUIRE(peers_open(&p) == 0);
  cs_session_cache_t *c = NULL;
  CS_REQUIRE(cs_session_cache_new(&c, 2, AGE_MS) == 0);
  const int64_t t0 = 1795449600000;
  uint8_t *chain = NULL;
  size_t len = 0;
  int resumed = 0;
  CS_CHECK_EQ_I64(handshake(&p, &p.sconf, c, "k1", t0, &resumed, &chain, &len, "C1"), 0);
  /* Offered, but a server with other ticket keys cannot resume it. */
  CS_CHECK_EQ_I64(handshake(&p, &p.other_sconf, c, "k1", t0, &resumed, &chain, &len, NULL), 1);
  CS_CHECK_EQ_I64(resumed, 0);
  free(chain);
  chain = NULL;
  /* The saved chain is a copy: replacing the entry leaves an offered copy intact. */
  CS_CHECK_EQ_I64(handshake(&p, &p.sconf, c, "k1", t0, &resumed, &chain, &len, "C1-NEW"), 1);
  CS_CHECK(chain != NULL && len == 2 && memcmp(chain, "C1", 2) == 0);
  free(chain);
  chain = NULL;
  /* Forget. */
  cs_session_cache_forget(c, "k1");
  CS_CHECK_EQ_I64(cs_session_cache_count(c), 0);
  CS_CHECK_EQ_I64(handshake(&p, &p.sconf, c, "k1", t0, &resumed, &chain, &len, NULL), 0);
  /* Eviction: the oldest save goes first. */
  CS_CHECK_EQ_I64(handshake(&p, &p.sconf, c, "k1", t0, &resumed, &chain, &len, "C1"), 0);
  CS_CHECK_EQ_I64(handshake(&p, &p.sconf, c, "k2", t0, &resumed, &chain, &len, "C2"), 0);
  CS_CHECK_EQ_I64(handshake(&p, &p.sconf, c, "k3", t0, &resumed, &chain, &len, "C3"), 0);
  CS_CHECK_EQ_I64(cs_session_cache_count(c), 2);
  CS_CHECK_EQ_I64(handshake(&p, &p.sconf, c, "k1", t0, &resumed, &chain, &len, NULL), 0);
  CS_CHECK_EQ_I64(handshake(&p, &p.sconf, c, "k3", t0, &resumed, &chain, &len, NULL), 1);
  CS_CHECK_EQ_I64(resumed, 1);
  CS_CHECK(chain != NULL && len == 2 && memcmp(chain, "C3", 2) == 0);
  free(chain);
  cs_session_cache_free(c);
  cs_session_cache_free(NULL);
  peers_close(&p);
}

static void test_bad_arguments(void) {
  cs_session_cache_t *c = NULL;
  CS_CHECK_EQ_I64(cs_session_cache_new(&c, 0, AGE_MS), CS_EINVAL);
  CS_CHECK(c == NULL);
  CS_CHECK_EQ_I64(cs_session_cache_new(&c, 4, 0), CS_EINVAL);
  CS_REQUIRE(cs_session_cache_new(&c, 4, AGE_MS) == 0);
  mbedtls_ssl_context ssl;
  mbedtls_ssl_init(&ssl);
  static const uint8_t der[] = {0x30, 0x00};
  char longkey[700];
  memset(longkey, 'k', sizeof longkey - 1);
  longkey[sizeof longkey - 1] = '\0';
  CS_CHECK_EQ_I64(cs_session_cache_save(c, "k", &ssl, der, 0, 1, 0), CS_EINVAL);
  CS_CHECK_EQ_I64(cs_session_cache_save(c, "k", &ssl, NULL, 2, 1, 0), CS_EINVAL);
  CS_CHECK_EQ_I64(cs_session_cache_save(c, "k", &ssl, der, 2, 0, 0), CS_EINVAL);
  CS_CHECK_EQ_I64(cs_session_cache_save(c, longkey, &ssl, der, 2, 1, 0), CS_EINVAL);
  /* No completed handshake: mbedTLS has no session to copy. */
  CS_CHECK(cs_session_cache_save(c, "k", &ssl, der, 2, 1, 0) < 0);
  CS_CHECK_EQ_I64(cs_session_cache_count(c), 0);
  /* A NULL cache is "no resumption". */
  uint8_t *chain = (uint8_t *)1;
  size_t len = 9, n = 9;
  CS_CHECK_EQ_I64(cs_session_cache_offer(NULL, "k", &ssl, 0, &chain, &len, &n), 0);
  CS_CHECK(chain == NULL && len == 0 && n == 0);
  CS_CHECK_EQ_I64(cs_session_cache_save(NULL, "k", &ssl, der, 2, 1, 0), 0);
  cs_session_cache_forget(NULL, "k");
  CS_CHECK_EQ_I64(cs_session_cache_count(NULL), 0);
  mbedtls_ssl_free(&ssl);
  cs_session_cache_free(c);
}

CS_TEST_MAIN(CS_TEST(test_offer_resume_expire), CS_TEST(test_other_server_forget_evict),
             CS_TEST(test_bad_arguments))
