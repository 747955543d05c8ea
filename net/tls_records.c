/* TLS 1.2 AEAD record layer over libcrypto (see tls_records.h). */
#include "certskew/net/tls_records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <openssl/evp.h>

#include "certskew/tls/tls_sniff.h"

enum {
  REC_CCS = 20,
  REC_ALERT = 21,
  REC_HANDSHAKE = 22,
  REC_APP = 23,
  HDR = 5,
  TAG = 16,
  MAX_PLAIN = 16384,
  ALERT_WARNING = 1,
  ALERT_FATAL = 2,
  AL_CLOSE_NOTIFY = 0,
  AL_UNEXPECTED = 10,
  AL_BAD_MAC = 20,
  AL_OVERFLOW = 22,
  AL_DECODE = 50,
  AL_PROTOCOL_VERSION = 70,
  AL_NO_RENEGOTIATION = 100,
};

struct cs_tls_records {
  EVP_CIPHER_CTX *rd, *wr; /* owned; keys set once, nonce per record */
  uint8_t rd_iv[12], wr_iv[12]; /* GCM: the 4-byte salt; ChaCha: the 12-byte IV */
  size_t explicit_len;          /* 8 for GCM (RFC 5288), 0 for ChaCha (RFC 7905) */
  uint64_t rd_seq, wr_seq;      /* the next record's sequence number */
  int is_server;
  size_t max_out;
  int suite;
  int dead; /* after an error nothing more is opened or sealed */
  char why[112];
};

static void put_be64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8)
    p[i] = (uint8_t)v;
}

static uint64_t get_be64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

/* libcrypto's cipher for an mbedTLS suite, with its key and fixed IV
 * lengths; NULL when the suite is not one we take over. */
static const EVP_CIPHER *cipher_for(int suite, size_t *keylen, size_t *ivlen) {
  const mbedtls_ssl_ciphersuite_t *info = mbedtls_ssl_ciphersuite_from_id(suite);
  if (info == NULL || (info->flags & MBEDTLS_CIPHERSUITE_SHORT_TAG) != 0)
    return NULL;
  switch (info->cipher) {
  case MBEDTLS_CIPHER_AES_128_GCM:
    *keylen = 16;
    *ivlen = 4;
    return EVP_aes_128_gcm();
  case MBEDTLS_CIPHER_AES_256_GCM:
    *keylen = 32;
    *ivlen = 4;
    return EVP_aes_256_gcm();
  case MBEDTLS_CIPHER_CHACHA20_POLY1305:
    *keylen = 32;
    *ivlen = 12;
    return EVP_chacha20_poly1305();
  default:
    return NULL;
  }
}

int cs_tls_keys_export(void *p_expkey, const unsigned char *ms, const unsigned char *kb,
                       size_t maclen, size_t keylen, size_t ivlen,
                       const unsigned char client_random[32], const unsigned char server_random[32],
                       mbedtls_tls_prf_types tls_prf_type) {
  (void)ms;
  (void)client_random;
  (void)server_random;
  (void)tls_prf_type;
  cs_tls_keys_t *k = p_expkey;
  cs_tls_keys_wipe(k);
  /* Not an AEAD key block (CBC suites carry MAC keys): stays on mbedTLS. */
  if (maclen != 0 || (keylen != 16 && keylen != 32) || (ivlen != 4 && ivlen != 12))
    return 0;
  memcpy(k->block, kb, 2 * keylen + 2 * ivlen);
  k->keylen = keylen;
  k->ivlen = ivlen;
  k->ready = 1;
  return 0;
}

void cs_tls_keys_wipe(cs_tls_keys_t *k) { mbedtls_platform_zeroize(k, sizeof *k); }

int cs_tls_records_ready(const mbedtls_ssl_context *ssl, const cs_tls_keys_t *keys) {
  size_t keylen = 0, ivlen = 0;
  if (keys == NULL || !keys->ready || ssl->state != MBEDTLS_SSL_HANDSHAKE_OVER ||
      ssl->session == NULL || ssl->major_ver != MBEDTLS_SSL_MAJOR_VERSION_3 ||
      ssl->minor_ver != MBEDTLS_SSL_MINOR_VERSION_3 ||
      cipher_for(ssl->session->ciphersuite, &keylen, &ivlen) == NULL || keylen != keys->keylen ||
      ivlen != keys->ivlen)
    return 0;
  /* Nothing decrypted and unread, nothing mid-message, nothing unsent: in
   * mbedTLS 2.28 (ssl_msg.c) in_offt is non-NULL while application data is
   * unread and in_msglen counts a decrypted record not yet consumed;
   * out_left counts bytes of a record not yet accepted by the BIO. */
  return ssl->in_offt == NULL && ssl->in_msglen == 0 && ssl->out_left == 0 &&
         mbedtls_ssl_get_bytes_avail(ssl) == 0;
}

static EVP_CIPHER_CTX *new_ctx(const EVP_CIPHER *cipher, const uint8_t *key, int enc) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new(); /* owned by the record layer */
  if (ctx == NULL)
    return NULL;
  if (EVP_CipherInit_ex(ctx, cipher, NULL, key, NULL, enc) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

int cs_tls_records_new_keys(cs_tls_records_t **out, int suite, int is_server, cs_tls_keys_t *keys,
                            uint64_t rd_seq, uint64_t wr_seq, size_t max_out) {
  *out = NULL;
  size_t keylen = 0, ivlen = 0;
  const EVP_CIPHER *cipher = cipher_for(suite, &keylen, &ivlen);
  if (cipher == NULL || !keys->ready || keys->keylen != keylen || keys->ivlen != ivlen) {
    cs_tls_keys_wipe(keys);
    return CS_EUNSUPPORTED;
  }
  cs_tls_records_t *r = calloc(1, sizeof *r); /* owned by the caller: cs_tls_records_free */
  if (r == NULL) {
    cs_tls_keys_wipe(keys);
    return CS_ENOMEM;
  }
  r->is_server = is_server;
  r->suite = suite;
  r->explicit_len = ivlen == 4 ? 8 : 0;
  /* Key block order (RFC 5246 §6.3, no MAC keys for AEAD): client key,
   * server key, client IV, server IV. */
  const uint8_t *ck = keys->block, *sk = ck + keylen;
  const uint8_t *civ = sk + keylen, *siv = civ + ivlen;
  memcpy(r->wr_iv, is_server ? siv : civ, ivlen);
  memcpy(r->rd_iv, is_server ? civ : siv, ivlen);
  r->wr = new_ctx(cipher, is_server ? sk : ck, 1);
  r->rd = new_ctx(cipher, is_server ? ck : sk, 0);
  cs_tls_keys_wipe(keys);
  if (r->wr == NULL || r->rd == NULL) {
    cs_tls_records_free(r);
    return CS_ECRYPTO;
  }
  r->rd_seq = rd_seq;
  r->wr_seq = wr_seq;
  r->max_out = max_out > 0 && max_out <= MAX_PLAIN ? max_out : MAX_PLAIN;
  *out = r;
  return 0;
}

int cs_tls_records_new(cs_tls_records_t **out, const mbedtls_ssl_context *ssl,
                       cs_tls_keys_t *keys) {
  *out = NULL;
  if (!cs_tls_records_ready(ssl, keys)) {
    cs_tls_keys_wipe(keys);
    return CS_EUNSUPPORTED;
  }
  /* mbedTLS 2.28 (ssl_msg.c): in_ctr is incremented once a record is
   * decrypted, so it is the next record expected; cur_out_ctr likewise
   * after each record written. */
  int max = mbedtls_ssl_get_max_out_record_payload(ssl);
  return cs_tls_records_new_keys(out, ssl->session->ciphersuite,
                                 ssl->conf->endpoint == MBEDTLS_SSL_IS_SERVER, keys,
                                 get_be64(ssl->in_ctr), get_be64(ssl->cur_out_ctr),
                                 max > 0 ? (size_t)max : 0);
}

void cs_tls_records_free(cs_tls_records_t *r) {
  if (r == NULL)
    return;
  EVP_CIPHER_CTX_free(r->rd); /* wipes its key schedule */
  EVP_CIPHER_CTX_free(r->wr);
  mbedtls_platform_zeroize(r, sizeof *r);
  free(r);
}

const char *cs_tls_records_error(const cs_tls_records_t *r) { return r->why; }

const char *cs_tls_records_suite(const cs_tls_records_t *r) {
  const char *n = mbedtls_ssl_get_ciphersuite_name(r->suite);
  return n != NULL ? n : "unknown";
}

static void nonce_for(const cs_tls_records_t *r, const uint8_t *iv, const uint8_t explicit_nonce[8],
                      uint64_t seq, uint8_t nonce[12]) {
  if (r->explicit_len == 8) {
    memcpy(nonce, iv, 4);
    memcpy(nonce + 4, explicit_nonce, 8);
    return;
  }
  uint8_t s[8];
  put_be64(s, seq);
  memcpy(nonce, iv, 12);
  for (int i = 0; i < 8; i++)
    nonce[4 + i] ^= s[i];
}

/* AAD = seq(8) || type(1) || version(2) || plaintext length(2). */
static void aad_for(uint8_t aad[13], uint64_t seq, uint8_t type, size_t plen) {
  put_be64(aad, seq);
  aad[8] = type;
  aad[9] = 3;
  aad[10] = 3;
  aad[11] = (uint8_t)(plen >> 8);
  aad[12] = (uint8_t)plen;
}

/* One AEAD operation, in place allowed (in == out). Decryption fails on a
 * wrong tag. */
static int aead(EVP_CIPHER_CTX *ctx, int enc, const uint8_t nonce[12], const uint8_t aad[13],
                const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[TAG]) {
  int n = 0;
  if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, enc) != 1)
    return CS_ECRYPTO;
  if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG, tag) != 1)
    return CS_ECRYPTO;
  if (EVP_CipherUpdate(ctx, NULL, &n, aad, 13) != 1)
    return CS_ECRYPTO;
  if (len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
    return CS_ECRYPTO;
  if (EVP_CipherFinal_ex(ctx, out + len, &n) != 1)
    return CS_ECRYPTO;
  if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG, tag) != 1)
    return CS_ECRYPTO;
  return 0;
}

static int seal_record(cs_tls_records_t *r, uint8_t type, const uint8_t *data, size_t n,
                       cs_tls_bio_t *out) {
  /* The last sequence number is never used: after it, nothing could be
   * sealed without reusing a nonce. */
  if (r->wr_seq == UINT64_MAX) {
    r->dead = 1;
    snprintf(r->why, sizeof r->why, "write sequence number exhausted");
    return CS_EOVERFLOW;
  }
  size_t body = r->explicit_len + n + TAG;
  uint8_t *p = cs_tls_bio_out_space(out, HDR + body);
  if (p == NULL)
    return CS_ENOMEM;
  p[0] = type;
  p[1] = 3;
  p[2] = 3;
  p[3] = (uint8_t)(body >> 8);
  p[4] = (uint8_t)body;
  uint8_t *ct = p + HDR + r->explicit_len;
  if (r->explicit_len == 8)
    put_be64(p + HDR, r->wr_seq); /* the sequence number as explicit nonce, like mbedTLS */
  uint8_t nonce[12], aad[13];
  nonce_for(r, r->wr_iv, p + HDR, r->wr_seq, nonce);
  aad_for(aad, r->wr_seq, type, n);
  if (aead(r->wr, 1, nonce, aad, data, n, ct, ct + n) != 0) {
    r->dead = 1;
    snprintf(r->why, sizeof r->why, "AEAD encryption failed");
    return CS_ECRYPTO;
  }
  cs_tls_bio_out_commit(out, HDR + body);
  r->wr_seq++;
  return 0;
}

int cs_tls_records_seal(cs_tls_records_t *r, const uint8_t *data, size_t len, cs_tls_bio_t *out) {
  if (r->dead)
    return CS_ESTATE;
  while (len > 0) {
    size_t n = len < r->max_out ? len : r->max_out;
    int rc = seal_record(r, REC_APP, data, n, out);
    if (rc != 0)
      return rc;
    data += n;
    len -= n;
  }
  return 0;
}

int cs_tls_records_seal_alert(cs_tls_records_t *r, int level, int description, cs_tls_bio_t *out) {
  if (r->dead)
    return CS_ESTATE;
  const uint8_t a[2] = {(uint8_t)level, (uint8_t)description};
  return seal_record(r, REC_ALERT, a, sizeof a, out);
}

/* Fails the layer: the fatal alert (0: none) goes to the peer. */
static int fail(cs_tls_records_t *r, int rc, int alert, cs_tls_bio_t *reply, const char *why) {
  /* Best effort: the connection is failing whether or not it is sent. */
  if (alert != 0 && reply != NULL && cs_tls_records_seal_alert(r, ALERT_FATAL, alert, reply) != 0)
    alert = 0;
  r->dead = 1;
  if (alert != 0)
    snprintf(r->why, sizeof r->why, "%s (%s alert sent)", why, cs_tls_alert_name(alert));
  else
    snprintf(r->why, sizeof r->why, "%s", why);
  return rc;
}

/* What a decrypted non-data record means. */
static int handle_control(cs_tls_records_t *r, uint8_t type, const uint8_t *p, size_t n,
                          cs_tls_opened_t *out, cs_tls_bio_t *reply) {
  if (type == REC_ALERT) {
    if (n != 2)
      return fail(r, CS_EPARSE, AL_DECODE, reply, "malformed alert record");
    if (p[0] == ALERT_FATAL) {
      r->dead = 1;
      snprintf(r->why, sizeof r->why, "fatal alert received: %s (%d)", cs_tls_alert_name(p[1]),
               p[1]);
      return CS_EIO;
    }
    if (p[1] == AL_CLOSE_NOTIFY)
      out->eof = 1;
    /* Other warnings are ignored, as mbedTLS does. */
    return 0;
  }
  /* A HelloRequest (type 0, empty body) from the server asks for a
   * renegotiation: declined with a warning, as mbedTLS does with
   * renegotiation disabled, and the connection goes on. */
  if (type == REC_HANDSHAKE && !r->is_server && n == 4 && p[0] == 0 && p[1] == 0 && p[2] == 0 &&
      p[3] == 0) {
    return cs_tls_records_seal_alert(r, ALERT_WARNING, AL_NO_RENEGOTIATION, reply);
  }
  return fail(r, CS_EPARSE, AL_UNEXPECTED, reply,
              type == REC_HANDSHAKE ? "handshake message after the handshake"
                                    : "ChangeCipherSpec after the handshake");
}

size_t cs_tls_records_missing(const uint8_t *buf, size_t len) {
  if (len < HDR)
    return HDR - len;
  size_t total = HDR + ((size_t)buf[3] << 8 | buf[4]);
  return total > len ? total - len : 0;
}

int cs_tls_records_open(cs_tls_records_t *r, uint8_t *buf, size_t len, cs_tls_opened_t *out,
                        cs_tls_bio_t *reply) {
  memset(out, 0, sizeof *out);
  if (r->dead)
    return CS_ESTATE;
  if (len < HDR)
    return 0;
  uint8_t type = buf[0];
  size_t rlen = (size_t)buf[3] << 8 | buf[4];
  if (type < REC_CCS || type > REC_APP)
    return fail(r, CS_EPARSE, AL_UNEXPECTED, reply, "unknown record type");
  if (buf[1] != 3 || buf[2] != 3)
    return fail(r, CS_EPARSE, AL_PROTOCOL_VERSION, reply, "record version is not TLS 1.2");
  if (rlen > CS_TLS_RECORDS_MAX_CIPHERTEXT)
    return fail(r, CS_ETOOBIG, AL_OVERFLOW, reply, "record longer than 2^14+256 bytes");
  if (len - HDR < rlen)
    return 0; /* wait for the rest of the record */
  if (rlen < r->explicit_len + TAG)
    return fail(r, CS_ECRYPTO, AL_BAD_MAC, reply, "record shorter than its nonce and tag");
  size_t plen = rlen - r->explicit_len - TAG;
  if (plen > MAX_PLAIN)
    return fail(r, CS_ETOOBIG, AL_OVERFLOW, reply, "plaintext longer than 2^14 bytes");
  if (r->rd_seq == UINT64_MAX)
    return fail(r, CS_EOVERFLOW, 0, reply, "read sequence number exhausted");
  uint8_t nonce[12], aad[13];
  uint8_t *ct = buf + HDR + r->explicit_len;
  nonce_for(r, r->rd_iv, buf + HDR, r->rd_seq, nonce);
  aad_for(aad, r->rd_seq, type, plen);
  if (aead(r->rd, 0, nonce, aad, ct, plen, ct, ct + plen) != 0)
    return fail(r, CS_ECRYPTO, AL_BAD_MAC, reply, "record authentication failed");
  r->rd_seq++;
  out->used = HDR + rlen;
  if (type == REC_APP) {
    out->data = ct;
    out->len = plen;
    return 0;
  }
  return handle_control(r, type, ct, plen, out, reply);
}
