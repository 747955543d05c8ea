/*
 * OCSP CertIDs and requests (RFC 6960 §4.1.1).
 *
 * The issuer key hash covers only the value bits of subjectPublicKey (not
 * the SubjectPublicKeyInfo, not the BIT STRING header): getting this wrong
 * is the classic reason a responder answers `unknown` for a good
 * certificate, so it is computed here in one place for requests, response
 * matching and responder-id checks.
 */
#include "certskew/revocation/ocsp.h"
#include "ocsp_internal.h"

#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/oid.h>

int cs_ocsp_spk_bits(const mbedtls_x509_crt *crt, const uint8_t **bits, size_t *len) {
  uint8_t *p = crt->pk_raw.p;
  const uint8_t *end = p + crt->pk_raw.len;
  size_t n;
  if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
    return CS_EPARSE;
  end = p + n;
  if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
    return CS_EPARSE;
  p += n; /* AlgorithmIdentifier */
  if (mbedtls_asn1_get_bitstring_null(&p, end, &n) != 0)
    return CS_EPARSE;
  *bits = p;
  *len = n;
  return 0;
}

int cs_ocsp_certid_compute(cs_ocsp_certid_t *out, const mbedtls_x509_crt *issuer,
                           const uint8_t *serial, size_t serial_len, mbedtls_md_type_t md) {
  if (out == NULL || issuer == NULL || serial == NULL)
    return CS_EINVAL;
  if (serial_len == 0 || serial_len > sizeof(out->serial))
    return CS_ERANGE;
  const mbedtls_md_info_t *mi = mbedtls_md_info_from_type(md);
  if (mi == NULL || mbedtls_md_get_size(mi) > CS_OCSP_MAX_HASH)
    return CS_EUNSUPPORTED;
  memset(out, 0, sizeof(*out));
  const uint8_t *bits;
  size_t nbits;
  if (cs_ocsp_spk_bits(issuer, &bits, &nbits) != 0)
    return CS_EPARSE;
  out->hash_alg = md;
  out->name_hash_len = out->key_hash_len = mbedtls_md_get_size(mi);
  if (mbedtls_md(mi, issuer->subject_raw.p, issuer->subject_raw.len, out->name_hash) != 0 ||
      mbedtls_md(mi, bits, nbits, out->key_hash) != 0)
    return CS_ECRYPTO;
  memcpy(out->serial, serial, serial_len);
  out->serial_len = serial_len;
  return 0;
}

static int certid_equal(const cs_ocsp_certid_t *a, const cs_ocsp_certid_t *b) {
  return a->hash_alg == b->hash_alg && a->name_hash_len == b->name_hash_len &&
         memcmp(a->name_hash, b->name_hash, a->name_hash_len) == 0 &&
         a->key_hash_len == b->key_hash_len &&
         memcmp(a->key_hash, b->key_hash, a->key_hash_len) == 0 &&
         a->serial_len == b->serial_len && memcmp(a->serial, b->serial, a->serial_len) == 0;
}

const cs_ocsp_single_t *cs_ocsp_response_find(const cs_ocsp_response_t *r,
                                              const mbedtls_x509_crt *leaf,
                                              const mbedtls_x509_crt *issuer) {
  if (r == NULL || leaf == NULL || issuer == NULL)
    return NULL;
  for (size_t i = 0;; i++) {
    const cs_ocsp_single_t *s = cs_ocsp_response_single(r, i);
    if (s == NULL)
      return NULL;
    cs_ocsp_certid_t want;
    if (cs_ocsp_certid_compute(&want, issuer, leaf->serial.p, leaf->serial.len,
                               s->certid.hash_alg) == 0 &&
        certid_equal(&want, &s->certid))
      return s;
  }
}

/* Writes one TLV backwards (mbedTLS asn1write style): content already
 * written between *p and the previous position. */
#define W(call)                                                                                 \
  do {                                                                                          \
    int w_ = (call);                                                                            \
    if (w_ < 0)                                                                                 \
      return w_ == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL ? CS_ENOSPACE : CS_EPARSE;                    \
    n += (size_t)w_;                                                                            \
  } while (0)

static int write_request(const cs_ocsp_certid_t *id, uint8_t *buf, size_t cap, size_t *len) {
  uint8_t *p = buf + cap;
  size_t n = 0;
  const char *oid;
  size_t oid_len;
  if (mbedtls_oid_get_oid_by_md(id->hash_alg, &oid, &oid_len) != 0)
    return CS_EUNSUPPORTED;
  /* CertID, innermost first: serialNumber as its exact content octets. */
  W(mbedtls_asn1_write_raw_buffer(&p, buf, id->serial, id->serial_len));
  W(mbedtls_asn1_write_len(&p, buf, id->serial_len));
  W(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_INTEGER));
  W(mbedtls_asn1_write_octet_string(&p, buf, id->key_hash, id->key_hash_len));
  W(mbedtls_asn1_write_octet_string(&p, buf, id->name_hash, id->name_hash_len));
  W(mbedtls_asn1_write_algorithm_identifier(&p, buf, oid, oid_len, 0));
  /* CertID, Request, requestList, TBSRequest, OCSPRequest: five SEQUENCEs. */
  for (int i = 0; i < 5; i++) {
    W(mbedtls_asn1_write_len(&p, buf, n));
    W(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
  }
  memmove(buf, p, n);
  *len = n;
  return 0;
}

int cs_ocsp_request_build(const mbedtls_x509_crt *leaf, const mbedtls_x509_crt *issuer,
                          uint8_t *buf, size_t cap, size_t *len) {
  if (leaf == NULL || issuer == NULL || buf == NULL || len == NULL)
    return CS_EINVAL;
  cs_ocsp_certid_t id;
  int ret = cs_ocsp_certid_compute(&id, issuer, leaf->serial.p, leaf->serial.len,
                                   MBEDTLS_MD_SHA1);
  if (ret != 0)
    return ret;
  return write_request(&id, buf, cap, len);
}
