/*
 * Private to the trust analyzer: the few X.509 extensions mbedTLS 2.28 does
 * not expose (iPAddress SANs, Authority Information Access, the presence of
 * nameConstraints), read from the certificate's own DER with strict bounds.
 */
#ifndef CERTSKEW_TRUST_DER_H
#define CERTSKEW_TRUST_DER_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/x509_crt.h>

#include "certskew/core/error.h"

/* DER content bytes of the OIDs we look up. */
extern const uint8_t CS_TRUST_OID_SAN[3];              /* 2.5.29.17 */
extern const uint8_t CS_TRUST_OID_NAME_CONSTRAINTS[3]; /* 2.5.29.30 */

/* Finds extension oid in crt's extensions. Returns 1 and sets *val and *len to
 * the extnValue content (borrowed from crt) and *critical (optional), 0 if
 * absent, CS_EPARSE if the extensions are malformed. */
int cs_trust_der_find_ext(const mbedtls_x509_crt *crt, const uint8_t *oid, size_t oid_len,
                          const uint8_t **val, size_t *len, int *critical);

/* Calls fn(ctx, tag_number, value, value_len) for each GeneralName of the
 * SAN extension (context tag number: 2 dNSName, 7 iPAddress, ...). Stops
 * early when fn returns non-zero and returns that value; returns 0 after the
 * last name or when there is no SAN, CS_EPARSE if malformed. */
typedef int (*cs_trust_gn_fn)(void *ctx, int tag, const uint8_t *val, size_t len);
int cs_trust_der_each_san(const mbedtls_x509_crt *crt, cs_trust_gn_fn fn, void *ctx);

/* Calls fn(ctx, permitted, tag_number, value, value_len) for each
 * GeneralSubtree base of the nameConstraints extension (permitted = 1 for
 * permittedSubtrees, 0 for excludedSubtrees). Stops early when fn returns
 * non-zero and returns that value; 0 when done or absent, CS_EPARSE if
 * malformed. */
typedef int (*cs_trust_subtree_fn)(void *ctx, int permitted, int tag, const uint8_t *val,
                                   size_t len);
int cs_trust_der_each_subtree(const mbedtls_x509_crt *crt, cs_trust_subtree_fn fn, void *ctx);


#endif
