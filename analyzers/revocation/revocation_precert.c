/*
 * Is the leaf a precertificate? (include/certskew/revocation/revocation.h)
 *
 * The chain loader accepts the critical CT poison through mbedTLS's
 * unknown-extension callback; mbedTLS keeps the raw extensions in v3_ext
 * (the Extensions SEQUENCE), which is walked here.
 */
#include "certskew/revocation/revocation.h"

#include <string.h>

#include <mbedtls/asn1.h>

static const uint8_t OID_POISON[] = {0x2B, 0x06, 0x01, 0x04, 0x01, 0xD6, 0x79, 0x02, 0x04, 0x03};

int cs_revocation_is_precert(const mbedtls_x509_crt *crt) {
  if (crt == NULL || crt->v3_ext.p == NULL || crt->v3_ext.len == 0)
    return 0;
  unsigned char *p = crt->v3_ext.p;
  const unsigned char *end = p + crt->v3_ext.len;
  size_t n;
  if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
      n > (size_t)(end - p))
    return 0;
  end = p + n;
  while (p < end) {
    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
      return 0;
    unsigned char *next = p + n;
    size_t oid_len;
    if (mbedtls_asn1_get_tag(&p, next, &oid_len, MBEDTLS_ASN1_OID) != 0)
      return 0;
    if (oid_len == sizeof(OID_POISON) && memcmp(p, OID_POISON, oid_len) == 0)
      return 1;
    p = next;
  }
  return 0;
}
