/*
 * Revocation findings (include/certskew/revocation/revocation.h).
 *
 * The case this tool exists for: a certificate issued minutes ago, whose CA
 * has not yet pushed its serial to the OCSP responders, gets `unauthorized`
 * or `unknown`. Clients that hard-fail on OCSP (or servers that refuse to
 * staple a non-good response) break until the responder catches up. That is
 * told apart from a responder that is simply wrong by the leaf's age.
 */
#include "certskew/revocation/revocation.h"

#include <stdio.h>
#include <string.h>

typedef struct ctx {
  const cs_revocation_input_t *in;
  cs_findings_t *f;
  int64_t age_ms;
  int64_t prov_ms;
} ctx_t;

static int add(ctx_t *c, const char *code, cs_severity_t sev, int item, const char *summary,
               const char *expl, const char *fix) {
  return cs_findings_add(c->f, code, sev, 50, 0, item, summary, expl, fix, NULL);
}

static int ev_time(ctx_t *c, const char *key, int64_t t_ms) {
  char b[CS_TIME_STRLEN];
  cs_time_format(t_ms, b);
  return cs_findings_evidence(c->f, key, "%s", b);
}

static const char *source_name(int item) { return item == 0 ? "stapled" : "fetched"; }

/* unauthorized/unknown: not provisioned yet (young leaf) or simply refused. */
static int not_served(ctx_t *c, int item, const char *what) {
  char age[CS_DURATION_STRLEN], prov[CS_DURATION_STRLEN], s[256], e[1024];
  cs_duration_format(c->age_ms, age);
  cs_duration_format(c->prov_ms, prov);
  int ret;
  if (c->age_ms < c->prov_ms) {
    snprintf(s, sizeof(s), "The %s OCSP response says %s: the responder has not been "
             "provisioned for this certificate yet.", source_name(item), what);
    snprintf(e, sizeof(e), "The certificate is %s old (notBefore to the time asked), less than "
             "the %s CAs commonly need to publish a new serial to their OCSP responders; "
             "until then responders answer %s and clients that require a good status fail.",
             age, prov, what);
    ret = add(c, "OCSP_NOT_PROVISIONED", CS_SEV_ERROR, item, s, e,
              "Wait a few minutes after issuance before deploying (or before stapling): "
              "re-fetch the OCSP response until it says good, then deploy.");
  } else if (cs_revocation_is_precert(c->in->leaf)) {
    snprintf(s, sizeof(s), "The %s OCSP response says %s for a precertificate that is %s old: "
             "a logged precertificate must have status.", source_name(item), what, age);
    snprintf(e, sizeof(e), "A precertificate is the CA's binding intent to issue (RFC 6962 "
             "section 3.1 logs it in place of the certificate); Mozilla \"infers from the existence "
             "of a precertificate that a corresponding certificate has been issued\" and "
             "requires CRL and OCSP responses for every certificate presumed to exist, even if "
             "it was never issued (Mozilla Root Store Policy section 5.4, CA/Required or "
             "Recommended Practices: Precertificates; BR 4.9.10). Past the %s provisioning "
             "window, %s breaks that rule (Let's Encrypt, 2019).", prov, what);
    ret = add(c, "OCSP_PRECERT_UNAVAILABLE", CS_SEV_ERROR, item, s, e,
              "Provision the serial on the OCSP responders when the precertificate is signed, "
              "not when the final certificate is; answer good (or revoked) for it.");
  } else {
    snprintf(s, sizeof(s), "The %s OCSP response says %s for a certificate that is %s old.",
             source_name(item), what, age);
    snprintf(e, sizeof(e), "A responder should know a certificate issued %s ago; %s means "
             "it is not authoritative for this issuer or lost the serial.", age, what);
    ret = add(c, "OCSP_UNAUTHORIZED", CS_SEV_ERROR, item, s, e,
              "Check that the AIA OCSP URL points to the responder of this issuing CA, "
              "and ask the CA why the serial is unknown.");
  }
  if (ret == 0)
    ret = cs_findings_evidence(c->f, "certificate_age", "%s", age);
  if (ret == 0)
    ret = cs_findings_evidence(c->f, "provisioning_window", "%s", prov);
  return ret;
}

static int revoked(ctx_t *c, int item, const char *source, int64_t when_ms) {
  char s[160];
  snprintf(s, sizeof(s), "The %s says the certificate is revoked.", source);
  int ret = add(c, "REVOKED", CS_SEV_ERROR, item, s,
                "Every client that checks revocation rejects a revoked certificate.",
                "Issue and deploy a new certificate.");
  return ret == 0 ? ev_time(c, "revocation_time", when_ms) : ret;
}

static int single_times(ctx_t *c, int item, const cs_ocsp_info_t *info,
                        const cs_ocsp_single_t *s) {
  int ret = 0;
  const char *src = source_name(item);
  char sum[160];
  if (s->has_next_update && c->in->at_ms > s->next_update_ms) {
    snprintf(sum, sizeof(sum), "The %s OCSP response is stale: nextUpdate has passed.", src);
    ret = add(c, "OCSP_STALE", CS_SEV_ERROR, item, sum,
              "Clients reject an OCSP response after its nextUpdate.",
              "Refresh the stapled response (the server's stapling cache) more often than "
              "its validity period.");
    if (ret == 0)
      ret = ev_time(c, "next_update", s->next_update_ms);
  }
  int64_t latest = s->this_update_ms > info->produced_at_ms ? s->this_update_ms
                                                             : info->produced_at_ms;
  if (ret == 0 && c->in->at_ms < latest) {
    snprintf(sum, sizeof(sum), "The %s OCSP response is not valid yet at the time asked.", src);
    ret = add(c, "OCSP_NOT_YET_VALID", CS_SEV_ERROR, item, sum,
              "thisUpdate or producedAt is after the time asked: a client whose clock is "
              "behind the responder's rejects the response.",
              "Backdate thisUpdate by a few minutes on the responder.");
    if (ret == 0)
      ret = ev_time(c, "this_update", s->this_update_ms);
    if (ret == 0)
      ret = ev_time(c, "produced_at", info->produced_at_ms);
  }
  return ret;
}

/* Judges one response; *status_out is a short word for the mismatch check. */
static int judge_ocsp(ctx_t *c, int item, const cs_ocsp_response_t *r, const char **status_out) {
  const cs_ocsp_info_t *info = cs_ocsp_response_info(r);
  char sum[200];
  *status_out = cs_ocsp_status_name(info->response_status);
  if (!info->has_basic) {
    if (info->response_status == CS_OCSP_UNAUTHORIZED)
      return not_served(c, item, "unauthorized");
    snprintf(sum, sizeof(sum), "The %s OCSP response has status %s.", source_name(item),
             cs_ocsp_status_name(info->response_status));
    return add(c, "OCSP_ERROR_STATUS", CS_SEV_WARNING, item, sum,
               "The responder answered without a certificate status; clients treat this "
               "as no OCSP information (soft-fail) or as a failure (hard-fail).",
               "Retry later; if it persists, report it to the CA.");
  }
  const cs_ocsp_single_t *s = c->in->issuer != NULL
                                  ? cs_ocsp_response_find(r, c->in->leaf, c->in->issuer)
                                  : cs_ocsp_response_single(r, 0);
  if (s == NULL) {
    *status_out = "not_covered";
    snprintf(sum, sizeof(sum), "The %s OCSP response is not about this certificate.",
             source_name(item));
    return add(c, "OCSP_UNAUTHORIZED", CS_SEV_ERROR, item, sum,
               "No single response matches the certificate's CertID (issuer name hash, "
               "issuer key hash, serial).", "Staple the response for the served certificate.");
  }
  *status_out = cs_ocsp_cert_status_name(s->status);
  int ret = 0;
  if (c->in->issuer != NULL) {
    cs_ocsp_verify_result_t v;
    if ((ret = cs_ocsp_verify(r, c->in->issuer, &v)) != 0)
      return ret;
    if (!v.signature_ok) {
      snprintf(sum, sizeof(sum), "The %s OCSP response is not validly signed.", source_name(item));
      if ((ret = add(c, "OCSP_BAD_SIGNATURE", CS_SEV_ERROR, item, sum, v.detail,
                     "The responder must sign with the issuer key or a delegated certificate "
                     "with id-kp-OCSPSigning issued by the issuer.")) != 0)
        return ret;
    }
  }
  if (s->status == CS_OCSP_CERT_UNKNOWN)
    ret = not_served(c, item, "unknown");
  else if (s->status == CS_OCSP_CERT_REVOKED)
    ret = revoked(c, item, item == 0 ? "stapled OCSP response" : "fetched OCSP response",
                  s->revocation_time_ms);
  if (ret != 0 || c->in->time_checks_in_replay)
    return ret;
  return single_times(c, item, info, s);
}

/* The CRL history: the previous CRL from the same URL listed the leaf as
 * revoked, this newer one does not, and the leaf is still valid. */
static int dropped_entry(ctx_t *c) {
  const cs_crl_info_t *crl = c->in->crl, *prev = crl->previous;
  const mbedtls_x509_crt *leaf = c->in->leaf;
  int64_t when, not_after;
  const mbedtls_x509_time *na = &leaf->valid_to;
  cs_civil_t civ = {na->year, na->mon, na->day, na->hour, na->min, na->sec, 0};
  if (prev == NULL || !prev->parsed || prev->list.issuer_raw_len != crl->list.issuer_raw_len ||
      memcmp(prev->list.issuer_raw, crl->list.issuer_raw, crl->list.issuer_raw_len) != 0 ||
      prev->this_update_ms > crl->this_update_ms ||
      !cs_crl_find_serial(prev, leaf->serial.p, leaf->serial.len, &when) ||
      cs_time_from_civil(&civ, &not_after) != 0 || crl->this_update_ms > not_after)
    return 0;
  int ret = add(c, "CRL_ENTRY_DROPPED", CS_SEV_ERROR, 1,
                "The certificate was revoked in the previous CRL from this URL and is gone from "
                "the current one, though it has not expired: it looks good again.",
                "BR 4.10.1: \"Revocation entries on a CRL or OCSP Response MUST NOT be removed "
                "until after the Expiry Date of the revoked Certificate.\" Clients that read "
                "the current CRL accept the revoked certificate (Let's Encrypt, 2022: CRLs "
                "carried ~10% of the revoked, unexpired serials for six days).",
                "Report it to the CA; do not trust this certificate: it was revoked.");
  if (ret == 0)
    ret = ev_time(c, "revocation_time", when);
  if (ret == 0)
    ret = ev_time(c, "previous_this_update", prev->this_update_ms);
  if (ret == 0)
    ret = ev_time(c, "this_update", crl->this_update_ms);
  if (ret == 0)
    ret = ev_time(c, "not_after", not_after);
  return ret;
}

static int judge_crl(ctx_t *c) {
  const cs_crl_info_t *crl = c->in->crl;
  int ret = 0;
  if (c->in->issuer != NULL && cs_crl_verify(crl, c->in->issuer, NULL) != 0 &&
      (ret = add(c, "CRL_BAD_SIGNATURE", CS_SEV_ERROR, 1,
                 "The CRL is not signed by the certificate's issuer.",
                 "Its issuer name or signature does not match the issuing CA, so clients "
                 "ignore it or fail.", "Publish the CRL signed by the issuing CA.")) != 0)
    return ret;
  int64_t when;
  int listed = cs_crl_find_serial(crl, c->in->leaf->serial.p, c->in->leaf->serial.len, &when);
  if (listed && (ret = revoked(c, 1, "CRL", when)) != 0)
    return ret;
  if (!listed && (ret = dropped_entry(c)) != 0)
    return ret;
  if (!c->in->time_checks_in_replay && crl->has_next_update &&
      c->in->at_ms > crl->next_update_ms) {
    ret = add(c, "CRL_STALE", CS_SEV_ERROR, 1, "The CRL is stale: its nextUpdate has passed.",
              "Clients that use CRLs treat a CRL past nextUpdate as unusable.",
              "The CA must publish a fresh CRL before nextUpdate.");
    if (ret == 0)
      ret = ev_time(c, "next_update", crl->next_update_ms);
  }
  return ret;
}

static int judge_context(ctx_t *c) {
  const cs_revocation_input_t *in = c->in;
  int ret = 0;
  if (!in->stapling_observable)
    ret = add(c, "STAPLING_NOT_OBSERVABLE", CS_SEV_INFO, -1,
              "Stapling is not observable: the server speaks TLS 1.3 only.",
              "In TLS 1.3 the stapled response travels in the encrypted Certificate message; "
              "the probe offers TLS 1.2 to read it in the clear, and this server refused.",
              NULL);
  else if (in->stapled == NULL)
    ret = add(c, "OCSP_NO_STAPLE", CS_SEV_INFO, -1, "The server staples no OCSP response.",
              "Clients that want OCSP must fetch it themselves (privacy leak, latency, and "
              "soft-fail when the responder is slow).",
              "Enable OCSP stapling on the server.");
  if (ret == 0 && in->issuer_from_aia)
    ret = add(c, "AIA_FETCHED_INTERMEDIATE", CS_SEV_WARNING, -1,
              "The server does not send the intermediate certificate; it was fetched from "
              "the caIssuers URL.",
              "This works in browsers that fetch or cache intermediates, and fails in clients "
              "that do not (curl, OpenSSL, Go, Python, Java by default, most IoT stacks).",
              "Serve the full chain: leaf followed by the intermediate(s).");
  return ret;
}

int cs_revocation_diagnose(const cs_revocation_input_t *in, cs_findings_t *f) {
  if (in == NULL || f == NULL || in->leaf == NULL)
    return CS_EINVAL;
  ctx_t c = {in, f, 0, in->provisioning_ms > 0 ? in->provisioning_ms
                                                : CS_REVOCATION_DEFAULT_PROVISIONING_MS};
  if (cs_time_sub(in->at_ms, in->leaf_issued_ms, &c.age_ms) != 0)
    return CS_EOVERFLOW;
  int ret = judge_context(&c);
  const char *st_stapled = NULL, *st_fetched = NULL;
  if (ret == 0 && in->stapled != NULL)
    ret = judge_ocsp(&c, 0, in->stapled, &st_stapled);
  if (ret == 0 && in->fetched != NULL)
    ret = judge_ocsp(&c, 1, in->fetched, &st_fetched);
  if (ret == 0 && st_stapled != NULL && st_fetched != NULL &&
      strcmp(st_stapled, st_fetched) != 0) {
    char s[200];
    snprintf(s, sizeof(s), "The stapled OCSP response says %s but the responder now says %s.",
             st_stapled, st_fetched);
    ret = add(&c, "OCSP_STAPLE_MISMATCH", CS_SEV_WARNING, -1, s,
              "The server staples an older answer than the responder gives today: clients "
              "that trust the staple see a different status than clients that fetch.",
              "Make the server refresh its stapled response.");
    if (ret == 0)
      ret = cs_findings_evidence(f, "stapled", "%s", st_stapled);
    if (ret == 0)
      ret = cs_findings_evidence(f, "fetched", "%s", st_fetched);
  }
  if (ret == 0 && in->crl != NULL && in->crl->parsed)
    ret = judge_crl(&c);
  return ret;
}
