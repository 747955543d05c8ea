/* Private: helpers shared by the OCSP request builder and verifier. */
#ifndef CERTSKEW_OCSP_INTERNAL_H
#define CERTSKEW_OCSP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/x509_crt.h>

/* The value bits of the subjectPublicKey BIT STRING inside crt's
 * SubjectPublicKeyInfo: what an OCSP key hash is computed over (RFC 6960
 * §4.1.1, "excluding the tag and length fields"). *bits points into crt.
 * Returns 0 or CS_EPARSE. */
int cs_ocsp_spk_bits(const mbedtls_x509_crt *crt, const uint8_t **bits, size_t *len);

#endif
