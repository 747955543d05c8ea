/*
 * Where revocation data lives: the AIA (RFC 5280 §4.2.2.1) and CRL
 * distribution point (§4.2.1.13) extensions, which mbedTLS 2.28 skips, and
 * the caIssuers body formats (DER, PEM, PKCS#7 certs-only).
 */
#include "certskew/revocation/revocation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>

#define SEQ_ (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)
#define CTX_C(n) (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | (n))
#define URI_TAG (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 6) /* GeneralName uniformResourceIdentifier */

static const uint8_t OID_AIA[] = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01};
static const uint8_t OID_AD_OCSP[] = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01};
static const uint8_t OID_AD_CA_ISSUERS[] = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02};
static const uint8_t OID_CRL_DP[] = {0x55, 0x1D, 0x1F};
static const uint8_t OID_PKCS7_SIGNED[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02};

static int oid_eq(const uint8_t *p, size_t len, const uint8_t *want, size_t wlen) {
  return len == wlen && memcmp(p, want, len) == 0;
}

/* Copies the first URI only: clients use the first that works, and the
 * first is what the diagnosis names. */
static void set_url(char dst[CS_REVOCATION_URL_MAX], const uint8_t *p, size_t len) {
  if (dst[0] != '\0' || len >= CS_REVOCATION_URL_MAX || memchr(p, '\0', len) != NULL)
    return;
  memcpy(dst, p, len);
  dst[len] = '\0';
}

static int parse_aia(uint8_t *p, const uint8_t *end, cs_revocation_urls_t *out) {
  size_t len;
  if (mbedtls_asn1_get_tag(&p, end, &len, SEQ_) != 0 || p + len != end)
    return CS_EPARSE;
  while (p < end) {
    if (mbedtls_asn1_get_tag(&p, end, &len, SEQ_) != 0)
      return CS_EPARSE;
    const uint8_t *ad_end = p + len;
    if (mbedtls_asn1_get_tag(&p, ad_end, &len, MBEDTLS_ASN1_OID) != 0)
      return CS_EPARSE;
    const uint8_t *oid = p;
    size_t oid_len = len;
    p += len;
    if (p < ad_end && *p == URI_TAG) {
      if (mbedtls_asn1_get_tag(&p, ad_end, &len, URI_TAG) != 0)
        return CS_EPARSE;
      if (oid_eq(oid, oid_len, OID_AD_OCSP, sizeof(OID_AD_OCSP)))
        set_url(out->ocsp, p, len);
      else if (oid_eq(oid, oid_len, OID_AD_CA_ISSUERS, sizeof(OID_AD_CA_ISSUERS)))
        set_url(out->ca_issuers, p, len);
    }
    p = (uint8_t *)ad_end;
  }
  return 0;
}

static int parse_crl_dp(uint8_t *p, const uint8_t *end, cs_revocation_urls_t *out) {
  size_t len;
  if (mbedtls_asn1_get_tag(&p, end, &len, SEQ_) != 0 || p + len != end)
    return CS_EPARSE;
  while (p < end) {
    if (mbedtls_asn1_get_tag(&p, end, &len, SEQ_) != 0)
      return CS_EPARSE;
    const uint8_t *dp_end = p + len;
    /* distributionPoint [0] { fullName [0] GeneralNames } */
    if (p < dp_end && *p == CTX_C(0) && mbedtls_asn1_get_tag(&p, dp_end, &len, CTX_C(0)) == 0 &&
        p < dp_end && *p == CTX_C(0) && mbedtls_asn1_get_tag(&p, dp_end, &len, CTX_C(0)) == 0) {
      const uint8_t *names_end = p + len;
      while (p < names_end) {
        uint8_t tag = *p;
        if (mbedtls_asn1_get_tag(&p, names_end, &len, tag) != 0)
          return CS_EPARSE;
        if (tag == URI_TAG)
          set_url(out->crl, p, len);
        p += len;
      }
    }
    p = (uint8_t *)dp_end;
  }
  return 0;
}

int cs_revocation_urls_get(const mbedtls_x509_crt *crt, cs_revocation_urls_t *out) {
  if (crt == NULL || out == NULL)
    return CS_EINVAL;
  memset(out, 0, sizeof(*out));
  if (crt->v3_ext.p == NULL || crt->v3_ext.len == 0)
    return 0;
  /* v3_ext is the content of the [3] wrapper: SEQUENCE OF Extension. */
  uint8_t *p = crt->v3_ext.p;
  const uint8_t *end = p + crt->v3_ext.len;
  size_t len;
  if (mbedtls_asn1_get_tag(&p, end, &len, SEQ_) != 0)
    return CS_EPARSE;
  end = p + len;
  while (p < end) {
    if (mbedtls_asn1_get_tag(&p, end, &len, SEQ_) != 0)
      return CS_EPARSE;
    const uint8_t *ext_end = p + len;
    if (mbedtls_asn1_get_tag(&p, ext_end, &len, MBEDTLS_ASN1_OID) != 0)
      return CS_EPARSE;
    int is_aia = oid_eq(p, len, OID_AIA, sizeof(OID_AIA));
    int is_dp = oid_eq(p, len, OID_CRL_DP, sizeof(OID_CRL_DP));
    p += len;
    if (p < ext_end && *p == MBEDTLS_ASN1_BOOLEAN) {
      int crit;
      if (mbedtls_asn1_get_bool(&p, ext_end, &crit) != 0)
        return CS_EPARSE;
    }
    if (mbedtls_asn1_get_tag(&p, ext_end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0)
      return CS_EPARSE;
    int ret = 0;
    if (is_aia)
      ret = parse_aia(p, p + len, out);
    else if (is_dp)
      ret = parse_crl_dp(p, p + len, out);
    if (ret != 0)
      return ret;
    p = (uint8_t *)ext_end;
  }
  return 0;
}

/* PKCS#7 certs-only (RFC 2315 / the "degenerate" SignedData). Returns 1 and
 * parses certificates if buf is one, 0 if it is not PKCS#7, <0 on error. */
static int parse_pkcs7(const uint8_t *buf, size_t blen, mbedtls_x509_crt *out,
                       cs_errbuf_t *eb) {
  uint8_t *p = (uint8_t *)buf;
  const uint8_t *end = buf + blen;
  size_t len;
  if (mbedtls_asn1_get_tag(&p, end, &len, SEQ_) != 0 ||
      mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_OID) != 0 ||
      !oid_eq(p, len, OID_PKCS7_SIGNED, sizeof(OID_PKCS7_SIGNED)))
    return 0;
  p += len;
  if (mbedtls_asn1_get_tag(&p, end, &len, CTX_C(0)) != 0 ||
      mbedtls_asn1_get_tag(&p, end, &len, SEQ_) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "PKCS#7: malformed SignedData");
  end = p + len;
  int version;
  if (mbedtls_asn1_get_int(&p, end, &version) != 0 ||
      mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "PKCS#7: malformed SignedData header");
  p += len; /* digestAlgorithms */
  if (mbedtls_asn1_get_tag(&p, end, &len, SEQ_) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "PKCS#7: malformed contentInfo");
  p += len;
  if (mbedtls_asn1_get_tag(&p, end, &len, CTX_C(0)) != 0)
    return cs_errbuf_set(eb, CS_EEMPTY, "PKCS#7: no certificates");
  const uint8_t *cend = p + len;
  while (p < cend) {
    uint8_t *start = p;
    if (mbedtls_asn1_get_tag(&p, cend, &len, SEQ_) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "PKCS#7: malformed certificate");
    p += len;
    if (mbedtls_x509_crt_parse_der(out, start, (size_t)(p - start)) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "PKCS#7: a certificate does not parse");
  }
  return 1;
}

int cs_aia_parse_certs(const uint8_t *buf, size_t len, mbedtls_x509_crt *out, cs_errbuf_t *eb) {
  if (buf == NULL || out == NULL || len == 0)
    return cs_errbuf_set(eb, CS_EEMPTY, "caIssuers: empty body");
  int ret = parse_pkcs7(buf, len, out, eb);
  if (ret < 0)
    return ret;
  if (ret == 0) {
    /* mbedtls_x509_crt_parse wants PEM NUL-terminated with the NUL counted. */
    uint8_t *copy = malloc(len + 1); /* freed below */
    if (copy == NULL)
      return cs_errbuf_set(eb, CS_ENOMEM, "caIssuers: out of memory");
    memcpy(copy, buf, len);
    copy[len] = '\0';
    int m = mbedtls_x509_crt_parse(out, copy, buf[0] == 0x30 ? len : len + 1);
    free(copy);
    if (m < 0)
      return cs_errbuf_set(eb, CS_EPARSE, "caIssuers: no parseable certificate (-0x%04x)",
                           (unsigned)-m);
  }
  if (out->raw.p == NULL)
    return cs_errbuf_set(eb, CS_EEMPTY, "caIssuers: no certificate");
  return 0;
}
