/*
 * Signed Certificate Timestamps (RFC 6962 §3.2, §3.3): strict parsing of
 * SignedCertificateTimestampList as found in the X.509 extension
 * 1.3.6.1.4.1.11129.2.4.2, the TLS extension signed_certificate_timestamp (18)
 * and the OCSP single extension 1.3.6.1.4.1.11129.2.4.5.
 *
 * Parsing borrows: every pointer in a cs_sct_t points into the caller's
 * buffer, which must outlive the SCTs.
 */
#ifndef CERTSKEW_CORE_SCT_H
#define CERTSKEW_CORE_SCT_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/error.h"

typedef enum cs_sct_source {
  CS_SCT_SOURCE_EMBEDDED = 1, /* X.509 extension in the certificate */
  CS_SCT_SOURCE_TLS = 2,      /* TLS extension in ServerHello */
  CS_SCT_SOURCE_OCSP = 3,     /* extension in a stapled OCSP response */
} cs_sct_source_t;

/* TLS HashAlgorithm / SignatureAlgorithm code points (RFC 5246 §7.4.1.4.1). */
#define CS_SCT_HASH_SHA256 4
#define CS_SCT_SIG_RSA 1
#define CS_SCT_SIG_ECDSA 3

typedef struct cs_sct {
  cs_sct_source_t source;
  uint8_t version;        /* 0 = v1; others are kept but not interpreted */
  int supported;          /* 1 if v1 with SHA-256 and RSA or ECDSA */
  uint8_t log_id[32];     /* SHA-256 of the log's public key (v1) */
  int64_t timestamp_ms;   /* ms since epoch, as signed by the log */
  const uint8_t *extensions;
  size_t extensions_len;
  uint8_t hash_alg;
  uint8_t sig_alg;
  const uint8_t *signature; /* DER signature bytes */
  size_t signature_len;
  const uint8_t *raw;       /* the whole serialized SCT (without its length prefix) */
  size_t raw_len;
} cs_sct_t;

/* Upper bound on SCTs in one list; real certificates carry 2 to 5. */
#define CS_SCT_LIST_MAX 64

/* Parses a TLS-encoded SignedCertificateTimestampList (2-byte total length,
 * then 2-byte-length-prefixed SCTs) filling out[0..*count). Strict: every
 * length must match exactly, the list and each SCT must be non-empty, v1
 * fields must be complete, timestamps must fit int64 ms. An SCT of an unknown
 * version is kept with supported = 0 (RFC 6962 §3.2: clients ignore them).
 * Returns 0, CS_ETRUNC, CS_EPARSE, CS_ERANGE or CS_ETOOBIG (> max). */
int cs_sct_list_parse(const uint8_t *buf, size_t len, cs_sct_source_t source, cs_sct_t *out,
                      size_t max, size_t *count, cs_errbuf_t *eb) CS_MUST_CHECK;

/* The same for the value of the X.509/OCSP extension: extnValue's content is
 * a DER OCTET STRING wrapping the TLS-encoded list. */
int cs_sct_list_parse_der(const uint8_t *buf, size_t len, cs_sct_source_t source, cs_sct_t *out,
                          size_t max, size_t *count, cs_errbuf_t *eb) CS_MUST_CHECK;

const char *cs_sct_source_name(cs_sct_source_t source);
const char *cs_sct_sig_alg_name(uint8_t sig_alg);

#endif
