/* Judging one client profile (include/certskew/clients/profile.h).
 *
 * A client fails at true time t if a static condition fails it (no usable
 * path, the CT policy unmet for a CT-enforcing client, a revocation it acts
 * on, a precertificate served) or if t lies outside the set of times it
 * passes: the union of its usable paths' validity intervals (each the
 * intersection of its certificates' intervals under the client's clock and
 * notAfter rule) intersected with the times its CT policy is met by SCTs no
 * longer in the future for its SCT clock. Every piece is an interval found
 * by inverting a clock model (cs_check_failure_window), so the windows are
 * exact. */
#include "certskew/clients/profile.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/core/time.h"

#define IVSET_MAX 32

/* A set of true times: sorted, disjoint half-open intervals. */
typedef struct ivset {
  size_t n;
  cs_interval_t iv[IVSET_MAX];
  int truncated;
} ivset_t;

static const cs_interval_t ALWAYS = {CS_TIME_NEG_INF, CS_TIME_POS_INF};

static int cmp_iv(const void *a, const void *b) {
  const cs_interval_t *x = a, *y = b;
  return (x->from_ms > y->from_ms) - (x->from_ms < y->from_ms);
}

static void ivset_add(ivset_t *s, cs_interval_t iv) {
  if (cs_interval_empty(iv))
    return;
  if (s->n == IVSET_MAX) {
    s->truncated = 1;
    return;
  }
  s->iv[s->n++] = iv;
  qsort(s->iv, s->n, sizeof(s->iv[0]), cmp_iv);
  size_t out = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (out > 0 && s->iv[i].from_ms <= s->iv[out - 1].to_ms) {
      if (s->iv[i].to_ms > s->iv[out - 1].to_ms)
        s->iv[out - 1].to_ms = s->iv[i].to_ms;
      continue;
    }
    s->iv[out++] = s->iv[i];
  }
  s->n = out;
}

static void ivset_intersect(ivset_t *s, cs_interval_t x) {
  size_t out = 0;
  for (size_t i = 0; i < s->n; i++) {
    cs_interval_t r = {s->iv[i].from_ms > x.from_ms ? s->iv[i].from_ms : x.from_ms,
                       s->iv[i].to_ms < x.to_ms ? s->iv[i].to_ms : x.to_ms};
    if (!cs_interval_empty(r))
      s->iv[out++] = r;
  }
  s->n = out;
}

static int ivset_contains(const ivset_t *s, int64_t t) {
  for (size_t i = 0; i < s->n; i++)
    if (cs_interval_contains(s->iv[i], t))
      return 1;
  return 0;
}

/* The complement of pass, into out->windows. */
static void fail_windows(const ivset_t *pass, cs_client_verdict_t *out) {
  int64_t cursor = CS_TIME_NEG_INF;
  out->nwindows = 0;
  for (size_t i = 0; i <= pass->n; i++) {
    int64_t end = i < pass->n ? pass->iv[i].from_ms : CS_TIME_POS_INF;
    cs_interval_t gap = {cursor, end};
    if (i == pass->n && cursor == CS_TIME_POS_INF)
      break;
    if (!cs_interval_empty(gap)) {
      if (out->nwindows == CS_CLIENT_MAX_WINDOWS) {
        out->windows_truncated = 1;
        break;
      }
      out->windows[out->nwindows++] = gap;
    }
    if (i < pass->n)
      cursor = pass->iv[i].to_ms;
  }
}

/* Drops what lies before `from` (before the certificate existed). */
static void clip_windows(cs_client_verdict_t *out, int64_t from) {
  size_t n = 0;
  for (size_t i = 0; i < out->nwindows; i++) {
    cs_interval_t w = out->windows[i];
    if (w.from_ms < from)
      w.from_ms = from;
    if (!cs_interval_empty(w))
      out->windows[n++] = w;
  }
  out->nwindows = n;
}

/* ---- one certificate's validity for a client ---- */

static cs_interval_t cert_pass(const cs_client_t *cl, const cs_cert_info_t *c, int check_not_after) {
  cs_time_check_t nb = {.kind = CS_CHECK_NOT_BEFORE, .dir = CS_NEED_AT_OR_AFTER,
                        .bound_ms = c->not_before_ms, .cert_index = -1, .item_index = -1};
  cs_interval_t w = cs_check_failure_window(&nb, &cl->cert_clock);
  cs_interval_t pass = ALWAYS;
  if (!cs_interval_empty(w))
    pass.from_ms = w.to_ms;
  if (!check_not_after)
    return pass;
  int64_t last = c->not_after_ms;
  if (cl->profile->notafter == CS_NOTAFTER_EXCLUSIVE && last > CS_TIME_NEG_INF + 1)
    last -= 1; /* believed < notAfter: the last believed ms that passes */
  cs_time_check_t na = {.kind = CS_CHECK_NOT_AFTER, .dir = CS_NEED_AT_OR_BEFORE,
                        .bound_ms = last, .cert_index = -1, .item_index = -1};
  w = cs_check_failure_window(&na, &cl->cert_clock);
  if (!cs_interval_empty(w))
    pass.to_ms = w.from_ms;
  return pass;
}

static int hop_is_anchor(const cs_trust_path_t *p, size_t h) {
  return p->end == CS_TRUST_END_ANCHOR && h + 1 == p->nhops;
}

/* The validity interval of path p for the client; anchor expiry only if it
 * checks it. */
static cs_interval_t path_pass(const cs_client_t *cl, const cs_trust_path_t *p) {
  cs_interval_t pass = ALWAYS;
  for (size_t h = 0; h < p->nhops; h++) {
    int anchor = hop_is_anchor(p, h);
    if (anchor && !cl->profile->anchor_expiry_checked)
      continue;
    cs_interval_t iv = cert_pass(cl, p->hops[h].cert, 1);
    if (iv.from_ms > pass.from_ms)
      pass.from_ms = iv.from_ms;
    if (iv.to_ms < pass.to_ms)
      pass.to_ms = iv.to_ms;
  }
  return pass;
}

/* Consecutive served certificates after the leaf: OpenSSL 1.0.2 looks for
 * each issuer among the served certificates before the store. */
static size_t served_prefix(const cs_trust_path_t *p) {
  size_t n = 0;
  for (size_t h = 1; h < p->nhops && p->hops[h].served_index >= 0; h++)
    n++;
  return n;
}

/* Which paths the client may use: 1 in sel[i]. */
static void select_paths(const cs_client_t *cl, const cs_trust_result_t *tr, int *sel) {
  size_t n = cs_trust_npaths(tr);
  for (size_t i = 0; i < n; i++)
    sel[i] = 1;
  if (cl->profile->paths != CS_PATHS_UNTRUSTED_FIRST || n == 0)
    return;
  size_t best = 0, best_len = 0;
  for (size_t i = 0; i < n; i++) {
    size_t len = served_prefix(cs_trust_path(tr, i));
    if (i == 0 || len > best_len) {
      best = i;
      best_len = len;
    }
  }
  /* Alternative chains are tried only when that chain is not trusted. */
  if (cs_trust_path(tr, best)->end != CS_TRUST_END_ANCHOR)
    return;
  for (size_t i = 0; i < n; i++)
    sel[i] = i == best;
}

/* ---- causes and fixes ---- */

static const cs_finding_t *find_code(cs_findings_t *f, const char *code) {
  if (f == NULL)
    return NULL;
  for (size_t i = 0; i < cs_findings_count(f); i++) {
    const cs_finding_t *x = cs_findings_get(f, i);
    if (x != NULL && strcmp(x->code, code) == 0)
      return x;
  }
  return NULL;
}

static void set_cause(cs_client_verdict_t *out, cs_findings_t *f, const char *code,
                      const char *consequence, const char *fallback_fix, const char *fmt, ...)
    CS_PRINTF(6, 7);

static void set_cause(cs_client_verdict_t *out, cs_findings_t *f, const char *code,
                      const char *consequence, const char *fallback_fix, const char *fmt, ...) {
  out->cause = code;
  out->consequence = consequence;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out->detail, sizeof(out->detail), fmt, ap);
  va_end(ap);
  const cs_finding_t *x = find_code(f, code);
  const char *fix = fallback_fix != NULL ? fallback_fix : x != NULL && x->fix ? x->fix : "";
  snprintf(out->fix, sizeof(out->fix), "%s", fix);
}

static const char *trust_structural_codes[] = {
    "HOSTNAME_MISMATCH", "BAD_SIGNATURE", "SIGNATURE_UNSUPPORTED", "NOT_A_CA",
    "PATH_LENGTH_EXCEEDED", "KEY_USAGE_INVALID", "EKU_INVALID", "NAME_CONSTRAINTS_VIOLATION",
    "MISSING_INTERMEDIATE", "ANCHOR_NOT_TRUSTED", "NO_TRUSTED_PATH",
};

static const char *sct_cause_codes[] = {
    "SCT_SIGNATURE_INVALID_ALL", "SCT_NO_ISSUER", "SCT_UNKNOWN_LOG", "SCT_LOG_NOT_USABLE",
    "SCT_LOG_INTERVAL_MISMATCH", "SCT_SIGNATURE_INVALID", "CT_NO_LOG_LIST",
};

/* Why no path of the selection is usable: a served CA certificate outside
 * its validity at t is its own cause; then the trust findings. */
static void cause_no_path(const cs_client_t *cl, const cs_client_input_t *in, int64_t t,
                          cs_client_verdict_t *out) {
  for (size_t i = 1; i < cs_chain_count(in->chain); i++) {
    const cs_cert_info_t *c = cs_chain_cert(in->chain, i);
    if (c->self_issued)
      continue;
    cs_interval_t iv = cert_pass(cl, c, 1);
    if (cs_interval_contains(iv, t))
      continue;
    int early = iv.from_ms != CS_TIME_NEG_INF && t < iv.from_ms;
    char na[CS_TIME_STRLEN];
    cs_time_format(c->not_after_ms, na);
    set_cause(out, in->findings, early ? "INTERMEDIATE_NOT_YET_VALID" : "INTERMEDIATE_EXPIRED",
              NULL,
              "Serve the CA's current intermediate (and the chain that goes with it); the one "
              "served is outside its validity.",
              "served #%zu %s is %s (notAfter %s)", i, c->subject,
              early ? "not yet valid" : "expired", na);
    return;
  }
  for (size_t k = 0; k < sizeof(trust_structural_codes) / sizeof(trust_structural_codes[0]); k++) {
    const cs_finding_t *x = find_code(in->findings, trust_structural_codes[k]);
    if (x != NULL) {
      set_cause(out, in->findings, x->code, NULL, NULL, "%s", x->summary);
      return;
    }
  }
  set_cause(out, in->findings, "NO_TRUSTED_PATH", NULL,
            "Serve a chain that leads to a root this client trusts.",
            "no path to a trusted root%s",
            cl->profile->paths == CS_PATHS_UNTRUSTED_FIRST ? " along the served certificates" : "");
}

/* The path a client blames at t: the first selected usable path. The hop
 * outside its validity gives the cause. */
static void cause_path_time(const cs_client_t *cl, const cs_client_input_t *in,
                            const cs_trust_result_t *tr, const int *sel, int64_t t,
                            cs_client_verdict_t *out) {
  for (size_t i = 0; i < cs_trust_npaths(tr); i++) {
    if (!sel[i] || !cs_trust_path_usable(tr, i))
      continue;
    const cs_trust_path_t *p = cs_trust_path(tr, i);
    /* CA certificates first (served ones are the server's to fix), the leaf last. */
    for (size_t step = 1; step <= p->nhops; step++) {
      size_t h = step % p->nhops;
      int anchor = hop_is_anchor(p, h);
      if (anchor && !cl->profile->anchor_expiry_checked)
        continue;
      const cs_cert_info_t *c = p->hops[h].cert;
      cs_interval_t iv = cert_pass(cl, c, 1);
      if (cs_interval_contains(iv, t))
        continue;
      int early = t < iv.from_ms;
      char b[CS_TIME_STRLEN];
      cs_time_format(early ? c->not_before_ms : c->not_after_ms, b);
      if (h == 0) {
        set_cause(out, in->findings, early ? "NOT_YET_VALID" : "EXPIRED", NULL,
                  early ? "The client's clock is before the leaf's notBefore: backdate notBefore "
                          "(an hour is common) or wait."
                        : "Renew the certificate and deploy the new one.",
                  "leaf %s %s", early ? "notBefore" : "notAfter", b);
      } else if (anchor) {
        set_cause(out, in->findings, early ? "ANCHOR_NOT_YET_VALID" : "ANCHOR_EXPIRED", NULL,
                  "Serve a chain to a current root: the root this path ends at is expired for "
                  "this client.",
                  "anchor %s %s %s", c->subject, early ? "notBefore" : "notAfter", b);
      } else if (p->hops[h].is_cross_sign) {
        set_cause(out, in->findings, "CROSS_SIGN_EXPIRED", NULL,
                  "Stop serving the expired cross-signed certificate: serve the chain that ends "
                  "at the current root (clients that follow the served certificates first take "
                  "the expired path).",
                  "cross-signed %s (served #%d) %s %s", c->subject, p->hops[h].served_index,
                  early ? "notBefore" : "notAfter", b);
      } else {
        set_cause(out, in->findings, early ? "INTERMEDIATE_NOT_YET_VALID" : "INTERMEDIATE_EXPIRED",
                  NULL,
                  "Serve the CA's current intermediate; the one on this path is outside its "
                  "validity for this client.",
                  "%s %s %s", c->subject, early ? "notBefore" : "notAfter", b);
      }
      return;
    }
  }
  set_cause(out, in->findings, "NO_TRUSTED_PATH", NULL,
            "Serve a chain that leads to a root this client trusts.", "no valid path at this time");
}

/* ---- Certificate Transparency ---- */

static int required_embedded(cs_ct_policy_kind_t k, int64_t lifetime_ms) {
  const int64_t day = 86400000;
  if (k == CS_CT_APPLE)
    return lifetime_ms <= 180 * day ? 2 : lifetime_ms <= 825 * day ? 3 : 4;
  return lifetime_ms <= 180 * day ? 2 : 3;
}

typedef struct ct_eval {
  int evaluated;       /* 1 if a requirement applies */
  int static_fail;     /* too few SCTs even once none is in the future */
  int64_t pass_from;   /* from this true time on, enough SCTs are not in the future */
  const cs_ct_sct_report_t *binding; /* the SCT whose timestamp decides pass_from */
  int64_t earliest_ts; /* earliest counted SCT timestamp of the deciding set */
} ct_eval_t;

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* One set (embedded or delivered): when enough of its counted SCTs stop
 * being in the future for the client's SCT clock. */
static int64_t set_pass_from(const cs_client_t *cl, const cs_ct_result_t *ct, int embedded,
                             int policy, int required, int *enough,
                             const cs_ct_sct_report_t **binding, int64_t *earliest) {
  int64_t times[CS_CT_MAX_SCTS];
  size_t idx[CS_CT_MAX_SCTS];
  size_t n = 0;
  for (size_t i = 0; i < cs_ct_result_count(ct) && n < CS_CT_MAX_SCTS; i++) {
    const cs_ct_sct_report_t *s = cs_ct_result_sct(ct, i);
    if ((s->source == CS_SCT_SOURCE_EMBEDDED) != embedded || (policy && !s->acceptable))
      continue;
    times[n] = cs_clock_first_reaching(&cl->sct_clock, s->timestamp_ms);
    idx[n++] = i;
  }
  if (!policy && (size_t)required > n)
    required = (int)n;
  *enough = n >= (size_t)required && required > 0;
  if (!*enough)
    return CS_TIME_POS_INF;
  /* Sort indices by time (n is small). */
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && times[j] < times[j - 1]; j--) {
      int64_t tt = times[j];
      times[j] = times[j - 1];
      times[j - 1] = tt;
      size_t ti = idx[j];
      idx[j] = idx[j - 1];
      idx[j - 1] = ti;
    }
  *binding = cs_ct_result_sct(ct, idx[required - 1]);
  *earliest = cs_ct_result_sct(ct, idx[0])->timestamp_ms;
  (void)cmp_i64;
  return times[required - 1];
}

static ct_eval_t ct_evaluate(const cs_client_t *cl, const cs_client_input_t *in) {
  ct_eval_t e = {0, 0, CS_TIME_NEG_INF, NULL, 0};
  if (cl->profile->ct == CS_CT_NONE || in->ct == NULL || cs_ct_result_count(in->ct) == 0)
    return e;
  const cs_ct_policy_t *p = cs_ct_result_policy(in->ct);
  const cs_cert_info_t *leaf = cs_chain_cert(in->chain, 0);
  int64_t life = 0;
  if (cs_time_sub(leaf->not_after_ms, leaf->not_before_ms, &life) != 0)
    life = INT64_MAX;
  /* An undetermined policy (SCTs from logs newer than the log list that
   * would meet it) cannot fail a client: only the SCTs' times are judged,
   * and CT_LOG_LIST_STALE / SCT_LOG_NOT_IN_LIST say to refresh the list. */
  int policy = p != NULL && p->evaluated && !p->undetermined;
  int enough_e = 0, enough_d = 0;
  const cs_ct_sct_report_t *be = NULL, *bd = NULL;
  int64_t ee = 0, ed = 0;
  int64_t te = set_pass_from(cl, in->ct, 1, policy, required_embedded(cl->profile->ct, life),
                             &enough_e, &be, &ee);
  int64_t td = set_pass_from(cl, in->ct, 0, policy, 2, &enough_d, &bd, &ed);
  e.evaluated = enough_e || enough_d || policy;
  if (policy && cl->profile->ct != CS_CT_APPLE) {
    /* Chrome and Firefox also want two operators in the counted set. */
    if (enough_e && p->embedded_operators < 2)
      enough_e = 0, te = CS_TIME_POS_INF;
    if (enough_d && p->delivered_operators < 2)
      enough_d = 0, td = CS_TIME_POS_INF;
  }
  if (!enough_e && !enough_d) {
    e.static_fail = policy;
    e.pass_from = policy ? CS_TIME_POS_INF : CS_TIME_NEG_INF;
    return e;
  }
  if (enough_e && (!enough_d || te <= td)) {
    e.pass_from = te;
    e.binding = be;
    e.earliest_ts = ee;
  } else {
    e.pass_from = td;
    e.binding = bd;
    e.earliest_ts = ed;
  }
  return e;
}

static void cause_ct_static(const cs_client_input_t *in, cs_client_verdict_t *out) {
  for (size_t k = 0; k < sizeof(sct_cause_codes) / sizeof(sct_cause_codes[0]); k++) {
    const cs_finding_t *x = find_code(in->findings, sct_cause_codes[k]);
    if (x != NULL) {
      set_cause(out, in->findings, x->code, "SCT_POLICY_TOO_FEW", NULL, "%s", x->summary);
      return;
    }
  }
  set_cause(out, in->findings, "SCT_POLICY_TOO_FEW", NULL,
            "Reissue the certificate with SCTs from enough logs (2 for up to 180 days, else 3; "
            "two operators).",
            "too few SCTs from acceptable logs for this client's CT policy");
}

static void cause_sct_time(const cs_client_t *cl, const cs_client_input_t *in, const ct_eval_t *e,
                           cs_client_verdict_t *out) {
  const cs_ct_sct_report_t *s = e->binding;
  char ts[CS_TIME_STRLEN], from[CS_TIME_STRLEN];
  cs_time_format(s->timestamp_ms, ts);
  cs_time_format(e->pass_from, from);
  const char *log = s->log_known ? s->log_description : "an unknown log";
  char fix[512];
  int64_t lead = s->timestamp_ms - e->earliest_ts;
  if (lead > 60000) {
    snprintf(fix, sizeof(fix),
             "The log's clock is ahead: its SCT is dated %" PRId64 " ms after the others. "
             "Clients that count it fail until %s; reissue with SCTs from logs whose clocks agree "
             "(report it to the log operator), or deploy only after that time.",
             lead, from);
    set_cause(out, in->findings, "SCT_LOG_CLOCK_AHEAD", "SCT_IN_FUTURE", fix,
              "SCT #%zu from %s is dated %s, %" PRId64 " ms after the earliest SCT: that log's "
              "clock is ahead; %s rejects the SCT as in the future until %s",
              s->index, log, ts, lead, cl->name, from);
    return;
  }
  snprintf(fix, sizeof(fix),
           "Deploy a newly issued certificate only once this client accepts its SCTs: from %s "
           "(its SCT clock is %s).",
           from, cl->sct_clock.name);
  set_cause(out, in->findings, "SCT_IN_FUTURE", NULL, fix,
            "SCT #%zu from %s (timestamp %s) is in the future for this client until %s", s->index,
            log, ts, from);
}

/* ---- the judgement ---- */

int cs_client_judge(const cs_client_t *cl, const cs_client_input_t *in, cs_client_verdict_t *out) {
  if (cl == NULL || cl->profile == NULL || in == NULL || in->chain == NULL || out == NULL)
    return CS_EINVAL;
  memset(out, 0, sizeof(*out));
  snprintf(out->name, sizeof(out->name), "%s", cl->name);
  out->profile = cl->profile;
  const int64_t t = in->at_ms;
  const cs_client_profile_t *pr = cl->profile;
  const cs_cert_info_t *leaf = cs_chain_cert(in->chain, 0);
  ivset_t pass = {.n = 1, .iv = {ALWAYS}};
  int static_fail = 0;

  /* Static conditions, in the order a client meets them: the protocol
   * version first (no certificate is seen without a handshake). */
  int min_tls = cs_client_min_tls_version(pr);
  if (in->server_tls_version != 0 && min_tls != 0 && in->server_tls_version < min_tls) {
    static_fail = 1;
    set_cause(out, in->findings, "PROTOCOL_TOO_OLD", NULL,
              "Enable TLS 1.2 (and TLS 1.3) on the server.",
              "the server's best protocol is TLS 1.%d; this client requires TLS %s or newer",
              in->server_tls_version - 0x0301, pr->min_tls);
  }
  if (leaf->is_precert && pr->rejects_unknown_critical && !static_fail) {
    static_fail = 1;
    set_cause(out, in->findings, "PRECERT_SERVED", NULL,
              "Serve the final certificate the CA issued after logging, not the precertificate "
              "(it carries the critical CT poison extension).",
              "the served leaf is a precertificate (critical poison extension)");
  }
  for (size_t i = 0; i < cs_chain_count(in->chain) && !static_fail; i++) {
    const cs_cert_info_t *c = cs_chain_cert(in->chain, i);
    if (!c->unknown_critical || !pr->rejects_unknown_critical)
      continue;
    static_fail = 1;
    set_cause(out, in->findings, "UNKNOWN_CRITICAL_EXTENSION", NULL, NULL,
              "served #%zu has the unknown critical extension %s", i, c->unknown_critical_oid);
  }
  const cs_trust_result_t *tr = pr->aia_fetch && in->trust_aia != NULL ? in->trust_aia : in->trust;
  int sel[CS_TRUST_MAX_PATHS];
  if (tr != NULL) {
    select_paths(cl, tr, sel);
    ivset_t paths = {0};
    size_t usable = 0;
    for (size_t i = 0; i < cs_trust_npaths(tr); i++) {
      if (!sel[i] || !cs_trust_path_usable(tr, i))
        continue;
      usable++;
      ivset_add(&paths, path_pass(cl, cs_trust_path(tr, i)));
    }
    if (usable == 0 && !static_fail) {
      static_fail = 1;
      cause_no_path(cl, in, t, out);
    }
    if (usable > 0) {
      /* pass = pass ∩ paths */
      ivset_t next = {0};
      for (size_t i = 0; i < paths.n; i++) {
        ivset_t piece = pass;
        ivset_intersect(&piece, paths.iv[i]);
        for (size_t j = 0; j < piece.n; j++)
          ivset_add(&next, piece.iv[j]);
      }
      next.truncated |= paths.truncated;
      pass = next;
    }
  } else {
    /* No trust store: every served certificate's validity counts. */
    for (size_t i = 0; i < cs_chain_count(in->chain); i++)
      ivset_intersect(&pass, cert_pass(cl, cs_chain_cert(in->chain, i), 1));
  }
  int trust_pass_at = ivset_contains(&pass, t);
  ct_eval_t ce = ct_evaluate(cl, in);
  if (ce.static_fail && !static_fail) {
    static_fail = 1;
    cause_ct_static(in, out);
  }
  if (!ce.static_fail && ce.pass_from != CS_TIME_NEG_INF)
    ivset_intersect(&pass, (cs_interval_t){ce.pass_from, CS_TIME_POS_INF});
  if (pr->fails_on_revoked && find_code(in->findings, "REVOKED") != NULL && !static_fail) {
    static_fail = 1;
    set_cause(out, in->findings, "REVOKED", NULL, NULL, "%s",
              find_code(in->findings, "REVOKED")->summary);
  }
  if (static_fail) {
    out->fails_at = 1;
    out->nwindows = 1;
    out->windows[0] = (cs_interval_t){in->issued_ms, CS_TIME_POS_INF};
    return 0;
  }
  fail_windows(&pass, out);
  clip_windows(out, in->issued_ms);
  out->windows_truncated |= pass.truncated;
  out->fails_at = !ivset_contains(&pass, t);
  if (!out->fails_at)
    return 0;
  if (!trust_pass_at) {
    if (tr != NULL)
      cause_path_time(cl, in, tr, sel, t, out);
    else
      set_cause(out, in->findings, t < leaf->not_before_ms ? "NOT_YET_VALID" : "EXPIRED", NULL,
                NULL, "a served certificate is outside its validity for this client");
    return 0;
  }
  if (ce.binding != NULL && t < ce.pass_from) {
    cause_sct_time(cl, in, &ce, out);
    return 0;
  }
  set_cause(out, in->findings, "UNKNOWN", NULL, "", "fails at this instant");
  return 0;
}
