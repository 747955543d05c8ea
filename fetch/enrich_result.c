/*
 * What an enrichment produced (include/certskew/fetch/enrich.h): handing its material to
 * cs_analyze, its errors, and its JSON section of the report.
 */
#include "certskew/fetch/enrich.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cs_enrich_result_free(cs_enrich_result_t *res) {
  if (res == NULL)
    return;
  cs_ocsp_response_free(res->staple_parsed);
  free(res->staple);
  free(res->tls_sct_list);
  free(res->ocsp_der);
  free(res->crl_der);
  free(res->crl_prev_der);
  free(res->issuer_der);
  free(res);
}

void cs_enrich_apply(const cs_enrich_result_t *res, cs_analysis_opts_t *opts) {
  if (res->capture_tls_version != 0)
    opts->server_tls_version = res->capture_tls_version;
  if (res->probe.state == CS_ENRICH_OK) {
    opts->stapling_probed = 1;
    opts->stapling_observable = res->stapling_observable;
    opts->stapled_ocsp = res->staple;
    opts->stapled_ocsp_len = res->staple_len;
  }
  if (res->ocsp_der != NULL) {
    opts->fetched_ocsp = res->ocsp_der;
    opts->fetched_ocsp_len = res->ocsp_der_len;
  }
  if (res->crl_der != NULL) {
    opts->crl = res->crl_der;
    opts->crl_len = res->crl_der_len;
    opts->crl_previous = res->crl_prev_der;
    opts->crl_previous_len = res->crl_prev_der_len;
  }
  if (res->issuer_der != NULL) {
    opts->aia_issuer = res->issuer_der;
    opts->aia_issuer_len = res->issuer_der_len;
  }
  size_t n = res->ntls_scts + res->nocsp_scts;
  opts->extra_scts = n ? res->scts : NULL;
  opts->nextra_scts = n;
}

typedef struct step_ref {
  const char *name, *code;
  const cs_enrich_step_t *step;
} step_ref_t;

static void steps_of(const cs_enrich_result_t *res, step_ref_t out[4]) {
  out[0] = (step_ref_t){"probe", "ENRICH_PROBE_FAILED", &res->probe};
  out[1] = (step_ref_t){"ocsp", "ENRICH_OCSP_FETCH_FAILED", &res->ocsp};
  out[2] = (step_ref_t){"crl", "ENRICH_CRL_FETCH_FAILED", &res->crl};
  out[3] = (step_ref_t){"aia", "ENRICH_AIA_FETCH_FAILED", &res->aia};
}

size_t cs_enrich_error_count(const cs_enrich_result_t *res) {
  step_ref_t s[4];
  steps_of(res, s);
  size_t n = res->nnotes;
  for (size_t i = 0; i < 4; i++)
    n += s[i].step->state == CS_ENRICH_FAILED;
  return n;
}

int cs_enrich_error_get(const cs_enrich_result_t *res, size_t i, const char **code, char *msg,
                        size_t cap) {
  step_ref_t s[4];
  steps_of(res, s);
  for (size_t k = 0; k < 4; k++) {
    const cs_enrich_step_t *st = s[k].step;
    if (st->state != CS_ENRICH_FAILED)
      continue;
    if (i-- == 0) {
      *code = s[k].code;
      if (st->url[0] != '\0')
        snprintf(msg, cap, "%s %s: %s", s[k].name, st->url, st->detail);
      else
        snprintf(msg, cap, "%s: %s", s[k].name, st->detail);
      return 0;
    }
  }
  if (i < res->nnotes) {
    *code = "ENRICH_NOTE";
    snprintf(msg, cap, "%s", res->notes[i]);
    return 0;
  }
  return CS_ENOTFOUND;
}

static const char *state_name(cs_enrich_state_t s) {
  switch (s) {
  case CS_ENRICH_OK:
    return "ok";
  case CS_ENRICH_FAILED:
    return "failed";
  case CS_ENRICH_SKIPPED:
    return "skipped";
  default:
    return "not_run";
  }
}

static cJSON *step_json(const cs_enrich_step_t *s, int is_fetch) {
  cJSON *o = cJSON_CreateObject();
  if (o == NULL)
    return NULL;
  int ok = cJSON_AddStringToObject(o, "state", state_name(s->state)) != NULL;
  if (is_fetch) {
    ok = ok && (s->url[0] ? cJSON_AddStringToObject(o, "url", s->url)
                          : cJSON_AddNullToObject(o, "url")) != NULL;
    if (s->http_status != 0)
      ok = ok && cJSON_AddNumberToObject(o, "http_status", s->http_status) != NULL;
  }
  if (s->state == CS_ENRICH_OK || s->state == CS_ENRICH_FAILED)
    ok = ok && cJSON_AddNumberToObject(o, "elapsed_ms", (double)s->elapsed_ms) != NULL;
  if (s->detail[0] != '\0')
    ok = ok && cJSON_AddStringToObject(o, "detail", s->detail) != NULL;
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

static int add_probe_facts(const cs_enrich_result_t *res, cJSON *p) {
  if (cJSON_AddStringToObject(p, "address", res->addr) == NULL)
    return -1;
  if (res->probe.state != CS_ENRICH_OK)
    return 0;
  char version[16];
  snprintf(version, sizeof version, "0x%04x", res->tls_version);
  if (res->tls_version == 0x0303)
    snprintf(version, sizeof version, "TLSv1.2");
  else if (res->tls_version == 0x0304)
    snprintf(version, sizeof version, "TLSv1.3");
  int ok = cJSON_AddBoolToObject(p, "stapling_observable", res->stapling_observable) != NULL &&
           cJSON_AddStringToObject(p, "tls_version", version) != NULL &&
           cJSON_AddBoolToObject(p, "status_request_acked", res->status_request_acked) != NULL &&
           cJSON_AddBoolToObject(p, "stapled", res->staple != NULL) != NULL &&
           cJSON_AddNumberToObject(p, "stapled_ocsp_bytes", (double)res->staple_len) != NULL &&
           cJSON_AddNumberToObject(p, "tls_sct_count", (double)res->ntls_scts) != NULL &&
           cJSON_AddNumberToObject(p, "ocsp_sct_count", (double)res->nocsp_scts) != NULL &&
           cJSON_AddNumberToObject(p, "certificates", (double)res->probe_ncerts) != NULL;
  if (ok && res->stapling_observable)
    ok = cJSON_AddBoolToObject(p, "same_leaf", res->probe_same_leaf) != NULL;
  if (ok && res->tls_version == 0x0304) /* TLS 1.2 has no CertificateVerify to check */
    ok = cJSON_AddBoolToObject(p, "certificate_verify_verified", res->cert_verified) != NULL;
  return ok ? 0 : -1;
}

cJSON *cs_enrich_to_json(const cs_enrich_result_t *res) {
  cJSON *o = cJSON_CreateObject();
  if (o == NULL || cJSON_AddBoolToObject(o, "fetch", res->fetch) == NULL)
    goto fail;
  step_ref_t s[4];
  steps_of(res, s);
  for (size_t i = 0; i < 4; i++) {
    cJSON *st = step_json(s[i].step, i > 0);
    if (st == NULL)
      goto fail;
    cJSON_AddItemToObject(o, s[i].name, st);
    if (i == 0 && add_probe_facts(res, st) != 0)
      goto fail;
    if (i == 3 && res->issuer_der != NULL &&
        (cJSON_AddStringToObject(st, "issuer", res->issuer_subject) == NULL ||
         cJSON_AddNumberToObject(st, "issuer_bytes", (double)res->issuer_der_len) == NULL))
      goto fail;
    if (i == 1 && res->ocsp_der != NULL &&
        cJSON_AddNumberToObject(st, "bytes", (double)res->ocsp_der_len) == NULL)
      goto fail;
    if (i == 2 && res->crl_der != NULL &&
        cJSON_AddNumberToObject(st, "bytes", (double)res->crl_der_len) == NULL)
      goto fail;
  }
  cJSON *errs = cJSON_AddArrayToObject(o, "errors");
  if (errs == NULL)
    goto fail;
  for (size_t i = 0; i < cs_enrich_error_count(res); i++) {
    const char *code;
    char msg[600];
    if (cs_enrich_error_get(res, i, &code, msg, sizeof msg) != 0)
      break;
    cJSON *e = cJSON_CreateObject();
    if (e == NULL)
      goto fail;
    cJSON_AddItemToArray(errs, e);
    if (cJSON_AddStringToObject(e, "code", code) == NULL ||
        cJSON_AddStringToObject(e, "message", msg) == NULL)
      goto fail;
  }
  return o;
fail:
  cJSON_Delete(o);
  return NULL;
}

char *cs_enrich_report_merge(const char *report_json, const cs_enrich_result_t *res) {
  cJSON *root = cJSON_Parse(report_json);
  cJSON *section = NULL;
  char *text = NULL;
  if (!cJSON_IsObject(root) || (section = cs_enrich_to_json(res)) == NULL)
    goto out;
  cJSON_DeleteItemFromObjectCaseSensitive(root, "enrichment");
  cJSON_AddItemToObject(root, "enrichment", section);
  section = NULL;
  text = cJSON_Print(root); /* caller frees */
out:
  cJSON_Delete(section);
  cJSON_Delete(root);
  return text;
}
