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

/* Failures so far in this test process (each assertion prints its own). */
extern int ct_failures;

#define CT_CHECK(cond)                                                                           \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                   \
      ct_failures++;                                                                             \
    }                                                                                            \
  } while (0)

#define CT_EQ_INT(a, b)                                                                          \
  do {                                                                                           \
    long long ct_a_ = (long long)(a), ct_b_ = (long long)(b);                                    \
    if (ct_a_ != ct_b_) {                                                                        \
      fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b,      \
              ct_a_, ct_b_);                                                                     \
      ct_failures++;                                                                             \
    }                                                                                            \
  } while (0)

#define CT_EQ_STR(a, b)                                                                          \
  do {                                                                                           \
    const char *ct_a_ = (a), *ct_b_ = (b);                                                       \
    if (ct_a_ == NULL || ct_b_ == NULL || strcmp(ct_a_, ct_b_) != 0) {                           \
      fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b,  \
              ct_a_ ? ct_a_ : "(null)", ct_b_ ? ct_b_ : "(null)");                               \
      ct_failures++;                                                                             \
    }                                                                                            \
  } while (0)

/* Prints a summary and returns the process exit code. */
int ct_done(const char *test_name);

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

/* Reads a whole file; *out newly allocated (caller frees), NUL-terminated.
 * Returns 0 or -1. */
int ct_read_file(const char *path, uint8_t **out, size_t *len);
/* Creates a private temporary directory into dir (>= 64 bytes). 0 or -1. */
int ct_tmpdir(char *dir, size_t cap);
/* Writes dir/name; path (optional, >= 512 bytes) gets the full path. 0 or -1. */
int ct_write(const char *dir, const char *name, const void *data, size_t len, char *path);
/* Removes the files written into dir and dir itself. */
void ct_rmdir(const char *dir);

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
