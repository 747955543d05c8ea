/*
 * A certificate chain as served: owned copies of each certificate's DER in
 * the order it arrived, plus the facts the analyzers need (validity in ms,
 * names, fingerprints, embedded SCTs).
 *
 * The chain owns everything reachable from it; cs_chain_free releases it all.
 * Pointers returned by accessors stay valid until then.
 */
#ifndef CERTSKEW_CORE_CHAIN_H
#define CERTSKEW_CORE_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/x509_crt.h>

#include "certskew/core/error.h"
#include "certskew/core/sct.h"

typedef struct cs_chain cs_chain_t;

/* Limits that make hostile input a clear error rather than a resource sink. */
#define CS_CHAIN_MAX_CERTS 32                 /* TLS chains in the wild: 2-5 */
#define CS_CHAIN_MAX_INPUT (4u * 1024 * 1024) /* bytes of PEM or DER */

typedef struct cs_cert_info {
  size_t index;             /* position in the served chain, 0 = leaf */
  const uint8_t *der;       /* owned by the chain */
  size_t der_len;
  const mbedtls_x509_crt *crt; /* mbedTLS parse of der (owned by the chain) */
  int64_t not_before_ms;    /* first instant of validity */
  int64_t not_after_ms;     /* notAfter as encoded (a whole second) */
  int64_t valid_until_ms;   /* last valid ms: notAfter is inclusive at second
                               resolution (RFC 5280 §4.1.2.5), so +999 */
  char subject[256];        /* RFC 4514-like string from mbedTLS */
  char issuer[256];
  char serial_hex[130];     /* "01:AB:..." */
  int is_ca;                /* basicConstraints cA */
  int self_issued;          /* subject == issuer (raw DER compare) */
  int is_precert;           /* carries the CT poison extension */
  int unknown_critical;     /* carries a critical extension neither mbedTLS nor OpenSSL
                               implements (the poison aside): clients reject it */
  char unknown_critical_oid[64]; /* the first such OID, dotted */
  const uint8_t *sct_ext;   /* extnValue content of 1.3.6.1.4.1.11129.2.4.2, or NULL */
  size_t sct_ext_len;
  cs_sct_t scts[CS_SCT_LIST_MAX]; /* parsed embedded SCTs (borrow from der) */
  size_t nscts;
  int sct_parse_error;      /* 0, or the CS_E* code the SCT list failed with */
  char sct_parse_detail[160];
} cs_cert_info_t;

/* Loads a chain from PEM (one or more CERTIFICATE blocks, other blocks
 * ignored) or DER (one or more concatenated certificates). Copies buf.
 * On error *out is NULL and eb says which certificate and why:
 * CS_EEMPTY (no certificate), CS_ETOOBIG (limits above), CS_EPARSE/CS_ETRUNC.
 * A malformed SCT list does not fail the load: it is recorded in the
 * certificate's sct_parse_error so the report can explain it. */
int cs_chain_load(cs_chain_t **out, const uint8_t *buf, size_t len, cs_errbuf_t *eb) CS_MUST_CHECK;

/* Safe on NULL. */
void cs_chain_free(cs_chain_t *chain);

size_t cs_chain_count(const cs_chain_t *chain);
/* NULL if i is out of range. */
const cs_cert_info_t *cs_chain_cert(const cs_chain_t *chain, size_t i);

/* The served chain back as PEM, newly allocated (caller frees), or NULL. */
char *cs_chain_to_pem(const cs_chain_t *chain);

/* SHA-256 fingerprint of one certificate's DER. Computed on demand: most
 * replays never need it, and hashing every certificate cost more than all
 * the time checks together. */
void cs_cert_fingerprint(const cs_cert_info_t *cert, uint8_t out[32]);

/* SHA-256 over all DER certificates in order: the identity of a served chain. */
void cs_chain_fingerprint(const cs_chain_t *chain, uint8_t out[32]);

#endif
