/*
 * The stapling probe's pure half: a hand-built TLS 1.2 ClientHello that asks
 * for OCSP stapling (status_request) and TLS-extension SCTs, and a strict
 * parser of the server's plaintext flight (ServerHello, Certificate,
 * CertificateStatus) fed bytes as they arrive, BearSSL-style: the parser does
 * no I/O; fetch/stapling_probe.c moves the bytes.
 *
 * Why a separate probe: mbedTLS 2.28's client cannot request stapling, and in
 * TLS 1.3 these messages are encrypted, so only a TLS 1.2 handshake shows them.
 */
#ifndef CERTSKEW_TLS_TLS_PROBE_H
#define CERTSKEW_TLS_TLS_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/error.h"

#define CS_TLS_PROBE_HELLO_MAX 1024          /* ClientHello size bound */
#define CS_TLS_PROBE_MAX_CERTS 16
#define CS_TLS_PROBE_MAX_MSG (256u * 1024)   /* largest handshake message accepted */

/* Writes a TLS record holding the ClientHello for host `sni` (may be NULL or
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
  CS_TLS_PROBE_DONE,             /* ServerHelloDone reached: everything seen */
  CS_TLS_PROBE_NOT_OBSERVABLE,   /* server wants TLS 1.3 only (or HRR / alert
                                    protocol_version): stapling not observable */
  CS_TLS_PROBE_ALERT,            /* another fatal alert (see alert) */
} cs_tls_probe_outcome_t;

typedef struct cs_tls_probe_result {
  cs_tls_probe_outcome_t outcome;
  uint16_t version;              /* negotiated (ServerHello), 0 if none */
  uint16_t cipher_suite;
  int alert;                     /* alert description, -1 if none */
  int status_request_acked;      /* ServerHello carried status_request */
  int sct_ext_present;           /* ServerHello carried signed_certificate_timestamp */
  const uint8_t *sct_list;       /* its extension_data: a SignedCertificateTimestampList
                                    (2-byte length prefix included), borrowed */
  size_t sct_list_len;
  size_t ncerts;
  const uint8_t *certs[CS_TLS_PROBE_MAX_CERTS]; /* DER, leaf first, borrowed */
  size_t cert_lens[CS_TLS_PROBE_MAX_CERTS];
  const uint8_t *ocsp;           /* CertificateStatus OCSPResponse DER, or NULL */
  size_t ocsp_len;
  char detail[128];              /* why NOT_OBSERVABLE / ALERT, "" otherwise */
} cs_tls_probe_result_t;

typedef struct cs_tls_probe_parser cs_tls_probe_parser_t;

/* NULL on allocation failure. */
cs_tls_probe_parser_t *cs_tls_probe_parser_new(void);
/* Safe on NULL. Invalidates every pointer in the result. */
void cs_tls_probe_parser_free(cs_tls_probe_parser_t *p);

/* Feeds server bytes in any split. Returns 0 while more is needed or once the
 * outcome is final (check cs_tls_probe_parser_result()->outcome; bytes after
 * a final outcome are ignored), or a negative CS_E* (CS_EPARSE, CS_ETRUNC,
 * CS_ETOOBIG, CS_EUNSUPPORTED, CS_ENOMEM) with a detail in eb on a protocol
 * violation; every later call then returns CS_ESTATE. */
int cs_tls_probe_parser_feed(cs_tls_probe_parser_t *p, const uint8_t *data, size_t len,
                             cs_errbuf_t *eb) CS_MUST_CHECK;

/* The result so far (borrowed; pointers into the parser's buffers). */
const cs_tls_probe_result_t *cs_tls_probe_parser_result(const cs_tls_probe_parser_t *p);

#endif
