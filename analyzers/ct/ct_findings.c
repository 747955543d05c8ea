/*
 * The CT diagnosis: turns the verdicts of ct_analyze.c into findings with
 * stable codes (listed in include/certskew/ct/ct.h), evidence and fixes.
 */
#include <stdio.h>
#include <string.h>

#include "certskew/core/time.h"
#include "ct_internal.h"

#define LOG_LIST_HINT                                                                            \
  "Chrome's current list: https://www.gstatic.com/ct/log_list/v3/all_logs_list.json"
#define LOG_LIST_REFRESH                                                                         \
  "Refresh it: curl -o log_list.json "                                                           \
  "https://www.gstatic.com/ct/log_list/v3/all_logs_list.json, then pass --log-list "             \
  "log_list.json (or replace the log_list.json certskew ships, see its README)."

/* Evidence common to every per-SCT finding. */
static int sct_evidence(cs_findings_t *f, const cs_ct_sct_report_t *s) {
  char id[48], ts[CS_TIME_STRLEN];
  cs_ct__b64_id(s->log_id, id);
  cs_time_format(s->timestamp_ms, ts);
  int err = cs_findings_evidence(f, "sct", "#%zu (%s #%zu)", s->index,
                                 cs_sct_source_name(s->source), s->source_index);
  if (err == 0)
    err = cs_findings_evidence(f, "log_id", "%s", id);
  if (err == 0 && s->log_known)
    err = cs_findings_evidence(f, "log", "%s (operator %s)", s->log_description, s->log_operator);
  if (err == 0)
    err = cs_findings_evidence(f, "sct_timestamp", "%s", ts);
  if (err == 0)
    err = cs_findings_evidence(f, "signature", "%s", cs_ct_sig_verdict_name(s->verdict));
  return err;
}

static const char *log_name(const cs_ct_sct_report_t *s) {
  return s->log_known ? s->log_description : "an unknown log";
}

static int add_sct_finding(cs_findings_t *f, const char *code, cs_severity_t sev, int rank,
                           const cs_ct_sct_report_t *s, const char *summary,
                           const char *explanation, const char *fix) {
  int err = cs_findings_add(f, code, sev, rank, 0, (int)s->index, summary, explanation, fix, NULL);
  return err ? err : sct_evidence(f, s);
}

static int no_log_list(const cs_ct_result_t *r, cs_findings_t *f) {
  char sum[160];
  if (r->nscts == 0)
    return 0;
  snprintf(sum, sizeof(sum), "%zu SCT(s) present but not verified: no CT log list was given.",
           r->nscts);
  return cs_findings_add(f, "CT_NO_LOG_LIST", CS_SEV_INFO, 50, 0, -1, sum,
                         "Without the logs' public keys and states, SCT signatures and Chrome's "
                         "CT policy cannot be checked.",
                         "Pass a Chrome v3 log list (--log-list FILE). " LOG_LIST_HINT, NULL);
}

static int list_problems(const cs_ct_result_t *r, cs_findings_t *f) {
  int err = 0;
  /* A malformed embedded list is reported once, by the replay diagnosis
   * (SCT_LIST_MALFORMED, for every certificate), not again here. */
  int embedded = 0;
  for (size_t i = 0; i < r->nscts; i++)
    embedded += r->scts[i].source == CS_SCT_SOURCE_EMBEDDED;
  if (err == 0 && embedded > 0 && !r->issuer_found)
    err = cs_findings_add(
        f, "SCT_NO_ISSUER", CS_SEV_WARNING, 20, 0, -1,
        "Embedded SCTs cannot be verified: the leaf's issuer is not in the served chain.",
        "An embedded SCT signs the issuer's key hash (RFC 6962 §3.2), so verifying it needs the "
        "issuing certificate; clients that cannot build the chain reject the site anyway.",
        "Serve the intermediate certificate that issued the leaf.", NULL);
  return err;
}

/* SCT_SIGNATURE_INVALID_ALL or per-SCT SCT_SIGNATURE_INVALID. */
static int signatures(const cs_ct_result_t *r, cs_findings_t *f) {
  size_t valid = 0, invalid = 0;
  char sum[256], expl[512];
  for (size_t i = 0; i < r->nscts; i++) {
    const cs_ct_sct_report_t *s = &r->scts[i];
    if (s->source != CS_SCT_SOURCE_EMBEDDED)
      continue;
    valid += s->verdict == CS_CT_SIG_VALID;
    invalid += s->verdict == CS_CT_SIG_INVALID || s->verdict == CS_CT_SIG_ALG_MISMATCH ||
               s->verdict == CS_CT_SIG_ERROR;
  }
  int all = invalid > 0 && valid == 0;
  if (all) {
    snprintf(sum, sizeof(sum),
             "All %zu verifiable embedded SCTs fail: the certificate differs from the "
             "precertificate that was logged.",
             invalid);
    snprintf(expl, sizeof(expl),
             "Every log's signature covers the precertificate's TBS (issuer key hash + TBS "
             "without the SCT list). None matches the served certificate, so the CA issued a "
             "final certificate that differs from its precertificate (an extension, name, "
             "serial or validity changed after logging)%s.",
             invalid == 1 ? "; with a single verifiable SCT a bad log signature is also possible"
                          : "");
    int err = cs_findings_add(f, "SCT_SIGNATURE_INVALID_ALL", CS_SEV_ERROR, 10, 0, -1, sum, expl,
                              "Report it to the CA (a CT compliance incident) and reissue the "
                              "certificate; Chrome rejects it with "
                              "ERR_CERTIFICATE_TRANSPARENCY_REQUIRED.",
                              NULL);
    for (size_t i = 0; err == 0 && i < r->nscts; i++)
      if (r->scts[i].source == CS_SCT_SOURCE_EMBEDDED && r->scts[i].log_known)
        err = cs_findings_evidence(f, "failed_sct", "#%zu %s: %s", i, r->scts[i].log_description,
                                   cs_ct_sig_verdict_name(r->scts[i].verdict));
    if (err != 0)
      return err;
  }
  for (size_t i = 0; i < r->nscts; i++) {
    const cs_ct_sct_report_t *s = &r->scts[i];
    int bad = s->verdict == CS_CT_SIG_INVALID || s->verdict == CS_CT_SIG_ALG_MISMATCH ||
              s->verdict == CS_CT_SIG_ERROR;
    if (!bad || (all && s->source == CS_SCT_SOURCE_EMBEDDED))
      continue;
    snprintf(sum, sizeof(sum), "SCT #%zu from %s has an invalid signature.", i, log_name(s));
    if (s->source == CS_SCT_SOURCE_EMBEDDED)
      snprintf(expl, sizeof(expl),
               "Other embedded SCTs verify over the same precertificate, so this log signed "
               "something else (%s): the log's fault, not the certificate's.",
               cs_ct_sig_verdict_name(s->verdict));
    else
      snprintf(expl, sizeof(expl),
               "This SCT came by %s and signs a whole certificate (x509_entry) that is not the "
               "served leaf (%s): the server delivers SCTs of another certificate.",
               cs_sct_source_name(s->source), cs_ct_sig_verdict_name(s->verdict));
    int err = add_sct_finding(f, "SCT_SIGNATURE_INVALID", CS_SEV_WARNING, 20, s, sum, expl,
                              s->source == CS_SCT_SOURCE_EMBEDDED
                                  ? "Nothing to fix on the server if the policy is still met; "
                                    "report the bad SCT to the log operator and the CA."
                                  : "Update the server's SCT/OCSP configuration for the "
                                    "current certificate.");
    if (err != 0)
      return err;
  }
  return 0;
}

static int per_log(const cs_ct_result_t *r, cs_findings_t *f) {
  char sum[256], expl[512], a[CS_TIME_STRLEN], b[CS_TIME_STRLEN], at[CS_TIME_STRLEN];
  cs_time_format(r->at_ms, at);
  for (size_t i = 0; i < r->nscts; i++) {
    const cs_ct_sct_report_t *s = &r->scts[i];
    int err = 0;
    if (s->verdict == CS_CT_SIG_UNKNOWN_LOG && s->log_newer_than_list) {
      cs_time_format(r->log_list_timestamp_ms, a);
      snprintf(sum, sizeof(sum),
               "SCT #%zu is from a log the log list does not know, and the list (%s) predates "
               "the SCT: the list predates this log.",
               i, a);
      snprintf(expl, sizeof(expl),
               "Logs are added to Chrome's list after the list certskew used was published, so "
               "an unknown log newer than the list says nothing about the certificate; this SCT "
               "is not counted as a CT policy failure, and the policy is undetermined if it "
               "could be met with it.");
      err = add_sct_finding(f, "SCT_LOG_NOT_IN_LIST", CS_SEV_WARNING, 30, s, sum, expl,
                            "The log list predates this log. " LOG_LIST_REFRESH);
    } else if (s->verdict == CS_CT_SIG_UNKNOWN_LOG) {
      snprintf(sum, sizeof(sum), "SCT #%zu is from a log that is not in the log list.", i);
      err = add_sct_finding(
          f, "SCT_UNKNOWN_LOG", CS_SEV_WARNING, 30, s, sum,
          "Clients trust only the logs in their list; this SCT does not count towards the CT "
          "policy (a test log, a log never qualified, or an outdated list).",
          "Check with a current list (" LOG_LIST_HINT "); otherwise have the CA use usable logs.");
    } else if (s->log_known && s->verdict == CS_CT_SIG_VALID &&
               !(s->state_at == CS_CT_STATE_QUALIFIED || s->state_at == CS_CT_STATE_USABLE ||
                 s->state_at == CS_CT_STATE_READONLY || s->acceptable)) {
      cs_time_format(s->state_since_ms, a);
      snprintf(sum, sizeof(sum), "SCT #%zu is from %s, which is %s at %s.", i, s->log_description,
               cs_ct_log_state_name(s->state_at), at);
      snprintf(expl, sizeof(expl),
               "Chrome counts SCTs from qualified, usable and readonly logs, and from retired "
               "logs only for embedded SCTs issued before the retirement. The list says the "
               "log is %s since %s%s.",
               cs_ct_log_state_name(s->state_at == CS_CT_STATE_UNKNOWN ? CS_CT_STATE_UNKNOWN
                                                                       : s->state_at),
               s->state_since_ms == CS_TIME_NEG_INF ? "(no date)" : a,
               s->state_inferred ? " (state before that date inferred)" : "");
      err = add_sct_finding(f, "SCT_LOG_NOT_USABLE", CS_SEV_WARNING, 30, s, sum, expl,
                            "Obtain SCTs from currently usable logs (reissue the certificate).");
    }
    if (err == 0 && s->log_known && !s->interval_covers_not_after) {
      cs_time_format(s->interval_start_ms, a);
      cs_time_format(s->interval_end_ms, b);
      snprintf(sum, sizeof(sum),
               "SCT #%zu: the certificate's notAfter is outside %s's temporal interval.", i,
               s->log_description);
      snprintf(expl, sizeof(expl),
               "The log only accepts certificates expiring in [%s, %s); this one expires "
               "outside it, so the SCT should not exist and may not count.",
               a, b);
      err = add_sct_finding(f, "SCT_LOG_INTERVAL_MISMATCH", CS_SEV_WARNING, 40, s, sum, expl,
                            "Have the CA log to the shard whose interval covers the notAfter.");
    }
    if (err != 0)
      return err;
  }
  return 0;
}

static int policy(const cs_ct_result_t *r, cs_findings_t *f) {
  const cs_ct_policy_t *p = &r->policy;
  char sum[256], expl[700], life[CS_DURATION_STRLEN];
  if (!p->evaluated || p->compliant || p->undetermined)
    return 0;
  cs_duration_format(p->lifetime_ms, life);
  snprintf(sum, sizeof(sum),
           "Too few acceptable SCTs for Chrome's CT policy: %d embedded (need %d from 2 "
           "operators), %d delivered (need 2 from 2 operators).",
           p->embedded_acceptable, p->embedded_required, p->delivered_acceptable);
  snprintf(expl, sizeof(expl),
           "Chrome's CT policy: a certificate valid for %s (%s 180 days) needs %d embedded SCTs, "
           "or 2 SCTs delivered by TLS extension/OCSP, from logs acceptable at the time judged "
           "and from at least 2 distinct log operators. Counted: embedded %d from %d "
           "operator(s), delivered %d from %d operator(s). Source: "
           "https://googlechrome.github.io/CertificateTransparency/ct_policy.html",
           life, p->lifetime_ms <= 180 * CS_MS_PER_DAY ? "<=" : ">", p->embedded_required,
           p->embedded_acceptable, p->embedded_operators, p->delivered_acceptable,
           p->delivered_operators);
  int err = cs_findings_add(f, "SCT_POLICY_TOO_FEW", CS_SEV_ERROR, 5, 0, -1, sum, expl,
                            "Reissue with SCTs from enough usable logs of distinct operators, "
                            "or deliver SCTs via the TLS extension or stapled OCSP.",
                            NULL);
  if (err == 0)
    err = cs_findings_evidence(f, "lifetime", "%s", life);
  if (err == 0)
    err = cs_findings_evidence(f, "embedded_acceptable", "%d/%d, operators %d/2",
                               p->embedded_acceptable, p->embedded_required, p->embedded_operators);
  if (err == 0)
    err = cs_findings_evidence(f, "delivered_acceptable", "%d/2, operators %d/2",
                               p->delivered_acceptable, p->delivered_operators);
  return err;
}

int cs_ct__list_stale(const cs_ct_result_t *r) {
  int64_t age_ms;
  return r->has_log_list && r->log_list_timestamp_ms != CS_TIME_NEG_INF &&
         (cs_time_sub(r->at_ms, r->log_list_timestamp_ms, &age_ms) != 0
              ? r->at_ms > r->log_list_timestamp_ms /* overflow: far apart */
              : age_ms > CS_CT_LOG_LIST_MAX_AGE_MS);
}

/* CT_LOG_LIST_STALE: the list is too old for the instant judged. */
static int stale_list(const cs_ct_result_t *r, cs_findings_t *f) {
  char sum[256], expl[512], ts[CS_TIME_STRLEN], at[CS_TIME_STRLEN], age[CS_DURATION_STRLEN];
  int64_t age_ms;
  if (r->nscts == 0 || !cs_ct__list_stale(r))
    return 0;
  if (cs_time_sub(r->at_ms, r->log_list_timestamp_ms, &age_ms) != 0)
    age_ms = CS_TIME_POS_INF;
  cs_time_format(r->log_list_timestamp_ms, ts);
  cs_time_format(r->at_ms, at);
  cs_duration_format(age_ms, age);
  snprintf(sum, sizeof(sum), "The CT log list (log_list_timestamp %s) is %s older than the time "
           "judged (%s): too old to judge log states.", ts, age, at);
  snprintf(expl, sizeof(expl),
           "Logs are added, retired and rejected every few weeks; Chrome stops enforcing its CT "
           "policy when its own list is more than 70 days old. Log states, unknown logs and the "
           "policy verdict below come from the list as it was on %s.",
           ts);
  int err = cs_findings_add(f, "CT_LOG_LIST_STALE", CS_SEV_INFO, 45, 0, -1, sum, expl,
                            LOG_LIST_REFRESH, NULL);
  if (err == 0)
    err = cs_findings_evidence(f, "log_list", "version %s, log_list_timestamp %s",
                               r->log_list_version, ts);
  return err;
}

int cs_ct__findings(const cs_ct_result_t *r, cs_findings_t *f) {
  int err = list_problems(r, f);
  if (err != 0)
    return err;
  if (!r->has_log_list)
    return no_log_list(r, f);
  if ((err = stale_list(r, f)) != 0)
    return err;
  if ((err = signatures(r, f)) != 0 || (err = per_log(r, f)) != 0)
    return err;
  return policy(r, f);
}
