/*
 * The CT lab: test CT logs with their own keys, SCTs they sign, and
 * certificates carrying them, all in memory. Used by tests and benchmarks to
 * produce chains whose SCTs verify (or deliberately do not), checked against
 * openssl as an independent implementation.
 *
 * Every function takes the time (int64 ms) and an mbedTLS-style RNG
 * (f_rng, p_rng) as arguments; nothing reads the clock or a global.
 */
#ifndef CERTSKEW_LAB_LAB_CT_H
#define CERTSKEW_LAB_LAB_CT_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>

#include "certskew/ct/ct.h"
#include "certskew/core/error.h"

/* mbedTLS's RNG callback shape: fill out[0..len), return 0 or an mbedTLS error. */
typedef int (*cs_lab_rng_fn)(void *p_rng, unsigned char *out, size_t len);

/* A lab CT log: a key pair plus what a log list says about it. */
typedef struct cs_lab_ct_log {
  char description[64];
  char operator_name[64];
  mbedtls_pk_context key;    /* private key */
  uint8_t sig_alg;           /* CS_SCT_SIG_ECDSA (P-256) or CS_SCT_SIG_RSA (2048) */
  uint8_t log_id[32];        /* SHA-256 of spki_der */
  uint8_t *spki_der;         /* owned: the public key as SubjectPublicKeyInfo */
  size_t spki_der_len;
  /* Written to the Chrome v3 list (cs_lab_ct_chrome_log_list): */
  cs_ct_log_state_t state;   /* default USABLE */
  int64_t state_since_ms;
  int has_interval;          /* 0 by default */
  int64_t interval_start_ms, interval_end_ms;
} cs_lab_ct_log_t;

/* Zeroes log (no key). Cannot fail. */
void cs_lab_ct_log_init(cs_lab_ct_log_t *log);
/* Generates a key (ECDSA P-256 or RSA-2048 by sig_alg) and fills the id;
 * state = USABLE since now_ms. description/operator_name are copied
 * (truncated to fit). Returns 0, CS_EINVAL, CS_ECRYPTO or CS_ENOMEM. */
int cs_lab_ct_log_generate(cs_lab_ct_log_t *log, uint8_t sig_alg, const char *description,
                           const char *operator_name, int64_t now_ms, cs_lab_rng_fn f_rng,
                           void *p_rng) CS_MUST_CHECK;
/* Safe on an initialised log and twice. */
void cs_lab_ct_log_free(cs_lab_ct_log_t *log);

/* Signs an SCT v1 (no extensions) over the RFC 6962 signed data for the
 * entry (cs_ct_signed_data) at timestamp_ms. *out is the serialized SCT
 * without a length prefix, newly allocated (caller frees).
 * Returns 0, CS_EINVAL, CS_ECRYPTO or CS_ENOMEM. */
int cs_lab_ct_sct_sign(const cs_lab_ct_log_t *log, cs_ct_entry_type_t type, int64_t timestamp_ms,
                       const uint8_t issuer_key_hash[32], const uint8_t *entry, size_t entry_len,
                       cs_lab_rng_fn f_rng, void *p_rng, uint8_t **out,
                       size_t *out_len) CS_MUST_CHECK;

/* Encodes SignedCertificateTimestampList (TLS: 2-byte total, 2-byte length
 * per SCT) from n serialized SCTs. *out newly allocated (caller frees).
 * Returns 0, CS_EINVAL (n == 0), CS_ETOOBIG or CS_ENOMEM. */
int cs_lab_ct_sct_list(const uint8_t *const *scts, const size_t *lens, size_t n, uint8_t **out,
                       size_t *out_len) CS_MUST_CHECK;

/* A self-signed lab root CA (ECDSA P-256). */
typedef struct cs_lab_ct_ca {
  mbedtls_pk_context key;
  char subject[128];         /* mbedTLS name string, also the leaf's issuer */
  uint8_t *der;              /* owned */
  size_t der_len;
} cs_lab_ct_ca_t;

void cs_lab_ct_ca_init(cs_lab_ct_ca_t *ca);
/* Issues the root, valid from now_ms - 1 day for 10 years. */
int cs_lab_ct_ca_generate(cs_lab_ct_ca_t *ca, const char *common_name, int64_t now_ms,
                          cs_lab_rng_fn f_rng, void *p_rng) CS_MUST_CHECK;
/* Safe on an initialised CA and twice. */
void cs_lab_ct_ca_free(cs_lab_ct_ca_t *ca);

/* One extra certificate extension: DER OID content bytes and extnValue
 * content (what the OCTET STRING wraps). */
typedef struct cs_lab_ct_ext {
  const uint8_t *oid;
  size_t oid_len;
  int critical;
  const uint8_t *value;
  size_t value_len;
} cs_lab_ct_ext_t;

/* What leaf to issue. Zero-initialise, then set. */
typedef struct cs_lab_ct_leaf_spec {
  const char *dns_name;           /* subject CN and SAN of the final certificate */
  const uint8_t *ipv4_san;        /* optional 4-byte IP address SAN (both certificates);
                                     the lab adds 127.0.0.1 so clients that connect to the
                                     address, not the name, see a matching certificate */
  int64_t backdate_ms;            /* notBefore = now_ms - backdate_ms */
  int64_t lifetime_ms;            /* notAfter = notBefore + lifetime_ms (whole seconds) */
  const cs_lab_ct_log_t *const *logs; /* logs that sign embedded SCTs, in list order */
  size_t nlogs;                   /* 0 -> no SCT list extension */
  const int64_t *sct_offsets_ms;  /* per log: SCT timestamp = now_ms + offset; NULL = 0 */
  /* Mismatch: if set, the logs sign a precertificate whose SAN is this name
   * while the final certificate carries dns_name (the CA changed an
   * extension after logging), so every SCT fails verification. */
  const char *precert_dns_name;
  /* Bit i set: log i signs with a wrong issuer key hash (a log bug), so
   * that one SCT fails while the others verify. */
  uint32_t bad_log_mask;
  /* Further extensions for both the precertificate and the final
   * certificate (e.g. AIA, CRL distribution points), each a DER OID and a
   * DER extnValue content; borrowed for the call. NULL/0: none. */
  const cs_lab_ct_ext_t *exts;
  size_t nexts;
  /* Serial number (16 bytes, first byte < 0x80); NULL: random. */
  const uint8_t *serial;
} cs_lab_ct_leaf_spec_t;

typedef struct cs_lab_ct_leaf {
  mbedtls_pk_context key;         /* the leaf's private key (ECDSA P-256) */
  uint8_t *der;                   /* owned: the final certificate */
  size_t der_len;
  uint8_t *precert_der;           /* owned: the precertificate (poisoned), as signed by the CA */
  size_t precert_der_len;
  uint8_t *sct_list;              /* owned: the TLS-encoded list embedded (NULL if none) */
  size_t sct_list_len;
} cs_lab_ct_leaf_t;

void cs_lab_ct_leaf_init(cs_lab_ct_leaf_t *leaf);
/* Issues a precertificate, has spec->logs sign it, and issues the final
 * certificate with the SCT list extension, all by ca at now_ms.
 * Returns 0, CS_EINVAL, CS_ERANGE (validity outside 1950..9999),
 * CS_ECRYPTO or CS_ENOMEM. */
int cs_lab_ct_leaf_issue(cs_lab_ct_leaf_t *leaf, const cs_lab_ct_ca_t *ca,
                         const cs_lab_ct_leaf_spec_t *spec, int64_t now_ms, cs_lab_rng_fn f_rng,
                         void *p_rng) CS_MUST_CHECK;
/* Safe on an initialised leaf and twice. */
void cs_lab_ct_leaf_free(cs_lab_ct_leaf_t *leaf);

/* The openssl CT log file (the CONF format CTLOG_STORE_load_file reads,
 * used by `openssl s_client -ct -ctlogfile FILE`):
 *   enabled_logs = log0,log1
 *   [log0]
 *   description = ...
 *   key = <base64 SubjectPublicKeyInfo>
 * *out is a newly allocated NUL-terminated string (caller frees). */
int cs_lab_ct_openssl_log_file(const cs_lab_ct_log_t *const *logs, size_t n,
                               char **out) CS_MUST_CHECK;

/* A Chrome v3 log list (loadable by cs_ct_log_list_load) holding the logs,
 * grouped by operator_name, with each log's state and interval; version
 * "lab", log_list_timestamp now_ms. *out newly allocated (caller frees). */
int cs_lab_ct_chrome_log_list(const cs_lab_ct_log_t *const *logs, size_t n, int64_t now_ms,
                              char **out) CS_MUST_CHECK;

/* PEM of a DER certificate / of a private key; newly allocated strings. */
int cs_lab_ct_cert_pem(const uint8_t *der, size_t der_len, char **out) CS_MUST_CHECK;
int cs_lab_ct_key_pem(const mbedtls_pk_context *key, char **out) CS_MUST_CHECK;

#endif
