/* One whole diagnosis (include/certskew/analysis/analysis.h): load, replay, report. */
#include "analysis_internal.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "certskew/core/replay_diagnose.h"
#include "certskew/core/time.h"

static const mbedtls_x509_crt *served_issuer(const cs_chain_t *chain);

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
  const cs_chain_t *chain = a->aia_chain != NULL ? a->aia_chain : a->chain;
  if ((err = cs_ct_analyze_ex(&a->ct, chain, &co, judged_ms, a->findings)) != 0)
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
  /* The paths a client that fetches caIssuers builds: judged silently, the
   * clients table says who passes through them. */
  if (a->aia_chain != NULL &&
      (err = cs_trust_analyze(&a->trust_aia, a->aia_chain, opts->trust_stores, opts->ntrust_stores,
                              opts->hostname, a->clocks, opts->nclocks, opts->has_at, opts->at_ms,
                              NULL)) != 0)
    return cs_errbuf_set(eb, err, "trust analysis failed: %s", cs_strerror(err));
  return 0;
}

/* The served chain plus the leaf's issuer fetched from caIssuers, when the
 * server did not send it: every check that needs the issuer (SCTs, OCSP,
 * CRL, paths of clients that fetch) uses it. */
static int build_aia_chain(cs_analysis_t *a, const cs_analysis_opts_t *opts) {
  if (opts->aia_issuer == NULL || opts->aia_issuer_len == 0 || served_issuer(a->chain) != NULL)
    return 0;
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  int named = mbedtls_x509_crt_parse_der(&crt, opts->aia_issuer, opts->aia_issuer_len) == 0 &&
              crt.subject_raw.len == cs_chain_cert(a->chain, 0)->crt->issuer_raw.len &&
              memcmp(crt.subject_raw.p, cs_chain_cert(a->chain, 0)->crt->issuer_raw.p,
                     crt.subject_raw.len) == 0;
  size_t total = crt.raw.len;
  mbedtls_x509_crt_free(&crt);
  if (!named)
    return 0;
  for (size_t i = 0; i < cs_chain_count(a->chain); i++)
    total += cs_chain_cert(a->chain, i)->der_len;
  uint8_t *buf = malloc(total); /* freed below */
  if (buf == NULL)
    return CS_ENOMEM;
  size_t off = 0;
  for (size_t i = 0; i < cs_chain_count(a->chain); i++) {
    const cs_cert_info_t *c = cs_chain_cert(a->chain, i);
    memcpy(buf + off, c->der, c->der_len);
    off += c->der_len;
  }
  memcpy(buf + off, opts->aia_issuer, total - off);
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  int err = cs_chain_load(&a->aia_chain, buf, total, &eb);
  free(buf);
  return err == CS_ENOMEM ? err : 0; /* an unusable fetch is simply not used */
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

/* A server whose best protocol is TLS 1.1 or older: every current browser
 * refuses the handshake before it sees a certificate (Chrome 84, Firefox
 * 78, Safari 14 and Edge 84 removed TLS 1.0/1.1; OpenSSL 3's default
 * security level 1 refuses them too). */
static int diagnose_protocol(cs_analysis_t *a, int version) {
  if (version == 0 || version >= 0x0303)
    return 0;
  char summary[160];
  snprintf(summary, sizeof(summary), "the server's best protocol is %s: browsers refuse it",
           version <= 0x0300 ? "SSL 3.0" : version == 0x0301 ? "TLS 1.0" : "TLS 1.1");
  int err = cs_findings_add(
      a->findings, "PROTOCOL_TOO_OLD", CS_SEV_ERROR, 0, -1, -1, summary,
      "Offered TLS 1.2 or 1.3, the server chose an older version, so it speaks nothing newer. "
      "Browsers require TLS 1.2 (Chrome and Edge since 84, Firefox since 78, Safari since 14) "
      "and abort the handshake with protocol_version before looking at the certificate, "
      "whatever its validity; only old clients (e.g. OpenSSL 1.0.2's default) connect.",
      "Enable TLS 1.2 (and TLS 1.3) on the server.", NULL);
  if (err != 0)
    return err;
  return cs_findings_evidence(a->findings, "negotiated_version", "0x%04x", (unsigned)version);
}

/* A served precertificate: every client rejects the critical poison
 * extension (RFC 6962 §3.1 says it must never be served). */
static int diagnose_precert(cs_analysis_t *a) {
  const cs_cert_info_t *leaf = cs_chain_cert(a->chain, 0);
  for (size_t i = 0; i < cs_chain_count(a->chain); i++) {
    const cs_cert_info_t *c = cs_chain_cert(a->chain, i);
    if (!c->unknown_critical)
      continue;
    char text[768];
    snprintf(text, sizeof(text),
             "Served certificate #%zu (%s) has the critical extension %s, which no client "
             "implements: RFC 5280 §4.2 requires rejecting it (OpenSSL: error 34, unhandled "
             "critical extension; Chrome, Firefox and Apple likewise).",
             i, c->subject, c->unknown_critical_oid);
    int err = cs_findings_add(a->findings, "UNKNOWN_CRITICAL_EXTENSION", CS_SEV_ERROR, 1, (int)i,
                              -1, "A served certificate has an unknown critical extension.", text,
                              "Reissue the certificate without that extension, or mark it "
                              "non-critical.",
                              NULL);
    if (err == 0)
      err = cs_findings_evidence(a->findings, "oid", "%s", c->unknown_critical_oid);
    if (err != 0)
      return err;
  }
  if (!leaf->is_precert)
    return 0;
  return cs_findings_add(a->findings, "PRECERT_SERVED", CS_SEV_ERROR, 1, 0, -1,
                         "The server sends a precertificate, not the final certificate.",
                         "The leaf carries the critical CT poison extension "
                         "(1.3.6.1.4.1.11129.2.4.3): it is the precertificate the CA logged, "
                         "which no client accepts (RFC 6962 §3.1; OpenSSL: unhandled critical "
                         "extension).",
                         "Serve the final certificate the CA issued after logging the "
                         "precertificate.",
                         NULL);
}

static int cause_before(const cs_analysis_cause_t *x, const cs_analysis_cause_t *y) {
  if (x->nclients != y->nclients)
    return x->nclients > y->nclients;
  return x->earliest_ms < y->earliest_ms;
}

/* Groups the failing clients by root cause, ranks the causes, and marks
 * the findings: causes first, consequences nested under them. */
static void rank_causes(cs_analysis_t *a) {
  a->ncauses = 0;
  for (size_t i = 0; i < a->nclients; i++) {
    const cs_client_verdict_t *v = &a->verdicts[i];
    if (!v->fails_at || v->cause == NULL)
      continue;
    cs_analysis_cause_t *c = NULL;
    for (size_t k = 0; k < a->ncauses && c == NULL; k++)
      if (strcmp(a->causes[k].code, v->cause) == 0)
        c = &a->causes[k];
    if (c == NULL) {
      c = &a->causes[a->ncauses++];
      memset(c, 0, sizeof(*c));
      c->code = v->cause;
      c->consequence = v->consequence;
      c->first = v;
      c->earliest_ms = v->nwindows ? v->windows[0].from_ms : CS_TIME_POS_INF;
    }
    size_t used = strlen(c->clients);
    snprintf(c->clients + used, sizeof(c->clients) - used, "%s%s", used ? ", " : "", v->name);
    c->nclients++;
    if (v->nwindows && v->windows[0].from_ms < c->earliest_ms)
      c->earliest_ms = v->windows[0].from_ms;
  }
  for (size_t i = 1; i < a->ncauses; i++)
    for (size_t j = i; j > 0 && cause_before(&a->causes[j], &a->causes[j - 1]); j--) {
      cs_analysis_cause_t t = a->causes[j];
      a->causes[j] = a->causes[j - 1];
      a->causes[j - 1] = t;
    }
  for (size_t k = 0; k < a->ncauses; k++) {
    cs_findings_set_cause_rank(a->findings, a->causes[k].code, (int)k + 1);
    if (a->causes[k].consequence != NULL)
      cs_findings_set_cause(a->findings, a->causes[k].consequence, a->causes[k].code);
  }
  /* Whoever fails: the CT policy fails because of its SCTs, and SCTs of a
   * leaf whose issuer is missing cannot be checked. */
  static const char *const sct_causes[] = {"SCT_SIGNATURE_INVALID_ALL", "SCT_NO_ISSUER",
                                           "SCT_UNKNOWN_LOG", "SCT_LOG_NOT_USABLE",
                                           "SCT_LOG_INTERVAL_MISMATCH", "SCT_SIGNATURE_INVALID"};
  for (size_t k = 0; k < sizeof(sct_causes) / sizeof(sct_causes[0]); k++)
    if (cs_findings_has(a->findings, sct_causes[k])) {
      cs_findings_set_cause(a->findings, "SCT_POLICY_TOO_FEW", sct_causes[k]);
      break;
    }
  if (cs_findings_has(a->findings, "MISSING_INTERMEDIATE"))
    cs_findings_set_cause(a->findings, "SCT_NO_ISSUER", "MISSING_INTERMEDIATE");
  if (cs_findings_has(a->findings, "SCT_LOG_CLOCK_AHEAD"))
    cs_findings_set_cause(a->findings, "SCT_IN_FUTURE", "SCT_LOG_CLOCK_AHEAD");
}

static int judge_clients(cs_analysis_t *a, const cs_analysis_opts_t *opts) {
  const char *basis;
  int64_t issued;
  if (cs_replay_issuance(a->chain, &issued, &basis) != 0)
    return CS_EINVAL;
  a->judged_ms = opts->has_at ? opts->at_ms : issued;
  if (opts->nclients > 0) {
    memcpy(a->clients, opts->clients, opts->nclients * sizeof(*a->clients));
    a->nclients = opts->nclients;
  } else {
    const cs_client_profile_t *p[CS_ANALYSIS_MAX_CLIENTS];
    a->nclients = cs_client_default_set(p, CS_ANALYSIS_MAX_CLIENTS);
    for (size_t i = 0; i < a->nclients; i++)
      cs_client_from_profile(&a->clients[i], p[i]);
  }
  cs_client_input_t in = {.chain = a->chain,
                          .replay = a->replay,
                          .ct = a->ct,
                          .trust = a->trust,
                          .trust_aia = a->trust_aia,
                          .rev = a->has_revocation ? &a->rev : NULL,
                          .findings = a->findings,
                          .at_ms = a->judged_ms,
                          .server_tls_version = opts->server_tls_version,
                          .issued_ms = issued};
  for (size_t i = 0; i < a->nclients; i++) {
    int err = cs_client_judge(&a->clients[i], &in, &a->verdicts[i]);
    if (err != 0)
      return err;
  }
  rank_causes(a);
  return 0;
}

int cs_analyze(cs_analysis_t **out, const uint8_t *buf, size_t len, const cs_analysis_opts_t *opts,
               cs_errbuf_t *eb) {
  *out = NULL;
  if (opts == NULL || opts->clocks == NULL || opts->nclocks == 0)
    return cs_errbuf_set(eb, CS_EINVAL, "analysis needs at least one clock model");
  if (opts->nclocks > CS_REPLAY_MAX_CLOCKS)
    return cs_errbuf_set(eb, CS_ETOOBIG, "more than %d clock models", CS_REPLAY_MAX_CLOCKS);
  if (opts->nclients > CS_ANALYSIS_MAX_CLIENTS)
    return cs_errbuf_set(eb, CS_ETOOBIG, "more than %d clients", CS_ANALYSIS_MAX_CLIENTS);
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
  a->opts.clients = NULL;
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
  if ((err = build_aia_chain(a, opts)) != 0) {
    cs_errbuf_set(eb, err, "out of memory");
    goto fail;
  }
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
  if ((err = diagnose_precert(a)) != 0 ||
      (err = diagnose_protocol(a, opts->server_tls_version)) != 0 ||
      (err = judge_clients(a, opts)) != 0) {
    cs_errbuf_set(eb, err, "client judgement failed: %s", cs_strerror(err));
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
  cs_trust_result_free(a->trust_aia);
  cs_chain_free(a->aia_chain);
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

size_t cs_analysis_nclients(const cs_analysis_t *a) { return a->nclients; }

const cs_client_verdict_t *cs_analysis_client(const cs_analysis_t *a, size_t i) {
  return i < a->nclients ? &a->verdicts[i] : NULL;
}

const cs_client_verdict_t *cs_analysis_client_named(const cs_analysis_t *a, const char *name) {
  for (size_t i = 0; i < a->nclients; i++)
    if (strcmp(a->verdicts[i].name, name) == 0)
      return &a->verdicts[i];
  for (size_t i = 0; i < a->nclients; i++)
    if (strcmp(a->verdicts[i].profile->name, name) == 0)
      return &a->verdicts[i];
  return NULL;
}

int cs_analysis_any_client_fails(const cs_analysis_t *a) {
  for (size_t i = 0; i < a->nclients; i++)
    if (a->verdicts[i].fails_at)
      return 1;
  return 0;
}

int64_t cs_analysis_judged_ms(const cs_analysis_t *a) { return a->judged_ms; }

size_t cs_analysis_ncauses(const cs_analysis_t *a) { return a->ncauses; }

const cs_analysis_cause_t *cs_analysis_cause(const cs_analysis_t *a, size_t i) {
  return i < a->ncauses ? &a->causes[i] : NULL;
}
