/*
 * OCSP responses a lab CA signs (include/certskew/lab/lab.h), RFC 6960 §4.2.1:
 *
 *   OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED,
 *                               responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
 *   ResponseBytes ::= SEQUENCE { id-pkix-ocsp-basic, OCTET STRING BasicOCSPResponse }
 *   BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature }
 *   ResponseData ::= SEQUENCE { responderID, producedAt, responses SEQUENCE OF SingleResponse }
 *   SingleResponse ::= SEQUENCE { certID, certStatus, thisUpdate, nextUpdate [0] OPTIONAL }
 */
#include "certskew/lab/lab.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/x509_crt.h>

#include "lab_scenario_der.h"

/* 1.3.6.1.5.5.7.48.1.1 id-pkix-ocsp-basic; 1.3.14.3.2.26 id-sha1. */
static const uint8_t OID_OCSP_BASIC[] = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};
static const uint8_t OID_SHA1[] = {0x2B, 0x0E, 0x03, 0x02, 0x1A};

static int valid_status(int s) {
  return s == CS_OCSP_SUCCESSFUL || s == CS_OCSP_MALFORMED_REQUEST || s == CS_OCSP_INTERNAL_ERROR ||
         s == CS_OCSP_TRY_LATER || s == CS_OCSP_SIG_REQUIRED || s == CS_OCSP_UNAUTHORIZED;
}

static void write_cert_status(lab_der_t *d, const cs_lab_ocsp_spec_t *spec) {
  switch (spec->cert_status) {
  case CS_OCSP_CERT_GOOD:
    lab_der_tlv(d, 0x80, NULL, 0); /* good [0] IMPLICIT NULL */
    break;
  case CS_OCSP_CERT_REVOKED:
    lab_der_open(d, 0xA1); /* revoked [1] IMPLICIT RevokedInfo */
    lab_der_time(d, 1, spec->revocation_time_ms);
    if (spec->revocation_reason >= 0) {
      lab_der_open(d, 0xA0); /* revocationReason [0] EXPLICIT CRLReason */
      lab_der_uint(d, 0x0A, (uint64_t)spec->revocation_reason);
      lab_der_close(d);
    }
    lab_der_close(d);
    break;
  case CS_OCSP_CERT_UNKNOWN:
  default:
    lab_der_tlv(d, 0x82, NULL, 0); /* unknown [2] IMPLICIT NULL */
    break;
  }
}

/* tbsResponseData for one SingleResponse. */
static void write_tbs(lab_der_t *d, const mbedtls_x509_crt *issuer, const cs_ocsp_certid_t *id,
                      const cs_lab_ocsp_spec_t *spec) {
  lab_der_open(d, 0x30);
  if (spec->responder_by_name) {
    lab_der_open(d, 0xA1); /* byName [1] EXPLICIT Name */
    lab_der_raw(d, issuer->subject_raw.p, issuer->subject_raw.len);
    lab_der_close(d);
  } else {
    lab_der_open(d, 0xA2); /* byKey [2] EXPLICIT KeyHash: SHA-1 of the key bits */
    lab_der_tlv(d, 0x04, id->key_hash, id->key_hash_len);
    lab_der_close(d);
  }
  lab_der_time(d, 1, spec->produced_at_ms);
  lab_der_open(d, 0x30); /* responses */
  lab_der_open(d, 0x30); /* SingleResponse */
  lab_der_open(d, 0x30); /* CertID */
  lab_der_open(d, 0x30);
  lab_der_tlv(d, 0x06, OID_SHA1, sizeof(OID_SHA1));
  lab_der_tlv(d, 0x05, NULL, 0);
  lab_der_close(d);
  lab_der_tlv(d, 0x04, id->name_hash, id->name_hash_len);
  lab_der_tlv(d, 0x04, id->key_hash, id->key_hash_len);
  lab_der_tlv(d, 0x02, id->serial, id->serial_len);
  lab_der_close(d);
  write_cert_status(d, spec);
  lab_der_time(d, 1, spec->this_update_ms);
  if (spec->has_next_update) {
    lab_der_open(d, 0xA0);
    lab_der_time(d, 1, spec->next_update_ms);
    lab_der_close(d);
  }
  lab_der_close(d);
  lab_der_close(d);
  lab_der_close(d);
}

int cs_lab_ocsp_response(const uint8_t *issuer_der, size_t issuer_der_len,
                         const mbedtls_pk_context *issuer_key, const uint8_t *serial,
                         size_t serial_len, const cs_lab_ocsp_spec_t *spec, cs_lab_rng_fn f_rng,
                         void *p_rng, uint8_t **out, size_t *out_len) {
  if (out == NULL || out_len == NULL)
    return CS_EINVAL;
  *out = NULL;
  *out_len = 0;
  if (spec == NULL || !valid_status(spec->response_status))
    return CS_EINVAL;
  lab_der_t tbs, resp;
  lab_der_init(&tbs);
  lab_der_init(&resp);
  mbedtls_x509_crt issuer;
  mbedtls_x509_crt_init(&issuer);
  uint8_t *tbs_der = NULL;
  size_t tbs_len = 0;
  int err = 0;
  lab_der_open(&resp, 0x30);
  lab_der_uint(&resp, 0x0A, (uint64_t)spec->response_status);
  if (spec->response_status == CS_OCSP_SUCCESSFUL) {
    cs_ocsp_certid_t id;
    if (issuer_der == NULL || issuer_key == NULL || serial == NULL || serial_len == 0 ||
        serial_len > CS_OCSP_MAX_SERIAL || f_rng == NULL || spec->cert_status > CS_OCSP_CERT_UNKNOWN ||
        spec->revocation_reason > 10) {
      err = CS_EINVAL;
      goto done;
    }
    if (mbedtls_x509_crt_parse_der(&issuer, issuer_der, issuer_der_len) != 0) {
      err = CS_EPARSE;
      goto done;
    }
    if ((err = cs_ocsp_certid_compute(&id, &issuer, serial, serial_len, MBEDTLS_MD_SHA1)) != 0)
      goto done;
    write_tbs(&tbs, &issuer, &id, spec);
    if ((err = lab_der_take(&tbs, &tbs_der, &tbs_len)) != 0)
      goto done;
    lab_der_open(&resp, 0xA0);
    lab_der_open(&resp, 0x30);
    lab_der_tlv(&resp, 0x06, OID_OCSP_BASIC, sizeof(OID_OCSP_BASIC));
    lab_der_open(&resp, 0x04);
    lab_der_open(&resp, 0x30); /* BasicOCSPResponse */
    lab_der_raw(&resp, tbs_der, tbs_len);
    lab_der_sig_alg(&resp, issuer_key);
    lab_der_signature(&resp, issuer_key, tbs_der, tbs_len, f_rng, p_rng);
    lab_der_close(&resp);
    lab_der_close(&resp);
    lab_der_close(&resp);
    lab_der_close(&resp);
  }
  lab_der_close(&resp);
  err = lab_der_take(&resp, out, out_len);
done:
  free(tbs_der);
  lab_der_free(&tbs);
  lab_der_free(&resp);
  mbedtls_x509_crt_free(&issuer);
  return err;
}
