/* x509write helpers (see include/certskew/net/x509_write.h). */
#include "certskew/net/x509_write.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/bignum.h>

#include "certskew/core/time.h"

void cs_x509_time_string(int64_t t_ms, char out[16]) {
  cs_civil_t c;
  cs_time_to_civil(t_ms, &c);
  snprintf(out, 16, "%04d%02d%02d%02d%02d%02d", (int)c.year, c.month, c.day, c.hour, c.minute,
           c.second);
}

int64_t cs_x509_backdated_not_before(int64_t t_ms) {
  int64_t day = 0;
  if (cs_time_floor(t_ms, CS_MS_PER_DAY, &day) != 0)
    return t_ms;
  int64_t out = 0;
  return cs_time_sub(day, CS_MS_PER_DAY, &out) == 0 ? out : day;
}

int cs_x509_random_serial(mbedtls_x509write_cert *w, cs_rng_t *rng) {
  unsigned char raw[16];
  if (cs_rng_fill(rng, raw, sizeof raw) != 0)
    return CS_ECRYPTO;
  raw[0] &= 0x7f; /* positive */
  raw[0] |= 0x40; /* and exactly 16 bytes long */
  mbedtls_mpi serial;
  mbedtls_mpi_init(&serial);
  int rc = mbedtls_mpi_read_binary(&serial, raw, sizeof raw) == 0 &&
                   mbedtls_x509write_crt_set_serial(w, &serial) == 0
               ? 0
               : CS_ECRYPTO;
  mbedtls_mpi_free(&serial);
  return rc;
}

int cs_x509_write_der(mbedtls_x509write_cert *w, cs_rng_t *rng, unsigned char *buf, size_t buflen,
                      const unsigned char **der, size_t *der_len) {
  /* mbedtls_x509write_crt_der writes at the END of the buffer. */
  int n = mbedtls_x509write_crt_der(w, buf, buflen, cs_rng_fill, rng);
  if (n <= 0)
    return CS_ECRYPTO;
  *der = buf + buflen - (size_t)n;
  *der_len = (size_t)n;
  return 0;
}

size_t cs_x509_parse_ip(const char *host, unsigned char ip[16]) {
  char tmp[64];
  size_t n = strlen(host);
  if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
    host++;
    n -= 2;
  }
  if (n == 0 || n >= sizeof tmp)
    return 0;
  memcpy(tmp, host, n);
  tmp[n] = '\0';
  if (inet_pton(AF_INET, tmp, ip) == 1)
    return 4;
  if (inet_pton(AF_INET6, tmp, ip) == 1)
    return 16;
  return 0;
}
