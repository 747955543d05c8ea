/* The report's "ct" section (cs_ct_result_to_json in include/certskew/ct/ct.h). */
#include <stdio.h>

#include "certskew/core/time.h"
#include "ct_internal.h"
#include "certskew/core/json_time.h"

/* Every instant in the one report encoding (json_time.h). */
#define add_time cs_json_add_time

static cJSON *log_json(const cs_ct_sct_report_t *s) {
  cJSON *l = cJSON_CreateObject();
  if (l == NULL)
    return NULL;
  int ok = cJSON_AddStringToObject(l, "description", s->log_description) &&
           cJSON_AddStringToObject(l, "operator", s->log_operator) &&
           cJSON_AddStringToObject(l, "state_at", cs_ct_log_state_name(s->state_at)) &&
           cJSON_AddBoolToObject(l, "state_inferred", s->state_inferred) &&
           (s->state_since_ms == CS_TIME_NEG_INF ? cJSON_AddNullToObject(l, "state_since") != NULL
                                                 : add_time(l, "state_since", s->state_since_ms) != NULL);
  if (ok && s->has_interval) {
    cJSON *iv = cJSON_AddObjectToObject(l, "temporal_interval");
    ok = iv && add_time(iv, "start_inclusive", s->interval_start_ms) &&
         add_time(iv, "end_exclusive", s->interval_end_ms) &&
         cJSON_AddBoolToObject(iv, "covers_not_after", s->interval_covers_not_after);
  } else if (ok) {
    ok = cJSON_AddNullToObject(l, "temporal_interval") != NULL;
  }
  if (!ok) {
    cJSON_Delete(l);
    return NULL;
  }
  return l;
}

static cJSON *sct_json(const cs_ct_result_t *r, const cs_ct_sct_report_t *s) {
  char id[48], label[64];
  cJSON *o = cJSON_CreateObject();
  if (o == NULL)
    return NULL;
  cs_ct__b64_id(s->log_id, id);
  /* Embedded SCTs are replay checks of the chain ("SCT #<n>"); others are
   * added from cs_ct_result_time_checks. */
  if (s->source == CS_SCT_SOURCE_EMBEDDED)
    snprintf(label, sizeof(label), "SCT #%zu", s->source_index);
  else
    snprintf(label, sizeof(label), "SCT #%zu (%s)", s->index, cs_sct_source_name(s->source));
  cJSON *clocks = NULL;
  int ok = cJSON_AddNumberToObject(o, "index", (double)s->index) &&
           cJSON_AddStringToObject(o, "source", cs_sct_source_name(s->source)) &&
           cJSON_AddNumberToObject(o, "source_index", (double)s->source_index) &&
           cJSON_AddNumberToObject(o, "version", s->version) &&
           cJSON_AddStringToObject(o, "log_id", id) && add_time(o, "timestamp", s->timestamp_ms) &&
           cJSON_AddStringToObject(o, "signature_algorithm", cs_sct_sig_alg_name(s->sig_alg)) &&
           cJSON_AddStringToObject(o, "signature", cs_ct_sig_verdict_name(s->verdict)) &&
           cJSON_AddBoolToObject(o, "in_future", s->in_future) &&
           (clocks = cJSON_AddObjectToObject(o, "in_future_by_clock")) != NULL &&
           cJSON_AddStringToObject(o, "replay_check", label) &&
           cJSON_AddBoolToObject(o, "acceptable", s->acceptable) &&
           cJSON_AddBoolToObject(o, "log_newer_than_list", s->log_newer_than_list);
  for (size_t c = 0; ok && c < r->nclocks; c++)
    ok = cJSON_AddBoolToObject(clocks, r->clock_names[c], s->in_future_clock[c]) != NULL;
  if (ok) {
    cJSON *l = s->log_known ? log_json(s) : cJSON_CreateNull();
    ok = l != NULL && cJSON_AddItemToObject(o, "log", l);
    if (l != NULL && !ok)
      cJSON_Delete(l);
  }
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

static int policy_json(cJSON *root, const cs_ct_policy_t *p) {
  cJSON *o = cJSON_AddObjectToObject(root, "policy");
  return o && cJSON_AddBoolToObject(o, "evaluated", p->evaluated) &&
         cJSON_AddBoolToObject(o, "compliant", p->compliant) &&
         cJSON_AddBoolToObject(o, "undetermined", p->undetermined) &&
         cJSON_AddNumberToObject(o, "lifetime_ms", (double)p->lifetime_ms) &&
         cJSON_AddNumberToObject(o, "embedded_required", p->embedded_required) &&
         cJSON_AddNumberToObject(o, "embedded_acceptable", p->embedded_acceptable) &&
         cJSON_AddNumberToObject(o, "embedded_operators", p->embedded_operators) &&
         cJSON_AddNumberToObject(o, "delivered_required", p->delivered_required) &&
         cJSON_AddNumberToObject(o, "delivered_acceptable", p->delivered_acceptable) &&
         cJSON_AddNumberToObject(o, "delivered_operators", p->delivered_operators) &&
         cJSON_AddStringToObject(
             o, "rule", "https://googlechrome.github.io/CertificateTransparency/ct_policy.html");
}

cJSON *cs_ct_result_to_json(const cs_ct_result_t *r) {
  if (r == NULL)
    return NULL;
  cJSON *root = cJSON_CreateObject(), *scts = NULL;
  int ok = root != NULL;
  if (ok && r->has_log_list) {
    cJSON *ll = cJSON_AddObjectToObject(root, "log_list");
    ok = ll && cJSON_AddStringToObject(ll, "version", r->log_list_version) &&
         cJSON_AddNumberToObject(ll, "logs", (double)r->log_list_count) &&
         cJSON_AddBoolToObject(ll, "stale", cs_ct__list_stale(r)) &&
         (r->log_list_timestamp_ms == CS_TIME_NEG_INF
              ? cJSON_AddNullToObject(ll, "timestamp") != NULL
              : add_time(ll, "timestamp", r->log_list_timestamp_ms) != NULL);
  } else if (ok) {
    ok = cJSON_AddNullToObject(root, "log_list") != NULL;
  }
  ok = ok && add_time(root, "judged_at", r->at_ms) &&
       cJSON_AddBoolToObject(root, "issuer_found", r->issuer_found) &&
       cJSON_AddStringToObject(root, "precert_rebuild",
                               r->precert_error ? cs_errname(r->precert_error) : "ok") &&
       (scts = cJSON_AddArrayToObject(root, "scts")) != NULL;
  for (size_t i = 0; ok && i < r->nscts; i++) {
    cJSON *s = sct_json(r, &r->scts[i]);
    ok = s != NULL && cJSON_AddItemToArray(scts, s);
    if (s != NULL && !ok)
      cJSON_Delete(s);
  }
  ok = ok && policy_json(root, &r->policy);
  if (!ok) {
    cJSON_Delete(root);
    return NULL;
  }
  return root;
}
