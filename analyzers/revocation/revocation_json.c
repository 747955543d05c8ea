/*
 * The report's "revocation" section (include/certskew/revocation/revocation.h).
 * Every cJSON_Add* result is checked at the end through cJSON's own NULL
 * propagation: adding to a NULL object fails, so one check per object.
 */
#include "certskew/revocation/revocation.h"

#include <stdio.h>

#include "certskew/core/json_time.h"

/* Every instant in the one report encoding (json_time.h). */
static int add_time(cJSON *o, const char *key, int64_t t_ms) {
  return cs_json_add_time(o, key, t_ms) != NULL;
}

static int add_hex(cJSON *o, const char *key, const uint8_t *p, size_t n) {
  char b[2 * CS_OCSP_MAX_HASH + 1];
  if (n > CS_OCSP_MAX_HASH)
    n = CS_OCSP_MAX_HASH;
  for (size_t i = 0; i < n; i++)
    snprintf(b + 2 * i, 3, "%02x", p[i]);
  b[2 * n] = '\0';
  return cJSON_AddStringToObject(o, key, b) != NULL;
}

static cJSON *ocsp_json(const cs_ocsp_response_t *r, const cs_revocation_input_t *in) {
  const cs_ocsp_info_t *info = cs_ocsp_response_info(r);
  cJSON *o = cJSON_CreateObject();
  int ok = o != NULL &&
           cJSON_AddStringToObject(o, "response_status",
                                   cs_ocsp_status_name(info->response_status)) != NULL;
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  if (!info->has_basic)
    return o;
  ok = add_time(o, "produced_at", info->produced_at_ms) &&
       (info->responder_by_key
            ? add_hex(o, "responder_key_hash", info->responder_key_hash, 20)
            : cJSON_AddStringToObject(o, "responder_name", info->responder_name) != NULL) &&
       cJSON_AddNumberToObject(o, "certs", (double)info->ncerts) != NULL;
  const cs_ocsp_single_t *s = in->issuer != NULL ? cs_ocsp_response_find(r, in->leaf, in->issuer)
                                                 : cs_ocsp_response_single(r, 0);
  if (ok && s != NULL) {
    ok = cJSON_AddStringToObject(o, "cert_status", cs_ocsp_cert_status_name(s->status)) != NULL &&
         add_time(o, "this_update", s->this_update_ms) &&
         (!s->has_next_update || add_time(o, "next_update", s->next_update_ms)) &&
         (s->status != CS_OCSP_CERT_REVOKED ||
          (add_time(o, "revocation_time", s->revocation_time_ms) &&
           cJSON_AddNumberToObject(o, "revocation_reason", s->revocation_reason) != NULL)) &&
         cJSON_AddBoolToObject(o, "has_sct_extension", s->sct_list != NULL) != NULL;
  } else if (ok) {
    ok = cJSON_AddStringToObject(o, "cert_status", "not_covered") != NULL;
  }
  if (ok && in->issuer != NULL) {
    cs_ocsp_verify_result_t v;
    if (cs_ocsp_verify(r, in->issuer, &v) == 0)
      ok = cJSON_AddBoolToObject(o, "signature_ok", v.signature_ok) != NULL &&
           cJSON_AddStringToObject(o, "signer",
                                   v.signer == CS_OCSP_SIGNER_ISSUER      ? "issuer"
                                   : v.signer == CS_OCSP_SIGNER_DELEGATED ? "delegated"
                                                                          : "none") != NULL;
  }
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

static cJSON *crl_json(const cs_revocation_input_t *in) {
  const cs_crl_info_t *crl = in->crl;
  cJSON *o = cJSON_CreateObject();
  int64_t when = 0;
  int listed = cs_crl_find_serial(crl, in->leaf->serial.p, in->leaf->serial.len, &when);
  int ok = o != NULL && cJSON_AddStringToObject(o, "issuer", crl->issuer) != NULL &&
           add_time(o, "this_update", crl->this_update_ms) &&
           (!crl->has_next_update || add_time(o, "next_update", crl->next_update_ms)) &&
           cJSON_AddNumberToObject(o, "entries", (double)crl->nentries) != NULL &&
           cJSON_AddBoolToObject(o, "leaf_listed", listed) != NULL &&
           (!listed || add_time(o, "revocation_time", when));
  if (ok && in->issuer != NULL)
    ok = cJSON_AddBoolToObject(o, "signature_ok", cs_crl_verify(crl, in->issuer, NULL) == 0) !=
         NULL;
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

cJSON *cs_revocation_to_json(const cs_revocation_input_t *in) {
  if (in == NULL || in->leaf == NULL)
    return NULL;
  cJSON *o = cJSON_CreateObject();
  if (o == NULL)
    return NULL;
  char d[CS_DURATION_STRLEN];
  cs_duration_format(in->provisioning_ms > 0 ? in->provisioning_ms
                                             : CS_REVOCATION_DEFAULT_PROVISIONING_MS, d);
  int ok = cJSON_AddBoolToObject(o, "stapling_observable", in->stapling_observable) != NULL &&
           cJSON_AddStringToObject(o, "provisioning_window", d) != NULL &&
           cJSON_AddBoolToObject(o, "issuer_from_aia", in->issuer_from_aia) != NULL;
  cs_revocation_urls_t urls;
  if (ok && cs_revocation_urls_get(in->leaf, &urls) == 0)
    ok = cJSON_AddStringToObject(o, "ocsp_url", urls.ocsp) != NULL &&
         cJSON_AddStringToObject(o, "ca_issuers_url", urls.ca_issuers) != NULL &&
         cJSON_AddStringToObject(o, "crl_url", urls.crl) != NULL;
  struct { const char *key; cJSON *v; int want; } parts[] = {
      {"stapled_ocsp", in->stapled ? ocsp_json(in->stapled, in) : NULL, in->stapled != NULL},
      {"fetched_ocsp", in->fetched ? ocsp_json(in->fetched, in) : NULL, in->fetched != NULL},
      {"crl", in->crl && in->crl->parsed ? crl_json(in) : NULL, in->crl && in->crl->parsed},
  };
  for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
    if (!parts[i].want) {
      ok = ok && cJSON_AddNullToObject(o, parts[i].key) != NULL;
      continue;
    }
    if (parts[i].v == NULL || !ok) {
      ok = 0;
      cJSON_Delete(parts[i].v);
      continue;
    }
    cJSON_AddItemToObject(o, parts[i].key, parts[i].v);
  }
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}
