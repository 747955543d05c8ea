/*
 * Reading the extensions mbedTLS 2.28 leaves raw (analyzers/trust/trust_der.h).
 * mbedTLS keeps crt->v3_ext pointing at the Extensions SEQUENCE; every read
 * below is bounded by the enclosing element, so hostile DER is a CS_EPARSE.
 */
#include "trust_der.h"

#include <string.h>

#include <mbedtls/asn1.h>

const uint8_t CS_TRUST_OID_SAN[3] = {0x55, 0x1D, 0x11};
const uint8_t CS_TRUST_OID_NAME_CONSTRAINTS[3] = {0x55, 0x1D, 0x1E};
/* 1.3.6.1.5.5.7.48.2 id-ad-caIssuers */

#define SEQ (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)

int cs_trust_der_find_ext(const mbedtls_x509_crt *crt, const uint8_t *oid, size_t oid_len,
                          const uint8_t **val, size_t *len, int *critical) {
  if (crt->v3_ext.p == NULL || crt->v3_ext.len == 0)
    return 0;
  unsigned char *p = crt->v3_ext.p;
  const unsigned char *end = p + crt->v3_ext.len;
  size_t n;
  if (mbedtls_asn1_get_tag(&p, end, &n, SEQ) != 0)
    return CS_EPARSE;
  end = p + n;
  while (p < end) {
    if (mbedtls_asn1_get_tag(&p, end, &n, SEQ) != 0)
      return CS_EPARSE;
    const unsigned char *ext_end = p + n;
    size_t oid_n;
    if (mbedtls_asn1_get_tag(&p, ext_end, &oid_n, MBEDTLS_ASN1_OID) != 0)
      return CS_EPARSE;
    const unsigned char *this_oid = p;
    p += oid_n;
    int crit = 0;
    if (p < ext_end && *p == MBEDTLS_ASN1_BOOLEAN && mbedtls_asn1_get_bool(&p, ext_end, &crit) != 0)
      return CS_EPARSE;
    size_t val_n;
    if (mbedtls_asn1_get_tag(&p, ext_end, &val_n, MBEDTLS_ASN1_OCTET_STRING) != 0 ||
        p + val_n != ext_end)
      return CS_EPARSE;
    if (oid_n == oid_len && memcmp(this_oid, oid, oid_len) == 0) {
      *val = p;
      *len = val_n;
      if (critical != NULL)
        *critical = crit;
      return 1;
    }
    p += val_n;
  }
  return 0;
}

int cs_trust_der_each_san(const mbedtls_x509_crt *crt, cs_trust_gn_fn fn, void *ctx) {
  const uint8_t *val;
  size_t len;
  int found = cs_trust_der_find_ext(crt, CS_TRUST_OID_SAN, sizeof(CS_TRUST_OID_SAN), &val, &len,
                                    NULL);
  if (found <= 0)
    return found;
  unsigned char *p = (unsigned char *)val;
  const unsigned char *end = val + len;
  size_t n;
  if (mbedtls_asn1_get_tag(&p, end, &n, SEQ) != 0 || p + n != end)
    return CS_EPARSE;
  while (p < end) {
    /* A GeneralName is one context-tagged element; only its tag number and
     * content matter here (primitive for dNSName and iPAddress). */
    if (end - p < 2 || (*p & MBEDTLS_ASN1_CONTEXT_SPECIFIC) == 0)
      return CS_EPARSE;
    int tag = *p & 0x1F;
    p++;
    if (mbedtls_asn1_get_len(&p, end, &n) != 0)
      return CS_EPARSE;
    int ret = fn(ctx, tag, p, n);
    if (ret != 0)
      return ret;
    p += n;
  }
  return 0;
}

static int each_subtree_in(unsigned char *p, const unsigned char *end, int permitted,
                           cs_trust_subtree_fn fn, void *ctx) {
  while (p < end) {
    size_t n;
    if (mbedtls_asn1_get_tag(&p, end, &n, SEQ) != 0)
      return CS_EPARSE;
    const unsigned char *st_end = p + n; /* base, then optional minimum/maximum */
    if (end - p < 2 || (*p & MBEDTLS_ASN1_CONTEXT_SPECIFIC) == 0)
      return CS_EPARSE;
    int tag = *p & 0x1F;
    p++;
    if (mbedtls_asn1_get_len(&p, st_end, &n) != 0)
      return CS_EPARSE;
    int ret = fn(ctx, permitted, tag, p, n);
    if (ret != 0)
      return ret;
    p = (unsigned char *)st_end;
  }
  return 0;
}

int cs_trust_der_each_subtree(const mbedtls_x509_crt *crt, cs_trust_subtree_fn fn, void *ctx) {
  const uint8_t *val;
  size_t len;
  int found = cs_trust_der_find_ext(crt, CS_TRUST_OID_NAME_CONSTRAINTS,
                                    sizeof(CS_TRUST_OID_NAME_CONSTRAINTS), &val, &len, NULL);
  if (found <= 0)
    return found;
  unsigned char *p = (unsigned char *)val;
  const unsigned char *end = val + len;
  size_t n;
  if (mbedtls_asn1_get_tag(&p, end, &n, SEQ) != 0 || p + n != end)
    return CS_EPARSE;
  while (p < end) {
    /* [0] permittedSubtrees / [1] excludedSubtrees, IMPLICIT SEQUENCE OF */
    int which = *p;
    if (which != (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0) &&
        which != (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 1))
      return CS_EPARSE;
    p++;
    if (mbedtls_asn1_get_len(&p, end, &n) != 0)
      return CS_EPARSE;
    int ret = each_subtree_in(p, p + n, (which & 1) == 0, fn, ctx);
    if (ret != 0)
      return ret;
    p += n;
  }
  return 0;
}

