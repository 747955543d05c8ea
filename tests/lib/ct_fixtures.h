/*
 * Test helpers for the CT tests: assertions, a deterministic RNG for the
 * lab, temporary files, and a driver for openssl s_server / s_client -ct on
 * 127.0.0.1 (the independent implementation certskew's verdicts are
 * compared with).
 */
#ifndef CERTSKEW_TESTS_CT_FIXTURES_H
#define CERTSKEW_TESTS_CT_FIXTURES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mbedtls/ctr_drbg.h>

#include "cs_test.h"
#include "fixture.h"

/* Assertions: cs_test.h. Temporary files: fixture.h. */

/* A deterministic DRBG: the same label gives the same keys and signatures. */
typedef struct ct_rng {
  mbedtls_ctr_drbg_context drbg;
  uint32_t counter;
  char label[64];
} ct_rng_t;

/* Returns 0 or -1. */
int ct_rng_init(ct_rng_t *r, const char *label);
void ct_rng_free(ct_rng_t *r);
/* cs_lab_rng_fn-compatible: p_rng is a ct_rng_t. */
int ct_rng(void *p_rng, unsigned char *out, size_t len);

/* The path of the shared data directory (CS_SHARED_DIR or ../shared). */
const char *ct_shared_dir(void);

/* What openssl s_client -ct reported. */
typedef struct ct_openssl_verdict {
  int handshake_ok;  /* "Verify return code: 0 (ok)" seen */
  int present;       /* "SCTs present (N)" */
  int valid;         /* "SCT validation status: valid" lines */
  int invalid;       /* "... invalid" */
  int unknown_log;   /* "... unknown log" */
  int other;         /* any other status */
} ct_openssl_verdict_t;

/* Runs `openssl s_server -accept 127.0.0.1:0` with cert_pem (leaf + chain)
 * and key_pem (and serverinfo_pem if not NULL, to send SCTs in the TLS
 * extension), then `openssl s_client -ct -ctlogfile ctlog -CAfile ca_pem`
 * against it (TLS 1.2 when serverinfo is used), and parses the client's
 * output. Bounded: 20 s. Returns 0 if both ran, -1 otherwise (output on
 * stderr). */
int ct_openssl_sct_check(const char *dir, const char *cert_pem, const char *key_pem,
                         const char *ca_pem, const char *ctlog, const char *serverinfo_pem,
                         ct_openssl_verdict_t *v);

#endif
