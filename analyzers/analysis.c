/* One whole diagnosis (include/certskew/analysis.h): load, replay, report. */
#include "analysis_internal.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "replay_diagnose.h"

/* CT verdicts, judged at the instant asked or, without one, at issuance
 * (log states and policy as they were when the certificate was made). SCTs
 * delivered outside the certificate join the replay's time checks. */
static int analyze_ct(cs_analysis_t *a, const cs_analysis_opts_t *opts, cs_errbuf_t *eb) {
  int64_t judged_ms;
  const char *basis;
  int err = cs_replay_issuance(a->chain, &judged_ms, &basis);
  if (err != 0)
    return cs_errbuf_set(eb, err, "no leaf certificate");
  if (opts->has_at)
    judged_ms = opts->at_ms;
  cs_ct_opts_t co;
  memset(&co, 0, sizeof(co));
  co.logs = opts->log_list;
  co.extra_scts = opts->extra_scts;
  co.nextra_scts = opts->nextra_scts;
  co.clocks = a->clocks;
  co.nclocks = opts->nclocks;
  if ((err = cs_ct_analyze_ex(&a->ct, a->chain, &co, judged_ms, a->findings)) != 0)
    return cs_errbuf_set(eb, err, "CT analysis failed: %s", cs_strerror(err));
  cs_time_check_t checks[CS_CT_MAX_SCTS];
  size_t n = 0;
  cs_ct_result_time_checks(a->ct, checks, CS_CT_MAX_SCTS, &n);
  for (size_t i = 0; i < n; i++)
    if ((err = cs_replay_add_check(a->replay, &checks[i])) != 0)
      return cs_errbuf_set(eb, err, "too many time checks");
  return 0;
}

int cs_analyze(cs_analysis_t **out, const uint8_t *buf, size_t len, const cs_analysis_opts_t *opts,
               cs_errbuf_t *eb) {
  *out = NULL;
  if (opts == NULL || opts->clocks == NULL || opts->nclocks == 0)
    return cs_errbuf_set(eb, CS_EINVAL, "analysis needs at least one clock model");
  if (opts->nclocks > CS_REPLAY_MAX_CLOCKS)
    return cs_errbuf_set(eb, CS_ETOOBIG, "more than %d clock models", CS_REPLAY_MAX_CLOCKS);
  cs_analysis_t *a = calloc(1, sizeof(*a)); /* owned: cs_analysis_free */
  if (a == NULL)
    return CS_ENOMEM;
  int err = CS_ENOMEM;
  a->opts = *opts;
  a->source = strdup(opts->source ? opts->source : "");
  a->clocks = malloc(opts->nclocks * sizeof(*a->clocks));
  a->findings = cs_findings_new();
  if (a->source == NULL || a->clocks == NULL || a->findings == NULL)
    goto fail;
  memcpy(a->clocks, opts->clocks, opts->nclocks * sizeof(*a->clocks));
  a->opts.source = a->source;
  a->opts.clocks = a->clocks;
  if ((err = cs_chain_load(&a->chain, buf, len, eb)) != 0)
    goto fail;
  cs_replay_opts_t ro = {a->clocks, opts->nclocks, opts->has_at, opts->at_ms,
                         opts->has_sweep, opts->sweep_from_ms, opts->sweep_to_ms};
  if ((err = cs_replay_new(&a->replay, a->chain, &ro, eb)) != 0)
    goto fail;
  if ((err = analyze_ct(a, opts, eb)) != 0)
    goto fail;
  if ((err = cs_replay_run(a->replay, a->findings)) != 0) {
    cs_errbuf_set(eb, err, "replay failed: %s", cs_strerror(err));
    goto fail;
  }
  *out = a;
  return 0;
fail:
  cs_analysis_free(a);
  return err;
}

void cs_analysis_free(cs_analysis_t *a) {
  if (a == NULL)
    return;
  cs_ct_result_free(a->ct);
  cs_replay_free(a->replay);
  cs_chain_free(a->chain);
  cs_findings_free(a->findings);
  free(a->clocks);
  free(a->source);
  free(a);
}

const cs_chain_t *cs_analysis_chain(const cs_analysis_t *a) { return a->chain; }
const cs_replay_t *cs_analysis_replay(const cs_analysis_t *a) { return a->replay; }
cs_findings_t *cs_analysis_findings(cs_analysis_t *a) { return a->findings; }
const cs_ct_result_t *cs_analysis_ct(const cs_analysis_t *a) { return a->ct; }

char *cs_analysis_report_json(cs_analysis_t *a, int pretty) {
  cJSON *root = cs_report_build(a);
  if (root == NULL)
    return NULL;
  char *text = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root); /* caller frees */
  cJSON_Delete(root);
  return text;
}
