/*
 * The stapling probe's pure half: a hand-built TLS 1.2 ClientHello that asks
 * for OCSP stapling (status_request) and TLS-extension SCTs, and a strict
 * parser of the server's plaintext flight (ServerHello, Certificate,
 * CertificateStatus) fed bytes as they arrive, BearSSL-style: the parser does
 * no I/O; fetch/stapling_probe.c moves the bytes.
 *
 * Why a separate probe: mbedTLS 2.28's client cannot request stapling and
 * has no TLS 1.3. Two modes share the parser:
 *  - passive (cs_tls_probe_parser_new): a flight going by (tls_sniff.c). A
 *    TLS 1.3 answer is encrypted without keys we hold: NOT_OBSERVABLE.
 *  - client (cs_tls_probe_client_new): the probe's own connection. One
 *    ClientHello offers TLS 1.3 and 1.2; a 1.2 answer is parsed as in passive
 *    mode, a 1.3 answer is decrypted with the handshake keys (HelloRetryRequest
 *    answered), EncryptedExtensions, Certificate and CertificateVerify read,
 *    and the CertificateVerify signature checked, so a capture proves the
 *    server holds the leaf's key. Finished is never sent.
 */
#ifndef CERTSKEW_TLS_TLS_PROBE_H
#define CERTSKEW_TLS_TLS_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/error.h"

#define CS_TLS_PROBE_HELLO_MAX 1024          /* TLS 1.2-only ClientHello size bound */
#define CS_TLS_PROBE_MAX_CERTS 64            /* more is CS_ETOOBIG, never truncated */
#define CS_TLS_PROBE_MAX_MSG (256u * 1024)   /* largest handshake message accepted */

/* Passive mode's companion (tests, the sniffer's fixtures): writes a TLS
 * record holding a TLS 1.2-only ClientHello for host `sni` (may be NULL or
 * an IP literal: no SNI is sent then) with the 32-byte client random the
 * caller provides (the parser is pure: no RNG here). Offers only TLS 1.2,
 * ECDHE/RSA AES-GCM/CBC suites, and the extensions server_name, status_request,
 * supported_groups, ec_point_formats, signature_algorithms and
 * signed_certificate_timestamp. CS_ENOSPACE if cap is short, CS_EINVAL for a
 * name longer than 255 bytes. */
int cs_tls_probe_hello_build(const char *sni, const uint8_t random[32], uint8_t *buf,
                             size_t cap, size_t *len) CS_MUST_CHECK;

typedef enum cs_tls_probe_outcome {
  CS_TLS_PROBE_INCOMPLETE = 0,   /* needs more bytes */
  CS_TLS_PROBE_DONE,             /* everything seen: TLS 1.2 ServerHelloDone, or
                                    TLS 1.3 CertificateVerify verified */
  CS_TLS_PROBE_NOT_OBSERVABLE,   /* passive mode only: TLS 1.3 (or HRR / alert
                                    protocol_version): the flight is encrypted */
  CS_TLS_PROBE_ALERT,            /* another fatal alert (see alert) */
  CS_TLS_PROBE_BAD_CERT_VERIFY,  /* TLS 1.3: CertificateVerify does not verify
                                    with the leaf's key: the chain is NOT a
                                    proven capture (detail says why) */
} cs_tls_probe_outcome_t;

/* TLS 1.3 CertificateVerify verdict (client mode). */
typedef enum cs_tls_probe_cv {
  CS_TLS_PROBE_CV_NONE = 0,      /* not TLS 1.3 or not reached */
  CS_TLS_PROBE_CV_VERIFIED,      /* signature over the transcript verifies */
  CS_TLS_PROBE_CV_BAD_SIGNATURE, /* it does not (outcome BAD_CERT_VERIFY) */
  CS_TLS_PROBE_CV_UNSUPPORTED,   /* algorithm or leaf key we cannot check
                                    (outcome BAD_CERT_VERIFY: not proven) */
} cs_tls_probe_cv_t;

typedef struct cs_tls_probe_result {
  cs_tls_probe_outcome_t outcome;
  uint16_t version;              /* negotiated (ServerHello), 0 if none; 0x0304 TLS 1.3 */
  uint16_t cipher_suite;
  uint16_t group;                /* TLS 1.3 key-exchange group (0x001D x25519, ...) */
  int hrr;                       /* TLS 1.3: the server sent a HelloRetryRequest */
  char alpn[256];                /* selected ALPN protocol (<= 255 bytes), "" if none */
  cs_tls_probe_cv_t cert_verify; /* TLS 1.3 CertificateVerify verdict */
  uint16_t cert_verify_alg;      /* its SignatureScheme */
  int alert;                     /* alert description, -1 if none */
  int status_request_acked;      /* ServerHello (1.2) / leaf CertificateEntry (1.3)
                                    carried status_request */
  int sct_ext_present;           /* ... carried signed_certificate_timestamp */
  const uint8_t *sct_list;       /* its extension_data: a SignedCertificateTimestampList
                                    (2-byte length prefix included), borrowed */
  size_t sct_list_len;
  size_t ncerts;
  const uint8_t *certs[CS_TLS_PROBE_MAX_CERTS]; /* DER, leaf first, borrowed */
  size_t cert_lens[CS_TLS_PROBE_MAX_CERTS];
  const uint8_t *ocsp;           /* OCSPResponse DER (1.2 CertificateStatus, 1.3 leaf
                                    entry's status_request), or NULL */
  size_t ocsp_len;
  char detail[128];              /* why NOT_OBSERVABLE / ALERT / BAD_CERT_VERIFY;
                                    for a verified TLS 1.3 capture, the check done */
} cs_tls_probe_result_t;

typedef struct cs_tls_probe_parser cs_tls_probe_parser_t;

/* Passive mode. NULL on allocation failure. */
cs_tls_probe_parser_t *cs_tls_probe_parser_new(void);

/* mbedTLS-style RNG callback: 0 on success. */
typedef int (*cs_tls_probe_rng_fn)(void *p_rng, unsigned char *out, size_t len);

/* Client mode: draws the client random and an X25519 key share from f_rng
 * (p_rng passed through; both must outlive the parser) and queues the first
 * ClientHello (TLS 1.3 + 1.2, SNI for `sni` unless NULL or an IP literal,
 * ALPN h2/http/1.1, status_request, signed_certificate_timestamp): fetch it
 * with cs_tls_probe_parser_take_output. *out is owned by the caller (free
 * with cs_tls_probe_parser_free). CS_EINVAL (no rng, name > 255 bytes),
 * CS_ENOMEM, CS_ECRYPTO (RNG failure). */
int cs_tls_probe_client_new(const char *sni, cs_tls_probe_rng_fn f_rng, void *p_rng,
                            cs_tls_probe_parser_t **out, cs_errbuf_t *eb) CS_MUST_CHECK;

/* Bytes the client must send now (after _client_new: the ClientHello; after a
 * HelloRetryRequest: the second one), or *len = 0. Borrowed until the next
 * feed or free; taking clears them. Passive parsers never have any. */
void cs_tls_probe_parser_take_output(cs_tls_probe_parser_t *p, const uint8_t **out, size_t *len);
/* Safe on NULL. Invalidates every pointer in the result. */
void cs_tls_probe_parser_free(cs_tls_probe_parser_t *p);

/* Feeds server bytes in any split. Returns 0 while more is needed or once the
 * outcome is final (check cs_tls_probe_parser_result()->outcome; bytes after
 * a final outcome are ignored), or a negative CS_E* (CS_EPARSE, CS_ETRUNC,
 * CS_ETOOBIG, CS_EUNSUPPORTED, CS_ENOMEM, CS_ECRYPTO for a record that does
 * not decrypt or a bad key share) with a detail in eb on a protocol
 * violation; every later call then returns CS_ESTATE. In client mode, check
 * cs_tls_probe_parser_take_output after each feed. */
int cs_tls_probe_parser_feed(cs_tls_probe_parser_t *p, const uint8_t *data, size_t len,
                             cs_errbuf_t *eb) CS_MUST_CHECK;

/* The result so far (borrowed; pointers into the parser's buffers). */
const cs_tls_probe_result_t *cs_tls_probe_parser_result(const cs_tls_probe_parser_t *p);

#endif
