/*
 * The revocation lab: OCSP responses and CRLs a lab CA signs, in memory, at
 * chosen times, so tests and `certskew lab`/`repro` can reproduce stale,
 * unprovisioned, revoked and not-yet-valid revocation data exactly.
 *
 * Pure like the rest of lab/: the time is an argument (int64 ms), the RNG is
 * an mbedTLS-style callback, nothing reads the clock, a file or a global.
 * Signatures: ECDSA or RSA with SHA-256, by the type of the signing key.
 */
#ifndef CERTSKEW_LAB_LAB_H
#define CERTSKEW_LAB_LAB_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>

#include "certskew/core/error.h"
#include "certskew/lab/lab_ct.h"
#include "certskew/revocation/ocsp.h"

/* What an OCSP response says. Zero-initialise, then set. */
typedef struct cs_lab_ocsp_spec {
  /* cs_ocsp_status_t: anything but CS_OCSP_SUCCESSFUL gives a bare
   * OCSPResponse without responseBytes (what an unprovisioned responder
   * answers: unauthorized, tryLater, ...). */
  int response_status;
  cs_ocsp_cert_status_t cert_status; /* good / revoked / unknown */
  int64_t revocation_time_ms;        /* REVOKED only */
  int revocation_reason;             /* CRLReason 0..10, or -1 for none (REVOKED only) */
  int64_t produced_at_ms;
  int64_t this_update_ms;
  int has_next_update;
  int64_t next_update_ms;
  int responder_by_name;             /* 0: ResponderID byKey, 1: byName (the issuer's subject) */
} cs_lab_ocsp_spec_t;

/* Builds a DER OCSPResponse about the certificate with serial
 * serial[0..serial_len) (INTEGER content octets) issued by issuer_der, signed
 * by the issuer itself with issuer_key (RFC 6960 §4.2.2.2 case 1). The CertID
 * uses SHA-1, as clients' requests do. Times are encoded as GeneralizedTime
 * at whole seconds (truncated; RFC 5280 forbids fractions).
 * *out is newly allocated (caller frees). Returns 0, CS_EINVAL (bad
 * arguments or status), CS_EPARSE (issuer_der is not a certificate),
 * CS_ERANGE (a time before year 0 or after 9999), CS_ECRYPTO or CS_ENOMEM. */
int cs_lab_ocsp_response(const uint8_t *issuer_der, size_t issuer_der_len,
                         const mbedtls_pk_context *issuer_key, const uint8_t *serial,
                         size_t serial_len, const cs_lab_ocsp_spec_t *spec, cs_lab_rng_fn f_rng,
                         void *p_rng, uint8_t **out, size_t *out_len) CS_MUST_CHECK;

/* One revoked certificate in a CRL. */
typedef struct cs_lab_crl_entry {
  const uint8_t *serial; /* INTEGER content octets, borrowed */
  size_t serial_len;
  int64_t revoked_ms;
} cs_lab_crl_entry_t;

/* What a CRL says. Zero-initialise, then set. */
typedef struct cs_lab_crl_spec {
  int64_t this_update_ms;
  int has_next_update;
  int64_t next_update_ms;
  uint64_t crl_number;          /* the CRLNumber extension (RFC 5280 requires it) */
  const cs_lab_crl_entry_t *entries; /* borrowed; may be NULL when nentries == 0 */
  size_t nentries;
  const char *idp_url;          /* non-NULL: a critical issuingDistributionPoint with this
                                   fullName URI (a CRL shard, RFC 5280 section 5.2.5) */
} cs_lab_crl_spec_t;

/* Builds a DER v2 CertificateList issued and signed by issuer_der /
 * issuer_key, with the CRLNumber and authorityKeyIdentifier extensions (and
 * the issuingDistributionPoint when spec->idp_url is set).
 * (mbedTLS 2.28 has no CRL writer.) Times are UTCTime through 2049 and
 * GeneralizedTime after, at whole seconds. *out newly allocated (caller
 * frees). Returns 0, CS_EINVAL, CS_EPARSE, CS_ERANGE, CS_ECRYPTO or
 * CS_ENOMEM. */
int cs_lab_crl_build(const uint8_t *issuer_der, size_t issuer_der_len,
                     const mbedtls_pk_context *issuer_key, const cs_lab_crl_spec_t *spec,
                     cs_lab_rng_fn f_rng, void *p_rng, uint8_t **out,
                     size_t *out_len) CS_MUST_CHECK;

#endif
