/* Private: the parts of one analysis, shared by analysis.c and report.c. */
#ifndef CERTSKEW_ANALYSIS_INTERNAL_H
#define CERTSKEW_ANALYSIS_INTERNAL_H

#include "certskew/analysis.h"

struct cs_analysis {
  cs_analysis_opts_t opts; /* opts.source and opts.clocks point at copies below */
  char *source;            /* owned */
  cs_clock_t *clocks;      /* owned */
  cs_chain_t *chain;       /* owned */
  cs_replay_t *replay;     /* owned */
  cs_findings_t *findings; /* owned */
  cs_ct_result_t *ct;      /* owned */
};

/* Builds the report object (report.c); NULL on allocation failure. */
struct cJSON;
struct cJSON *cs_report_build(cs_analysis_t *a);

#endif
