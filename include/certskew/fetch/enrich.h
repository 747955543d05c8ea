/*
 * Enrichment of a captured chain: what a client could learn about it beyond
 * the certificates. The stapling probe (the stapled OCSP response and
 * TLS-extension SCTs, or "not observable" for a TLS 1.3-only server) and,
 * unless fetching is off, the OCSP response of the leaf's AIA responder, the
 * CRL of its distribution point and a missing intermediate from caIssuers.
 *
 * Everything runs on the caller's libuv loop beside (never in) any
 * connection's data path, each network step bounded by a timeout. A step
 * that fails (refused, timeout, garbage) is recorded with its reason; it
 * never fails the enrichment. The result feeds cs_analyze
 * (cs_enrich_apply) and adds an "enrichment" section to the report
 * (cs_enrich_report_merge).
 */
#ifndef CERTSKEW_FETCH_ENRICH_H
#define CERTSKEW_FETCH_ENRICH_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "certskew/analysis/analysis.h"
#include "certskew/core/error.h"
#include "certskew/revocation/ocsp.h"
#include "certskew/revocation/revocation.h"
#include "certskew/core/sct.h"

#define CS_ENRICH_DEFAULT_TIMEOUT_MS 5000
#define CS_ENRICH_MAX_NOTES 4

typedef enum cs_enrich_state {
  CS_ENRICH_NOT_RUN = 0, /* not attempted (e.g. --no-fetch) */
  CS_ENRICH_OK,          /* got an answer (for the probe: a final outcome) */
  CS_ENRICH_FAILED,      /* tried; detail says why (timeout, refused, garbage, HTTP status) */
  CS_ENRICH_SKIPPED,     /* nothing to do (no URL, no issuer); detail says why */
} cs_enrich_state_t;

typedef struct cs_enrich_step {
  cs_enrich_state_t state;
  int err;                         /* CS_E* when FAILED, else 0 */
  int http_status;                 /* fetches: the HTTP status, 0 if none arrived */
  char url[CS_REVOCATION_URL_MAX]; /* fetches: the URL, "" if none */
  char detail[256];
  int64_t elapsed_ms;              /* from the step's start to its answer */
} cs_enrich_step_t;

typedef struct cs_enrich_result {
  int fetch;                       /* 1 if fetches were allowed */
  char addr[80];                   /* the address probed */
  cs_enrich_step_t probe, ocsp, crl, aia;
  /* Probe facts (valid when probe.state == OK): */
  int stapling_observable;         /* 1 once the probe read the server's flight
                                      (TLS 1.2 plaintext, or TLS 1.3 decrypted) */
  uint16_t tls_version;            /* negotiated by the probe */
  int capture_tls_version;         /* negotiated by the handshake that captured the chain
                                      (set by the caller; 0: unknown): judged by
                                      cs_enrich_apply as opts.server_tls_version */
  int cert_verified;               /* TLS 1.3: CertificateVerify verified with the leaf's key */
  int status_request_acked;
  size_t probe_ncerts;
  int probe_same_leaf;             /* the probe was served the captured leaf */
  uint8_t *staple;                 /* owned: the stapled OCSPResponse DER, NULL if none */
  size_t staple_len;
  uint8_t *tls_sct_list;           /* owned: the TLS extension's SCT list, NULL if none */
  size_t tls_sct_list_len;
  /* Fetched material (owned, NULL when not obtained): */
  uint8_t *ocsp_der;
  size_t ocsp_der_len;
  uint8_t *crl_der;
  size_t crl_der_len;
  uint8_t *crl_prev_der;           /* the previous different fetch of the same CRL URL
                                      (opts.crl_history_dir), NULL if none kept */
  size_t crl_prev_der_len;
  uint8_t *issuer_der;             /* the caIssuers certificate that issued the leaf */
  size_t issuer_der_len;
  char issuer_subject[256];
  /* SCTs delivered outside the certificate (borrow from tls_sct_list and
   * staple_parsed): what cs_enrich_apply passes as extra_scts. */
  cs_ocsp_response_t *staple_parsed; /* owned, NULL if no staple or unparsable */
  cs_sct_t scts[2 * CS_SCT_LIST_MAX];
  size_t ntls_scts, nocsp_scts;
  /* Problems outside the steps (a malformed SCT list, ...). */
  char notes[CS_ENRICH_MAX_NOTES][200];
  size_t nnotes;
} cs_enrich_result_t;

typedef struct cs_enrich_opts {
  const uint8_t *chain;  /* the served chain, PEM or DER (copied) */
  size_t chain_len;
  const char *addr;      /* "ip:port" or "[ip6]:port" to probe (copied); NULL: no probe */
  const char *sni;       /* server name for the probe (copied); NULL/"" for none */
  int fetch;             /* 0: probe only (--no-fetch) */
  int want_issuer;       /* 1: the trust analysis found an intermediate missing; fetch
                            caIssuers even when the leaf's own issuer is served */
  uint64_t timeout_ms;   /* per network step; 0 = CS_ENRICH_DEFAULT_TIMEOUT_MS */
  const char *crl_history_dir; /* NULL: no CRL history; else each fetched CRL is kept
                                  there per URL and the previous one compared
                                  (fetch/crl_history_store.h) */
} cs_enrich_opts_t;

/* Called exactly once, always from the loop (never inside cs_enrich_start).
 * res is newly allocated and owned by the callee: cs_enrich_result_free. */
typedef void (*cs_enrich_cb)(cs_enrich_result_t *res, void *ud);

/* Starts the enrichment of one chain on loop. On 0, cb runs later; the loop
 * stays alive until every step has answered or timed out. On error
 * (CS_EINVAL, CS_ENOMEM, or the chain's load error with eb) cb never runs. */
int cs_enrich_start(uv_loop_t *loop, const cs_enrich_opts_t *opts, cs_enrich_cb cb, void *ud,
                    cs_errbuf_t *eb) CS_MUST_CHECK;

/* Frees res and everything it owns. Safe on NULL. */
void cs_enrich_result_free(cs_enrich_result_t *res);

/* Points opts' revocation and CT fields (stapled_ocsp, stapling_probed,
 * stapling_observable, fetched_ocsp, crl, crl_previous, aia_issuer, extra_scts) at res's material;
 * res must outlive the cs_analyze call. Other fields are left alone. */
void cs_enrich_apply(const cs_enrich_result_t *res, cs_analysis_opts_t *opts);

/* Number of failed steps and notes: the entries of the "errors" array. */
size_t cs_enrich_error_count(const cs_enrich_result_t *res);
/* Error i: a stable code (ENRICH_PROBE_FAILED, ENRICH_OCSP_FETCH_FAILED,
 * ENRICH_CRL_FETCH_FAILED, ENRICH_AIA_FETCH_FAILED, ENRICH_NOTE) and its
 * message. Returns 0, or CS_ENOTFOUND past the end. */
int cs_enrich_error_get(const cs_enrich_result_t *res, size_t i, const char **code, char *msg,
                        size_t cap) CS_MUST_CHECK;

/* The report's "enrichment" section: each step's state, URL, HTTP status,
 * timing and detail, the probe's facts, and "errors". NULL on allocation
 * failure; the caller frees with cJSON_Delete. */
cJSON *cs_enrich_to_json(const cs_enrich_result_t *res);

/* report_json with the "enrichment" section added (replacing one already
 * there), pretty-printed, newly allocated (caller frees). NULL if
 * report_json is not a JSON object or on allocation failure. */
char *cs_enrich_report_merge(const char *report_json, const cs_enrich_result_t *res);

#endif
