/*
 * One whole diagnosis of a served chain: runs every analyzer (replay of time
 * checks, and the CT, trust and revocation analyzers when their inputs are
 * given) and builds the JSON report. Pure: the caller supplies the bytes and
 * the instant; nothing here reads files, sockets or the system clock.
 */
#ifndef CERTSKEW_ANALYSIS_ANALYSIS_H
#define CERTSKEW_ANALYSIS_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/clients/profile.h"
#include "certskew/core/chain.h"
#include "certskew/core/clock.h"
#include "certskew/ct/ct.h"
#include "certskew/revocation/ocsp.h"
#include "certskew/revocation/revocation.h"
#include "certskew/trust/trust.h"
#include "certskew/core/error.h"
#include "certskew/core/findings.h"
#include "certskew/core/replay.h"

/* The report's schema: bump the version on any incompatible change. */
#define CS_REPORT_SCHEMA "https://certskew.invalid/schema/report"
#define CS_REPORT_SCHEMA_VERSION 2

typedef struct cs_analysis_opts {
  const char *source;       /* where the chain came from: a path or host:port */
  const cs_clock_t *clocks; /* borrowed; at least one */
  size_t nclocks;
  int has_at;               /* 1 to judge at at_ms */
  int64_t at_ms;
  int has_sweep;
  int64_t sweep_from_ms;
  int64_t sweep_to_ms;
  /* Certificate Transparency (all optional): */
  const cs_ct_log_list_t *log_list; /* borrowed; NULL: SCTs parsed, not verified */
  const cs_sct_t *extra_scts;       /* SCTs from the TLS extension / stapled OCSP,
                                       borrowed for the call */
  size_t nextra_scts;
  /* Trust (optional): without stores no path building is done. */
  const cs_trust_store_t *const *trust_stores; /* borrowed */
  size_t ntrust_stores;
  const char *hostname;     /* the name the client asked for; NULL: not checked */
  /* Revocation material captured beside the chain (all optional, DER or PEM
   * for the CRL). A malformed one becomes a finding, never a failed analysis. */
  const uint8_t *stapled_ocsp;
  size_t stapled_ocsp_len;
  int stapling_probed;      /* 1: a stapling probe ran (no staple means none was sent) */
  int stapling_observable;  /* with stapling_probed: 0 when the server is TLS 1.3 only */
  const uint8_t *fetched_ocsp;
  size_t fetched_ocsp_len;
  const uint8_t *crl;
  size_t crl_len;
  /* The previous different CRL from the same URL (the enrichment's CRL
   * history): a revoked leaf listed there and gone from crl while still
   * valid is CRL_ENTRY_DROPPED. Ignored without crl. */
  const uint8_t *crl_previous;
  size_t crl_previous_len;
  /* The leaf's issuer fetched from its AIA caIssuers URL, for
   * a chain served without it (DER): OCSP and CRL are checked against it and
   * AIA_FETCHED_INTERMEDIATE is reported. Ignored when the issuer was served. */
  const uint8_t *aia_issuer;
  size_t aia_issuer_len;
  /* The clients judged (copied): the report's "clients" table, the exit
   * status and the proxy's verdict. 0: the default profiles
   * (cs_client_default_set). At most CS_ANALYSIS_MAX_CLIENTS. */
  const cs_client_t *clients;
  size_t nclients;
  /* The TLS version the server negotiated when offered up to TLS 1.2 or
   * 1.3 (0x0301 TLS 1.0 ... 0x0304 TLS 1.3), i.e. the best it speaks; 0:
   * unknown (a chain from a file). Below TLS 1.2: PROTOCOL_TOO_OLD, and
   * every client whose profile's min_tls is above it fails. */
  int server_tls_version;
} cs_analysis_opts_t;

#define CS_ANALYSIS_MAX_CLIENTS 16

typedef struct cs_analysis cs_analysis_t;

/* Loads the chain from buf (PEM or DER, copied) and runs every analyzer.
 * On a load error *out is NULL and eb explains. */
int cs_analyze(cs_analysis_t **out, const uint8_t *buf, size_t len, const cs_analysis_opts_t *opts,
               cs_errbuf_t *eb) CS_MUST_CHECK;
/* Safe on NULL. */
void cs_analysis_free(cs_analysis_t *a);

const cs_chain_t *cs_analysis_chain(const cs_analysis_t *a);
const cs_replay_t *cs_analysis_replay(const cs_analysis_t *a);
cs_findings_t *cs_analysis_findings(cs_analysis_t *a);
/* The CT verdicts (see ct.h). */
const cs_ct_result_t *cs_analysis_ct(const cs_analysis_t *a);
/* The trust verdicts, or NULL when no store was given (see trust.h). */
const cs_trust_result_t *cs_analysis_trust(const cs_analysis_t *a);

/* The clients judged, in the order asked (or the default profiles). */
size_t cs_analysis_nclients(const cs_analysis_t *a);
const cs_client_verdict_t *cs_analysis_client(const cs_analysis_t *a, size_t i);
/* The verdict of the client named name (as asked, or its profile name), or
 * NULL if it was not judged. */
const cs_client_verdict_t *cs_analysis_client_named(const cs_analysis_t *a, const char *name);
/* 1 if some judged client fails at the judged instant. */
int cs_analysis_any_client_fails(const cs_analysis_t *a);
/* The instant the clients are judged at: opts.at_ms, else the issuance
 * estimate. */
int64_t cs_analysis_judged_ms(const cs_analysis_t *a);

/* Root causes: one per distinct cause code among the failing clients,
 * ranked by how many clients it makes fail at the instant, then severity,
 * then the earliest failure window. */
typedef struct cs_analysis_cause {
  const char *code;
  const char *consequence;     /* what clients report instead, or NULL */
  size_t nclients;             /* clients it makes fail at the instant */
  char clients[256];           /* their names, comma-separated */
  const cs_client_verdict_t *first; /* the first such client's verdict (detail, fix) */
  int64_t earliest_ms;         /* start of its earliest failure window */
} cs_analysis_cause_t;
size_t cs_analysis_ncauses(const cs_analysis_t *a);
const cs_analysis_cause_t *cs_analysis_cause(const cs_analysis_t *a, size_t i);

/* The JSON report (schema above), newly allocated: caller frees with free().
 * NULL on allocation failure. */
char *cs_analysis_report_json(cs_analysis_t *a, int pretty);

#endif
