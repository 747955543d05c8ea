/*
 * The JSON report, built in this one place (schema: docs/report-schema.md).
 *
 * Times are objects {"ms": <int>, "rfc3339": "<...Z>"}; "ms" is a JSON number
 * while exactly representable as a double (|ms| <= 2^53, i.e. until year
 * 287396) and a decimal string beyond. An unbounded end of an interval is
 * null; an empty interval is null as a whole.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "analysis_internal.h"
#include "certskew/core/time.h"
#include "certskew/core/json_time.h"
#include "certskew/core/replay_diagnose.h"

/* Build context: cJSON reports allocation failure as NULL returns; we note
 * it once here instead of checking every call, and drop the whole report. */
typedef struct rb {
  int failed;
} rb_t;

static cJSON *chk(rb_t *rb, cJSON *item) {
  if (item == NULL)
    rb->failed = 1;
  return item;
}

static void add_ms(rb_t *rb, cJSON *obj, const char *key, int64_t v) {
  chk(rb, cs_json_add_ms(obj, key, v));
}

static void add_time(rb_t *rb, cJSON *obj, const char *key, int64_t t) {
  chk(rb, cs_json_add_time(obj, key, t));
}

static void add_item(rb_t *rb, cJSON *obj, const char *key, cJSON *item) {
  if (item == NULL) {
    rb->failed = 1;
    return;
  }
  if (!cJSON_AddItemToObject(obj, key, item)) {
    cJSON_Delete(item);
    rb->failed = 1;
  }
}

static void push(rb_t *rb, cJSON *arr, cJSON *item) {
  if (item == NULL || !cJSON_AddItemToArray(arr, item)) {
    cJSON_Delete(item);
    rb->failed = 1;
  }
}

/* Intervals of true time: {"from": time|null, "to": time|null}, null if empty. */
static cJSON *interval_obj(rb_t *rb, cs_interval_t iv) {
  if (cs_interval_empty(iv))
    return chk(rb, cJSON_CreateNull());
  cJSON *o = chk(rb, cJSON_CreateObject());
  if (o == NULL)
    return NULL;
  add_time(rb, o, "from", iv.from_ms);
  add_time(rb, o, "to", iv.to_ms);
  return o;
}

/* Intervals of offsets: {"from_ms": n|null, "to_ms": n|null}, null if empty. */
static cJSON *offset_interval_obj(rb_t *rb, cs_interval_t iv) {
  if (cs_interval_empty(iv))
    return chk(rb, cJSON_CreateNull());
  cJSON *o = chk(rb, cJSON_CreateObject());
  if (o == NULL)
    return NULL;
  if (iv.from_ms == CS_TIME_NEG_INF)
    chk(rb, cJSON_AddNullToObject(o, "from_ms"));
  else
    add_ms(rb, o, "from_ms", iv.from_ms);
  if (iv.to_ms == CS_TIME_POS_INF)
    chk(rb, cJSON_AddNullToObject(o, "to_ms"));
  else
    add_ms(rb, o, "to_ms", iv.to_ms);
  return o;
}

static void hex(const uint8_t *p, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  out[2 * n] = '\0';
}

static cJSON *sct_obj(rb_t *rb, const cs_sct_t *s, size_t j) {
  cJSON *o = chk(rb, cJSON_CreateObject());
  if (o == NULL)
    return NULL;
  char idhex[65];
  hex(s->log_id, 32, idhex);
  chk(rb, cJSON_AddNumberToObject(o, "index", (double)j));
  chk(rb, cJSON_AddStringToObject(o, "source", cs_sct_source_name(s->source)));
  chk(rb, cJSON_AddNumberToObject(o, "version", s->version));
  chk(rb, cJSON_AddBoolToObject(o, "supported", s->supported));
  chk(rb, cJSON_AddStringToObject(o, "log_id_hex", idhex));
  add_time(rb, o, "timestamp", s->timestamp_ms);
  chk(rb, cJSON_AddNumberToObject(o, "hash_alg", s->hash_alg));
  chk(rb, cJSON_AddStringToObject(o, "signature_alg", cs_sct_sig_alg_name(s->sig_alg)));
  chk(rb, cJSON_AddNumberToObject(o, "extensions_len", (double)s->extensions_len));
  return o;
}

static const char *role_of(const cs_chain_t *chain, size_t i) {
  if (i == 0)
    return "leaf";
  return cs_chain_cert(chain, i)->self_issued ? "root" : "intermediate";
}

static cJSON *cert_obj(rb_t *rb, const cs_chain_t *chain, size_t i) {
  const cs_cert_info_t *c = cs_chain_cert(chain, i);
  cJSON *o = chk(rb, cJSON_CreateObject());
  if (o == NULL)
    return NULL;
  char fp[65];
  uint8_t digest[32];
  cs_cert_fingerprint(c, digest);
  hex(digest, 32, fp);
  chk(rb, cJSON_AddNumberToObject(o, "index", (double)i));
  chk(rb, cJSON_AddStringToObject(o, "role", role_of(chain, i)));
  chk(rb, cJSON_AddStringToObject(o, "subject", c->subject));
  chk(rb, cJSON_AddStringToObject(o, "issuer", c->issuer));
  chk(rb, cJSON_AddStringToObject(o, "serial", c->serial_hex));
  chk(rb, cJSON_AddStringToObject(o, "sha256", fp));
  add_time(rb, o, "not_before", c->not_before_ms);
  add_time(rb, o, "not_after", c->not_after_ms);
  add_time(rb, o, "valid_until", c->valid_until_ms);
  int64_t life;
  if (cs_time_sub(c->valid_until_ms, c->not_before_ms, &life) == 0)
    add_ms(rb, o, "lifetime_ms", life + 1);
  chk(rb, cJSON_AddBoolToObject(o, "is_ca", c->is_ca));
  chk(rb, cJSON_AddBoolToObject(o, "self_issued", c->self_issued));
  chk(rb, cJSON_AddBoolToObject(o, "is_precertificate", c->is_precert));
  cJSON *scts = chk(rb, cJSON_AddArrayToObject(o, "scts"));
  for (size_t j = 0; scts != NULL && j < c->nscts; j++)
    push(rb, scts, sct_obj(rb, &c->scts[j], j));
  if (c->sct_parse_error != 0) {
    cJSON *e = chk(rb, cJSON_AddObjectToObject(o, "sct_error"));
    if (e != NULL) {
      chk(rb, cJSON_AddStringToObject(e, "code", cs_errname(c->sct_parse_error)));
      chk(rb, cJSON_AddStringToObject(e, "message", c->sct_parse_detail));
    }
  } else {
    chk(rb, cJSON_AddNullToObject(o, "sct_error"));
  }
  return o;
}

static cJSON *chain_obj(rb_t *rb, const cs_chain_t *chain) {
  cJSON *o = chk(rb, cJSON_CreateObject());
  if (o == NULL)
    return NULL;
  uint8_t fp[32];
  char fph[65];
  cs_chain_fingerprint(chain, fp);
  hex(fp, 32, fph);
  chk(rb, cJSON_AddNumberToObject(o, "count", (double)cs_chain_count(chain)));
  chk(rb, cJSON_AddStringToObject(o, "fingerprint_sha256", fph));
  cJSON *arr = chk(rb, cJSON_AddArrayToObject(o, "certificates"));
  for (size_t i = 0; arr != NULL && i < cs_chain_count(chain); i++)
    push(rb, arr, cert_obj(rb, chain, i));
  return o;
}

static cJSON *clock_input_obj(rb_t *rb, const cs_clock_t *c) {
  cJSON *o = chk(rb, cJSON_CreateObject());
  if (o == NULL)
    return NULL;
  char model[256];
  cs_clock_format(c, model, sizeof(model));
  chk(rb, cJSON_AddStringToObject(o, "name", c->name));
  chk(rb, cJSON_AddStringToObject(o, "model", model));
  chk(rb, cJSON_AddStringToObject(o, "description", c->description));
  return o;
}

static cJSON *input_obj(rb_t *rb, const cs_analysis_t *a) {
  cJSON *o = chk(rb, cJSON_CreateObject());
  if (o == NULL)
    return NULL;
  chk(rb, cJSON_AddStringToObject(o, "source", a->opts.source));
  if (a->opts.has_at)
    add_time(rb, o, "at", a->opts.at_ms);
  else
    chk(rb, cJSON_AddNullToObject(o, "at"));
  cJSON *clocks = chk(rb, cJSON_AddArrayToObject(o, "clocks"));
  for (size_t c = 0; clocks != NULL && c < a->opts.nclocks; c++)
    push(rb, clocks, clock_input_obj(rb, &a->clocks[c]));
  if (a->opts.has_sweep) {
    cs_interval_t s = {a->opts.sweep_from_ms, a->opts.sweep_to_ms};
    add_item(rb, o, "sweep", interval_obj(rb, s));
  } else {
    chk(rb, cJSON_AddNullToObject(o, "sweep"));
  }
  return o;
}

static cJSON *issuance_obj(rb_t *rb, const cs_analysis_t *a) {
  cJSON *o = chk(rb, cJSON_CreateObject());
  if (o == NULL)
    return NULL;
  int64_t issued;
  const char *basis;
  if (cs_replay_issuance(a->chain, &issued, &basis) != 0)
    return o;
  const cs_cert_info_t *leaf = cs_chain_cert(a->chain, 0);
  add_time(rb, o, "estimate", issued);
  chk(rb, cJSON_AddStringToObject(o, "basis", basis));
  int64_t d;
  if (cs_time_sub(issued, leaf->not_before_ms, &d) == 0)
    add_ms(rb, o, "notbefore_backdating_ms", d);
  if (a->opts.has_at && cs_time_sub(a->opts.at_ms, issued, &d) == 0)
    add_ms(rb, o, "age_at_ms", d);
  else
    chk(rb, cJSON_AddNullToObject(o, "age_at_ms"));
  return o;
}

static cJSON *check_obj(rb_t *rb, const cs_replay_t *r, size_t k) {
  const cs_time_check_t *ck = cs_replay_check(r, k);
  cJSON *o = chk(rb, cJSON_CreateObject());
  if (o == NULL)
    return NULL;
  chk(rb, cJSON_AddNumberToObject(o, "id", (double)k));
  chk(rb, cJSON_AddStringToObject(o, "kind", cs_check_kind_name(ck->kind)));
  chk(rb, cJSON_AddStringToObject(o, "failure_code", cs_check_failure_code(ck->kind)));
  chk(rb, cJSON_AddStringToObject(o, "label", ck->label));
  chk(rb, cJSON_AddNumberToObject(o, "cert_index", ck->cert_index));
  chk(rb, cJSON_AddNumberToObject(o, "item_index", ck->item_index));
  chk(rb, cJSON_AddStringToObject(o, "requires", ck->dir == CS_NEED_AT_OR_AFTER
                                                     ? "client_time_at_or_after_bound"
                                                     : "client_time_at_or_before_bound"));
  add_time(rb, o, "bound", ck->bound_ms);
  cJSON *per = chk(rb, cJSON_AddArrayToObject(o, "per_clock"));
  for (size_t c = 0; per != NULL && c < cs_replay_nclocks(r); c++) {
    cJSON *pc = chk(rb, cJSON_CreateObject());
    if (pc == NULL)
      break;
    chk(rb, cJSON_AddStringToObject(pc, "clock", cs_replay_clock(r, c)->name));
    add_item(rb, pc, "fails_for_true_times", interval_obj(rb, cs_replay_window(r, k, c)));
    if (cs_replay_opts(r)->has_at)
      chk(rb, cJSON_AddBoolToObject(pc, "fails_at", cs_replay_fails_at(r, k, c)));
    else
      chk(rb, cJSON_AddNullToObject(pc, "fails_at"));
    push(rb, per, pc);
  }
  return o;
}

static cJSON *clock_result_obj(rb_t *rb, const cs_replay_t *r, size_t c) {
  cJSON *o = chk(rb, cJSON_CreateObject());
  if (o == NULL)
    return NULL;
  const cs_replay_opts_t *opts = cs_replay_opts(r);
  chk(rb, cJSON_AddStringToObject(o, "clock", cs_replay_clock(r, c)->name));
  add_item(rb, o, "passes_for_true_times", interval_obj(rb, cs_replay_pass_window(r, c)));
  if (!opts->has_at) {
    chk(rb, cJSON_AddNullToObject(o, "believed_at"));
    chk(rb, cJSON_AddNullToObject(o, "verdict_at"));
    chk(rb, cJSON_AddNullToObject(o, "failing_checks_at"));
    chk(rb, cJSON_AddNullToObject(o, "passing_offsets_at"));
    return o;
  }
  int64_t believed;
  int err = cs_replay_believed(r, c, &believed);
  if (err == 0)
    add_time(rb, o, "believed_at", believed);
  else
    chk(rb, cJSON_AddStringToObject(o, "believed_at", cs_errname(err)));
  cJSON *failing = chk(rb, cJSON_AddArrayToObject(o, "failing_checks_at"));
  size_t nfail = 0;
  for (size_t k = 0; failing != NULL && k < cs_replay_nchecks(r); k++) {
    if (cs_replay_fails_at(r, k, c)) {
      push(rb, failing, chk(rb, cJSON_CreateNumber((double)k)));
      nfail++;
    }
  }
  chk(rb, cJSON_AddStringToObject(o, "verdict_at", nfail ? "fail" : "pass"));
  add_item(rb, o, "passing_offsets_at", offset_interval_obj(rb, cs_replay_pass_offsets(r, c)));
  return o;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Splits [from, to) at every window bound of clock c; on each piece the set
 * of failing checks is constant, so one probe at its start describes it. */
static cJSON *sweep_obj(rb_t *rb, const cs_replay_t *r, size_t c) {
  const cs_replay_opts_t *opts = cs_replay_opts(r);
  size_t nk = cs_replay_nchecks(r);
  int64_t *cuts = malloc((2 * nk + 2) * sizeof(*cuts)); /* freed below */
  cJSON *o = chk(rb, cJSON_CreateObject());
  if (cuts == NULL || o == NULL) {
    free(cuts);
    rb->failed = 1;
    return o;
  }
  size_t n = 0;
  cuts[n++] = opts->sweep_from_ms;
  for (size_t k = 0; k < nk; k++) {
    cs_interval_t w = cs_replay_window(r, k, c);
    if (cs_interval_empty(w))
      continue;
    if (w.from_ms > opts->sweep_from_ms && w.from_ms < opts->sweep_to_ms)
      cuts[n++] = w.from_ms;
    if (w.to_ms > opts->sweep_from_ms && w.to_ms < opts->sweep_to_ms)
      cuts[n++] = w.to_ms;
  }
  qsort(cuts, n, sizeof(*cuts), cmp_i64);
  chk(rb, cJSON_AddStringToObject(o, "clock", cs_replay_clock(r, c)->name));
  cJSON *segs = chk(rb, cJSON_AddArrayToObject(o, "segments"));
  for (size_t i = 0; segs != NULL && i < n; i++) {
    if (i > 0 && cuts[i] == cuts[i - 1])
      continue;
    size_t j = i + 1;
    while (j < n && cuts[j] == cuts[i])
      j++;
    int64_t end = j < n ? cuts[j] : opts->sweep_to_ms;
    cJSON *seg = chk(rb, cJSON_CreateObject());
    if (seg == NULL)
      break;
    add_time(rb, seg, "from", cuts[i]);
    add_time(rb, seg, "to", end);
    cJSON *failing = chk(rb, cJSON_AddArrayToObject(seg, "failing_checks"));
    size_t nfail = 0;
    for (size_t k = 0; failing != NULL && k < nk; k++) {
      if (cs_interval_contains(cs_replay_window(r, k, c), cuts[i])) {
        push(rb, failing, chk(rb, cJSON_CreateNumber((double)k)));
        nfail++;
      }
    }
    chk(rb, cJSON_AddStringToObject(seg, "verdict", nfail ? "fail" : "pass"));
    push(rb, segs, seg);
  }
  free(cuts);
  return o;
}

static void add_str_or_null(rb_t *rb, cJSON *o, const char *key, const char *v) {
  if (v != NULL)
    chk(rb, cJSON_AddStringToObject(o, key, v));
  else
    chk(rb, cJSON_AddNullToObject(o, key));
}

static cJSON *finding_obj(rb_t *rb, const cs_finding_t *f) {
  cJSON *o = chk(rb, cJSON_CreateObject());
  if (o == NULL)
    return NULL;
  chk(rb, cJSON_AddStringToObject(o, "code", f->code));
  chk(rb, cJSON_AddStringToObject(o, "severity", cs_severity_name(f->severity)));
  chk(rb, cJSON_AddStringToObject(o, "summary", f->summary));
  if (f->explanation)
    chk(rb, cJSON_AddStringToObject(o, "explanation", f->explanation));
  else
    chk(rb, cJSON_AddNullToObject(o, "explanation"));
  if (f->fix)
    chk(rb, cJSON_AddStringToObject(o, "fix", f->fix));
  else
    chk(rb, cJSON_AddNullToObject(o, "fix"));
  chk(rb, cJSON_AddNumberToObject(o, "cert_index", f->cert_index));
  chk(rb, cJSON_AddNumberToObject(o, "item_index", f->item_index));
  add_str_or_null(rb, o, "caused_by", f->caused_by);
  cJSON *ev = chk(rb, cJSON_AddObjectToObject(o, "evidence"));
  for (size_t i = 0; ev != NULL && i < f->nevidence; i++)
    chk(rb, cJSON_AddStringToObject(ev, f->evidence[i].key, f->evidence[i].value));
  return o;
}

static cJSON *client_obj(rb_t *rb, const cs_analysis_t *a, size_t i) {
  const cs_client_verdict_t *v = cs_analysis_client(a, i);
  const cs_client_t *cl = &a->clients[i];
  cJSON *o = chk(rb, cJSON_CreateObject());
  if (o == NULL)
    return NULL;
  char model[256];
  chk(rb, cJSON_AddStringToObject(o, "name", v->name));
  chk(rb, cJSON_AddStringToObject(o, "profile", v->profile->name));
  cJSON *clock = chk(rb, cJSON_AddObjectToObject(o, "clock"));
  if (clock != NULL) {
    cs_clock_format(&cl->cert_clock, model, sizeof(model));
    chk(rb, cJSON_AddStringToObject(clock, "certificates", model));
    cs_clock_format(&cl->sct_clock, model, sizeof(model));
    chk(rb, cJSON_AddStringToObject(clock, "scts", model));
  }
  add_time(rb, o, "judged_at", a->judged_ms);
  chk(rb, cJSON_AddStringToObject(o, "verdict_at_instant", v->fails_at ? "fail" : "pass"));
  cJSON *w = chk(rb, cJSON_AddArrayToObject(o, "fails_for_true_times"));
  for (size_t k = 0; w != NULL && k < v->nwindows; k++)
    push(rb, w, interval_obj(rb, v->windows[k]));
  chk(rb, cJSON_AddBoolToObject(o, "windows_truncated", v->windows_truncated));
  add_str_or_null(rb, o, "root_cause", v->cause);
  add_str_or_null(rb, o, "consequence", v->consequence);
  add_str_or_null(rb, o, "detail", v->cause ? v->detail : NULL);
  add_str_or_null(rb, o, "fix", v->cause ? v->fix : NULL);
  return o;
}

static cJSON *cause_obj(rb_t *rb, const cs_analysis_cause_t *c) {
  cJSON *o = chk(rb, cJSON_CreateObject());
  if (o == NULL)
    return NULL;
  chk(rb, cJSON_AddStringToObject(o, "code", c->code));
  add_str_or_null(rb, o, "consequence", c->consequence);
  chk(rb, cJSON_AddNumberToObject(o, "clients_failing", (double)c->nclients));
  chk(rb, cJSON_AddStringToObject(o, "clients", c->clients));
  chk(rb, cJSON_AddStringToObject(o, "detail", c->first->detail));
  chk(rb, cJSON_AddStringToObject(o, "fix", c->first->fix));
  if (c->earliest_ms == CS_TIME_NEG_INF)
    chk(rb, cJSON_AddNullToObject(o, "earliest_failure"));
  else
    add_time(rb, o, "earliest_failure", c->earliest_ms);
  return o;
}

cJSON *cs_report_build(cs_analysis_t *a) {
  rb_t rb = {0};
  cJSON *root = cJSON_CreateObject();
  if (root == NULL)
    return NULL;
  const cs_replay_t *r = a->replay;
  cJSON *clients = chk(&rb, cJSON_AddArrayToObject(root, "clients"));
  for (size_t i = 0; clients != NULL && i < cs_analysis_nclients(a); i++)
    push(&rb, clients, client_obj(&rb, a, i));
  cJSON *causes = chk(&rb, cJSON_AddArrayToObject(root, "causes"));
  for (size_t i = 0; causes != NULL && i < cs_analysis_ncauses(a); i++)
    push(&rb, causes, cause_obj(&rb, cs_analysis_cause(a, i)));
  chk(&rb, cJSON_AddStringToObject(root, "schema", CS_REPORT_SCHEMA));
  chk(&rb, cJSON_AddNumberToObject(root, "schema_version", CS_REPORT_SCHEMA_VERSION));
  chk(&rb, cJSON_AddStringToObject(root, "generator", "certskew 0.1.0"));
  add_item(&rb, root, "input", input_obj(&rb, a));
  add_item(&rb, root, "chain", chain_obj(&rb, a->chain));
  add_item(&rb, root, "issuance", issuance_obj(&rb, a));
  cJSON *checks = chk(&rb, cJSON_AddArrayToObject(root, "checks"));
  for (size_t k = 0; checks != NULL && k < cs_replay_nchecks(r); k++)
    push(&rb, checks, check_obj(&rb, r, k));
  cJSON *clocks = chk(&rb, cJSON_AddArrayToObject(root, "clocks"));
  for (size_t c = 0; clocks != NULL && c < cs_replay_nclocks(r); c++)
    push(&rb, clocks, clock_result_obj(&rb, r, c));
  if (a->opts.has_sweep) {
    cJSON *sweep = chk(&rb, cJSON_AddArrayToObject(root, "sweep"));
    for (size_t c = 0; sweep != NULL && c < cs_replay_nclocks(r); c++)
      push(&rb, sweep, sweep_obj(&rb, r, c));
  } else {
    chk(&rb, cJSON_AddNullToObject(root, "sweep"));
  }
  int worst = cs_findings_worst(a->findings);
  cJSON *verdict = chk(&rb, cJSON_AddObjectToObject(root, "verdict"));
  if (verdict != NULL) {
    if (a->opts.has_at)
      chk(&rb, cJSON_AddStringToObject(verdict, "at", worst == CS_SEV_ERROR ? "fail" : "pass"));
    else
      chk(&rb, cJSON_AddNullToObject(verdict, "at"));
    if (a->opts.has_at)
      chk(&rb, cJSON_AddStringToObject(verdict, "clients_at",
                                       cs_analysis_any_client_fails(a) ? "fail" : "pass"));
    else
      chk(&rb, cJSON_AddNullToObject(verdict, "clients_at"));
    add_str_or_null(&rb, verdict, "top_cause",
                    cs_analysis_ncauses(a) ? cs_analysis_cause(a, 0)->code : NULL);
    chk(&rb, cJSON_AddStringToObject(verdict, "worst_severity",
                                     worst < 0 ? "none" : cs_severity_name((cs_severity_t)worst)));
    const cs_finding_t *top = cs_findings_get(a->findings, 0);
    if (top != NULL)
      chk(&rb, cJSON_AddStringToObject(verdict, "top_code", top->code));
    else
      chk(&rb, cJSON_AddNullToObject(verdict, "top_code"));
  }
  if (a->ct != NULL)
    add_item(&rb, root, "ct", cs_ct_result_to_json(a->ct));
  else
    chk(&rb, cJSON_AddNullToObject(root, "ct"));
  if (a->trust != NULL)
    add_item(&rb, root, "trust", cs_trust_result_to_json(a->trust));
  else
    chk(&rb, cJSON_AddNullToObject(root, "trust"));
  if (a->has_revocation)
    add_item(&rb, root, "revocation", cs_revocation_to_json(&a->rev));
  else
    chk(&rb, cJSON_AddNullToObject(root, "revocation"));
  /* A null section is never silent: why it was not judged. */
  cJSON *nj = chk(&rb, cJSON_AddObjectToObject(root, "not_judged"));
  if (nj != NULL && a->trust == NULL)
    chk(&rb, cJSON_AddStringToObject(nj, "trust", "no trust store was given (--no-trust, no "
                                                   "system bundle, or a replay without one): "
                                                   "paths, anchors and the host name unchecked"));
  if (nj != NULL && !a->has_revocation)
    chk(&rb, cJSON_AddStringToObject(nj, "revocation", "no OCSP response, CRL, caIssuers "
                                                        "certificate or stapling probe was given"));
  cJSON *findings = chk(&rb, cJSON_AddArrayToObject(root, "findings"));
  for (size_t i = 0; findings != NULL && i < cs_findings_count(a->findings); i++)
    push(&rb, findings, finding_obj(&rb, cs_findings_get(a->findings, i)));
  if (rb.failed) {
    cJSON_Delete(root);
    return NULL;
  }
  return root;
}
