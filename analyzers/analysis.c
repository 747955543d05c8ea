/* One whole diagnosis (include/certskew/analysis.h): load, replay, report. */
#include "analysis_internal.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

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

char *cs_analysis_report_json(cs_analysis_t *a, int pretty) {
  cJSON *root = cs_report_build(a);
  if (root == NULL)
    return NULL;
  char *text = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root); /* caller frees */
  cJSON_Delete(root);
  return text;
}
