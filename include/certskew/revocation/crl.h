/*
 * CRLs (RFC 5280 §5): what the diagnosis needs of one CRL: thisUpdate/
 * nextUpdate in ms, the signature checked against the issuer, and whether a
 * serial is listed. Backed by the strict reader of crl_history.h (mbedTLS
 * 2.28 refuses the critical issuingDistributionPoint every sharded CRL has).
 *
 * Pure: no I/O, no clock.
 */
#ifndef CERTSKEW_REVOCATION_CRL_H
#define CERTSKEW_REVOCATION_CRL_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/x509_crt.h>

#include "certskew/core/error.h"
#include "certskew/revocation/crl_history.h"

#define CS_CRL_MAX_INPUT (16u * 1024 * 1024) /* large public CRLs run to a few MB */

typedef struct cs_crl_info {
  cs_crl_list_t list;      /* owned: the DER and every serial */
  int parsed;              /* 1 after a successful cs_crl_parse */
  char issuer[256];        /* RFC 4514-like issuer name */
  int64_t this_update_ms;
  int has_next_update;     /* nextUpdate is optional in the ASN.1 */
  int64_t next_update_ms;
  size_t nentries;         /* revoked certificates listed */
  const struct cs_crl_info *previous; /* borrowed, NULL if unknown: the previous different CRL
                                         fetched from the same URL (the enrichment's CRL
                                         history); cs_revocation_diagnose reports a leaf
                                         listed there and dropped here while still valid */
} cs_crl_info_t;

/* Zeroes info; cannot fail. */
void cs_crl_info_init(cs_crl_info_t *info);
/* Releases what info owns; safe twice and after init. */
void cs_crl_info_free(cs_crl_info_t *info);

/* Parses one CRL (DER or PEM) into an initialised info. CS_EPARSE with a
 * detail in eb when it is malformed, CS_ETOOBIG over the limit, CS_ESTATE
 * if info already holds a CRL. */
int cs_crl_parse(cs_crl_info_t *info, const uint8_t *buf, size_t len,
                 cs_errbuf_t *eb) CS_MUST_CHECK;

/* Checks the CRL was issued by `issuer`: names match and the signature
 * verifies with the issuer key. Returns 0 if so, CS_ECRYPTO for a bad
 * signature, CS_ENOTFOUND for a name mismatch, CS_EINVAL if not parsed. */
int cs_crl_verify(const cs_crl_info_t *info, const mbedtls_x509_crt *issuer,
                  cs_errbuf_t *eb) CS_MUST_CHECK;

/* Looks up a serial (INTEGER content octets, e.g. crt->serial). Returns 1 if
 * listed (and *revoked_ms, optional, gets its revocationDate), 0 if not. */
int cs_crl_find_serial(const cs_crl_info_t *info, const uint8_t *serial, size_t serial_len,
                       int64_t *revoked_ms);

#endif
