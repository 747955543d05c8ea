/*
 * Our own TLS 1.2 record layer for a connection whose handshake mbedTLS has
 * finished, with the AEAD from OpenSSL's libcrypto. mbedTLS 2.28's AEADs
 * run at 256 MB/s (AES-128-GCM) and 413 MB/s (ChaCha20-Poly1305) per core
 * on the development machine against ~4 GB/s for libcrypto 3.0, and an
 * intercepting relay decrypts and re-encrypts every byte (issue #21).
 *
 * Only the TLS 1.2 AEAD suites are taken over: AES-128/256-GCM (RFC 5288,
 * 4-byte implicit salt + 8-byte explicit nonce, the sequence number as
 * mbedTLS does) and ChaCha20-Poly1305 (RFC 7905, IV XOR sequence number).
 * Everything else stays on mbedTLS (cs_tls_records_ready says no).
 *
 * The engine does no I/O: records are opened in place from the caller's
 * buffer and sealed into a cs_tls_bio_t's output buffer.
 */
#ifndef CERTSKEW_NET_TLS_RECORDS_H
#define CERTSKEW_NET_TLS_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ssl.h>

#include "certskew/core/error.h"
#include "certskew/net/tls_bio.h"

/* Largest ciphertext length field accepted (RFC 5246 §6.2.3 allows 2048 of
 * expansion; no AEAD suite needs more than 8 + 16). */
#define CS_TLS_RECORDS_MAX_CIPHERTEXT (16384u + 256u)

/* The key block of one handshake, as mbedTLS exports it (AEAD suites
 * only: no MAC keys). Filled by cs_tls_keys_export, wiped once used. */
typedef struct cs_tls_keys {
  uint8_t block[2 * 32 + 2 * 12]; /* client key, server key, client IV, server IV */
  size_t keylen, ivlen;
  int ready; /* a key block for an AEAD suite is held */
} cs_tls_keys_t;

/* mbedtls_ssl_export_keys_ext_t: p_expkey is a cs_tls_keys_t. Keeps kb
 * when it is an AEAD key block (maclen 0, keylen 16 or 32, ivlen 4 or 12),
 * marks the keys not ready otherwise. Always returns 0 (the handshake goes
 * on; the connection then simply stays on mbedTLS). */
int cs_tls_keys_export(void *p_expkey, const unsigned char *ms, const unsigned char *kb,
                       size_t maclen, size_t keylen, size_t ivlen,
                       const unsigned char client_random[32], const unsigned char server_random[32],
                       mbedtls_tls_prf_types tls_prf_type);
/* Zeroes k (mbedtls_platform_zeroize). Safe twice. */
void cs_tls_keys_wipe(cs_tls_keys_t *k);

typedef struct cs_tls_records cs_tls_records_t;

/* 1 when ssl can be handed over now: handshake over, TLS 1.2, one of the
 * three AEAD suites, keys ready, no decrypted byte pending, nothing left
 * to write in mbedTLS. A partial raw record (ssl->in_hdr, in_left bytes)
 * may remain: the caller puts it in front of its unread input. */
int cs_tls_records_ready(const mbedtls_ssl_context *ssl, const cs_tls_keys_t *keys);

/* Creates the record layer from ssl (borrowed; read only here: sequence
 * numbers, version, suite, role, max out payload) and keys, which are
 * wiped. *out is owned by the caller (cs_tls_records_free).
 * CS_EUNSUPPORTED when not ready, CS_ENOMEM, CS_ECRYPTO. */
int cs_tls_records_new(cs_tls_records_t **out, const mbedtls_ssl_context *ssl,
                       cs_tls_keys_t *keys) CS_MUST_CHECK;
/* The same from the parameters cs_tls_records_new reads from mbedTLS
 * (the fuzz target uses fixed keys): suite (mbedTLS id), our role, the
 * next sequence numbers to read and write, the largest plaintext per
 * record (0 or above 16384: 16384). keys are wiped. */
int cs_tls_records_new_keys(cs_tls_records_t **out, int suite, int is_server, cs_tls_keys_t *keys,
                            uint64_t rd_seq, uint64_t wr_seq, size_t max_out) CS_MUST_CHECK;
/* Frees r (NULL is fine); key material is wiped. */
void cs_tls_records_free(cs_tls_records_t *r);

typedef struct cs_tls_opened {
  size_t used;         /* bytes of the buffer consumed; 0: a record is incomplete */
  uint8_t *data;       /* application data, decrypted in place in the buffer */
  size_t len;
  int eof;             /* close_notify received */
} cs_tls_opened_t;

/* Bytes still missing from the first record of buf[0..len) (its 5-byte
 * header first, then the body the header announces); 0 when it is whole. */
size_t cs_tls_records_missing(const uint8_t *buf, size_t len);

/* Opens the first record of buf[0..len) in place. On success (0) out says
 * what it held: application data (possibly empty), EOF, or nothing for the
 * caller (a warning alert ignored, a HelloRequest answered with a warning
 * no_renegotiation alert sealed into reply). out->used == 0 means wait for
 * more bytes. On error (CS_EPARSE malformed or unexpected, CS_ETOOBIG
 * record_overflow, CS_ECRYPTO bad_record_mac, CS_EIO fatal alert received,
 * CS_EOVERFLOW sequence number exhausted) no plaintext is released, the
 * fatal alert for the peer (if any) is sealed into reply, the layer refuses
 * all further use, and cs_tls_records_error says why. */
int cs_tls_records_open(cs_tls_records_t *r, uint8_t *buf, size_t len, cs_tls_opened_t *out,
                        cs_tls_bio_t *reply) CS_MUST_CHECK;

/* Seals data into records of at most the max out payload, appended to
 * out's output buffer. CS_ENOMEM, CS_ECRYPTO, CS_EOVERFLOW, CS_ESTATE. */
int cs_tls_records_seal(cs_tls_records_t *r, const uint8_t *data, size_t len,
                        cs_tls_bio_t *out) CS_MUST_CHECK;
/* Seals one alert record (level 1 warning, 2 fatal). */
int cs_tls_records_seal_alert(cs_tls_records_t *r, int level, int description,
                              cs_tls_bio_t *out) CS_MUST_CHECK;

/* Why the last call failed ("" when none did). */
const char *cs_tls_records_error(const cs_tls_records_t *r);
/* The negotiated suite's name, e.g. "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256". */
const char *cs_tls_records_suite(const cs_tls_records_t *r);

#endif
