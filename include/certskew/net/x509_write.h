/* Helpers shared by CA generation and leaf minting (mbedTLS x509write). */
#ifndef CERTSKEW_NET_X509_WRITE_H
#define CERTSKEW_NET_X509_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/x509_crt.h>

#include "certskew/core/error.h"
#include "certskew/net/rng.h"

/* "YYYYMMDDhhmmss" for mbedtls_x509write_crt_set_validity. */
void cs_x509_time_string(int64_t t_ms, char out[16]);
/* The UTC midnight at or before t_ms, minus one day: a notBefore that no
 * reasonable clock skew puts in the future. */
int64_t cs_x509_backdated_not_before(int64_t t_ms);
/* Sets a random positive 128-bit serial. */
int cs_x509_random_serial(mbedtls_x509write_cert *w, cs_rng_t *rng) CS_MUST_CHECK;
/* Writes the certificate as DER into buf; *der points inside buf. */
int cs_x509_write_der(mbedtls_x509write_cert *w, cs_rng_t *rng, unsigned char *buf, size_t buflen,
                      const unsigned char **der, size_t *der_len) CS_MUST_CHECK;
/* Parses host as an IPv4 or IPv6 literal (brackets allowed) into ip;
 * returns its length (4 or 16) or 0 if host is not an IP literal. */
size_t cs_x509_parse_ip(const char *host, unsigned char ip[16]);

#endif
