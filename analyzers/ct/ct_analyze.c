/*
 * The CT analyzer (include/certskew/ct/ct.h): judges every SCT of a leaf and
 * evaluates Chrome's CT policy. Findings are written by ct_findings.c and
 * the JSON by ct_json.c; this file only computes verdicts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "certskew/core/time.h"
#include "ct_internal.h"

void cs_ct__b64_id(const uint8_t id[32], char out[48]) {
  size_t n = 0;
  if (mbedtls_base64_encode((unsigned char *)out, 48, &n, id, 32) != 0)
    n = 0;
  out[n] = '\0';
}

void cs_ct_result_free(cs_ct_result_t *r) {
  if (r == NULL)
    return;
  free(r->scts);
  free(r);
}

size_t cs_ct_result_count(const cs_ct_result_t *r) { return r ? r->nscts : 0; }

const cs_ct_sct_report_t *cs_ct_result_sct(const cs_ct_result_t *r, size_t i) {
  return r != NULL && i < r->nscts ? &r->scts[i] : NULL;
}

const cs_ct_policy_t *cs_ct_result_policy(const cs_ct_result_t *r) {
  return r ? &r->policy : NULL;
}

/* The certificate in the chain whose subject is the leaf's issuer. */
static const mbedtls_x509_crt *find_issuer(const cs_chain_t *chain) {
  const cs_cert_info_t *leaf = cs_chain_cert(chain, 0);
  for (size_t i = 1; i < cs_chain_count(chain); i++) {
    const mbedtls_x509_crt *c = cs_chain_cert(chain, i)->crt;
    if (c->subject_raw.len == leaf->crt->issuer_raw.len &&
        memcmp(c->subject_raw.p, leaf->crt->issuer_raw.p, c->subject_raw.len) == 0)
      return c;
  }
  return NULL;
}

/* Chrome's acceptance of one SCT by its log's state (see ct.h). */
static int state_acceptable(const cs_ct_sct_report_t *s) {
  switch (s->state_at) {
  case CS_CT_STATE_QUALIFIED:
  case CS_CT_STATE_USABLE:
  case CS_CT_STATE_READONLY:
    return 1;
  case CS_CT_STATE_RETIRED:
    /* Retired logs still count for embedded SCTs issued before retirement. */
    return s->source == CS_SCT_SOURCE_EMBEDDED && s->timestamp_ms < s->state_since_ms;
  default:
    return 0;
  }
}

static void judge_log(cs_ct_sct_report_t *s, const cs_ct_log_t *log, int64_t at_ms,
                      int64_t not_after_ms) {
  s->log_known = 1;
  snprintf(s->log_description, sizeof(s->log_description), "%s", log->description);
  snprintf(s->log_operator, sizeof(s->log_operator), "%s", log->operator_name);
  s->state_at = cs_ct_log_state_at(log, at_ms, &s->state_inferred);
  s->state_since_ms = log->state == CS_CT_STATE_UNKNOWN ? CS_TIME_NEG_INF : log->state_since_ms;
  s->has_interval = log->has_interval;
  s->interval_start_ms = log->interval_start_ms;
  s->interval_end_ms = log->interval_end_ms;
  s->interval_covers_not_after =
      !log->has_interval ||
      (not_after_ms >= log->interval_start_ms && not_after_ms < log->interval_end_ms);
}

static void judge_sct(cs_ct_result_t *r, cs_ct_sct_report_t *s, const cs_sct_t *sct,
                      const cs_ct_entry_t *entry, const cs_ct_opts_t *opts) {
  s->source = sct->source;
  s->version = sct->version;
  memcpy(s->log_id, sct->log_id, 32);
  s->timestamp_ms = sct->timestamp_ms;
  s->sig_alg = sct->sig_alg;
  s->state_since_ms = CS_TIME_NEG_INF;
  s->interval_covers_not_after = 1;
  s->in_future = sct->timestamp_ms > r->at_ms;
  for (size_t c = 0; c < r->nclocks; c++) {
    int64_t believed;
    /* A clock that overflows believes nothing; it cannot see the SCT as future. */
    s->in_future_clock[c] = cs_clock_apply(&opts->clocks[c], r->at_ms, &believed) == 0 &&
                            sct->timestamp_ms > believed;
  }
  const cs_ct_log_t *log = cs_ct_log_list_find(opts->logs, sct->log_id);
  if (log != NULL)
    judge_log(s, log, r->at_ms, r->not_after_ms);
  else
    s->log_newer_than_list = opts->logs != NULL && sct->timestamp_ms > r->log_list_timestamp_ms;
  s->verdict = cs_ct_sct_verify(entry, sct, log, opts->cache);
  s->acceptable = s->verdict == CS_CT_SIG_VALID && s->log_known && state_acceptable(s);
}

/* Counts acceptable SCTs of one kind and their distinct operators; *newer
 * counts the SCTs from logs newer than the list, whose operators are not
 * known (each may be its own). */
static void count_set(const cs_ct_result_t *r, int embedded, int *count, int *operators,
                      int *newer) {
  *count = 0;
  *operators = 0;
  *newer = 0;
  for (size_t i = 0; i < r->nscts; i++) {
    const cs_ct_sct_report_t *s = &r->scts[i];
    if ((s->source == CS_SCT_SOURCE_EMBEDDED) != embedded)
      continue;
    *newer += s->log_newer_than_list;
    if (!s->acceptable)
      continue;
    (*count)++;
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++) {
      const cs_ct_sct_report_t *o = &r->scts[j];
      seen = o->acceptable && (o->source == CS_SCT_SOURCE_EMBEDDED) == embedded &&
             strcmp(o->log_operator, s->log_operator) == 0;
    }
    if (!seen)
      (*operators)++;
  }
}

static void evaluate_policy(cs_ct_result_t *r, const cs_cert_info_t *leaf) {
  cs_ct_policy_t *p = &r->policy;
  p->evaluated = r->has_log_list && !(r->log_list_implicit && r->nscts == 0);
  if (cs_time_sub(leaf->not_after_ms, leaf->not_before_ms, &p->lifetime_ms) != 0)
    p->lifetime_ms = CS_TIME_POS_INF;
  p->embedded_required = p->lifetime_ms <= 180 * CS_MS_PER_DAY ? 2 : 3;
  p->delivered_required = 2;
  int emb_newer, del_newer;
  count_set(r, 1, &p->embedded_acceptable, &p->embedded_operators, &emb_newer);
  count_set(r, 0, &p->delivered_acceptable, &p->delivered_operators, &del_newer);
  p->compliant = p->evaluated &&
                 ((p->embedded_acceptable >= p->embedded_required && p->embedded_operators >= 2) ||
                  (p->delivered_acceptable >= p->delivered_required && p->delivered_operators >= 2));
  /* The list cannot judge SCTs of logs it predates: if counting them could
   * meet the policy, the verdict waits for a fresher list. */
  p->undetermined =
      p->evaluated && !p->compliant &&
      ((emb_newer > 0 && p->embedded_acceptable + emb_newer >= p->embedded_required &&
        p->embedded_operators + emb_newer >= 2) ||
       (del_newer > 0 && p->delivered_acceptable + del_newer >= p->delivered_required &&
        p->delivered_operators + del_newer >= 2));
}

int cs_ct_analyze_ex(cs_ct_result_t **out, const cs_chain_t *chain, const cs_ct_opts_t *opts,
                     int64_t at_ms, cs_findings_t *findings) {
  static const cs_ct_opts_t NO_OPTS = {0};
  cs_ct_entry_t entry;
  if (out == NULL)
    return CS_EINVAL;
  *out = NULL;
  if (opts == NULL)
    opts = &NO_OPTS;
  const cs_cert_info_t *leaf = chain ? cs_chain_cert(chain, 0) : NULL;
  if (leaf == NULL || opts->nclocks > CS_CT_MAX_CLOCKS || (opts->nclocks && !opts->clocks) ||
      (opts->nextra_scts && !opts->extra_scts))
    return CS_EINVAL;
  if (leaf->nscts + opts->nextra_scts > CS_CT_MAX_SCTS)
    return CS_ETOOBIG;
  cs_ct_result_t *r = calloc(1, sizeof(*r)); /* owned: returned through *out */
  if (r == NULL)
    return CS_ENOMEM;
  r->nscts = leaf->nscts + opts->nextra_scts;
  r->scts = calloc(r->nscts ? r->nscts : 1, sizeof(*r->scts));
  cs_ct_entry_init(&entry);
  int err = r->scts ? cs_ct_entry_prepare(&entry, leaf->crt, find_issuer(chain)) : CS_ENOMEM;
  if (err != 0)
    goto fail;
  r->at_ms = at_ms;
  r->not_after_ms = leaf->not_after_ms;
  r->issuer_found = entry.has_issuer;
  r->precert_error = entry.precert_error;
  r->sct_parse_error = leaf->sct_parse_error;
  memcpy(r->sct_parse_detail, leaf->sct_parse_detail, sizeof(r->sct_parse_detail));
  r->has_log_list = opts->logs != NULL;
  r->log_list_implicit = cs_ct_log_list_implicit(opts->logs);
  snprintf(r->log_list_version, sizeof(r->log_list_version), "%s",
           cs_ct_log_list_version(opts->logs));
  r->log_list_timestamp_ms = cs_ct_log_list_timestamp(opts->logs);
  r->log_list_count = cs_ct_log_list_count(opts->logs);
  r->nclocks = opts->nclocks;
  for (size_t c = 0; c < opts->nclocks; c++)
    snprintf(r->clock_names[c], CS_CLOCK_NAME_MAX, "%s", opts->clocks[c].name);
  for (size_t i = 0; i < r->nscts; i++) {
    int embedded = i < leaf->nscts;
    const cs_sct_t *sct = embedded ? &leaf->scts[i] : &opts->extra_scts[i - leaf->nscts];
    r->scts[i].index = i;
    r->scts[i].source_index = embedded ? i : i - leaf->nscts;
    judge_sct(r, &r->scts[i], sct, &entry, opts);
  }
  evaluate_policy(r, leaf);
  cs_ct_entry_free(&entry);
  if (findings != NULL && (err = cs_ct__findings(r, findings)) != 0)
    goto fail;
  *out = r;
  return 0;
fail:
  cs_ct_entry_free(&entry);
  cs_ct_result_free(r);
  return err;
}

int cs_ct_analyze(cs_ct_result_t **out, const cs_chain_t *chain, const cs_ct_log_list_t *logs,
                  int64_t at_ms, cs_findings_t *findings) {
  cs_ct_opts_t opts = {0};
  opts.logs = logs;
  return cs_ct_analyze_ex(out, chain, &opts, at_ms, findings);
}

void cs_ct_result_time_checks(const cs_ct_result_t *r, cs_time_check_t *out, size_t max,
                              size_t *n) {
  *n = 0;
  for (size_t i = 0; r != NULL && i < r->nscts && *n < max; i++) {
    const cs_ct_sct_report_t *s = &r->scts[i];
    if (s->source == CS_SCT_SOURCE_EMBEDDED || s->version != 0)
      continue;
    cs_time_check_t *c = &out[(*n)++];
    memset(c, 0, sizeof(*c));
    c->kind = CS_CHECK_SCT_TIMESTAMP;
    c->dir = CS_NEED_AT_OR_AFTER;
    c->bound_ms = s->timestamp_ms;
    c->cert_index = 0;
    c->item_index = (int)s->index;
    snprintf(c->label, sizeof(c->label), "SCT #%zu (%s)", s->index, cs_sct_source_name(s->source));
  }
}
