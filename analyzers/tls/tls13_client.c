/*
 * The TLS 1.3 probe's state machine (analyzers/tls/tls13_internal.h): owns the
 * key shares, the ClientHellos and the transcript; answers a
 * HelloRetryRequest; keys the server's handshake records at ServerHello; and
 * judges CertificateVerify. tls_probe_parse.c frames records and messages and
 * calls in here once the server chose TLS 1.3.
 */
#include "tls13_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CH_MAX 2048 /* ClientHello with SNI, a P-384 share and a maximal cookie */

enum { HS_CLIENT_HELLO = 1, HS_SERVER_HELLO = 2, HS_EE = 8, HS_CERTIFICATE = 11,
       HS_CERT_REQUEST = 13, HS_CERT_VERIFY = 15, HS_MESSAGE_HASH = 254 };
typedef enum { ST_HELLO, ST_EE, ST_CERT, ST_CV, ST_DONE } state_t;

struct cs_tls13_client {
  int (*f_rng)(void *, unsigned char *, size_t);
  void *p_rng;
  char sni[256];
  uint8_t random[32];
  cs_tls13_share_t share;      /* the share of the ClientHello last sent */
  uint8_t ch1[CH_MAX];         /* first ClientHello (handshake message), for the transcript */
  size_t ch1_len;
  uint8_t out[5 + CH_MAX];     /* record(s) to send */
  size_t out_len;
  int hrr;
  const cs_tls13_suite_t *suite;
  mbedtls_md_context_t th;     /* running transcript hash, set up at the first server message */
  int th_ready;
  cs_tls13_rx_t rx;
  state_t st;
  const uint8_t *leaf;         /* borrowed from the Certificate copy the dispatcher keeps */
  size_t leaf_len;
};

void cs_tls13_client_free(cs_tls13_client_t *c) {
  if (c == NULL)
    return;
  cs_tls13_share_free(&c->share);
  mbedtls_md_free(&c->th);
  cs_tls13_rx_free(&c->rx);
  free(c);
}

/* Builds a ClientHello with a fresh share for group (and the cookie) and
 * queues it in a record; the handshake message is left at msg/msg_len. */
static int queue_hello(cs_tls13_client_t *c, uint16_t group, const uint8_t *cookie,
                       size_t cookie_len, uint16_t record_version, cs_errbuf_t *eb) {
  uint8_t pub[CS_TLS13_SHARE_MAX];
  size_t pub_len = 0, len = 0;
  int ret = cs_tls13_share_generate(&c->share, group, c->f_rng, c->p_rng, pub, sizeof(pub),
                                    &pub_len);
  if (ret != 0)
    return cs_errbuf_set(eb, ret, "cannot generate a key share for group 0x%04x", group);
  cs_tls13_hello_params_t hp = {c->sni[0] ? c->sni : NULL, c->random, group, pub, pub_len,
                                cookie, cookie_len};
  if ((ret = cs_tls13_hello_build(&hp, c->out + 5, sizeof(c->out) - 5, &len)) != 0)
    return cs_errbuf_set(eb, ret, "cannot build the ClientHello");
  c->out[0] = 22;
  c->out[1] = (uint8_t)(record_version >> 8);
  c->out[2] = (uint8_t)record_version;
  c->out[3] = (uint8_t)(len >> 8);
  c->out[4] = (uint8_t)len;
  c->out_len = 5 + len;
  return 0;
}

int cs_tls13_client_new(const char *sni, int (*f_rng)(void *, unsigned char *, size_t),
                        void *p_rng, cs_tls13_client_t **out, cs_errbuf_t *eb) {
  if (f_rng == NULL || out == NULL)
    return cs_errbuf_set(eb, CS_EINVAL, "no RNG");
  if (sni != NULL && strlen(sni) > 255)
    return cs_errbuf_set(eb, CS_EINVAL, "server name longer than 255 bytes");
  cs_tls13_client_t *c = calloc(1, sizeof(*c)); /* owned by the caller via *out */
  if (c == NULL)
    return cs_errbuf_set(eb, CS_ENOMEM, "out of memory");
  c->f_rng = f_rng;
  c->p_rng = p_rng;
  snprintf(c->sni, sizeof(c->sni), "%s", sni != NULL ? sni : "");
  cs_tls13_share_init(&c->share);
  mbedtls_md_init(&c->th);
  cs_tls13_rx_init(&c->rx);
  int ret;
  if (f_rng(p_rng, c->random, sizeof(c->random)) != 0) {
    ret = cs_errbuf_set(eb, CS_ECRYPTO, "RNG failure");
    goto fail;
  }
  /* X25519 first: what nearly every server picks, so HRR stays the exception. */
  if ((ret = queue_hello(c, CS_TLS13_GROUP_X25519, NULL, 0, 0x0301, eb)) != 0)
    goto fail;
  c->ch1_len = c->out_len - 5;
  memcpy(c->ch1, c->out + 5, c->ch1_len);
  *out = c;
  return 0;
fail:
  cs_tls13_client_free(c);
  return ret;
}

void cs_tls13_client_take_output(cs_tls13_client_t *c, const uint8_t **out, size_t *len) {
  *out = c->out;
  *len = c->out_len;
  c->out_len = 0;
}

static int th_update_msg(cs_tls13_client_t *c, uint8_t type, const uint8_t *b, size_t n) {
  uint8_t hdr[4] = {type, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
  if (mbedtls_md_update(&c->th, hdr, 4) != 0 || (n > 0 && mbedtls_md_update(&c->th, b, n) != 0))
    return CS_ECRYPTO;
  return 0;
}

/* Starts the transcript with the first server message's suite: ClientHello1
 * itself, or after a HelloRetryRequest its message_hash (RFC 8446 §4.4.1). */
static int th_start(cs_tls13_client_t *c, uint16_t suite_id, int hrr, cs_errbuf_t *eb) {
  const cs_tls13_suite_t *s = cs_tls13_suite_find(suite_id);
  if (s == NULL)
    return cs_errbuf_set(eb, CS_EPARSE, "server chose cipher suite 0x%04x, not offered for TLS 1.3",
                         suite_id);
  const mbedtls_md_info_t *md = mbedtls_md_info_from_type(s->md);
  if (md == NULL || mbedtls_md_setup(&c->th, md, 0) != 0 || mbedtls_md_starts(&c->th) != 0)
    return cs_errbuf_set(eb, CS_ECRYPTO, "cannot start the transcript hash");
  c->suite = s;
  c->th_ready = 1;
  if (!hrr) {
    if (mbedtls_md_update(&c->th, c->ch1, c->ch1_len) != 0)
      return cs_errbuf_set(eb, CS_ECRYPTO, "transcript hash failed");
    return 0;
  }
  uint8_t h[CS_TLS13_HASH_MAX];
  if (mbedtls_md(md, c->ch1, c->ch1_len, h) != 0 ||
      th_update_msg(c, HS_MESSAGE_HASH, h, s->hash_len) != 0)
    return cs_errbuf_set(eb, CS_ECRYPTO, "transcript hash failed");
  return 0;
}

int cs_tls13_client_hrr(cs_tls13_client_t *c, const uint8_t *b, size_t n,
                        cs_tls_probe_result_t *res, cs_errbuf_t *eb) {
  cs_tls13_server_hello_t sh;
  int ret = cs_tls13_server_hello_parse(b, n, &sh, eb);
  if (ret != 0)
    return ret;
  if (c->hrr || c->st != ST_HELLO)
    return cs_errbuf_set(eb, CS_EPARSE, "a second HelloRetryRequest");
  /* An HRR must change something we can act on (§4.1.4). */
  if (!cs_tls13_group_offered(sh.group) || sh.group == c->share.group)
    return cs_errbuf_set(eb, CS_EPARSE, "HelloRetryRequest for group 0x%04x: %s", sh.group,
                         sh.group == c->share.group ? "already offered" : "not offered");
  if (sh.cookie_len > CS_TLS13_COOKIE_MAX)
    return cs_errbuf_set(eb, CS_ETOOBIG, "HelloRetryRequest cookie of %zu bytes", sh.cookie_len);
  if ((ret = th_start(c, sh.suite, 1, eb)) != 0)
    return ret;
  if (th_update_msg(c, HS_SERVER_HELLO, b, n) != 0)
    return cs_errbuf_set(eb, CS_ECRYPTO, "transcript hash failed");
  c->hrr = 1;
  res->hrr = 1;
  res->version = 0x0304;
  res->cipher_suite = sh.suite;
  if ((ret = queue_hello(c, sh.group, sh.cookie, sh.cookie_len, 0x0303, eb)) != 0)
    return ret;
  if (th_update_msg(c, HS_CLIENT_HELLO, c->out + 5 + 4, c->out_len - 5 - 4) != 0)
    return cs_errbuf_set(eb, CS_ECRYPTO, "transcript hash failed");
  return 0;
}

int cs_tls13_client_server_hello(cs_tls13_client_t *c, const uint8_t *b, size_t n,
                                 cs_tls_probe_result_t *res, cs_errbuf_t *eb) {
  cs_tls13_server_hello_t sh;
  uint8_t ecdhe[48], secret[CS_TLS13_HASH_MAX], h[CS_TLS13_HASH_MAX];
  size_t ecdhe_len = 0;
  mbedtls_md_context_t snap;
  mbedtls_md_init(&snap);
  int ret = cs_tls13_server_hello_parse(b, n, &sh, eb);
  if (ret != 0)
    goto out;
  ret = CS_EPARSE;
  if (sh.hrr || c->st != ST_HELLO) {
    cs_errbuf_set(eb, ret, "unexpected ServerHello");
    goto out;
  }
  if (c->hrr && sh.suite != c->suite->id) {
    cs_errbuf_set(eb, ret, "ServerHello suite 0x%04x differs from the HelloRetryRequest's",
                  sh.suite);
    goto out;
  }
  if (sh.group != c->share.group) {
    cs_errbuf_set(eb, ret, "ServerHello key_share for group 0x%04x, we offered 0x%04x",
                  sh.group, c->share.group);
    goto out;
  }
  if (!c->hrr && (ret = th_start(c, sh.suite, 0, eb)) != 0)
    goto out;
  res->version = 0x0304;
  res->cipher_suite = sh.suite;
  res->group = sh.group;
  if ((ret = cs_tls13_share_compute(&c->share, sh.share, sh.share_len, c->f_rng, c->p_rng,
                                    ecdhe, &ecdhe_len)) != 0) {
    cs_errbuf_set(eb, ret, "server key share for group 0x%04x is invalid", sh.group);
    goto out;
  }
  ret = CS_ECRYPTO;
  if (th_update_msg(c, HS_SERVER_HELLO, b, n) != 0 ||
      mbedtls_md_setup(&snap, mbedtls_md_info_from_type(c->suite->md), 0) != 0 ||
      mbedtls_md_clone(&snap, &c->th) != 0 || mbedtls_md_finish(&snap, h) != 0) {
    cs_errbuf_set(eb, ret, "transcript hash failed");
    goto out;
  }
  if ((ret = cs_tls13_server_hs_secret(c->suite, ecdhe, ecdhe_len, h, secret)) != 0 ||
      (ret = cs_tls13_rx_key(&c->rx, c->suite, secret)) != 0) {
    cs_errbuf_set(eb, ret, "key schedule failed");
    goto out;
  }
  c->st = ST_EE;
  ret = 0;
out:
  memset(ecdhe, 0, sizeof(ecdhe));
  memset(secret, 0, sizeof(secret));
  mbedtls_md_free(&snap);
  return ret;
}

int cs_tls13_client_open(cs_tls13_client_t *c, const uint8_t hdr[5], const uint8_t *ct,
                         size_t ct_len, uint8_t *out, size_t *out_len, uint8_t *inner_type,
                         cs_errbuf_t *eb) {
  return cs_tls13_rx_open(&c->rx, hdr, ct, ct_len, out, out_len, inner_type, eb);
}

static int on_cert_verify(cs_tls13_client_t *c, const uint8_t *b, size_t n,
                          cs_tls_probe_result_t *res, cs_errbuf_t *eb) {
  uint16_t alg;
  const uint8_t *sig;
  size_t sig_len;
  uint8_t h[CS_TLS13_HASH_MAX];
  int ret = cs_tls13_cert_verify_parse(b, n, &alg, &sig, &sig_len, eb);
  if (ret != 0)
    return ret;
  /* Transcript-Hash(ClientHello .. Certificate): CertificateVerify not yet in. */
  mbedtls_md_context_t snap;
  mbedtls_md_init(&snap);
  ret = mbedtls_md_setup(&snap, mbedtls_md_info_from_type(c->suite->md), 0) != 0 ||
        mbedtls_md_clone(&snap, &c->th) != 0 || mbedtls_md_finish(&snap, h) != 0;
  mbedtls_md_free(&snap);
  if (ret != 0)
    return cs_errbuf_set(eb, CS_ECRYPTO, "transcript hash failed");
  res->cert_verify_alg = alg;
  res->cert_verify = cs_tls13_cert_verify_check(c->leaf, c->leaf_len, alg, h,
                                                c->suite->hash_len, sig, sig_len, res->detail,
                                                sizeof(res->detail));
  res->outcome = res->cert_verify == CS_TLS_PROBE_CV_VERIFIED ? CS_TLS_PROBE_DONE
                                                              : CS_TLS_PROBE_BAD_CERT_VERIFY;
  c->st = ST_DONE;
  return 0;
}

int cs_tls13_client_message(cs_tls13_client_t *c, uint8_t type, const uint8_t *b, size_t n,
                            cs_tls_probe_result_t *res, cs_errbuf_t *eb) {
  int ret;
  if (type == HS_CERT_VERIFY && c->st == ST_CV)
    return on_cert_verify(c, b, n, res, eb); /* the last message we read */
  if (th_update_msg(c, type, b, n) != 0)
    return cs_errbuf_set(eb, CS_ECRYPTO, "transcript hash failed");
  switch (c->st == ST_DONE ? 0 : type) {
  case HS_EE:
    if (c->st != ST_EE)
      break;
    if ((ret = cs_tls13_ee_parse(b, n, res, eb)) != 0)
      return ret;
    c->st = ST_CERT;
    return 0;
  case HS_CERT_REQUEST:
    if (c->st != ST_CERT)
      break;
    return 0; /* we never answer it: the probe stops before its Finished */
  case HS_CERTIFICATE:
    if (c->st != ST_CERT)
      break;
    if ((ret = cs_tls13_certificate_parse(b, n, res, eb)) != 0)
      return ret;
    c->leaf = res->certs[0];
    c->leaf_len = res->cert_lens[0];
    c->st = ST_CV;
    return 0;
  default:
    break;
  }
  return cs_errbuf_set(eb, CS_EPARSE, "unexpected TLS 1.3 handshake message %u", type);
}
