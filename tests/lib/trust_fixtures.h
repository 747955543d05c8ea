/*
 * Test helpers for the trust analyzer: a scratch directory in which the
 * openssl CLI generates keys and certificates with exact validity bounds
 * (`openssl ca -startdate/-enddate`, since openssl 3.0's `x509` has no
 * -not_before), and `openssl verify -attime` as the reference verdict.
 * Files are named <name>.key / <name>.pem inside the directory.
 */
#ifndef CS_TEST_TRUST_FIXTURES_H
#define CS_TEST_TRUST_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

typedef struct cs_tf {
  char dir[256]; /* scratch directory, removed by cs_tf_cleanup */
} cs_tf_t;

/* Creates the directory and the minimal CA configuration. 0 or -1. */
int cs_tf_init(cs_tf_t *tf);
/* Removes the directory. Safe twice. */
void cs_tf_cleanup(cs_tf_t *tf);

/* Extension profiles for cs_tf_issue's ext argument (openssl x509v3 config
 * lines separated by '\n'). */
#define CS_TF_EXT_CA "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign"

/* Issues certificate <name>.pem for subject "/CN=<cn>" with key <key>.key
 * (generated as EC P-256 if missing), valid [nb_s, na_s] (epoch seconds,
 * inclusive), signed by <issuer>.pem with <issuer_key>.key, or self-signed
 * when issuer is NULL. ext: extension lines (see CS_TF_EXT_CA). 0 or -1. */
int cs_tf_issue(cs_tf_t *tf, const char *name, const char *cn, const char *key,
                const char *issuer, const char *issuer_key, int64_t nb_s, int64_t na_s,
                const char *ext);

/* Writes <out> as the concatenation of names[0..n) .pem files (n may be 0:
 * an empty file). 0 or -1. */
int cs_tf_bundle(cs_tf_t *tf, const char *out, const char *const *names, size_t n);

/* Reads <dir>/<file> into a new buffer (caller frees), NULL on error. */
uint8_t *cs_tf_read(cs_tf_t *tf, const char *file, size_t *len);

/* openssl verify -purpose sslserver -attime at_s -CAfile <dir>/<cafile>
 * [-untrusted <dir>/<untrusted>] [-verify_hostname/-verify_ip host]
 * <dir>/<leaf>, with no default store. 1 if it verifies, 0 if not. */
int cs_tf_openssl_verify(cs_tf_t *tf, const char *leaf, const char *untrusted,
                         const char *cafile, int64_t at_s, const char *host);

#endif
