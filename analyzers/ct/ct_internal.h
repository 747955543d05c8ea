/* Private to the CT analyzer files (ct_analyze.c, ct_findings.c, ct_json.c). */
#ifndef CERTSKEW_CT_INTERNAL_H
#define CERTSKEW_CT_INTERNAL_H

#include "certskew/ct/ct.h"

struct cs_ct_result {
  cs_ct_sct_report_t *scts; /* owned array of nscts */
  size_t nscts;
  cs_ct_policy_t policy;
  int has_log_list;
  int log_list_implicit;     /* the list is the shipped default (policy needs SCTs) */
  char log_list_version[64];
  int64_t log_list_timestamp_ms;
  size_t log_list_count;
  int issuer_found;          /* 1 if the leaf's issuer is in the chain */
  int precert_error;         /* why the precertificate TBS could not be rebuilt, or 0 */
  int sct_parse_error;       /* the leaf's embedded SCT list error (chain.h), or 0 */
  char sct_parse_detail[160];
  int64_t at_ms;
  int64_t not_after_ms;      /* leaf notAfter */
  size_t nclocks;
  char clock_names[CS_CT_MAX_CLOCKS][CS_CLOCK_NAME_MAX];
};

/* Appends the diagnosis of r to findings (ct_findings.c). */
int cs_ct__findings(const cs_ct_result_t *r, cs_findings_t *findings);

/* 1 if the list is more than CS_CT_LOG_LIST_MAX_AGE_MS older than r->at_ms. */
int cs_ct__list_stale(const cs_ct_result_t *r);

/* base64 of 32 bytes into out (>= 45 chars). */
void cs_ct__b64_id(const uint8_t id[32], char out[48]);

#endif
