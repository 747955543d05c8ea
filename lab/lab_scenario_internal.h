/* Helpers shared by the lab scenario files (private to lab/). */
#ifndef CERTSKEW_LAB_SCENARIO_INTERNAL_H
#define CERTSKEW_LAB_SCENARIO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>

#include "certskew/core/error.h"
#include "certskew/lab/lab_ct.h"

/* A CA certificate to issue. subject_key is the certified key; issuer_key
 * signs (the same key for a self-signed root). Validity whole seconds. */
typedef struct lab_sc_ca_spec {
  const char *subject;             /* mbedTLS name string */
  const mbedtls_pk_context *subject_key;
  const char *issuer;
  const mbedtls_pk_context *issuer_key;
  int64_t not_before_ms, not_after_ms;
  const cs_lab_ct_ext_t *exts;     /* extra extensions, may be NULL */
  size_t nexts;
} lab_sc_ca_spec_t;

/* Writes the CA certificate; *der newly allocated (caller frees).
 * Returns 0, CS_ERANGE, CS_ECRYPTO or CS_ENOMEM. */
int lab_sc_ca_write(const lab_sc_ca_spec_t *spec, cs_lab_rng_fn f_rng, void *p_rng, uint8_t **der,
                    size_t *der_len) CS_MUST_CHECK;

/* A fresh ECDSA P-256 key. */

/* extnValue contents (newly allocated, caller frees): the
 * authorityInfoAccess with an OCSP and a caIssuers URI (either may be NULL,
 * not both), and cRLDistributionPoints with one full-name URI. */
int lab_sc_aia_value(const char *ocsp_url, const char *ca_issuers_url, uint8_t **out,
                     size_t *out_len) CS_MUST_CHECK;
int lab_sc_crldp_value(const char *url, uint8_t **out, size_t *out_len) CS_MUST_CHECK;

extern const uint8_t LAB_OID_AIA[8];
extern const uint8_t LAB_OID_CRLDP[3];

#endif
