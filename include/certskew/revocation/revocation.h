/*
 * Revocation diagnosis: what OCSP (stapled and fetched), the CRL and AIA say
 * about a served chain, and why a brand-new certificate often has no "good"
 * status yet (responders are provisioned minutes after issuance).
 *
 * Pure (analyzers/revocation_*.c): inputs in, findings/time checks/JSON out.
 * Fetching is include/certskew/fetch/ocsp_fetch.h's job.
 */
#ifndef CERTSKEW_REVOCATION_REVOCATION_H
#define CERTSKEW_REVOCATION_REVOCATION_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <mbedtls/x509_crt.h>

#include "certskew/revocation/crl.h"
#include "certskew/core/error.h"
#include "certskew/core/findings.h"
#include "certskew/revocation/ocsp.h"
#include "certskew/core/replay.h"
#include "certskew/core/time.h"

/* ---- URLs a certificate names (mbedTLS 2.28 parses neither extension) ---- */

#define CS_REVOCATION_URL_MAX 512
typedef struct cs_revocation_urls {
  char ocsp[CS_REVOCATION_URL_MAX];       /* first AIA id-ad-ocsp URI, "" if none */
  char ca_issuers[CS_REVOCATION_URL_MAX]; /* first AIA id-ad-caIssuers URI, "" if none */
  char crl[CS_REVOCATION_URL_MAX];        /* first CRL distribution point URI, "" if none */
} cs_revocation_urls_t;

/* Reads the AIA and CRL distribution point extensions of crt. Missing
 * extensions leave "" (not an error); CS_EPARSE if one is malformed. */
int cs_revocation_urls_get(const mbedtls_x509_crt *crt, cs_revocation_urls_t *out) CS_MUST_CHECK;

/* Parses a caIssuers body: one or more DER or PEM certificates, or a PKCS#7
 * certs-only SignedData (RFC 5280 §4.2.2.1). Appends to out (initialised by
 * the caller with mbedtls_x509_crt_init). CS_EEMPTY when no certificate. */
int cs_aia_parse_certs(const uint8_t *buf, size_t len, mbedtls_x509_crt *out,
                       cs_errbuf_t *eb) CS_MUST_CHECK;

/* 1 when crt carries the CT precertificate poison extension (RFC 6962
 * section 3.1, OID 1.3.6.1.4.1.11129.2.4.3), 0 otherwise (or if its
 * extensions cannot be walked). */
int cs_revocation_is_precert(const mbedtls_x509_crt *crt);

/* ---- Diagnosis ---- */

/* A responder that answers unauthorized/unknown for a certificate younger than
 * this has most likely just not been provisioned yet: CAs push new serials
 * to their OCSP responders asynchronously, typically within minutes (the CA/B
 * Baseline Requirements §4.9.10 bound is far looser). */
#define CS_REVOCATION_DEFAULT_PROVISIONING_MS (15 * CS_MS_PER_MINUTE)

typedef struct cs_revocation_input {
  const mbedtls_x509_crt *leaf;       /* required */
  const mbedtls_x509_crt *issuer;     /* NULL if the chain lacks it (see aia_*) */
  int64_t leaf_issued_ms;             /* when the leaf was issued (its "age" origin): the
                                         latest embedded SCT timestamp if any, else notBefore.
                                         notBefore alone is usually backdated an hour, which
                                         would make every brand-new leaf look an hour old. */
  const cs_ocsp_response_t *stapled;  /* NULL if none was stapled */
  int stapling_observable;            /* 0 when the probe could not see (TLS 1.3 only) */
  const cs_ocsp_response_t *fetched;  /* NULL if not fetched (--no-fetch or no URL) */
  const cs_crl_info_t *crl;           /* NULL if not fetched */
  int issuer_from_aia;                /* 1: issuer was missing and came from caIssuers */
  int64_t at_ms;                      /* the instant asked about */
  int64_t provisioning_ms;            /* 0 = CS_REVOCATION_DEFAULT_PROVISIONING_MS */
  int time_checks_in_replay;          /* 1 when cs_revocation_add_checks fed the replay:
                                         OCSP_STALE / OCSP_NOT_YET_VALID / CRL_STALE are then
                                         reported per clock by cs_replay_run, not here */
} cs_revocation_input_t;

/* Appends the revocation findings to f. Stable codes:
 *   OCSP_NOT_PROVISIONED  unauthorized/unknown for a leaf younger than provisioning_ms
 *   OCSP_UNAUTHORIZED     unauthorized (or unknown) for an older leaf
 *   OCSP_PRECERT_UNAVAILABLE  the same for a precertificate (CT poison): a logged
 *                         precertificate must have status (Mozilla policy 5.4, BR 4.9.10)
 *   OCSP_ERROR_STATUS     tryLater / internalError / malformedRequest / sigRequired
 *   OCSP_BAD_SIGNATURE    the signature or the responder's authority fails
 *   OCSP_STALE            nextUpdate passed at at_ms
 *   OCSP_NOT_YET_VALID    thisUpdate/producedAt after at_ms
 *   OCSP_STAPLE_MISMATCH  stapled and fetched statuses disagree
 *   REVOKED               OCSP or CRL says revoked
 *   CRL_STALE             nextUpdate of the CRL passed at at_ms
 *   CRL_BAD_SIGNATURE     the CRL is not signed by the issuer
 *   CRL_ENTRY_DROPPED     crl->previous listed the leaf as revoked, crl (newer) does not,
 *                         and the leaf had not expired (BR 4.10.1)
 *   AIA_FETCHED_INTERMEDIATE  the chain needed a caIssuers fetch
 *   STAPLING_NOT_OBSERVABLE   (info) TLS 1.3-only server
 *   OCSP_NO_STAPLE        (info) a TLS 1.2 server that staples nothing
 * Returns 0 or CS_ENOMEM / CS_EINVAL. */
int cs_revocation_diagnose(const cs_revocation_input_t *in, cs_findings_t *f) CS_MUST_CHECK;

/* ---- Replay (time checks) ---- */

#define CS_REVOCATION_MAX_CHECKS 8

/* The time checks OCSP and the CRL add (either may be NULL): OCSP producedAt
 * and thisUpdate must not be in the client's future, nextUpdate not passed;
 * CRL thisUpdate not in the future, nextUpdate not passed. Only the single
 * response about leaf (if leaf and issuer are given, else the first) is used.
 * item_index is 0 for OCSP, 1 for the CRL. Writes at most cap checks and
 * sets *n. CS_ENOSPACE if cap is too small. */
int cs_revocation_time_checks(const cs_ocsp_response_t *ocsp, const mbedtls_x509_crt *leaf,
                              const mbedtls_x509_crt *issuer, const cs_crl_info_t *crl,
                              cs_time_check_t *out, size_t cap, size_t *n) CS_MUST_CHECK;

/* Adds those checks to a replay (before cs_replay_run), using the first single
 * response. Returns 0 or the first cs_replay_add_check error. */
int cs_revocation_add_checks(cs_replay_t *r, const cs_ocsp_response_t *ocsp,
                             const cs_crl_info_t *crl) CS_MUST_CHECK;

/* ---- Report ---- */

/* The report's "revocation" section: stapled/fetched OCSP (status, times,
 * responder, signature verdict), CRL facts, AIA use, provisioning window.
 * Newly allocated (caller frees with cJSON_Delete), NULL on allocation failure. */
cJSON *cs_revocation_to_json(const cs_revocation_input_t *in);

#endif
