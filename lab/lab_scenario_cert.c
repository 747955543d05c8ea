/* CA certificates and extension values for lab scenarios (see lab_scenario_internal.h). */
#include "lab_keys.h"
#include "lab_scenario_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/x509_crt.h>

#include "certskew/core/time.h"
#include "lab_scenario_der.h"

#define CERT_BUF 8192

const uint8_t LAB_OID_AIA[8] = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01};
const uint8_t LAB_OID_CRLDP[3] = {0x55, 0x1D, 0x1F};
static const uint8_t OID_AD_OCSP[] = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01};
static const uint8_t OID_AD_CA_ISSUERS[] = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02};



int lab_sc_ca_write(const lab_sc_ca_spec_t *spec, cs_lab_rng_fn f_rng, void *p_rng, uint8_t **der,
                    size_t *der_len) {
  mbedtls_x509write_cert w;
  mbedtls_mpi serial;
  uint8_t sn[16], *buf = NULL;
  char nb[16], na[16];
  *der = NULL;
  *der_len = 0;
  mbedtls_x509write_crt_init(&w);
  mbedtls_mpi_init(&serial);
  int err = cs_lab_x509write_time(spec->not_before_ms, nb);
  if (err == 0)
    err = cs_lab_x509write_time(spec->not_after_ms, na);
  if (err != 0)
    goto done;
  err = CS_ECRYPTO;
  if (f_rng(p_rng, sn, sizeof(sn)) != 0)
    goto done;
  sn[0] = (uint8_t)((sn[0] & 0x7F) | 0x10);
  mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&w, (mbedtls_pk_context *)spec->subject_key);
  mbedtls_x509write_crt_set_issuer_key(&w, (mbedtls_pk_context *)spec->issuer_key);
  if (mbedtls_mpi_read_binary(&serial, sn, sizeof(sn)) != 0 ||
      mbedtls_x509write_crt_set_serial(&w, &serial) != 0 ||
      mbedtls_x509write_crt_set_validity(&w, nb, na) != 0 ||
      mbedtls_x509write_crt_set_subject_name(&w, spec->subject) != 0 ||
      mbedtls_x509write_crt_set_issuer_name(&w, spec->issuer) != 0 ||
      mbedtls_x509write_crt_set_basic_constraints(&w, 1, -1) != 0 ||
      mbedtls_x509write_crt_set_subject_key_identifier(&w) != 0 ||
      mbedtls_x509write_crt_set_authority_key_identifier(&w) != 0 ||
      mbedtls_x509write_crt_set_key_usage(
          &w, MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN) != 0)
    goto done;
  for (size_t i = 0; i < spec->nexts; i++)
    if (mbedtls_x509write_crt_set_extension(&w, (const char *)spec->exts[i].oid,
                                            spec->exts[i].oid_len, spec->exts[i].critical,
                                            spec->exts[i].value, spec->exts[i].value_len) != 0)
      goto done;
  err = CS_ENOMEM;
  if ((buf = malloc(CERT_BUF)) == NULL)
    goto done;
  int n = mbedtls_x509write_crt_der(&w, buf, CERT_BUF, f_rng, p_rng); /* at the end of buf */
  if (n <= 0) {
    err = CS_ECRYPTO;
    goto done;
  }
  if ((*der = malloc((size_t)n)) == NULL) /* owned by the caller */
    goto done;
  memcpy(*der, buf + CERT_BUF - n, (size_t)n);
  *der_len = (size_t)n;
  err = 0;
done:
  free(buf);
  mbedtls_mpi_free(&serial);
  mbedtls_x509write_crt_free(&w);
  return err;
}

static void uri(lab_der_t *d, const char *url) {
  lab_der_tlv(d, 0x86, (const uint8_t *)url, strlen(url)); /* [6] uniformResourceIdentifier */
}

int lab_sc_aia_value(const char *ocsp_url, const char *ca_issuers_url, uint8_t **out,
                     size_t *out_len) {
  if (ocsp_url == NULL && ca_issuers_url == NULL)
    return CS_EINVAL;
  lab_der_t d;
  lab_der_init(&d);
  lab_der_open(&d, 0x30);
  if (ocsp_url != NULL) {
    lab_der_open(&d, 0x30);
    lab_der_tlv(&d, 0x06, OID_AD_OCSP, sizeof(OID_AD_OCSP));
    uri(&d, ocsp_url);
    lab_der_close(&d);
  }
  if (ca_issuers_url != NULL) {
    lab_der_open(&d, 0x30);
    lab_der_tlv(&d, 0x06, OID_AD_CA_ISSUERS, sizeof(OID_AD_CA_ISSUERS));
    uri(&d, ca_issuers_url);
    lab_der_close(&d);
  }
  lab_der_close(&d);
  int err = lab_der_take(&d, out, out_len);
  lab_der_free(&d);
  return err;
}

int lab_sc_crldp_value(const char *url, uint8_t **out, size_t *out_len) {
  lab_der_t d;
  lab_der_init(&d);
  lab_der_open(&d, 0x30); /* CRLDistributionPoints */
  lab_der_open(&d, 0x30); /* DistributionPoint */
  lab_der_open(&d, 0xA0); /* distributionPoint [0] */
  lab_der_open(&d, 0xA0); /* fullName [0] GeneralNames */
  uri(&d, url);
  lab_der_close(&d);
  lab_der_close(&d);
  lab_der_close(&d);
  lab_der_close(&d);
  int err = lab_der_take(&d, out, out_len);
  lab_der_free(&d);
  return err;
}
