/*
 * Diagnosis of a replay: one finding per failing check (all clocks that fail
 * it listed together), then facts that explain those failures (backdating,
 * clock evidence, time representations that overflow in some clients).
 *
 * Severity: ERROR when a check fails at the instant asked about (--at);
 * WARNING when it fails for some modeled clock after issuance but not at that
 * instant (or no instant was asked); INFO for facts and for windows already
 * in the past at the instant asked.
 */
#include "certskew/core/replay_diagnose.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "certskew/core/time.h"

/* Ranks within a severity: the cause people hit first comes first. */
enum {
  RANK_SCT = 10,
  RANK_NOT_BEFORE = 20,
  RANK_NOT_AFTER = 30,
  RANK_REVOCATION_TIME = 40,
  RANK_SCT_LIST = 50,
  RANK_ISSUANCE = 60,
  RANK_CLOCK = 70,
  RANK_REPRESENTATION = 80,
};

#define TEXT_MAX 2048

/* Appends printf-style text to a fixed buffer, never overflowing it. */
static void appendf(char *buf, size_t cap, const char *fmt, ...) CS_PRINTF(3, 4);
static void appendf(char *buf, size_t cap, const char *fmt, ...) {
  size_t used = strlen(buf);
  if (used + 1 >= cap)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf + used, cap - used, fmt, ap);
  va_end(ap);
}

static const char *ts(int64_t t, char b[CS_TIME_STRLEN]) {
  cs_time_format(t, b);
  return b;
}

static const char *dur(int64_t d, char b[CS_DURATION_STRLEN]) {
  cs_duration_format(d, b);
  return b;
}

/* b - a, saturating (durations shown to people only). */
static int64_t diff_sat(int64_t b, int64_t a) {
  int64_t d;
  if (cs_time_sub(b, a, &d) != 0)
    return b > a ? INT64_MAX : INT64_MIN;
  return d;
}

/* SCT timestamps of one certificate that disagree by more than this are
 * not all right: one log's clock is off. */
#define CS_SCT_CONSISTENT_MS 60000

/* The consistent SCTs: the largest group of supported SCT timestamps within
 * CS_SCT_CONSISTENT_MS of each other (the earliest such group on a tie, a
 * fast log being likelier than a slow one).
 * lo and hi bound the group; returns its size (0 without SCTs). */
static size_t consistent_scts(const cs_cert_info_t *leaf, int64_t *lo, int64_t *hi) {
  size_t best = 0;
  for (size_t i = 0; i < leaf->nscts; i++) {
    if (!leaf->scts[i].supported)
      continue;
    int64_t start = leaf->scts[i].timestamp_ms, end = start;
    size_t n = 0;
    for (size_t j = 0; j < leaf->nscts; j++) {
      int64_t t = leaf->scts[j].timestamp_ms;
      if (!leaf->scts[j].supported || t < start || diff_sat(t, start) > CS_SCT_CONSISTENT_MS)
        continue;
      n++;
      if (t > end)
        end = t;
    }
    if (n > best || (n == best && start < *lo)) {
      best = n;
      *lo = start;
      *hi = end;
    }
  }
  return best;
}

int cs_replay_issuance(const cs_chain_t *chain, int64_t *issued_ms, const char **basis) {
  const cs_cert_info_t *leaf = cs_chain_cert(chain, 0);
  if (leaf == NULL)
    return CS_EEMPTY;
  int64_t lo = 0, hi = 0;
  size_t n = consistent_scts(leaf, &lo, &hi), supported = 0;
  for (size_t j = 0; j < leaf->nscts; j++)
    supported += leaf->scts[j].supported != 0;
  *issued_ms = n ? hi : leaf->not_before_ms;
  *basis = n == 0            ? "leaf notBefore (no SCTs)"
           : n == supported ? "latest embedded SCT timestamp"
                            : "latest embedded SCT timestamp of the SCTs that agree within a minute "
                              "(another log's clock is off)";
  return 0;
}

/* The failure window of check k for clock c restricted to times at or after
 * `from`: what a client can actually hit once the certificate exists. */
static cs_interval_t window_from(const cs_replay_t *r, size_t k, size_t c, int64_t from) {
  cs_interval_t w = cs_replay_window(r, k, c);
  if (!cs_interval_empty(w) && (w.from_ms == CS_TIME_NEG_INF || w.from_ms < from))
    w.from_ms = from;
  return w;
}

static void describe_what(const cs_replay_t *r, const cs_time_check_t *k, char *out, size_t cap) {
  const cs_chain_t *chain = cs_replay_chain(r);
  const cs_cert_info_t *cert = k->cert_index >= 0 ? cs_chain_cert(chain, (size_t)k->cert_index) : NULL;
  char tb[CS_TIME_STRLEN];
  switch (k->kind) {
  case CS_CHECK_SCT_TIMESTAMP:
    if (cert != NULL && k->item_index >= 0 && (size_t)k->item_index < cert->nscts) {
      const uint8_t *id = cert->scts[k->item_index].log_id;
      snprintf(out, cap, "%s (log id %02x%02x%02x%02x..., timestamp %s)", k->label, id[0], id[1],
               id[2], id[3], ts(k->bound_ms, tb));
      return;
    }
    break;
  case CS_CHECK_NOT_BEFORE:
  case CS_CHECK_NOT_AFTER:
    if (cert != NULL) {
      snprintf(out, cap, "%s (%s) = %s", k->label, cert->subject,
               ts(k->kind == CS_CHECK_NOT_BEFORE ? cert->not_before_ms : cert->not_after_ms, tb));
      return;
    }
    break;
  default:
    break;
  }
  snprintf(out, cap, "%s = %s", k->label, ts(k->bound_ms, tb));
}

static const char *failure_phrase(cs_check_kind_t kind) {
  switch (kind) {
  case CS_CHECK_SCT_TIMESTAMP:
    return "is in the future";
  case CS_CHECK_NOT_BEFORE:
    return "is not yet valid";
  case CS_CHECK_NOT_AFTER:
    return "has expired";
  case CS_CHECK_OCSP_THIS_UPDATE:
  case CS_CHECK_OCSP_PRODUCED_AT:
    return "(OCSP) is in the future";
  case CS_CHECK_OCSP_NEXT_UPDATE:
    return "(OCSP) is stale";
  case CS_CHECK_CRL_THIS_UPDATE:
    return "(CRL) is in the future";
  case CS_CHECK_CRL_NEXT_UPDATE:
    return "(CRL) is stale";
  default:
    return "fails";
  }
}

/* "trustd from T (+905 ms), -90s from T2 (+1m 30s)": when each failing clock
 * starts to pass a prefix check, earliest first, so the fix names the wait
 * each class of client needs rather than only the coarsest one. */
static void per_clock_pass_times(const cs_replay_t *r, size_t k, int64_t issued_ms, char *out,
                                 size_t cap) {
  size_t nc = cs_replay_nclocks(r);
  int64_t last = CS_TIME_NEG_INF;
  out[0] = '\0';
  for (;;) {
    /* next smallest window end strictly after `last` (clocks sharing an end are listed together) */
    int64_t next = CS_TIME_POS_INF;
    for (size_t c = 0; c < nc; c++) {
      cs_interval_t w = window_from(r, k, c, issued_ms);
      if (!cs_interval_empty(w) && w.to_ms > last && w.to_ms < next)
        next = w.to_ms;
    }
    if (next == CS_TIME_POS_INF)
      break;
    char tb[CS_TIME_STRLEN], db[CS_DURATION_STRLEN];
    appendf(out, cap, "%s", out[0] ? "; " : "");
    int first = 1;
    for (size_t c = 0; c < nc; c++) {
      cs_interval_t w = window_from(r, k, c, issued_ms);
      if (!cs_interval_empty(w) && w.to_ms == next) {
        appendf(out, cap, "%s%s", first ? "" : ", ", cs_replay_clock(r, c)->name);
        first = 0;
      }
    }
    appendf(out, cap, " from %s (%s after issuance)", ts(next, tb), dur(diff_sat(next, issued_ms), db));
    last = next;
  }
}

static const char *fix_text(const cs_time_check_t *k, int64_t all_pass_from, const char *per_clock,
                            char *out, size_t cap) {
  char tb[CS_TIME_STRLEN];
  out[0] = '\0';
  if (all_pass_from == CS_TIME_POS_INF) {
    snprintf(out, cap,
             "At least one modeled clock never passes this check (a stopped clock, e.g. a "
             "device with no RTC): that device must set its clock, from NTP or from the newest "
             "certificate or SCT timestamp it has seen.");
    return out;
  }
  switch (k->kind) {
  case CS_CHECK_SCT_TIMESTAMP:
    snprintf(out, cap,
             "Deploy a newly issued certificate only once the clients you care about accept its "
             "SCTs: %s. Waiting at least 1 s after issuance covers whole-second clocks such as "
             "macOS trustd; slower clocks need their owners to fix them (NTP). Backdating "
             "notBefore does not help: SCT timestamps are never backdated.",
             per_clock[0] ? per_clock : "from issuance");
    break;
  case CS_CHECK_NOT_BEFORE:
    snprintf(out, cap,
             "If the client clock is right, reissue with notBefore backdated (CAs commonly "
             "backdate by 1 h) or serve the certificate no earlier than %s (clients accept it: "
             "%s); if the client clock is slow, fix it (NTP).",
             ts(all_pass_from, tb), per_clock[0] ? per_clock : "from issuance");
    break;
  case CS_CHECK_NOT_AFTER:
    snprintf(out, cap,
             "Renew or replace this certificate (or stop serving it, if it is an expired "
             "intermediate or cross-sign); if only fast clocks fail, fix their clock.");
    break;
  case CS_CHECK_OCSP_THIS_UPDATE:
  case CS_CHECK_OCSP_PRODUCED_AT:
    snprintf(out, cap,
             "The responder should backdate thisUpdate (RFC 6960 allows it; many responders "
             "use 1 h), or the server should staple the response no earlier than %s.",
             ts(all_pass_from, tb));
    break;
  case CS_CHECK_OCSP_NEXT_UPDATE:
    snprintf(out, cap, "Refresh the stapled OCSP response before nextUpdate.");
    break;
  case CS_CHECK_CRL_THIS_UPDATE:
  case CS_CHECK_CRL_NEXT_UPDATE:
    snprintf(out, cap, "Publish a fresh CRL before nextUpdate, and backdate thisUpdate.");
    break;
  default:
    break;
  }
  return out;
}

/* One finding for check k; returns 0 or an error. */
static int diagnose_check(const cs_replay_t *r, size_t k, int64_t issued_ms, cs_findings_t *fs) {
  const cs_time_check_t *check = cs_replay_check(r, k);
  const cs_replay_opts_t *o = cs_replay_opts(r);
  size_t nc = cs_replay_nclocks(r);
  int prefix = check->dir == CS_NEED_AT_OR_AFTER;
  size_t failing_at = 0, failing_after_issue = 0;
  int64_t latest_end = CS_TIME_NEG_INF; /* when every clock passes a prefix check */
  for (size_t c = 0; c < nc; c++) {
    if (cs_replay_fails_at(r, k, c))
      failing_at++;
    cs_interval_t w = window_from(r, k, c, issued_ms);
    if (prefix && !cs_interval_empty(w)) {
      failing_after_issue++;
      if (w.to_ms > latest_end)
        latest_end = w.to_ms;
    }
  }
  if (failing_at == 0 && failing_after_issue == 0)
    return 0;
  /* Suffix checks (expiry) only matter when they fail at the instant asked:
   * every certificate expires some day. */
  if (failing_at == 0 && !prefix)
    return 0;

  cs_severity_t sev = CS_SEV_WARNING;
  if (failing_at > 0)
    sev = CS_SEV_ERROR;
  else if (o->has_at && o->at_ms >= latest_end)
    sev = CS_SEV_INFO; /* the window is over at the instant asked */

  char what[512], summary[TEXT_MAX] = "", expl[TEXT_MAX] = "", fix[TEXT_MAX];
  char tb[CS_TIME_STRLEN], tb2[CS_TIME_STRLEN], db[CS_DURATION_STRLEN];
  describe_what(r, check, what, sizeof(what));
  const char *code = cs_check_failure_code(check->kind);
  size_t nlisted = sev == CS_SEV_ERROR ? failing_at : failing_after_issue;
  char names[512] = "";
  for (size_t c = 0; c < nc; c++) {
    int listed = sev == CS_SEV_ERROR ? cs_replay_fails_at(r, k, c)
                                     : !cs_interval_empty(window_from(r, k, c, issued_ms));
    if (listed)
      appendf(names, sizeof(names), "%s%s", names[0] ? ", " : "", cs_replay_clock(r, c)->name);
  }
  if (sev == CS_SEV_ERROR) {
    snprintf(summary, sizeof(summary), "%s %s at %s for %zu of %zu clock models (%s).",
             check->label, failure_phrase(check->kind), ts(o->at_ms, tb), nlisted, nc, names);
  } else if (latest_end == CS_TIME_POS_INF) {
    snprintf(summary, sizeof(summary), "%s %s for ever after issuance for %zu of %zu clock models (%s).",
             check->label, failure_phrase(check->kind), nlisted, nc, names);
  } else {
    snprintf(summary, sizeof(summary),
             "%s %s for up to %s after issuance for %zu of %zu clock models (%s)%s.", check->label,
             failure_phrase(check->kind), dur(diff_sat(latest_end, issued_ms), db), nlisted, nc, names,
             sev == CS_SEV_INFO ? "; that window is over at the instant asked" : "");
  }
  appendf(expl, sizeof(expl), "Check: %s must be %s the client's clock. ", what,
          prefix ? "at or before" : "at or after");
  for (size_t c = 0; c < nc; c++) {
    const cs_clock_t *clock = cs_replay_clock(r, c);
    cs_interval_t w = cs_replay_window(r, k, c);
    int64_t believed;
    if (sev == CS_SEV_ERROR && cs_replay_fails_at(r, k, c) &&
        cs_replay_believed(r, c, &believed) == 0) {
      appendf(expl, sizeof(expl), "At %s clock '%s' believes %s, %s %s the bound. ",
              ts(o->at_ms, tb), clock->name, ts(believed, tb2),
              dur(prefix ? diff_sat(check->bound_ms, believed) : diff_sat(believed, check->bound_ms),
                  db),
              prefix ? "before" : "after");
    } else if (sev == CS_SEV_ERROR && cs_replay_fails_at(r, k, c)) {
      appendf(expl, sizeof(expl), "At %s clock '%s' cannot represent its own time (overflow). ",
              ts(o->at_ms, tb), clock->name);
    }
    if (prefix && w.to_ms == CS_TIME_POS_INF)
      appendf(expl, sizeof(expl), "Clock '%s' fails at every true time. ", clock->name);
    else if (prefix && !cs_interval_empty(window_from(r, k, c, issued_ms)))
      appendf(expl, sizeof(expl), "Clock '%s' fails for true times before %s (%s after issuance). ",
              clock->name, ts(w.to_ms, tb), dur(diff_sat(w.to_ms, issued_ms), db));
    else if (!prefix && cs_replay_fails_at(r, k, c))
      appendf(expl, sizeof(expl), "Clock '%s' fails for true times from %s on. ", clock->name,
              ts(w.from_ms, tb));
  }
  if (check->kind == CS_CHECK_SCT_TIMESTAMP && check->cert_index >= 0) {
    const cs_cert_info_t *cert = cs_chain_cert(cs_replay_chain(r), (size_t)check->cert_index);
    if (cert && cert->not_before_ms < check->bound_ms)
      appendf(expl, sizeof(expl),
              "notBefore (%s) is backdated %s before this SCT, so notBefore passes for these "
              "clocks while the SCT, which is never backdated, does not.",
              ts(cert->not_before_ms, tb), dur(diff_sat(check->bound_ms, cert->not_before_ms), db));
  }
  char per_clock[TEXT_MAX / 2];
  per_clock_pass_times(r, k, issued_ms, per_clock, sizeof(per_clock));
  fix_text(check, latest_end, per_clock, fix, sizeof(fix));
  int err = cs_findings_add(fs, code, sev, prefix ? (check->kind == CS_CHECK_SCT_TIMESTAMP ? RANK_SCT
                                                     : check->kind == CS_CHECK_NOT_BEFORE ? RANK_NOT_BEFORE
                                                                                          : RANK_REVOCATION_TIME)
                                              : RANK_NOT_AFTER,
                            check->cert_index, check->item_index, summary, expl,
                            fix[0] ? fix : NULL, NULL);
  if (err != 0)
    return err;
  if ((err = cs_findings_evidence(fs, "check", "%s", check->label)) != 0 ||
      (err = cs_findings_evidence(fs, "bound", "%s", ts(check->bound_ms, tb))) != 0)
    return err;
  for (size_t c = 0; c < nc; c++) {
    cs_interval_t w = cs_replay_window(r, k, c);
    char key[CS_CLOCK_NAME_MAX + 16];
    snprintf(key, sizeof(key), "fails[%s]", cs_replay_clock(r, c)->name);
    if (cs_interval_empty(w))
      err = cs_findings_evidence(fs, key, "never");
    else
      err = cs_findings_evidence(fs, key, "[%s, %s)", ts(w.from_ms, tb), ts(w.to_ms, tb2));
    if (err != 0)
      return err;
  }
  return 0;
}

/* One log's SCT dated well after the others: its clock is ahead, clients
 * reject that SCT as "in the future" for as long as the lead. */
static int diagnose_log_clock(const cs_replay_t *r, cs_findings_t *fs) {
  const cs_cert_info_t *leaf = cs_chain_cert(cs_replay_chain(r), 0);
  int64_t lo = 0, hi = 0;
  if (consistent_scts(leaf, &lo, &hi) == 0)
    return 0;
  char tb[CS_TIME_STRLEN], tb2[CS_TIME_STRLEN], db[CS_DURATION_STRLEN], text[TEXT_MAX];
  for (size_t j = 0; j < leaf->nscts; j++) {
    const cs_sct_t *s = &leaf->scts[j];
    if (!s->supported || s->timestamp_ms <= hi || diff_sat(s->timestamp_ms, hi) <= CS_SCT_CONSISTENT_MS)
      continue;
    int64_t lead = diff_sat(s->timestamp_ms, hi);
    snprintf(text, sizeof(text),
             "SCT #%zu (log id %02x%02x%02x%02x...) is dated %s, %s after the other SCTs (latest "
             "%s): that log's clock is ahead. Issuance is estimated from the SCTs that agree; "
             "clients that count this SCT reject it as in the future until %s.",
             j, s->log_id[0], s->log_id[1], s->log_id[2], s->log_id[3], ts(s->timestamp_ms, tb),
             dur(lead, db), ts(hi, tb2), ts(s->timestamp_ms, tb));
    int err = cs_findings_add(fs, "SCT_LOG_CLOCK_AHEAD", CS_SEV_WARNING, RANK_ISSUANCE, 0, (int)j,
                              "One CT log's clock is ahead of the others.", text,
                              "Report the log's clock to its operator; reissue with SCTs from logs "
                              "whose clocks agree, or deploy only after the SCT's timestamp.",
                              NULL);
    if (err == 0)
      err = cs_findings_evidence(fs, "lead_ms", "%" PRId64, lead);
    if (err != 0)
      return err;
  }
  return 0;
}

static int diagnose_issuance(const cs_replay_t *r, int64_t issued_ms, cs_findings_t *fs) {
  const cs_cert_info_t *leaf = cs_chain_cert(cs_replay_chain(r), 0);
  char tb[CS_TIME_STRLEN], tb2[CS_TIME_STRLEN], db[CS_DURATION_STRLEN], text[TEXT_MAX];
  int64_t earliest = INT64_MAX;
  for (size_t j = 0; j < leaf->nscts; j++)
    if (leaf->scts[j].supported && leaf->scts[j].timestamp_ms < earliest)
      earliest = leaf->scts[j].timestamp_ms;
  if (earliest == INT64_MAX)
    return 0;
  int err;
  if (leaf->not_before_ms < earliest) {
    int64_t back = diff_sat(earliest, leaf->not_before_ms);
    snprintf(text, sizeof(text),
             "The leaf's notBefore (%s) is %s before its earliest SCT (%s). Clients with a slow "
             "clock pass notBefore but still reject the SCT as being in the future, because "
             "logs never backdate SCT timestamps.",
             ts(leaf->not_before_ms, tb), dur(back, db), ts(earliest, tb2));
    err = cs_findings_add(fs, "NOTBEFORE_BACKDATED", CS_SEV_INFO, RANK_ISSUANCE, 0, -1,
                          "The leaf's notBefore is backdated relative to its SCTs.", text, NULL, NULL);
    if (err == 0)
      err = cs_findings_evidence(fs, "backdating_ms", "%" PRId64, back);
    return err;
  }
  if (leaf->not_before_ms > issued_ms) {
    int64_t ahead = diff_sat(leaf->not_before_ms, issued_ms);
    snprintf(text, sizeof(text),
             "The leaf's notBefore (%s) is %s after the latest SCT timestamp (%s): the CA "
             "issued a certificate that is not valid yet. Every client rejects it until %s, "
             "whatever its clock model.",
             ts(leaf->not_before_ms, tb), dur(ahead, db), ts(issued_ms, tb2),
             ts(leaf->not_before_ms, tb));
    err = cs_findings_add(fs, "NOTBEFORE_AFTER_ISSUANCE", CS_SEV_WARNING, RANK_ISSUANCE, 0, -1,
                          "The leaf's notBefore is later than its issuance.", text,
                          "Reissue with notBefore at or before issuance (backdated), or deploy "
                          "the certificate only after notBefore.",
                          NULL);
    if (err == 0)
      err = cs_findings_evidence(fs, "notbefore_ahead_ms", "%" PRId64, ahead);
    return err;
  }
  return 0;
}

/* The newest certificate in the chain proves a lower bound on the true time:
 * a clock believing earlier is wrong by at least the difference (devices with
 * no RTC can use this reference to set their clock, as Android does with its
 * build date). */
static int diagnose_clock_evidence(const cs_replay_t *r, int64_t issued_ms, cs_findings_t *fs) {
  const cs_replay_opts_t *o = cs_replay_opts(r);
  if (!o->has_at || o->at_ms < issued_ms)
    return 0;
  char tb[CS_TIME_STRLEN], tb2[CS_TIME_STRLEN], db[CS_DURATION_STRLEN];
  char behind[TEXT_MAX] = "", overflow[TEXT_MAX / 2] = "";
  int64_t worst = 0;
  for (size_t c = 0; c < cs_replay_nclocks(r); c++) {
    int64_t believed;
    int err = cs_replay_believed(r, c, &believed);
    const char *name = cs_replay_clock(r, c)->name;
    if (err == CS_EOVERFLOW) {
      appendf(overflow, sizeof(overflow), "%s'%s'", overflow[0] ? ", " : "", name);
      continue;
    }
    if (err != 0 || believed >= issued_ms)
      continue;
    int64_t d = diff_sat(issued_ms, believed);
    if (d > worst)
      worst = d;
    appendf(behind, sizeof(behind), "%s'%s' believes %s (at least %s behind)", behind[0] ? "; " : "",
            name, ts(believed, tb), dur(d, db));
  }
  int err;
  if (overflow[0]) {
    char text[TEXT_MAX];
    snprintf(text, sizeof(text),
             "At %s the clock models %s leave the range of 64-bit milliseconds: clients doing "
             "this arithmetic without overflow checks wrap around.",
             ts(o->at_ms, tb), overflow);
    if ((err = cs_findings_add(fs, "CLOCK_OVERFLOW", CS_SEV_WARNING, RANK_CLOCK, -1, -1,
                               "A clock model overflows at the instant asked.", text, NULL, NULL)) != 0)
      return err;
  }
  if (behind[0] == '\0')
    return 0;
  char text[TEXT_MAX * 2];
  snprintf(text, sizeof(text),
           "The chain proves the true time at %s is at least %s (the leaf's issuance), yet %s.",
           ts(o->at_ms, tb), ts(issued_ms, tb2), behind);
  if ((err = cs_findings_add(fs, "CLOCK_BEHIND_EVIDENCE", CS_SEV_INFO, RANK_CLOCK, -1, -1,
                             "Some clock models are behind the time this chain itself proves.",
                             text,
                             "Devices without a reliable clock can use the newest notBefore or SCT "
                             "timestamp they have seen as a floor for their clock.",
                             NULL)) != 0)
    return err;
  return cs_findings_evidence(fs, "max_behind_ms", "%" PRId64, worst);
}

/* RFC 5280 makes notAfter inclusive, and Chrome and Go accept during the
 * notAfter second; OpenSSL's X509_cmp_time counts equality as "earlier", so
 * OpenSSL-based clients already reject during that second. A clock reading
 * inside it is where the two families disagree. */
static int diagnose_notafter_second(const cs_replay_t *r, cs_findings_t *fs) {
  const cs_replay_opts_t *o = cs_replay_opts(r);
  if (!o->has_at)
    return 0;
  for (size_t k = 0; k < cs_replay_nchecks(r); k++) {
    const cs_time_check_t *ck = cs_replay_check(r, k);
    if (ck->kind != CS_CHECK_NOT_AFTER)
      continue;
    char names[512] = "";
    for (size_t c = 0; c < cs_replay_nclocks(r); c++) {
      int64_t b;
      if (cs_replay_believed(r, c, &b) == 0 && b >= ck->bound_ms - 999 && b <= ck->bound_ms)
        appendf(names, sizeof(names), "%s'%s'", names[0] ? ", " : "", cs_replay_clock(r, c)->name);
    }
    if (names[0] == '\0')
      continue;
    char text[TEXT_MAX], tb[CS_TIME_STRLEN];
    snprintf(text, sizeof(text),
             "Clock models %s read a time inside the notAfter second of %s (%s). RFC 5280 "
             "makes notAfter inclusive, so Chrome and Go still accept; OpenSSL-based clients "
             "(X509_cmp_time counts equality as expired) already reject.",
             names, ck->label, ts(ck->bound_ms - 999, tb));
    int err = cs_findings_add(fs, "NOTAFTER_SECOND", CS_SEV_WARNING, RANK_NOT_AFTER, ck->cert_index,
                              -1, "Clients disagree: the clock is inside the notAfter second.", text,
                              "Renew before notAfter; do not rely on the last second of validity.",
                              NULL);
    if (err != 0)
      return err;
  }
  return 0;
}

/* 2038-01-19T03:14:07Z, the last second of a signed 32-bit time_t. */
#define TIME_T32_MAX_MS (INT64_C(2147483647) * 1000 + 999)
/* 2262-04-11T23:47:16.854Z, the last ms of int64 nanoseconds since 1970. */
#define NS64_MAX_MS (INT64_MAX / 1000000)

static int diagnose_representation(const cs_replay_t *r, cs_findings_t *fs) {
  const cs_chain_t *chain = cs_replay_chain(r);
  char tb[CS_TIME_STRLEN], text[TEXT_MAX];
  for (size_t i = 0; i < cs_chain_count(chain); i++) {
    const cs_cert_info_t *c = cs_chain_cert(chain, i);
    int err = 0;
    if (c->not_after_ms > NS64_MAX_MS) {
      snprintf(text, sizeof(text),
               "Certificate #%zu's notAfter (%s) is after 2262-04-11T23:47:16.854Z, the limit of "
               "int64 nanoseconds since 1970: clients that store times that way overflow.",
               i, ts(c->not_after_ms, tb));
      err = cs_findings_add(fs, "TIME_BEYOND_INT64_NS", CS_SEV_INFO, RANK_REPRESENTATION, (int)i,
                            -1, "A notAfter does not fit int64 nanoseconds.", text, NULL, NULL);
    } else if (c->not_after_ms > TIME_T32_MAX_MS) {
      snprintf(text, sizeof(text),
               "Certificate #%zu's notAfter (%s) is after 2038-01-19T03:14:07Z: clients with a "
               "32-bit time_t cannot represent it and may treat the certificate as expired.",
               i, ts(c->not_after_ms, tb));
      err = cs_findings_add(fs, "TIME_BEYOND_TIME_T32", CS_SEV_INFO, RANK_REPRESENTATION, (int)i,
                            -1, "A notAfter does not fit a 32-bit time_t.", text, NULL, NULL);
    }
    if (err != 0)
      return err;
    /* Go's time.Duration is int64 ns: about 292 years. */
    int64_t life;
    if (cs_time_sub(c->valid_until_ms, c->not_before_ms, &life) != 0 || life > NS64_MAX_MS) {
      snprintf(text, sizeof(text),
               "Certificate #%zu is valid for more than 292 years: a lifetime computed as int64 "
               "nanoseconds (Go's time.Duration) overflows.",
               i);
      if ((err = cs_findings_add(fs, "LIFETIME_OVERFLOWS_DURATION", CS_SEV_INFO,
                                 RANK_REPRESENTATION, (int)i, -1,
                                 "A certificate lifetime overflows int64 nanoseconds.", text, NULL,
                                 NULL)) != 0)
        return err;
    }
    if (c->not_before_ms < 0) {
      snprintf(text, sizeof(text),
               "Certificate #%zu's notBefore (%s) is before 1970: clients with unsigned time "
               "types misread it.",
               i, ts(c->not_before_ms, tb));
      if ((err = cs_findings_add(fs, "TIME_BEFORE_EPOCH", CS_SEV_INFO, RANK_REPRESENTATION,
                                 (int)i, -1, "A notBefore is before 1970.", text, NULL, NULL)) != 0)
        return err;
    }
  }
  return 0;
}

static int diagnose_sct_lists(const cs_replay_t *r, cs_findings_t *fs) {
  const cs_chain_t *chain = cs_replay_chain(r);
  for (size_t i = 0; i < cs_chain_count(chain); i++) {
    const cs_cert_info_t *c = cs_chain_cert(chain, i);
    char text[TEXT_MAX];
    int err = 0;
    if (c->sct_parse_error != 0) {
      snprintf(text, sizeof(text),
               "The embedded SCT list of certificate #%zu cannot be parsed (%s: %s). Clients "
               "that enforce Certificate Transparency treat the certificate as having no SCTs.",
               i, cs_errname(c->sct_parse_error), c->sct_parse_detail);
      err = cs_findings_add(fs, "SCT_LIST_MALFORMED", CS_SEV_ERROR, RANK_SCT_LIST, (int)i, -1,
                            "The embedded SCT list is malformed.", text,
                            "Have the CA reissue the certificate; the SCT extension it embedded "
                            "is not valid RFC 6962 encoding.",
                            NULL);
    }
    for (size_t j = 0; err == 0 && j < c->nscts; j++) {
      if (c->scts[j].supported)
        continue;
      snprintf(text, sizeof(text),
               "SCT #%zu of certificate #%zu has version %u, hash %u, signature %u: not an "
               "RFC 6962 v1 SHA-256/ECDSA-or-RSA SCT, so clients ignore it.",
               j, i, c->scts[j].version, c->scts[j].hash_alg, c->scts[j].sig_alg);
      err = cs_findings_add(fs, "SCT_UNSUPPORTED", CS_SEV_WARNING, RANK_SCT_LIST, (int)i, (int)j,
                            "An embedded SCT is of an unsupported version or algorithm.", text,
                            NULL, NULL);
    }
    if (err != 0)
      return err;
  }
  return 0;
}

int cs_replay_diagnose(const cs_replay_t *r, cs_findings_t *fs) {
  int64_t issued_ms;
  const char *basis;
  int err = cs_replay_issuance(cs_replay_chain(r), &issued_ms, &basis);
  if (err != 0)
    return err;
  for (size_t k = 0; k < cs_replay_nchecks(r); k++)
    if ((err = diagnose_check(r, k, issued_ms, fs)) != 0)
      return err;
  if ((err = diagnose_sct_lists(r, fs)) != 0 || (err = diagnose_issuance(r, issued_ms, fs)) != 0 ||
      (err = diagnose_log_clock(r, fs)) != 0 ||
      (err = diagnose_clock_evidence(r, issued_ms, fs)) != 0 ||
      (err = diagnose_notafter_second(r, fs)) != 0 ||
      (err = diagnose_representation(r, fs)) != 0)
    return err;
  return 0;
}
