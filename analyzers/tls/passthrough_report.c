/* The passthrough capture's part of a report (certskew/tls/passthrough_report.h). */
#include "certskew/tls/passthrough_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What each certificate alert means, and which of certskew's finding codes
 * a client sending it would have seen. */
typedef struct alert_cause {
  int code;
  const char *meaning;
  const char *codes[12]; /* NULL-terminated; {NULL} with any_error: every error matches */
  int any_error;
} alert_cause_t;

static const alert_cause_t CAUSES[] = {
    {42, "bad_certificate: the client found a certificate unacceptable for a reason other "
         "than expiry or an unknown issuer (OpenSSL sends it for a certificate not yet "
         "valid, a bad signature or a name mismatch)",
     {"NOT_YET_VALID", "INTERMEDIATE_NOT_YET_VALID", "ANCHOR_NOT_YET_VALID", "BAD_SIGNATURE",
      "HOSTNAME_MISMATCH", "KEY_USAGE_INVALID", "EKU_INVALID", "NOT_A_CA",
      "PATH_LENGTH_EXCEEDED", "NAME_CONSTRAINTS_VIOLATION", "SCT_IN_FUTURE", NULL},
     0},
    {43, "unsupported_certificate: the certificate's key or usage is not acceptable",
     {"KEY_USAGE_INVALID", "EKU_INVALID", NULL}, 0},
    {44, "certificate_revoked: the client believes a certificate is revoked", {"REVOKED", NULL},
     0},
    {45, "certificate_expired: the client's clock is past a certificate's notAfter",
     {"EXPIRED", "INTERMEDIATE_EXPIRED", "ANCHOR_EXPIRED", "CROSS_SIGN_EXPIRED",
      "NOTAFTER_SECOND", NULL},
     0},
    {46, "certificate_unknown: an unspecified problem with the certificate (BoringSSL and NSS "
         "send it for most verification failures)",
     {NULL}, 1},
    {48, "unknown_ca: the client could not build a path to a root it trusts (a missing "
         "intermediate, or an unknown or untrusted root)",
     {"ANCHOR_NOT_TRUSTED", "MISSING_INTERMEDIATE", "NO_TRUSTED_PATH", "CROSS_SIGN_EXPIRED",
      "CHAIN_ORDER", NULL},
     0},
};

static const alert_cause_t *cause_of(int alert) {
  for (size_t i = 0; i < sizeof(CAUSES) / sizeof(CAUSES[0]); i++)
    if (CAUSES[i].code == alert)
      return &CAUSES[i];
  return NULL;
}

static int matches(const alert_cause_t *c, const char *code) {
  if (c == NULL)
    return 0;
  if (c->any_error)
    return 1;
  for (size_t i = 0; c->codes[i] != NULL; i++)
    if (strcmp(c->codes[i], code) == 0)
      return 1;
  return 0;
}

/* Appends to buf the error codes in f that match cause (all errors when
 * cause is NULL); returns how many. */
static size_t list_errors(cs_findings_t *f, const alert_cause_t *cause, int all, char *buf,
                          size_t cap) {
  size_t n = 0, used = strlen(buf);
  for (size_t i = 0; i < cs_findings_count(f); i++) {
    const cs_finding_t *fi = cs_findings_get(f, i);
    if (fi == NULL || fi->severity != CS_SEV_ERROR || (!all && !matches(cause, fi->code)))
      continue;
    if (strstr(buf, fi->code) != NULL)
      continue; /* the same code for another certificate: once is enough */
    int w = snprintf(buf + used, cap - used, "%s%s", n ? ", " : "", fi->code);
    if (w < 0 || (size_t)w >= cap - used)
      break;
    used += (size_t)w;
    n++;
  }
  return n;
}

/* The sentence linking the client's behaviour to certskew's analysis. */
static void explain_link(cs_findings_t *f, const alert_cause_t *cause, int rejected, char *out,
                         size_t cap) {
  char codes[512] = "";
  if (cause != NULL && list_errors(f, cause, 0, codes, sizeof(codes)) > 0) {
    snprintf(out, cap, "certskew's analysis at the real clock agrees: %s (see those findings).",
             codes);
    return;
  }
  if (list_errors(f, NULL, 1, codes, sizeof(codes)) > 0) {
    snprintf(out, cap, "certskew's analysis at the real clock finds: %s%s", codes,
             rejected ? " (see those findings)." : ".");
    return;
  }
  snprintf(out, cap,
           rejected ? "certskew's analysis at the real clock finds no error with the trust "
                      "anchors it was given: the client's own trust store, clock or policy "
                      "differs (compare the client's roots with --trust, and its clock with "
                      "the clock models)."
                    : "certskew's analysis at the real clock finds no error either.");
}

int cs_passthrough_add_finding(cs_findings_t *f, const cs_tls_sniff_info_t *info) {
  char summary[300], expl[1400], link[700];
  const alert_cause_t *cause = NULL;
  const char *code;
  cs_severity_t sev;
  const char *fix = NULL;
  switch (info->reaction) {
  case CS_SNIFF_CLIENT_ALERT:
    cause = cause_of(info->alert);
    code = "CLIENT_REJECTED_CHAIN";
    sev = CS_SEV_ERROR;
    snprintf(summary, sizeof(summary),
             "The browser rejected this chain: it sent the %s alert %s(%d) %s.",
             info->alert_level == 2 ? "fatal" : "warning", cs_tls_alert_name(info->alert),
             info->alert,
             info->flight == CS_SNIFF_FLIGHT_TLS12 ? "right after the server's certificate"
                                                   : "after the server's flight");
    explain_link(f, cause, 1, link, sizeof(link));
    snprintf(expl, sizeof(expl), "%s. %s", cause != NULL ? cause->meaning
                                           : "The alert is not specific to certificates",
             link);
    fix = "Fix the cause named above and reload: the browser's own error page shows the same "
          "verdict, and the next capture shows whether it is gone.";
    break;
  case CS_SNIFF_CLIENT_LIKELY_REJECTED:
    code = "CLIENT_LIKELY_REJECTED";
    sev = CS_SEV_WARNING;
    snprintf(summary, sizeof(summary),
             "The browser most likely rejected this chain: it closed the connection right "
             "after the server's flight, without application data.");
    explain_link(f, NULL, 1, link, sizeof(link));
    snprintf(expl, sizeof(expl), "Observed: %s.%s %s", info->detail,
             info->flight == CS_SNIFF_FLIGHT_TLS13
                 ? " In TLS 1.3 the client's alert is encrypted, so its code is not observable."
                 : "",
             link);
    break;
  case CS_SNIFF_CLIENT_ACCEPTED:
    code = "CLIENT_ACCEPTED_CHAIN";
    sev = CS_SEV_INFO;
    snprintf(summary, sizeof(summary),
             "The browser accepted this chain: it went on to application data.");
    explain_link(f, NULL, 0, link, sizeof(link));
    snprintf(expl, sizeof(expl), "Observed: %s. %s", info->detail, link);
    break;
  case CS_SNIFF_CLIENT_UNKNOWN:
  default:
    return 0;
  }
  int ret = cs_findings_add(f, code, sev, 0, 0, -1, summary, expl, fix, NULL);
  if (ret == 0 && info->reaction == CS_SNIFF_CLIENT_ALERT)
    ret = cs_findings_evidence(f, "client_alert", "%s(%d)", cs_tls_alert_name(info->alert),
                               info->alert);
  if (ret == 0)
    ret = cs_findings_evidence(f, "tunnel_version", "%s", cs_tls_version_name(info->version));
  if (ret == 0 && info->sni[0] != '\0')
    ret = cs_findings_evidence(f, "sni", "%s", info->sni);
  return ret;
}

static const char *summary_of(const cs_tls_sniff_info_t *info) {
  switch (info->reaction) {
  case CS_SNIFF_CLIENT_ALERT: return "the browser rejected this chain";
  case CS_SNIFF_CLIENT_LIKELY_REJECTED: return "the browser likely rejected this chain";
  case CS_SNIFF_CLIENT_ACCEPTED: return "the browser accepted this chain";
  case CS_SNIFF_CLIENT_UNKNOWN:
  default: return "the browser's verdict was not observable";
  }
}

cJSON *cs_passthrough_capture_json(const cs_tls_sniff_info_t *info, const char *method) {
  cJSON *o = cJSON_CreateObject(); /* owned by the caller */
  int ok = o != NULL && cJSON_AddStringToObject(o, "mode", "passthrough") != NULL &&
           cJSON_AddStringToObject(o, "method", method) != NULL;
  cJSON *t = ok ? cJSON_AddObjectToObject(o, "tunnel") : NULL;
  cJSON *c = ok ? cJSON_AddObjectToObject(o, "client") : NULL;
  char suite[8];
  snprintf(suite, sizeof(suite), "0x%04x", (unsigned)info->cipher_suite);
  ok = ok && t != NULL && c != NULL &&
           cJSON_AddStringToObject(t, "version", cs_tls_version_name(info->version)) != NULL &&
           cJSON_AddStringToObject(t, "cipher_suite", suite) != NULL &&
           cJSON_AddStringToObject(t, "sni", info->sni) != NULL &&
           cJSON_AddStringToObject(t, "flight", cs_sniff_flight_name(info->flight)) != NULL &&
           cJSON_AddBoolToObject(t, "client_asked_stapling", info->client_status_request) !=
               NULL &&
           cJSON_AddBoolToObject(t, "client_asked_scts", info->client_sct) != NULL &&
           cJSON_AddStringToObject(c, "reaction", cs_sniff_reaction_name(info->reaction)) !=
               NULL &&
           cJSON_AddStringToObject(c, "summary", summary_of(info)) != NULL &&
           cJSON_AddStringToObject(c, "detail", info->detail) != NULL &&
           cJSON_AddBoolToObject(c, "alert_observable",
                                 info->reaction == CS_SNIFF_CLIENT_ALERT ||
                                     info->flight != CS_SNIFF_FLIGHT_TLS13) !=
               NULL &&
           cJSON_AddNumberToObject(c, "encrypted_records", (double)info->client_encrypted_records) !=
               NULL;
  if (ok && info->reaction == CS_SNIFF_CLIENT_ALERT) {
    cJSON *a = cJSON_AddObjectToObject(c, "alert");
    ok = a != NULL && cJSON_AddNumberToObject(a, "code", info->alert) != NULL &&
         cJSON_AddStringToObject(a, "name", cs_tls_alert_name(info->alert)) != NULL &&
         cJSON_AddStringToObject(a, "level", info->alert_level == 2 ? "fatal" : "warning") !=
             NULL;
  } else if (ok) {
    ok = cJSON_AddNullToObject(c, "alert") != NULL;
  }
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

int cs_passthrough_add_fallback_finding(cs_findings_t *f, const cs_relay_reason_t *why) {
  if (why == NULL || why->code == NULL)
    return 0;
  char summary[200];
  snprintf(summary, sizeof(summary),
           "interception fell back to relaying the tunnel unchanged (%s)", why->code);
  if (cs_findings_add(f, "INTERCEPTION_FELL_BACK", CS_SEV_INFO, 0, -1, -1, summary,
                      "certskew's upstream TLS client (mbedTLS 2.28) could not complete the "
                      "handshake with this server although the server answered in TLS (it "
                      "speaks only TLS 1.3, splits a handshake message over records or sends "
                      "one larger than a record, or asks for something else mbedTLS 2.28 "
                      "lacks). Rather than answer the browser with an error a direct "
                      "connection would not give, the tunnel was relayed byte for byte: the "
                      "browser validated the real server itself, and this chain was captured "
                      "beside the tunnel.",
                      NULL, NULL) != 0)
    return CS_ENOMEM;
  return cs_findings_evidence(f, "upstream_error", "%s: %s", why->code,
                              why->message != NULL ? why->message : "");
}

int cs_passthrough_decorate_report(const char *report_json, const cs_tls_sniff_info_t *info,
                                   const char *method, char **out) {
  return cs_passthrough_decorate_report_ex(report_json, info, method, NULL, out);
}

int cs_passthrough_decorate_report_ex(const char *report_json, const cs_tls_sniff_info_t *info,
                                      const char *method, const cs_relay_reason_t *why,
                                      char **out) {
  *out = NULL;
  cJSON *root = cJSON_Parse(report_json);
  if (root == NULL || !cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return CS_EPARSE;
  }
  cJSON *cap = cs_passthrough_capture_json(info, method);
  if (cap == NULL) {
    cJSON_Delete(root);
    return CS_ENOMEM;
  }
  if (why != NULL && why->code != NULL) {
    cJSON *r = cJSON_AddObjectToObject(cap, "relayed_because");
    if (r == NULL || cJSON_AddStringToObject(r, "code", why->code) == NULL ||
        cJSON_AddStringToObject(r, "message", why->message != NULL ? why->message : "") ==
            NULL) {
      cJSON_Delete(cap);
      cJSON_Delete(root);
      return CS_ENOMEM;
    }
  }
  cJSON_DeleteItemFromObjectCaseSensitive(root, "capture");
  if (!cJSON_AddItemToObject(root, "capture", cap)) {
    cJSON_Delete(cap);
    cJSON_Delete(root);
    return CS_ENOMEM;
  }
  *out = cJSON_Print(root); /* owned by the caller */
  cJSON_Delete(root);
  return *out != NULL ? 0 : CS_ENOMEM;
}
