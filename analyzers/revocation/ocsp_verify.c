/*
 * OCSP response signature verification (RFC 6960 §4.2.2.2).
 *
 * Who may sign: the CA that issued the certificate, or a "delegated"
 * responder certificate the CA issued with id-kp-OCSPSigning. Anything
 * else is how a misconfigured responder produces responses every client
 * rejects, so each failure keeps a detail for the diagnosis.
 */
#include "certskew/revocation/ocsp.h"

#include <stdio.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>

#include "certskew/core/time.h"
#include "ocsp_internal.h"

static int sha1_key_bits(const mbedtls_x509_crt *crt, uint8_t out[20]) {
  const uint8_t *bits;
  size_t n;
  if (cs_ocsp_spk_bits(crt, &bits, &n) != 0)
    return CS_EPARSE;
  const mbedtls_md_info_t *mi = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
  return mbedtls_md(mi, bits, n, out) == 0 ? 0 : CS_ECRYPTO;
}

/* 1 if crt is the one the responder id names. */
static int matches_responder(const cs_ocsp_info_t *info, const mbedtls_x509_crt *crt) {
  if (info->responder_by_key) {
    uint8_t h[20];
    return sha1_key_bits(crt, h) == 0 && memcmp(h, info->responder_key_hash, 20) == 0;
  }
  return crt->subject_raw.len == info->responder_name_raw_len &&
         memcmp(crt->subject_raw.p, info->responder_name_raw, info->responder_name_raw_len) == 0;
}

static int verify_sig(mbedtls_pk_type_t pk_type, const void *opts, mbedtls_md_type_t md,
                      const mbedtls_pk_context *key, const uint8_t *data, size_t len,
                      const uint8_t *sig, size_t sig_len) {
  const mbedtls_md_info_t *mi = mbedtls_md_info_from_type(md);
  uint8_t hash[MBEDTLS_MD_MAX_SIZE];
  if (mi == NULL || mbedtls_md(mi, data, len, hash) != 0)
    return CS_ECRYPTO;
  /* mbedtls_pk_verify_ext takes a non-const context but does not modify it. */
  int ret = mbedtls_pk_verify_ext(pk_type, opts, (mbedtls_pk_context *)(uintptr_t)key, md, hash,
                                  mbedtls_md_get_size(mi), sig, sig_len);
  return ret == 0 ? 0 : CS_ECRYPTO;
}

static int crt_time_ms(const mbedtls_x509_time *t, int64_t *out) {
  cs_civil_t c = {t->year, t->mon, t->day, t->hour, t->min, t->sec, 0};
  return cs_time_from_civil(&c, out);
}

/* A delegated responder must be issued and signed by the CA and carry
 * id-kp-OCSPSigning (an absent EKU extension does not count, unlike
 * mbedtls_x509_crt_check_extended_key_usage's default). */
static int delegate_authorized(const mbedtls_x509_crt *d, const mbedtls_x509_crt *issuer,
                               char *detail, size_t cap) {
  if (d->issuer_raw.len != issuer->subject_raw.len ||
      memcmp(d->issuer_raw.p, issuer->subject_raw.p, d->issuer_raw.len) != 0) {
    snprintf(detail, cap, "responder certificate is not issued by the certificate's issuer");
    return 0;
  }
  if (verify_sig(d->sig_pk, d->sig_opts, d->sig_md, &issuer->pk, d->tbs.p, d->tbs.len,
                 d->sig.p, d->sig.len) != 0) {
    snprintf(detail, cap, "responder certificate signature does not verify with the issuer key");
    return 0;
  }
  if (!(d->ext_types & MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE) ||
      mbedtls_x509_crt_check_extended_key_usage(d, MBEDTLS_OID_OCSP_SIGNING,
                                                MBEDTLS_OID_SIZE(MBEDTLS_OID_OCSP_SIGNING)) != 0) {
    snprintf(detail, cap, "responder certificate lacks id-kp-OCSPSigning");
    return 0;
  }
  return 1;
}

int cs_ocsp_verify(const cs_ocsp_response_t *r, const mbedtls_x509_crt *issuer,
                   cs_ocsp_verify_result_t *res) {
  if (r == NULL || issuer == NULL || res == NULL)
    return CS_EINVAL;
  memset(res, 0, sizeof(*res));
  const cs_ocsp_info_t *info = cs_ocsp_response_info(r);
  const uint8_t *tbs, *sig;
  size_t tbs_len, sig_len;
  const void *opts;
  if (cs_ocsp_response_signed_parts(r, &tbs, &tbs_len, &sig, &sig_len, &opts) != 0)
    return CS_EINVAL;
  const mbedtls_x509_crt *signer = NULL;
  if (matches_responder(info, issuer)) {
    signer = issuer;
    res->signer = CS_OCSP_SIGNER_ISSUER;
  }
  for (const mbedtls_x509_crt *c = cs_ocsp_response_certs(r); signer == NULL && c != NULL;
       c = c->next) {
    if (c->raw.p == NULL || !matches_responder(info, c))
      continue;
    if (!delegate_authorized(c, issuer, res->detail, sizeof(res->detail))) {
      res->delegate_not_authorized = 1;
      continue;
    }
    signer = c;
    res->signer = CS_OCSP_SIGNER_DELEGATED;
    if (crt_time_ms(&c->valid_from, &res->delegate_not_before_ms) != 0 ||
        crt_time_ms(&c->valid_to, &res->delegate_not_after_ms) != 0)
      return CS_EPARSE;
  }
  if (signer == NULL) {
    if (res->detail[0] == '\0')
      snprintf(res->detail, sizeof(res->detail),
               "no certificate matches the responder id (neither the issuer nor a "
               "certificate in the response)");
    return 0;
  }
  res->detail[0] = '\0';
  res->delegate_not_authorized = 0;
  if (verify_sig(info->sig_pk, opts, info->sig_md, &signer->pk, tbs, tbs_len, sig, sig_len) == 0)
    res->signature_ok = 1;
  else
    snprintf(res->detail, sizeof(res->detail), "signature does not verify with the %s key",
             res->signer == CS_OCSP_SIGNER_ISSUER ? "issuer" : "delegated responder");
  return 0;
}
