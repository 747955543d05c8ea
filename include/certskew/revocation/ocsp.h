/*
 * OCSP (RFC 6960): a strict DER parser for OCSPResponse / BasicOCSPResponse,
 * signature verification against the issuer or a delegated responder, and a
 * request builder (SHA-1 CertID, what every public responder accepts).
 *
 * Pure: no I/O, no clock. Times are int64 ms (time.h). A parsed response
 * owns a copy of its DER; every pointer it hands out borrows from that copy
 * and stays valid until cs_ocsp_response_free.
 */
#ifndef CERTSKEW_REVOCATION_OCSP_H
#define CERTSKEW_REVOCATION_OCSP_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/md.h>
#include <mbedtls/x509_crt.h>

#include "certskew/core/error.h"

/* OCSPResponseStatus values (RFC 6960 §4.2.1); 4 is unused by the RFC. */
typedef enum cs_ocsp_status {
  CS_OCSP_SUCCESSFUL = 0,
  CS_OCSP_MALFORMED_REQUEST = 1,
  CS_OCSP_INTERNAL_ERROR = 2,
  CS_OCSP_TRY_LATER = 3,
  CS_OCSP_SIG_REQUIRED = 5,
  CS_OCSP_UNAUTHORIZED = 6,
} cs_ocsp_status_t;

typedef enum cs_ocsp_cert_status {
  CS_OCSP_CERT_GOOD = 0,
  CS_OCSP_CERT_REVOKED = 1,
  CS_OCSP_CERT_UNKNOWN = 2,
} cs_ocsp_cert_status_t;

/* Limits that make hostile input a clear error. */
#define CS_OCSP_MAX_INPUT (1u * 1024 * 1024)
#define CS_OCSP_MAX_SINGLES 64
#define CS_OCSP_MAX_CERTS 8
#define CS_OCSP_MAX_HASH 64   /* longest CertID hash (SHA-512) */
#define CS_OCSP_MAX_SERIAL 32 /* RFC 5280 allows 20 octets; some CAs pad */

/* A CertID: which certificate a request or single response is about. */
typedef struct cs_ocsp_certid {
  mbedtls_md_type_t hash_alg; /* MBEDTLS_MD_NONE if the OID is not known */
  uint8_t name_hash[CS_OCSP_MAX_HASH];
  size_t name_hash_len;
  uint8_t key_hash[CS_OCSP_MAX_HASH];
  size_t key_hash_len;
  uint8_t serial[CS_OCSP_MAX_SERIAL]; /* INTEGER content octets as encoded */
  size_t serial_len;
} cs_ocsp_certid_t;

typedef struct cs_ocsp_single {
  cs_ocsp_certid_t certid;
  cs_ocsp_cert_status_t status;
  int64_t revocation_time_ms;   /* only when REVOKED */
  int revocation_reason;        /* CRLReason, -1 when absent */
  int64_t this_update_ms;
  int has_next_update;
  int64_t next_update_ms;       /* only when has_next_update */
  const uint8_t *sct_list;      /* SCT list (TLS encoding, RFC 6962 §3.3) from the
                                   1.3.6.1.4.1.11129.2.4.5 extension, or NULL */
  size_t sct_list_len;
} cs_ocsp_single_t;

/* Facts of a parsed response. Fields past response_status are meaningful
 * only when response_status == CS_OCSP_SUCCESSFUL (has_basic == 1). */
typedef struct cs_ocsp_info {
  int response_status;          /* cs_ocsp_status_t value as received */
  int has_basic;                /* 1 when a BasicOCSPResponse was parsed */
  int responder_by_key;         /* 1: byKey, 0: byName */
  uint8_t responder_key_hash[20];
  const uint8_t *responder_name_raw; /* DER Name (byName), borrowed */
  size_t responder_name_raw_len;
  char responder_name[256];     /* RFC 4514-like string, "" for byKey */
  int64_t produced_at_ms;
  size_t nsingles;
  size_t ncerts;                /* certificates in the certs field */
  mbedtls_md_type_t sig_md;
  mbedtls_pk_type_t sig_pk;
} cs_ocsp_info_t;

typedef struct cs_ocsp_response cs_ocsp_response_t;

/* Parses an OCSPResponse (DER). Copies der. On error *out is NULL and eb says
 * where: CS_EPARSE/CS_ETRUNC for malformed DER, CS_ETOOBIG over the limits,
 * CS_EUNSUPPORTED for a responseType other than id-pkix-ocsp-basic.
 * A non-successful responseStatus (tryLater, unauthorized, ...) is not an
 * error: it parses to a response with has_basic == 0. */
int cs_ocsp_parse(cs_ocsp_response_t **out, const uint8_t *der, size_t len,
                  cs_errbuf_t *eb) CS_MUST_CHECK;
/* Safe on NULL. */
void cs_ocsp_response_free(cs_ocsp_response_t *r);

const cs_ocsp_info_t *cs_ocsp_response_info(const cs_ocsp_response_t *r);
/* NULL if i >= nsingles. */
const cs_ocsp_single_t *cs_ocsp_response_single(const cs_ocsp_response_t *r, size_t i);
/* The response's own DER (borrowed). */
const uint8_t *cs_ocsp_response_der(const cs_ocsp_response_t *r, size_t *len);
/* The signed part of a basic response, for signature checks: tbsResponseData
 * (DER TLV), signature bits, and mbedTLS's algorithm options (RSASSA-PSS
 * parameters, else NULL). All borrowed. CS_EINVAL without a basic response. */
int cs_ocsp_response_signed_parts(const cs_ocsp_response_t *r, const uint8_t **tbs,
                                  size_t *tbs_len, const uint8_t **sig, size_t *sig_len,
                                  const void **sig_opts) CS_MUST_CHECK;
/* The certificates of the certs field as an mbedTLS list (borrowed), or NULL
 * when there are none. */
const mbedtls_x509_crt *cs_ocsp_response_certs(const cs_ocsp_response_t *r);
/* Name of a status ("successful", "unauthorized", ...); never NULL. */
const char *cs_ocsp_status_name(int status);
const char *cs_ocsp_cert_status_name(cs_ocsp_cert_status_t s);

/* The CertID of the certificate with serial `serial` (INTEGER content
 * octets, e.g. crt->serial) issued by `issuer`, hashed with md (SHA-1 for
 * requests): hash of the issuer's DER subject Name and of the value bits of
 * its subjectPublicKey BIT STRING. CS_EUNSUPPORTED for an unknown md. */
int cs_ocsp_certid_compute(cs_ocsp_certid_t *out, const mbedtls_x509_crt *issuer,
                           const uint8_t *serial, size_t serial_len,
                           mbedtls_md_type_t md) CS_MUST_CHECK;

/* The single response about `leaf` issued by `issuer` (CertID recomputed with
 * each single response's own hash algorithm), or NULL. */
const cs_ocsp_single_t *cs_ocsp_response_find(const cs_ocsp_response_t *r,
                                              const mbedtls_x509_crt *leaf,
                                              const mbedtls_x509_crt *issuer);

/* Builds a DER OCSPRequest for one certificate into buf (cap bytes) with a
 * SHA-1 CertID and no nonce (so responders may answer from a cache, as they
 * do for browsers). *len receives the size. CS_ENOSPACE if cap is short. */
int cs_ocsp_request_build(const mbedtls_x509_crt *leaf, const mbedtls_x509_crt *issuer,
                          uint8_t *buf, size_t cap, size_t *len) CS_MUST_CHECK;

typedef enum cs_ocsp_signer {
  CS_OCSP_SIGNER_NONE = 0,      /* no certificate matches the responder id */
  CS_OCSP_SIGNER_ISSUER,        /* signed by the issuing CA itself */
  CS_OCSP_SIGNER_DELEGATED,     /* by a certificate the CA issued with id-kp-OCSPSigning */
} cs_ocsp_signer_t;

typedef struct cs_ocsp_verify_result {
  cs_ocsp_signer_t signer;
  int signature_ok;             /* 1 if the signature verifies with the signer's key */
  int delegate_not_authorized;  /* a matching certificate lacks id-kp-OCSPSigning
                                   or is not signed by the issuer */
  int64_t delegate_not_before_ms; /* delegated signer's validity (when DELEGATED) */
  int64_t delegate_not_after_ms;
  char detail[160];             /* why it failed, "" when ok */
} cs_ocsp_verify_result_t;

/* Verifies the response signature (RFC 6960 §4.2.2.2): the signer is the
 * issuer (responder id matches it) or a certificate from the response's
 * certs field, issued and signed by `issuer`, with id-kp-OCSPSigning.
 * Returns 0 when the check ran (verdict in *res), CS_EINVAL without a basic
 * response. */
int cs_ocsp_verify(const cs_ocsp_response_t *r, const mbedtls_x509_crt *issuer,
                   cs_ocsp_verify_result_t *res) CS_MUST_CHECK;

#endif
