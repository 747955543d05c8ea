/*
 * One capture without a browser (`certskew diagnose`): connect to
 * host:port with TLS exactly as the proxy does, capture the served chain,
 * then enrich it (stapling probe; unless fetching is off, OCSP, CRL and a
 * missing intermediate from the URLs the certificates name) and judge it
 * with everything found. Every network step is bounded by the timeout.
 *
 * cs_diagnose_run runs one diagnosis on its own event loop (`certskew
 * diagnose`); cs_diagnose_start runs one on the caller's loop beside many
 * others (`certskew scan`) with a shared connector configuration.
 */
#ifndef CERTSKEW_FETCH_DIAGNOSE_H
#define CERTSKEW_FETCH_DIAGNOSE_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/analysis/analysis.h"
#include "certskew/store/capture.h"
#include "certskew/core/error.h"
#include "certskew/fetch/enrich.h"
#include "certskew/fetch/verdict.h"
#include "certskew/net/upstream.h"

#include <uv.h>

typedef struct cs_diagnose_opts {
  const char *host;
  int port;
  const char *sni;          /* NULL: the host (none for IP literals) */
  const char *trust_file;   /* the upstream connector's anchors (NULL: system store);
                               judging uses analysis->trust_stores */
  const cs_analysis_opts_t *analysis; /* borrowed: clocks, trust stores, log list,
                               hostname (NULL: the SNI or host), sweep; has_at/at_ms
                               fix the instant, else the time the material arrived */
  cs_capture_store_t *store; /* borrowed, may be NULL */
  int64_t timeout_ms;       /* the capture, and each probe/fetch step */
  int fetch;                /* 0: probe only (--no-fetch) */
} cs_diagnose_opts_t;

typedef struct cs_diagnose_result {
  int connected;            /* 1 if the handshake completed */
  char err_code[48];        /* UPSTREAM_* when not connected */
  char err_msg[300];
  char addr[80];
  char tls_version[32];
  const char *capture_method;   /* static; NULL: the upstream TLS 1.2 handshake, else
                                   CS_DIAGNOSE_CAPTURE_TLS13_PROBE (a TLS 1.3-only server) */
  char cipher[100];
  size_t ncerts;
  cs_verdict_t verdict;     /* report_json set when connected */
  cs_enrich_result_t *enrich; /* owned; NULL when no enrichment ran */
} cs_diagnose_result_t;

/* A TLS 1.3-only server's chain, taken from the capture probe (mbedTLS 2.28
 * cannot negotiate TLS 1.3; the probe verifies the CertificateVerify). */
#define CS_DIAGNOSE_CAPTURE_TLS13_PROBE "TLS 1.3 capture probe"

/* The diagnosis is over: res (the caller's, passed to cs_diagnose_start)
 * holds a result as described for cs_diagnose_run; rc is 0 or the CS_E*
 * code of a failed judgement (memory). Runs from the loop once every handle
 * and request of the diagnosis is closed; the caller then owns res
 * (cs_diagnose_result_free) and may free opts. */
typedef void (*cs_diagnose_cb)(cs_diagnose_result_t *res, int rc, void *ud);

/* Starts one diagnosis on loop. uc: the connector configuration (borrowed,
 * shared by any number of diagnoses). judge: borrowed and shared (its store
 * is set to opts->store before recording), or NULL for one of its own.
 * opts (and what it points at) and res must stay valid until cb. On 0, cb
 * runs exactly once, later, from the loop; on CS_EINVAL/CS_ENOMEM (with
 * eb) it never runs. */
int cs_diagnose_start(uv_loop_t *loop, const cs_upstream_conf_t *uc, cs_judge_t *judge,
                      const cs_diagnose_opts_t *opts, cs_diagnose_result_t *res,
                      cs_diagnose_cb cb, void *ud, cs_errbuf_t *eb) CS_MUST_CHECK;

/* Runs one diagnosis on an event loop of its own until done.
 * Returns 0 when a result (connected or an upstream error) is in *res;
 * a CS_E* code for setup failures (trust store, memory), with eb. Free
 * res with cs_diagnose_result_free. */
int cs_diagnose_run(const cs_diagnose_opts_t *opts, cs_diagnose_result_t *res, cs_errbuf_t *eb)
    CS_MUST_CHECK;
/* Safe twice. */
void cs_diagnose_result_free(cs_diagnose_result_t *res);

#endif
