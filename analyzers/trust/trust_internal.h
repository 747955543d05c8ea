/*
 * Private to the trust analyzer (analyzers/trust_*.c): the result's layout,
 * shared by path building, the diagnosis and the JSON rendering.
 */
#ifndef CERTSKEW_TRUST_INTERNAL_H
#define CERTSKEW_TRUST_INTERNAL_H

#include "certskew/trust/trust.h"

/* Problems that make a path unusable. NAME_CONSTRAINTS only says "not
 * evaluated": counting it would make us fail chains OpenSSL accepts. */
#define CS_TRUST_FATAL_PROBLEMS (~(unsigned)CS_TRUST_P_NAME_CONSTRAINTS)

#define CS_TRUST_HOST_MAX 256

struct cs_trust_result {
  const cs_chain_t *chain;          /* borrowed */
  const cs_trust_store_t **stores;  /* owned array of borrowed stores */
  size_t nstores;
  cs_clock_t *clocks;               /* owned copy */
  size_t nclocks;
  int has_at;
  int64_t at_ms;
  int has_host;
  int host_ok;
  char host[CS_TRUST_HOST_MAX];
  char host_matched[CS_TRUST_HOST_MAX];
  cs_trust_path_t *paths;           /* owned, npaths entries */
  size_t npaths;
  int truncated;
  /* Owned storage behind every windows pointer: per path, CS_TRUST_MAX_DEPTH
   * hop rows then one path row, each nclocks intervals. */
  cs_interval_t *windows;
};

/* 1 if a and b are the same certificate (identical DER). */
int cs_trust__same_cert(const cs_cert_info_t *a, const cs_cert_info_t *b);

/* Whether t_ms lies in [from, to). */
int cs_trust__in(cs_interval_t iv, int64_t t_ms);

/* Problem bits from issuer's nameConstraints applied to the leaf's SAN
 * names (trust_nc.c): NAME_CONSTRAINTS_VIOLATED and/or NAME_CONSTRAINTS
 * (some constraint form not evaluated); 0 without the extension. */
unsigned cs_trust__name_constraints(const mbedtls_x509_crt *issuer, const mbedtls_x509_crt *leaf);

/* Appends the diagnosis of an analyzed result (trust_findings.c). */
int cs_trust__diagnose(const cs_trust_result_t *r, cs_findings_t *f);

#endif
