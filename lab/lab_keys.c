/* Key and validity helpers shared by the lab issuers (see lab_keys.h). */
#include "lab_keys.h"

#include <stdio.h>

#include <mbedtls/ecp.h>

#include "certskew/core/time.h"

int cs_lab_gen_p256(mbedtls_pk_context *pk, cs_lab_rng_fn f_rng, void *p_rng) {
  if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
      mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk), f_rng, p_rng) != 0)
    return CS_ECRYPTO;
  return 0;
}

int cs_lab_x509write_time(int64_t t_ms, char out[16]) {
  cs_civil_t c;
  cs_time_to_civil(t_ms, &c);
  if (c.year < 1950 || c.year > 9999)
    return CS_ERANGE;
  (void)snprintf(out, 16, "%04d%02d%02d%02d%02d%02d", (int)c.year, c.month, c.day, c.hour,
                 c.minute, c.second);
  return 0;
}
