/* Private: the parts of one analysis, shared by analysis.c and report.c. */
#ifndef CERTSKEW_ANALYSIS_INTERNAL_H
#define CERTSKEW_ANALYSIS_INTERNAL_H

#include "certskew/analysis/analysis.h"
#include "certskew/revocation/crl.h"

struct cs_analysis {
  cs_analysis_opts_t opts; /* opts.source and opts.clocks point at copies below */
  char *source;            /* owned */
  cs_clock_t *clocks;      /* owned */
  cs_chain_t *chain;       /* owned */
  cs_replay_t *replay;     /* owned */
  cs_findings_t *findings; /* owned */
  cs_ct_result_t *ct;      /* owned */
  cs_trust_result_t *trust; /* owned; NULL without trust stores */
  /* Revocation: parsed material (owned) and the input the revocation
   * analyzer and report read (points into the chain and the parses). */
  int has_revocation;
  cs_ocsp_response_t *stapled;
  cs_ocsp_response_t *fetched;
  cs_crl_info_t crl;
  int has_crl;
  cs_crl_info_t crl_prev;      /* opts.crl_previous, parsed (unparsed: ignored) */
  mbedtls_x509_crt aia_issuer; /* owned: the caIssuers certificate, when given */
  cs_revocation_input_t rev;
  cs_chain_t *aia_chain;        /* owned: served chain + the caIssuers issuer, or NULL */
  cs_trust_result_t *trust_aia; /* owned: paths over aia_chain, or NULL */
  int64_t judged_ms;            /* the instant the clients are judged at */
  cs_client_t clients[CS_ANALYSIS_MAX_CLIENTS];
  cs_client_verdict_t verdicts[CS_ANALYSIS_MAX_CLIENTS];
  size_t nclients;
  cs_analysis_cause_t causes[CS_ANALYSIS_MAX_CLIENTS];
  size_t ncauses;
};

/* Builds the report object (report.c); NULL on allocation failure. */
struct cJSON;
struct cJSON *cs_report_build(cs_analysis_t *a);

#endif
