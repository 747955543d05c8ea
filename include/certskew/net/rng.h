/* A seeded CTR-DRBG for the proxy's key generation and signatures. */
#ifndef CERTSKEW_NET_RNG_H
#define CERTSKEW_NET_RNG_H

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>

#include "certskew/core/error.h"

typedef struct cs_rng {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
} cs_rng_t;

/* Initialises and seeds from the system entropy source. On error the rng
 * is still safe to pass to cs_rng_free. CS_ECRYPTO on seeding failure. */
int cs_rng_init(cs_rng_t *rng, const char *personalization) CS_MUST_CHECK;
/* mbedTLS f_rng callback; p_rng is a cs_rng_t. */
int cs_rng_fill(void *p_rng, unsigned char *out, size_t len);
/* Safe twice. */
void cs_rng_free(cs_rng_t *rng);

#endif
