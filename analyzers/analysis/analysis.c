/* One whole diagnosis (include/certskew/analysis/analysis.h): load, replay, report. */
#include "analysis_internal.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "certskew/core/replay_diagnose.h"

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

static int analyze_trust(cs_analysis_t *a, const cs_analysis_opts_t *opts, cs_errbuf_t *eb) {
  if (opts->ntrust_stores == 0)
    return 0;
  int err = cs_trust_analyze(&a->trust, a->chain, opts->trust_stores, opts->ntrust_stores,
                             opts->hostname, a->clocks, opts->nclocks, opts->has_at, opts->at_ms,
                             a->findings);
  if (err != 0)
    return cs_errbuf_set(eb, err, "trust analysis failed: %s", cs_strerror(err));
  return 0;
}

/* The served certificate that issued the leaf (by name), or NULL. */
static const mbedtls_x509_crt *served_issuer(const cs_chain_t *chain) {
  const mbedtls_x509_crt *leaf = cs_chain_cert(chain, 0)->crt;
  for (size_t i = 1; i < cs_chain_count(chain); i++) {
    const mbedtls_x509_crt *c = cs_chain_cert(chain, i)->crt;
    if (c->subject_raw.len == leaf->issuer_raw.len &&
        memcmp(c->subject_raw.p, leaf->issuer_raw.p, leaf->issuer_raw.len) == 0)
      return c;
  }
  return NULL;
}

/* Parses one OCSP response; a malformed one is a finding (the capture keeps
 * its bytes), not a failed analysis. */
static int parse_ocsp(cs_analysis_t *a, const char *which, const uint8_t *der, size_t len,
                      cs_ocsp_response_t **out) {
  if (der == NULL || len == 0)
    return 0;
  cs_errbuf_t peb;
  cs_errbuf_init(&peb);
  int err = cs_ocsp_parse(out, der, len, &peb);
  if (err == CS_ENOMEM)
    return err;
  if (err == 0)
    return 0;
  char text[512];
  snprintf(text, sizeof(text), "The %s OCSP response (%zu bytes) cannot be parsed: %s.", which, len,
           peb.msg[0] ? peb.msg : cs_strerror(err));
  return cs_findings_add(a->findings, "OCSP_MALFORMED", CS_SEV_ERROR, 45, 0, -1,
                         "An OCSP response is malformed.", text,
                         "Clients that check the response treat it as absent or fail hard; fix the "
                         "responder, or stop stapling until it answers correctly.",
                         NULL);
}

static int prepare_revocation(cs_analysis_t *a, const cs_analysis_opts_t *opts) {
  a->has_revocation = opts->stapling_probed || opts->stapled_ocsp_len || opts->fetched_ocsp_len ||
                      opts->crl_len || opts->aia_issuer_len;
  if (!a->has_revocation)
    return 0;
  int err;
  if ((err = parse_ocsp(a, "stapled", opts->stapled_ocsp, opts->stapled_ocsp_len, &a->stapled)) != 0 ||
      (err = parse_ocsp(a, "fetched", opts->fetched_ocsp, opts->fetched_ocsp_len, &a->fetched)) != 0)
    return err;
  if (opts->crl_len) {
    cs_errbuf_t peb;
    cs_errbuf_init(&peb);
    err = cs_crl_parse(&a->crl, opts->crl, opts->crl_len, &peb);
    if (err == CS_ENOMEM)
      return err;
    a->has_crl = err == 0;
    if (err != 0) {
      char text[512];
      snprintf(text, sizeof(text), "The CRL (%zu bytes) cannot be parsed: %s.", opts->crl_len,
               peb.msg[0] ? peb.msg : cs_strerror(err));
      if ((err = cs_findings_add(a->findings, "CRL_MALFORMED", CS_SEV_ERROR, 46, 0, -1,
                                 "The CRL is malformed.", text,
                                 "Fix the CRL publisher; clients that require it fail.", NULL)) != 0)
        return err;
    }
  }
  const cs_cert_info_t *leaf = cs_chain_cert(a->chain, 0);
  cs_revocation_input_t *in = &a->rev;
  memset(in, 0, sizeof(*in));
  in->leaf = leaf->crt;
  in->issuer = served_issuer(a->chain);
  /* A fetched issuer stands in only for a missing one, and only if it is
   * named as the leaf's issuer (it is not trusted for anything else). */
  if (in->issuer == NULL && opts->aia_issuer_len &&
      mbedtls_x509_crt_parse(&a->aia_issuer, opts->aia_issuer, opts->aia_issuer_len) == 0 &&
      a->aia_issuer.subject_raw.len == leaf->crt->issuer_raw.len &&
      memcmp(a->aia_issuer.subject_raw.p, leaf->crt->issuer_raw.p, leaf->crt->issuer_raw.len) == 0) {
    in->issuer = &a->aia_issuer;
    in->issuer_from_aia = 1;
  }
  const char *issued_basis;
  if ((err = cs_replay_issuance(a->chain, &in->leaf_issued_ms, &issued_basis)) != 0)
    return err;
  in->stapled = a->stapled;
  in->stapling_observable = opts->stapling_probed ? opts->stapling_observable : 1;
  in->fetched = a->fetched;
  in->crl = a->has_crl ? &a->crl : NULL;
  if (a->has_crl && opts->crl_previous_len &&
      cs_crl_parse(&a->crl_prev, opts->crl_previous, opts->crl_previous_len, NULL) == 0)
    a->crl.previous = &a->crl_prev;
  /* Without an instant, judge at issuance: what a client saw first. */
  const char *basis;
  if (opts->has_at)
    in->at_ms = opts->at_ms;
  else if ((err = cs_replay_issuance(a->chain, &in->at_ms, &basis)) != 0)
    return err;
  in->time_checks_in_replay = 1;
  /* Clients judge the staple they got; without one, the fetched answer. */
  return cs_revocation_add_checks(a->replay, a->stapled ? a->stapled : a->fetched, in->crl);
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
  cs_crl_info_init(&a->crl);
  cs_crl_info_init(&a->crl_prev);
  mbedtls_x509_crt_init(&a->aia_issuer);
  /* Borrowed for this call only: never kept past it. */
  a->opts.extra_scts = NULL;
  a->opts.trust_stores = NULL;
  a->opts.hostname = NULL;
  a->opts.stapled_ocsp = a->opts.fetched_ocsp = a->opts.crl = a->opts.aia_issuer = NULL;
  a->opts.crl_previous = NULL;
  if ((err = cs_chain_load(&a->chain, buf, len, eb)) != 0)
    goto fail;
  cs_replay_opts_t ro = {a->clocks, opts->nclocks, opts->has_at, opts->at_ms,
                         opts->has_sweep, opts->sweep_from_ms, opts->sweep_to_ms};
  if ((err = cs_replay_new(&a->replay, a->chain, &ro, eb)) != 0)
    goto fail;
  if ((err = analyze_ct(a, opts, eb)) != 0 || (err = analyze_trust(a, opts, eb)) != 0)
    goto fail;
  if ((err = prepare_revocation(a, opts)) != 0) {
    cs_errbuf_set(eb, err, "revocation analysis failed: %s", cs_strerror(err));
    goto fail;
  }
  if ((err = cs_replay_run(a->replay, a->findings)) != 0) {
    cs_errbuf_set(eb, err, "replay failed: %s", cs_strerror(err));
    goto fail;
  }
  if (a->has_revocation && (err = cs_revocation_diagnose(&a->rev, a->findings)) != 0) {
    cs_errbuf_set(eb, err, "revocation diagnosis failed: %s", cs_strerror(err));
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
  cs_trust_result_free(a->trust);
  cs_ocsp_response_free(a->stapled);
  cs_ocsp_response_free(a->fetched);
  cs_crl_info_free(&a->crl);
  cs_crl_info_free(&a->crl_prev);
  mbedtls_x509_crt_free(&a->aia_issuer);
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
const cs_trust_result_t *cs_analysis_trust(const cs_analysis_t *a) { return a->trust; }

char *cs_analysis_report_json(cs_analysis_t *a, int pretty) {
  cJSON *root = cs_report_build(a);
  if (root == NULL)
    return NULL;
  char *text = pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root); /* caller frees */
  cJSON_Delete(root);
  return text;
}
