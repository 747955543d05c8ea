/*
 * CRLs a lab CA signs (include/certskew/lab/lab.h), RFC 5280 §5.1:
 *
 *   CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }
 *   TBSCertList ::= SEQUENCE { version v2(1), signature, issuer, thisUpdate,
 *       nextUpdate OPTIONAL, revokedCertificates SEQUENCE OF SEQUENCE {
 *       userCertificate, revocationDate } OPTIONAL, crlExtensions [0] EXPLICIT }
 *
 * mbedTLS 2.28 can parse CRLs but not write them, hence this file.
 */
#include "certskew/lab/lab.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha1.h>
#include <mbedtls/x509_crt.h>

#include "lab_scenario_der.h"

/* 2.5.29.20 cRLNumber, 2.5.29.35 authorityKeyIdentifier. */
static const uint8_t OID_CRL_NUMBER[] = {0x55, 0x1D, 0x14};
static const uint8_t OID_AKI[] = {0x55, 0x1D, 0x23};
/* 2.5.29.28 issuingDistributionPoint. */
static const uint8_t OID_IDP[] = {0x55, 0x1D, 0x1C};

/* keyIdentifier as RFC 5280 §4.2.1.2 method (1): SHA-1 of the key bits,
 * which is what mbedTLS writes as the issuer's subjectKeyIdentifier. */
static int key_id(const mbedtls_x509_crt *issuer, uint8_t out[20]) {
  unsigned char *p = issuer->pk_raw.p, *end = p + issuer->pk_raw.len;
  size_t n;
  if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
      mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
    return CS_EPARSE;
  p += n; /* AlgorithmIdentifier */
  if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_BIT_STRING) != 0 || n < 1)
    return CS_EPARSE;
  return mbedtls_sha1_ret(p + 1, n - 1, out) == 0 ? 0 : CS_ECRYPTO;
}

static void write_tbs(lab_der_t *d, const mbedtls_x509_crt *issuer, const uint8_t kid[20],
                      const mbedtls_pk_context *key, const cs_lab_crl_spec_t *spec) {
  lab_der_open(d, 0x30);
  lab_der_uint(d, 0x02, 1); /* v2: extensions follow */
  lab_der_sig_alg(d, key);
  lab_der_raw(d, issuer->subject_raw.p, issuer->subject_raw.len);
  lab_der_x509_time(d, spec->this_update_ms);
  if (spec->has_next_update)
    lab_der_x509_time(d, spec->next_update_ms);
  if (spec->nentries > 0) {
    lab_der_open(d, 0x30);
    for (size_t i = 0; i < spec->nentries; i++) {
      lab_der_open(d, 0x30);
      lab_der_tlv(d, 0x02, spec->entries[i].serial, spec->entries[i].serial_len);
      lab_der_x509_time(d, spec->entries[i].revoked_ms);
      lab_der_close(d);
    }
    lab_der_close(d);
  }
  lab_der_open(d, 0xA0);
  lab_der_open(d, 0x30);
  lab_der_open(d, 0x30); /* authorityKeyIdentifier { [0] keyIdentifier } */
  lab_der_tlv(d, 0x06, OID_AKI, sizeof(OID_AKI));
  lab_der_open(d, 0x04);
  lab_der_open(d, 0x30);
  lab_der_tlv(d, 0x80, kid, 20);
  lab_der_close(d);
  lab_der_close(d);
  lab_der_close(d);
  lab_der_open(d, 0x30); /* cRLNumber */
  lab_der_tlv(d, 0x06, OID_CRL_NUMBER, sizeof(OID_CRL_NUMBER));
  lab_der_open(d, 0x04);
  lab_der_uint(d, 0x02, spec->crl_number);
  lab_der_close(d);
  lab_der_close(d);
  if (spec->idp_url != NULL) { /* critical, { distributionPoint [0] { fullName [0] { URI } } } */
    static const uint8_t TRUE_[1] = {0xFF};
    lab_der_open(d, 0x30);
    lab_der_tlv(d, 0x06, OID_IDP, sizeof(OID_IDP));
    lab_der_tlv(d, 0x01, TRUE_, 1);
    lab_der_open(d, 0x04);
    lab_der_open(d, 0x30);
    lab_der_open(d, 0xA0);
    lab_der_open(d, 0xA0);
    lab_der_tlv(d, 0x86, (const uint8_t *)spec->idp_url, strlen(spec->idp_url));
    lab_der_close(d);
    lab_der_close(d);
    lab_der_close(d);
    lab_der_close(d);
    lab_der_close(d);
  }
  lab_der_close(d);
  lab_der_close(d);
  lab_der_close(d);
}

int cs_lab_crl_build(const uint8_t *issuer_der, size_t issuer_der_len,
                     const mbedtls_pk_context *issuer_key, const cs_lab_crl_spec_t *spec,
                     cs_lab_rng_fn f_rng, void *p_rng, uint8_t **out, size_t *out_len) {
  if (out == NULL || out_len == NULL)
    return CS_EINVAL;
  *out = NULL;
  *out_len = 0;
  if (issuer_der == NULL || issuer_key == NULL || spec == NULL || f_rng == NULL ||
      (spec->nentries > 0 && spec->entries == NULL) ||
      (spec->idp_url != NULL && (spec->idp_url[0] == '\0' || strlen(spec->idp_url) > 1000)))
    return CS_EINVAL;
  for (size_t i = 0; i < spec->nentries; i++)
    if (spec->entries[i].serial == NULL || spec->entries[i].serial_len == 0 ||
        spec->entries[i].serial_len > 32)
      return CS_EINVAL;
  lab_der_t tbs, crl;
  lab_der_init(&tbs);
  lab_der_init(&crl);
  mbedtls_x509_crt issuer;
  mbedtls_x509_crt_init(&issuer);
  uint8_t *tbs_der = NULL, kid[20];
  size_t tbs_len = 0;
  int err = CS_EPARSE;
  if (mbedtls_x509_crt_parse_der(&issuer, issuer_der, issuer_der_len) != 0 ||
      (err = key_id(&issuer, kid)) != 0)
    goto done;
  write_tbs(&tbs, &issuer, kid, issuer_key, spec);
  if ((err = lab_der_take(&tbs, &tbs_der, &tbs_len)) != 0)
    goto done;
  lab_der_open(&crl, 0x30);
  lab_der_raw(&crl, tbs_der, tbs_len);
  lab_der_sig_alg(&crl, issuer_key);
  lab_der_signature(&crl, issuer_key, tbs_der, tbs_len, f_rng, p_rng);
  lab_der_close(&crl);
  err = lab_der_take(&crl, out, out_len);
done:
  free(tbs_der);
  lab_der_free(&tbs);
  lab_der_free(&crl);
  mbedtls_x509_crt_free(&issuer);
  return err;
}
