/*
 * Fuzz target: the CRL wrapper (strict parse, time conversion, serial
 * lookup, signature check against an issuer).
 *
 * Input: a CRL, optionally followed by the certificate of its issuer (DER
 * after DER, or a PEM CERTIFICATE block after a PEM CRL; see
 * fuzz/make_seeds_crl.sh). Every listed serial is looked up (each must be
 * found, with a revocation date), plus serials that are not listed, and
 * when an issuer certificate parses the signature is checked against it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/x509_crt.h>

#include "certskew/revocation/crl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Length of the DER element at data (tag, length, contents), or 0. */
static size_t der_element_len(const uint8_t *data, size_t size) {
  if (size < 2 || data[0] != 0x30)
    return 0;
  size_t len = data[1], hdr = 2;
  if (len & 0x80) {
    size_t nb = len & 0x7f;
    if (nb == 0 || nb > 4 || size < 2 + nb)
      return 0;
    len = 0;
    for (size_t i = 0; i < nb; i++)
      len = (len << 8) | data[2 + i];
    hdr += nb;
  }
  return hdr + len <= size ? hdr + len : 0;
}

/* Where the issuer certificate starts in the input, or size if none. */
static size_t split_point(const uint8_t *data, size_t size) {
  static const char pem[] = "-----BEGIN CERTIFICATE-----";
  if (size > 10 && memcmp(data, "-----BEGIN", 10) == 0) {
    for (size_t i = 10; i + sizeof pem - 1 <= size; i++)
      if (memcmp(data + i, pem, sizeof pem - 1) == 0)
        return i;
    return size;
  }
  size_t n = der_element_len(data, size);
  return n > 0 ? n : size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t crl_len = split_point(data, size);
  cs_crl_info_t info;
  cs_crl_info_init(&info);
  if (cs_crl_parse(&info, data, crl_len, NULL) == 0) {
    if (cs_crl_parse(&info, data, crl_len, NULL) != CS_ESTATE)
      abort(); /* a second CRL into the same info is refused */
    if (info.has_next_update && info.next_update_ms % 1000 != 0)
      abort(); /* X.509 times have whole seconds */
    size_t listed = 0;
    for (size_t i = 0; i < info.list.nserials; i++) {
      const cs_crl_serial_t *e = &info.list.serials[i];
      listed++;
      int64_t when = -1;
      if (cs_crl_find_serial(&info, e->p, e->len, &when) != 1 || when != e->revoked_ms)
        abort(); /* every listed serial is found, with its date */
      if (i > 0 && (e->len < e[-1].len || (e->len == e[-1].len &&
                                            memcmp(e[-1].p, e->p, e->len) >= 0)))
        abort(); /* sorted, no duplicates */
    }
    if (listed != info.nentries)
      abort();
    int64_t when;
    static const uint8_t absent[] = {0x00, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77,
                                     0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00, 0xff, 0xee, 0xdd,
                                     0xcc};
    (void)cs_crl_find_serial(&info, absent, sizeof absent, &when);
    (void)cs_crl_find_serial(&info, data, size > 8 ? 8 : size, NULL);
    if (crl_len < size) {
      mbedtls_x509_crt issuer;
      mbedtls_x509_crt_init(&issuer);
      const uint8_t *p = data + crl_len;
      size_t n = size - crl_len;
      int ok;
      if (p[0] == '-') { /* PEM parsing needs a NUL-terminated copy */
        uint8_t *copy = malloc(n + 1);
        if (copy == NULL)
          abort();
        memcpy(copy, p, n);
        copy[n] = '\0';
        ok = mbedtls_x509_crt_parse(&issuer, copy, n + 1) == 0;
        free(copy);
      } else {
        ok = mbedtls_x509_crt_parse_der(&issuer, p, n) == 0;
      }
      int vr = ok ? cs_crl_verify(&info, &issuer, NULL) : 1;
      /* CS_FUZZ_VERBOSE=1: show what each seed reaches (checking seeds). */
      if (getenv("CS_FUZZ_VERBOSE") != NULL)
        fprintf(stderr, "crl: %zu entries, issuer %s, verify %d\n", info.nentries,
                ok ? "parsed" : "unparsed", vr);
      mbedtls_x509_crt_free(&issuer);
    }
    if (cs_crl_verify(&info, NULL, NULL) != CS_EINVAL)
      abort();
  }
  cs_crl_info_free(&info);
  cs_crl_info_free(&info); /* safe twice */
  return 0;
}
