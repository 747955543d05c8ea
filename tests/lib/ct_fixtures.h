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

#include "certskew/lab/lab_ct.h"
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

/* A CT lab "world" for tests: a deterministic RNG, a lab CA, lab logs and
 * a scratch directory, all made at now_ms (the real clock: openssl judges
 * SCTs at its own session time). */
#define CT_WORLD_MAX_LOGS 4
typedef struct ct_world_log {
  uint8_t alg; /* CS_SCT_SIG_ECDSA or CS_SCT_SIG_RSA */
  const char *name, *op;
} ct_world_log_t;
typedef struct ct_world {
  ct_rng_t rng;
  cs_lab_ct_ca_t ca;
  cs_lab_ct_log_t logs[CT_WORLD_MAX_LOGS];
  size_t nlogs;
  int64_t now_ms;
  char dir[256];
} ct_world_t;

/* Makes the world: the RNG from label, the CA named root_name, one log per
 * logs[i] created logs_age_ms before now. Returns 0 or -1 (then call
 * ct_world_free anyway). */
int ct_world_init(ct_world_t *w, const char *label, const char *root_name,
                  const ct_world_log_t *logs, size_t nlogs, int64_t logs_age_ms);
/* Releases everything and removes the scratch directory. */
void ct_world_free(ct_world_t *w);
/* Writes the PEM of a (and b, if not NULL) into dir/name; path as cs_fx_write. */
int ct_write_pems(const char *dir, const char *name, const uint8_t *a, size_t la, const uint8_t *b,
                  size_t lb, char *path);
/* x509_entry SCTs over cert_der, signed a minute ago by the logs whose bit
 * is set in mask, as a TLS-encoded list (*list newly allocated). 0 or an error. */
int ct_tls_sct_list(ct_world_t *w, uint32_t mask, const uint8_t *cert_der, size_t cert_len,
                    uint8_t **list, size_t *list_len);
/* openssl's -serverinfo file for a TLS SCT list: version 2, PEM of (context,
 * type 18, length, list), sent in a TLS 1.2 ServerHello and in a TLS 1.3 leaf
 * CertificateEntry; written to dir/serverinfo.pem. 0 or -1. */
int ct_write_serverinfo(const char *dir, const uint8_t *list, size_t len, char *path);

/* The source tree (CS_SRC, set by ctest, or "."): tests read only files in
 * the repository (data/log_list.json, tests/data/) or files they make. */
const char *ct_src_dir(void);

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
