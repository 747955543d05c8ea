/* Private to lab/: the key and validity helpers every lab issuer uses. */
#ifndef CERTSKEW_LAB_KEYS_H
#define CERTSKEW_LAB_KEYS_H

#include <stdint.h>

#include <mbedtls/pk.h>

#include "certskew/core/error.h"
#include "certskew/lab/lab_ct.h"

/* A fresh ECDSA P-256 key into pk (initialised by the caller). 0 or CS_ECRYPTO. */
int cs_lab_gen_p256(mbedtls_pk_context *pk, cs_lab_rng_fn f_rng, void *p_rng) CS_MUST_CHECK;

/* t_ms as "YYYYMMDDhhmmss" (UTC, whole seconds), the form
 * mbedtls_x509write_crt_set_validity wants; CS_ERANGE outside 1950..9999,
 * the years X.509 validity can encode. */
int cs_lab_x509write_time(int64_t t_ms, char out[16]) CS_MUST_CHECK;

#endif
