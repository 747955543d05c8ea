/*
 * A forward DER writer for the lab (private to lab/): mbedTLS's asn1write
 * writes backwards, which makes nested structures with optional fields
 * (OCSP, CRLs) error-prone; here a constructed value is opened, filled in
 * reading order and closed, and its length is inserted on close.
 *
 * Errors are sticky: the first failure is kept in d->err and later calls do
 * nothing, so a builder is checked once at the end.
 */
#ifndef CERTSKEW_LAB_SCENARIO_DER_H
#define CERTSKEW_LAB_SCENARIO_DER_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>

#include "certskew/core/error.h"
#include "certskew/lab/lab_ct.h"

#define LAB_DER_MAX_DEPTH 16

typedef struct lab_der {
  uint8_t *buf; /* owned until taken */
  size_t len, cap;
  size_t open[LAB_DER_MAX_DEPTH]; /* offsets of open values' content */
  size_t depth;
  int err;
} lab_der_t;

void lab_der_init(lab_der_t *d);
void lab_der_free(lab_der_t *d);
/* Starts a constructed value with tag (e.g. 0x30, 0xA0). */
void lab_der_open(lab_der_t *d, uint8_t tag);
/* Ends the innermost open value, inserting its definite length. */
void lab_der_close(lab_der_t *d);
/* A whole TLV with content c[0..n). */
void lab_der_tlv(lab_der_t *d, uint8_t tag, const uint8_t *c, size_t n);
/* Bytes as they are (an already encoded value). */
void lab_der_raw(lab_der_t *d, const uint8_t *c, size_t n);
/* INTEGER / ENUMERATED of a small non-negative value. */
void lab_der_uint(lab_der_t *d, uint8_t tag, uint64_t v);
/* GeneralizedTime (generalized = 1) or UTCTime at whole seconds (floor). */
void lab_der_time(lab_der_t *d, int generalized, int64_t t_ms);
/* RFC 5280 choice: UTCTime for 1950..2049, GeneralizedTime otherwise. */
void lab_der_x509_time(lab_der_t *d, int64_t t_ms);
/* AlgorithmIdentifier for signing with key over SHA-256. */
void lab_der_sig_alg(lab_der_t *d, const mbedtls_pk_context *key);
/* Signs tbs[0..n) (SHA-256) with key and appends the BIT STRING. */
void lab_der_signature(lab_der_t *d, const mbedtls_pk_context *key, const uint8_t *tbs, size_t n,
                       cs_lab_rng_fn f_rng, void *p_rng);
/* Hands the bytes to the caller (free()) when no error occurred and nothing
 * is open; returns d->err (CS_EINVAL for unbalanced open/close). */
int lab_der_take(lab_der_t *d, uint8_t **out, size_t *len) CS_MUST_CHECK;

#endif
