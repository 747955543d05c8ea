/*
 * Lab scenarios: every skew bug certskew diagnoses, as complete material a
 * lab CA issues in memory at a chosen instant — a root and an intermediate,
 * a leaf with SCTs from two lab CT logs (two operators), the log list that
 * trusts them, the OCSP response the responder gives and the CRL the CA
 * publishes. `certskew lab` serves this material; `certskew repro` feeds it
 * straight to cs_analyze at exact times.
 *
 * Pure: issuance time and RNG are arguments; nothing reads the clock.
 */
#ifndef CERTSKEW_LAB_LAB_SCENARIO_H
#define CERTSKEW_LAB_LAB_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/error.h"
#include "certskew/lab/lab.h"
#include "certskew/lab/lab_ct.h"

typedef enum cs_lab_scenario_id {
  CS_LAB_SC_FRESH = 0,            /* issued now, SCTs now, notBefore backdated 1 h */
  CS_LAB_SC_FUTURE_NOTBEFORE,     /* notBefore 1 h after issuance (CA clock fast) */
  CS_LAB_SC_SCT_FUTURE,           /* one log's clock 5 min ahead: its SCT is in the future */
  CS_LAB_SC_PRECERT_MISMATCH,     /* final certificate differs from the logged precertificate */
  CS_LAB_SC_OCSP_UNAUTHORIZED,    /* responder not yet provisioned: "unauthorized" */
  CS_LAB_SC_OCSP_STALE,           /* the response's nextUpdate passed 1 h before issuance */
  CS_LAB_SC_MISSING_INTERMEDIATE, /* the server sends the leaf only (AIA caIssuers works) */
  CS_LAB_SC_EXPIRED_INTERMEDIATE, /* the issuing intermediate expired a day ago */
  CS_LAB_SC_EXPIRED_ROOT_CROSS_SIGN, /* served cross-sign (by a legacy root) has expired */
  CS_LAB_SC_CRL_STALE,            /* the CA's CRL nextUpdate passed a day ago */
  CS_LAB_SC_REVOKED,              /* OCSP and CRL say revoked */
  CS_LAB_SC_CRL_DROPPED_ENTRY,    /* the revoked leaf left the CRL before expiring */
  CS_LAB_SC_CRL_SHARD_DRIFT,      /* the revoked leaf moved to a shard its CRLDP does not name */
  CS_LAB_SC_PRECERT_NO_FINAL,     /* a logged precertificate, never finalised: unauthorized */
  CS_LAB_SC_COUNT
} cs_lab_scenario_id_t;

/* Static facts about a scenario. */
typedef struct cs_lab_scenario_info {
  const char *name;    /* "fresh", "future-notbefore", ... */
  const char *summary; /* one line */
  /* The finding codes that name the cause when judged shortly after
   * issuance with the material (trust anchors, log list, OCSP, CRL);
   * comma-separated. "" for fresh (nothing fails for an exact clock). */
  const char *cause_codes;
} cs_lab_scenario_info_t;

/* NULL if id is out of range. */
const cs_lab_scenario_info_t *cs_lab_scenario_info(cs_lab_scenario_id_t id);
/* Looks a scenario up by name. CS_ENOTFOUND if there is none. */
int cs_lab_scenario_find(const char *name, cs_lab_scenario_id_t *out) CS_MUST_CHECK;

/* Where clients reach the lab's HTTP server; written into the leaf's AIA
 * (OCSP: BASE/ocsp, caIssuers: BASE/intermediate.der) and CRL distribution
 * point (BASE/crl.der), and the intermediate's AIA/CRL DP likewise. */
#define CS_LAB_URL_MAX 200

typedef struct cs_lab_scenario_params {
  const char *dns_name;  /* the leaf's CN and DNS SAN; NULL: "localhost" */
  const char *base_url;  /* "http://127.0.0.1:PORT"; NULL: "http://127.0.0.1:9" (discard) */
  int64_t issued_ms;     /* the instant the CA issues the leaf (and the logs sign) */
} cs_lab_scenario_params_t;

/* One scenario's material. Everything is owned by the scenario. */
/* A further CRL the scenario publishes (an earlier version, a shard): served
 * at BASE + path and written to DIR + path by --out. */
#define CS_LAB_MAX_EXTRA_CRLS 4
typedef struct cs_lab_crl_file {
  char path[32];                   /* "/crl-prev.der", "/crl/1.crl", "/before/1.crl" */
  uint8_t *der;                    /* owned */
  size_t der_len;
} cs_lab_crl_file_t;

typedef struct cs_lab_scenario {
  cs_lab_scenario_id_t id;
  int64_t issued_ms;
  cs_lab_ct_log_t logs[2];         /* two logs, two operators */
  cs_lab_ct_ca_t root;             /* the trust anchor clients should have */
  cs_lab_ct_ca_t legacy_root;      /* expired-root-cross-sign only (der NULL otherwise) */
  cs_lab_ct_ca_t intermediate;     /* issues the leaf, the OCSP responses and the CRL */
  uint8_t *cross_der;              /* root's key cross-signed by legacy_root, or NULL */
  size_t cross_der_len;
  cs_lab_ct_leaf_t leaf;
  char *chain_pem;                 /* what the TLS server sends, leaf first */
  char *trust_pem;                 /* the trust anchor: root */
  char *legacy_trust_pem;          /* expired-root-cross-sign only: an old client's store
                                      holding just legacy_root (NULL otherwise) */
  char *intermediate_pem;          /* also served at BASE/intermediate.der as DER */
  char *leaf_key_pem;              /* the TLS server's key */
  uint8_t *ocsp_der;               /* what the responder answers for the leaf */
  size_t ocsp_der_len;
  uint8_t *crl_der;                /* the intermediate's CRL */
  size_t crl_der_len;
  char *log_list_json;             /* Chrome v3 log list of the two logs */
  char *openssl_log_file;          /* the same for `openssl s_client -ct -ctlogfile` */
  char ocsp_url[CS_LAB_URL_MAX];
  char crl_url[CS_LAB_URL_MAX];
  char ca_issuers_url[CS_LAB_URL_MAX];
  cs_lab_crl_file_t extra_crls[CS_LAB_MAX_EXTRA_CRLS]; /* crl-dropped-entry, crl-shard-drift */
  size_t nextra_crls;
} cs_lab_scenario_t;

/* Zeroes s. Cannot fail. */
void cs_lab_scenario_init(cs_lab_scenario_t *s);
/* Issues the whole scenario at params->issued_ms (keys from f_rng).
 * Returns 0, CS_EINVAL (bad id or params, base_url too long), CS_ERANGE
 * (issuance too close to year 0 or 9999), CS_ECRYPTO or CS_ENOMEM. On
 * error s holds nothing (still safe to free). */
int cs_lab_scenario_build(cs_lab_scenario_t *s, cs_lab_scenario_id_t id,
                          const cs_lab_scenario_params_t *params, cs_lab_rng_fn f_rng,
                          void *p_rng) CS_MUST_CHECK;
/* Safe on an initialised scenario and twice. */
void cs_lab_scenario_free(cs_lab_scenario_t *s);

#endif
