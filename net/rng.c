/* The proxy's random number generator (see include/certskew/net/rng.h). */
#include "certskew/net/rng.h"

#include <string.h>

int cs_rng_init(cs_rng_t *rng, const char *personalization) {
  mbedtls_entropy_init(&rng->entropy);
  mbedtls_ctr_drbg_init(&rng->drbg);
  const char *pers = personalization != NULL ? personalization : "certskew";
  if (mbedtls_ctr_drbg_seed(&rng->drbg, mbedtls_entropy_func, &rng->entropy,
                            (const unsigned char *)pers, strlen(pers)) != 0)
    return CS_ECRYPTO;
  return 0;
}

int cs_rng_fill(void *p_rng, unsigned char *out, size_t len) {
  cs_rng_t *rng = p_rng;
  return mbedtls_ctr_drbg_random(&rng->drbg, out, len);
}

void cs_rng_free(cs_rng_t *rng) {
  if (rng == NULL)
    return;
  /* mbedTLS free functions zero the context, so a second call is a no-op. */
  mbedtls_ctr_drbg_free(&rng->drbg);
  mbedtls_entropy_free(&rng->entropy);
}
