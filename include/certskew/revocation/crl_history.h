/*
 * CRL history: what changes between two CRLs of one issuer and scope, and
 * how a sharded CRL set is partitioned. The incidents behind it (Let's
 * Encrypt, 2022): CRLs that lost revoked, unexpired serials for six days
 * (BR 4.10.1 forbids removing an entry before the certificate expires), and
 * revoked serials that moved between shards from one run to the next, so a
 * client reading the shard named in a certificate's CRL distribution point
 * missed a revocation listed in another shard.
 *
 * cs_crl_list_t is a strict, complete DER reading of a CertificateList (RFC
 * 5280 §5): every serial, the CRL number and the issuing distribution point
 * (critical on sharded CRLs, which mbedTLS 2.28 refuses to parse, hence a
 * parser of its own). Pure: no I/O, no clock; times are int64 ms.
 */
#ifndef CERTSKEW_REVOCATION_CRL_HISTORY_H
#define CERTSKEW_REVOCATION_CRL_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <mbedtls/x509_crt.h>

#include "certskew/core/error.h"
#include "certskew/core/findings.h"

#define CS_CRL_LIST_MAX_INPUT (16u * 1024 * 1024)
#define CS_CRL_IDP_MAX_URIS 4
#define CS_CRL_URI_MAX 512
#define CS_CRL_NUMBER_MAX 20 /* RFC 5280 §5.2.3: at most 20 octets */

/* One revoked certificate. p points into the owning list's der. */
typedef struct cs_crl_serial {
  const uint8_t *p; /* INTEGER content octets */
  size_t len;
  int64_t revoked_ms;
} cs_crl_serial_t;

typedef struct cs_crl_list {
  uint8_t *der;          /* owned: the DER (PEM input is decoded) */
  size_t der_len;
  const uint8_t *tbs;    /* into der: the signed part */
  size_t tbs_len;
  const uint8_t *issuer_raw; /* into der: the issuer Name, tag and length included */
  size_t issuer_raw_len;
  char issuer[256];      /* RFC 4514-like */
  const uint8_t *sig_alg; /* into der: the outer AlgorithmIdentifier's OID content */
  size_t sig_alg_len;
  const uint8_t *sig_params; /* into der: its parameters (tag included), NULL if absent */
  size_t sig_params_len;
  const uint8_t *sig;    /* into der: the BIT STRING content after the unused-bits octet */
  size_t sig_len;
  int64_t this_update_ms;
  int has_next_update;
  int64_t next_update_ms;
  int has_number;
  uint8_t number[CS_CRL_NUMBER_MAX]; /* big-endian, leading zeros stripped */
  size_t number_len;     /* 0 for the number 0 */
  int has_idp;           /* issuingDistributionPoint present */
  int idp_critical;
  size_t nidp_uris;      /* fullName URIs of the IDP */
  char idp_uris[CS_CRL_IDP_MAX_URIS][CS_CRL_URI_MAX];
  int idp_partial;       /* onlySomeReasons or indirectCRL or onlyContains*: a narrower scope */
  cs_crl_serial_t *serials; /* owned array, sorted by serial (length, then bytes) */
  size_t nserials;
} cs_crl_list_t;

/* Zeroes l; cannot fail. */
void cs_crl_list_init(cs_crl_list_t *l);
/* Releases what l owns; safe twice and after init. */
void cs_crl_list_free(cs_crl_list_t *l);

/* Parses one CRL (DER or PEM "X509 CRL") strictly: every length checked,
 * nothing after the CRL, a serial listed twice is an error. Returns 0,
 * CS_EEMPTY, CS_ETOOBIG, CS_EPARSE (detail in eb), CS_ESTATE if l already
 * holds a CRL, CS_ENOMEM. */
int cs_crl_list_parse(cs_crl_list_t *l, const uint8_t *buf, size_t len,
                      cs_errbuf_t *eb) CS_MUST_CHECK;

/* Checks that issuer issued the CRL: names equal and signature verifies.
 * 0, CS_ENOTFOUND (name), CS_ECRYPTO (signature), CS_EINVAL. */
int cs_crl_list_verify(const cs_crl_list_t *l, const mbedtls_x509_crt *issuer,
                       cs_errbuf_t *eb) CS_MUST_CHECK;

/* Index of serial in l->serials, or -1 when not listed. */
long cs_crl_list_find(const cs_crl_list_t *l, const uint8_t *serial, size_t serial_len);

/* -1, 0, 1 as a's CRL number is below, equal to, above b's (both present). */
int cs_crl_number_cmp(const cs_crl_list_t *a, const cs_crl_list_t *b);

/* Hex of a serial or number ("0A1B..."), NUL-terminated into out (cap >= 3). */
void cs_crl_hex(const uint8_t *p, size_t len, char *out, size_t cap);

/* ---- Comparing two CRLs of one issuer and scope ---- */

/* A certificate the caller names (--cert): only its serial, issuer, notAfter
 * and first CRL distribution point URI are used. Borrowed. */
typedef struct cs_crl_cert {
  const mbedtls_x509_crt *crt;
  const char *label;     /* file name, for messages */
} cs_crl_cert_t;

typedef struct cs_crl_diff {
  size_t *added;         /* owned: indexes into new->serials */
  size_t nadded;
  size_t *removed;       /* owned: indexes into old->serials */
  size_t nremoved;
} cs_crl_diff_t;

void cs_crl_diff_init(cs_crl_diff_t *d);
void cs_crl_diff_free(cs_crl_diff_t *d);

/* Compares old and new (same issuer name and same IDP URIs, else
 * CS_EINVAL with the reason in eb: they are not two versions of one CRL).
 * Fills d and appends findings to f. Codes:
 *   CRL_ENTRY_DROPPED        error: a removed serial whose certificate (given)
 *                            is unexpired at new's thisUpdate (BR 4.10.1)
 *   CRL_NUMBER_WENT_BACK     error: new's CRL number is below old's
 *   CRL_NUMBER_REUSED        error: the same CRL number on different CRLs
 *   CRL_THIS_UPDATE_WENT_BACK  error: new's thisUpdate is before old's
 *   CRL_NEXT_UPDATE_WENT_BACK  warning: new's nextUpdate is before old's
 *   CRL_NUMBER_MISSING       warning: one of them has no CRL number
 *   CRL_ENTRIES_REMOVED      info: serials removed whose certificates were not given
 * Returns 0, CS_EINVAL, CS_ENOMEM. */
int cs_crl_diff_run(const cs_crl_list_t *old_crl, const cs_crl_list_t *new_crl,
                    const cs_crl_cert_t *certs, size_t ncerts, cs_crl_diff_t *d,
                    cs_findings_t *f, cs_errbuf_t *eb) CS_MUST_CHECK;

/* ---- Shards of one issuer ---- */

/* One shard: the CRL and, when known, the URL it was published at. */
typedef struct cs_crl_shard {
  const cs_crl_list_t *crl;
  const char *url;       /* "" or NULL when unknown */
  const char *label;     /* file name or URL, for messages */
} cs_crl_shard_t;

/* Judges one set of shards (one issuer, else CS_EINVAL). Codes:
 *   CRL_SHARD_IDP_MISSING     error: a shard of several without an IDP
 *   CRL_SHARD_IDP_MISMATCH    error: the IDP does not name the URL it is published at
 *   CRL_SERIAL_IN_TWO_SHARDS  error: one serial listed in two shards
 *   CRL_SHARD_MISMATCH        error: a given certificate's revocation is listed in
 *                             a shard other than the one its CRLDP names (certificates
 *                             expired at at_ms are skipped: their entries may go)
 * Returns 0, CS_EINVAL (eb says why), CS_ENOMEM. */
int cs_crl_shards_check(const cs_crl_shard_t *shards, size_t n, const cs_crl_cert_t *certs,
                        size_t ncerts, int64_t at_ms, cs_findings_t *f,
                        cs_errbuf_t *eb) CS_MUST_CHECK;

/* Two sets of the same issuer's shards, before and after: CRL_SHARD_DRIFT
 * (error) for each serial listed in both but under different shards (a shard
 * is named by its first IDP URI, else its URL, else its label). Returns 0,
 * CS_EINVAL, CS_ENOMEM. */
int cs_crl_shards_drift(const cs_crl_shard_t *before, size_t nbefore, const cs_crl_shard_t *after,
                        size_t nafter, cs_findings_t *f, cs_errbuf_t *eb) CS_MUST_CHECK;

/* The findings as a JSON array (newly allocated, caller cJSON_Deletes; NULL
 * on allocation failure). */
cJSON *cs_crl_findings_json(cs_findings_t *f);

#endif
