/*
 * The TLS 1.3 half of the capture probe (include/certskew/tls/tls_probe.h),
 * private to analyzers/ and the tests/fuzz targets. Four files, one job each:
 *   tls13_keys.c    ECDHE shares, RFC 8446 §7.1 key schedule, record opening
 *   tls13_hello.c   the ClientHello offering TLS 1.3 and 1.2 together
 *   tls13_parse.c   plaintext parsers of ServerHello/HRR, EncryptedExtensions,
 *                   Certificate and CertificateVerify bodies (fuzzed directly)
 *   tls13_verify.c  CertificateVerify signature check with the leaf's key
 *   tls13_client.c  the state machine tying them together (transcript, HRR)
 * All pure: randomness comes from the caller's f_rng, no I/O, no clock.
 */
#ifndef CERTSKEW_TLS13_INTERNAL_H
#define CERTSKEW_TLS13_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/chachapoly.h>
#include <mbedtls/ecp.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>

#include "certskew/tls/tls_probe.h"

#define CS_TLS13_HASH_MAX 48       /* SHA-384 */
#define CS_TLS13_SHARE_MAX 97      /* uncompressed P-384 point */
#define CS_TLS13_COOKIE_MAX 512    /* HRR cookie we are willing to echo */
#define CS_TLS13_REC_MAX (16384 + 256) /* TLSCiphertext bound (RFC 8446 §5.2) */

enum {
  CS_TLS13_GROUP_X25519 = 0x001D,
  CS_TLS13_GROUP_P256 = 0x0017,
  CS_TLS13_GROUP_P384 = 0x0018,
};

/* ---- tls13_keys.c ---- */

typedef struct cs_tls13_suite {
  uint16_t id;
  mbedtls_md_type_t md;
  size_t hash_len;
  size_t key_len;
  int chacha; /* 1: ChaCha20-Poly1305, 0: AES-GCM */
} cs_tls13_suite_t;

/* The suite with this id, or NULL if it is not one of the three we offer. */
const cs_tls13_suite_t *cs_tls13_suite_find(uint16_t id);

/* One ephemeral ECDHE key. _init cannot fail; _free is safe twice. */
typedef struct cs_tls13_share {
  uint16_t group; /* 0 when empty */
  mbedtls_ecp_group grp;
  mbedtls_mpi d;
  mbedtls_ecp_point q;
} cs_tls13_share_t;

void cs_tls13_share_init(cs_tls13_share_t *s);
void cs_tls13_share_free(cs_tls13_share_t *s);
/* Generates a key for group and writes its KeyShareEntry.key_exchange
 * (32 bytes little-endian for X25519, an uncompressed point otherwise) to
 * pub. CS_EUNSUPPORTED for another group, CS_ECRYPTO on RNG failure. */
int cs_tls13_share_generate(cs_tls13_share_t *s, uint16_t group,
                            int (*f_rng)(void *, unsigned char *, size_t), void *p_rng,
                            uint8_t *pub, size_t cap, size_t *pub_len) CS_MUST_CHECK;
/* The ECDHE shared secret with the server's key_exchange bytes (RFC 8446
 * §7.4): CS_EPARSE for an invalid point, CS_ECRYPTO for an all-zero X25519
 * result. out must hold 48 bytes; *out_len is the group's field size. */
int cs_tls13_share_compute(cs_tls13_share_t *s, const uint8_t *peer, size_t peer_len,
                           int (*f_rng)(void *, unsigned char *, size_t), void *p_rng,
                           uint8_t *out, size_t *out_len) CS_MUST_CHECK;

/* HKDF-Expand-Label(secret, label, context, out_len), RFC 8446 §7.1. */
int cs_tls13_expand_label(const cs_tls13_suite_t *s, const uint8_t *secret, const char *label,
                          const uint8_t *ctx, size_t ctx_len, uint8_t *out,
                          size_t out_len) CS_MUST_CHECK;
/* server_handshake_traffic_secret from the ECDHE secret and
 * Transcript-Hash(ClientHello..ServerHello); out holds hash_len bytes. */
int cs_tls13_server_hs_secret(const cs_tls13_suite_t *s, const uint8_t *ecdhe, size_t ecdhe_len,
                              const uint8_t *transcript_hash, uint8_t *out) CS_MUST_CHECK;

/* Record protection for the server's direction. _init cannot fail. */
typedef struct cs_tls13_rx {
  const cs_tls13_suite_t *suite; /* NULL until keyed */
  mbedtls_gcm_context gcm;
  mbedtls_chachapoly_context chachapoly;
  uint8_t iv[12];
  uint64_t seq;
} cs_tls13_rx_t;

void cs_tls13_rx_init(cs_tls13_rx_t *rx);
void cs_tls13_rx_free(cs_tls13_rx_t *rx);
int cs_tls13_rx_key(cs_tls13_rx_t *rx, const cs_tls13_suite_t *s,
                    const uint8_t *traffic_secret) CS_MUST_CHECK;
/* Opens one TLSCiphertext: hdr is its 5-byte header (the AEAD's additional
 * data), ct/ct_len its fragment. Writes the content (padding and type
 * stripped) to out (cap >= ct_len) and the inner content type. CS_ECRYPTO
 * when the tag does not verify, CS_EPARSE for an all-padding record. */
int cs_tls13_rx_open(cs_tls13_rx_t *rx, const uint8_t hdr[5], const uint8_t *ct, size_t ct_len,
                     uint8_t *out, size_t *out_len, uint8_t *inner_type,
                     cs_errbuf_t *eb) CS_MUST_CHECK;

/* ---- tls13_hello.c ---- */

typedef struct cs_tls13_hello_params {
  const char *sni;             /* DNS name or NULL/IP literal (then no SNI) */
  const uint8_t *random;       /* 32 bytes */
  uint16_t share_group;        /* the one key share offered */
  const uint8_t *share;        /* its key_exchange bytes */
  size_t share_len;
  const uint8_t *cookie;       /* HRR cookie to echo, or NULL */
  size_t cookie_len;
} cs_tls13_hello_params_t;

/* Writes the ClientHello *handshake message* (4-byte header included, no
 * record header) offering TLS 1.3 and 1.2. CS_ENOSPACE, CS_EINVAL. */
int cs_tls13_hello_build(const cs_tls13_hello_params_t *hp, uint8_t *buf, size_t cap,
                         size_t *len) CS_MUST_CHECK;
/* 1 when group is in the ClientHello's supported_groups. */
int cs_tls13_group_offered(uint16_t group);

/* ---- tls13_parse.c ---- */

typedef struct cs_tls13_server_hello {
  int hrr;                     /* the HelloRetryRequest random */
  uint16_t version;            /* from supported_versions */
  uint16_t suite;
  uint16_t group;              /* key_share: selected (HRR) or the server's */
  const uint8_t *share;        /* server key_exchange (not for HRR), borrowed */
  size_t share_len;
  const uint8_t *cookie;       /* HRR cookie contents, borrowed, or NULL */
  size_t cookie_len;
} cs_tls13_server_hello_t;

/* A TLS 1.3 ServerHello or HelloRetryRequest body (after the 4-byte header). */
int cs_tls13_server_hello_parse(const uint8_t *b, size_t n, cs_tls13_server_hello_t *sh,
                                cs_errbuf_t *eb) CS_MUST_CHECK;
/* EncryptedExtensions body: the selected ALPN (if any) into res->alpn. */
int cs_tls13_ee_parse(const uint8_t *b, size_t n, cs_tls_probe_result_t *res,
                      cs_errbuf_t *eb) CS_MUST_CHECK;
/* Certificate body: certs, and the leaf's OCSP response and SCT list, into
 * res (pointers into b, which must outlive res). CS_ETOOBIG past
 * CS_TLS_PROBE_MAX_CERTS. */
int cs_tls13_certificate_parse(const uint8_t *b, size_t n, cs_tls_probe_result_t *res,
                               cs_errbuf_t *eb) CS_MUST_CHECK;
/* CertificateVerify body: algorithm and signature (borrowed). */
int cs_tls13_cert_verify_parse(const uint8_t *b, size_t n, uint16_t *alg, const uint8_t **sig,
                               size_t *sig_len, cs_errbuf_t *eb) CS_MUST_CHECK;

/* ---- tls13_verify.c ---- */

/* Checks a server CertificateVerify signature (RFC 8446 §4.4.3) made with
 * the leaf's key over transcript_hash (Transcript-Hash up to Certificate).
 * Returns the verdict; detail gets a one-line reason. Pure. */
cs_tls_probe_cv_t cs_tls13_cert_verify_check(const uint8_t *leaf, size_t leaf_len, uint16_t alg,
                                             const uint8_t *transcript_hash, size_t hash_len,
                                             const uint8_t *sig, size_t sig_len, char *detail,
                                             size_t detail_cap);

/* ---- tls13_client.c ---- */

typedef struct cs_tls13_client cs_tls13_client_t;

/* Generates the X25519 share and the first ClientHello (pending output).
 * NULL f_rng is CS_EINVAL. */
int cs_tls13_client_new(const char *sni, int (*f_rng)(void *, unsigned char *, size_t),
                        void *p_rng, cs_tls13_client_t **out, cs_errbuf_t *eb) CS_MUST_CHECK;
void cs_tls13_client_free(cs_tls13_client_t *c);
/* Bytes to send (TLS records), borrowed until the next call into c; then cleared. */
void cs_tls13_client_take_output(cs_tls13_client_t *c, const uint8_t **out, size_t *len);
/* A HelloRetryRequest (body b/n): queues the second ClientHello. */
int cs_tls13_client_hrr(cs_tls13_client_t *c, const uint8_t *b, size_t n,
                        cs_tls_probe_result_t *res, cs_errbuf_t *eb) CS_MUST_CHECK;
/* A TLS 1.3 ServerHello: derives the server handshake keys. */
int cs_tls13_client_server_hello(cs_tls13_client_t *c, const uint8_t *b, size_t n,
                                 cs_tls_probe_result_t *res, cs_errbuf_t *eb) CS_MUST_CHECK;
/* Opens one protected record in place of out (cap CS_TLS13_REC_MAX). */
int cs_tls13_client_open(cs_tls13_client_t *c, const uint8_t hdr[5], const uint8_t *ct,
                         size_t ct_len, uint8_t *out, size_t *out_len, uint8_t *inner_type,
                         cs_errbuf_t *eb) CS_MUST_CHECK;
/* One decrypted handshake message; body must outlive res (the dispatcher
 * keeps copies). Sets res->outcome when CertificateVerify is judged. */
int cs_tls13_client_message(cs_tls13_client_t *c, uint8_t type, const uint8_t *b, size_t n,
                            cs_tls_probe_result_t *res, cs_errbuf_t *eb) CS_MUST_CHECK;

#endif
