/*
 * The replay engine (include/certskew/core/replay.h).
 *
 * Windows are derived, never sampled: a check "believed >= B" fails exactly
 * for true times before cs_clock_first_reaching(clock, B); a check
 * "believed <= B" fails exactly from cs_clock_first_reaching(clock, B + 1).
 * Everything else here (verdicts at an instant, pass windows, offsets) is
 * interval arithmetic over those two numbers.
 */
#include "certskew/core/replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/core/time.h"
#include "grow.h"
#include "certskew/core/replay_diagnose.h"

struct cs_replay {
  const cs_chain_t *chain; /* borrowed */
  cs_replay_opts_t opts;   /* opts.clocks points at clocks below */
  cs_clock_t *clocks;      /* owned copy */
  cs_time_check_t *checks; /* owned */
  size_t nchecks, checks_cap;
  cs_interval_t *windows;  /* owned: nchecks * nclocks, check-major */
  cs_interval_t *pass;     /* owned: per clock */
  int64_t *believed;       /* owned: per clock, valid where believed_err == 0 */
  int *believed_err;       /* owned */
  int ran;
};

int cs_interval_empty(cs_interval_t iv) { return iv.from_ms >= iv.to_ms; }

int cs_interval_contains(cs_interval_t iv, int64_t t_ms) {
  if (cs_interval_empty(iv))
    return 0;
  int after_start = iv.from_ms == CS_TIME_NEG_INF || t_ms >= iv.from_ms;
  int before_end = iv.to_ms == CS_TIME_POS_INF || t_ms < iv.to_ms;
  return after_start && before_end;
}

const char *cs_check_failure_code(cs_check_kind_t kind) {
  switch (kind) {
  case CS_CHECK_NOT_BEFORE:
    return "NOT_YET_VALID";
  case CS_CHECK_NOT_AFTER:
    return "EXPIRED";
  case CS_CHECK_SCT_TIMESTAMP:
    return "SCT_IN_FUTURE";
  case CS_CHECK_OCSP_THIS_UPDATE:
    return "OCSP_NOT_YET_VALID";
  case CS_CHECK_OCSP_PRODUCED_AT:
    return "OCSP_PRODUCED_IN_FUTURE";
  case CS_CHECK_OCSP_NEXT_UPDATE:
    return "OCSP_STALE";
  case CS_CHECK_CRL_THIS_UPDATE:
    return "CRL_NOT_YET_VALID";
  case CS_CHECK_CRL_NEXT_UPDATE:
    return "CRL_STALE";
  default:
    return "UNKNOWN_CHECK";
  }
}

const char *cs_check_kind_name(cs_check_kind_t kind) {
  switch (kind) {
  case CS_CHECK_NOT_BEFORE:
    return "not_before";
  case CS_CHECK_NOT_AFTER:
    return "not_after";
  case CS_CHECK_SCT_TIMESTAMP:
    return "sct_timestamp";
  case CS_CHECK_OCSP_THIS_UPDATE:
    return "ocsp_this_update";
  case CS_CHECK_OCSP_PRODUCED_AT:
    return "ocsp_produced_at";
  case CS_CHECK_OCSP_NEXT_UPDATE:
    return "ocsp_next_update";
  case CS_CHECK_CRL_THIS_UPDATE:
    return "crl_this_update";
  case CS_CHECK_CRL_NEXT_UPDATE:
    return "crl_next_update";
  default:
    return "unknown";
  }
}

cs_interval_t cs_check_failure_window(const cs_time_check_t *check, const cs_clock_t *clock) {
  cs_interval_t w;
  if (check->dir == CS_NEED_AT_OR_AFTER) {
    w.from_ms = CS_TIME_NEG_INF;
    w.to_ms = cs_clock_first_reaching(clock, check->bound_ms);
    return w;
  }
  w.to_ms = CS_TIME_POS_INF;
  /* A bound at the end of time can never be passed. */
  w.from_ms = check->bound_ms == CS_TIME_POS_INF
                  ? CS_TIME_POS_INF
                  : cs_clock_first_reaching(clock, check->bound_ms + 1);
  return w;
}

static const char *cert_role(const cs_chain_t *chain, size_t i) {
  const cs_cert_info_t *c = cs_chain_cert(chain, i);
  if (i == 0)
    return "leaf";
  if (c->self_issued)
    return "root";
  return "intermediate";
}

static int add_chain_checks(cs_replay_t *r) {
  int err;
  for (size_t i = 0; i < cs_chain_count(r->chain); i++) {
    const cs_cert_info_t *c = cs_chain_cert(r->chain, i);
    const char *role = cert_role(r->chain, i);
    cs_time_check_t k;
    memset(&k, 0, sizeof(k));
    k.cert_index = (int)i;
    k.item_index = -1;
    k.kind = CS_CHECK_NOT_BEFORE;
    k.dir = CS_NEED_AT_OR_AFTER;
    k.bound_ms = c->not_before_ms;
    snprintf(k.label, sizeof(k.label), "%s #%zu notBefore", role, i);
    if ((err = cs_replay_add_check(r, &k)) != 0)
      return err;
    k.kind = CS_CHECK_NOT_AFTER;
    k.dir = CS_NEED_AT_OR_BEFORE;
    k.bound_ms = c->valid_until_ms;
    snprintf(k.label, sizeof(k.label), "%s #%zu notAfter", role, i);
    if ((err = cs_replay_add_check(r, &k)) != 0)
      return err;
    for (size_t j = 0; j < c->nscts; j++) {
      if (!c->scts[j].supported)
        continue;
      k.kind = CS_CHECK_SCT_TIMESTAMP;
      k.dir = CS_NEED_AT_OR_AFTER;
      k.bound_ms = c->scts[j].timestamp_ms;
      k.item_index = (int)j;
      snprintf(k.label, sizeof(k.label), "%s #%zu SCT #%zu", role, i, j);
      if ((err = cs_replay_add_check(r, &k)) != 0)
        return err;
    }
    k.item_index = -1;
  }
  return 0;
}

int cs_replay_new(cs_replay_t **out, const cs_chain_t *chain, const cs_replay_opts_t *opts,
                  cs_errbuf_t *eb) {
  *out = NULL;
  if (chain == NULL || opts == NULL || opts->clocks == NULL || opts->nclocks == 0)
    return cs_errbuf_set(eb, CS_EINVAL, "replay needs a chain and at least one clock model");
  if (opts->nclocks > CS_REPLAY_MAX_CLOCKS)
    return cs_errbuf_set(eb, CS_ETOOBIG, "more than %d clock models", CS_REPLAY_MAX_CLOCKS);
  if (opts->has_sweep && opts->sweep_from_ms >= opts->sweep_to_ms)
    return cs_errbuf_set(eb, CS_EINVAL, "sweep range is empty (FROM must be before TO)");
  cs_replay_t *r = calloc(1, sizeof(*r)); /* owned: cs_replay_free */
  if (r == NULL)
    return CS_ENOMEM;
  r->chain = chain;
  r->opts = *opts;
  r->clocks = malloc(opts->nclocks * sizeof(*r->clocks));
  if (r->clocks == NULL) {
    cs_replay_free(r);
    return CS_ENOMEM;
  }
  memcpy(r->clocks, opts->clocks, opts->nclocks * sizeof(*r->clocks));
  r->opts.clocks = r->clocks;
  int err = add_chain_checks(r);
  if (err != 0) {
    cs_replay_free(r);
    return cs_errbuf_set(eb, err, "cannot set up the chain's checks: %s", cs_strerror(err));
  }
  *out = r;
  return 0;
}

void cs_replay_free(cs_replay_t *r) {
  if (r == NULL)
    return;
  free(r->clocks);
  free(r->checks);
  free(r->windows);
  free(r->pass);
  free(r->believed);
  free(r->believed_err);
  free(r);
}

int cs_replay_add_check(cs_replay_t *r, const cs_time_check_t *check) {
  if (r == NULL || check == NULL || r->ran)
    return r && r->ran ? CS_ESTATE : CS_EINVAL;
  if (check->dir != CS_NEED_AT_OR_AFTER && check->dir != CS_NEED_AT_OR_BEFORE)
    return CS_EINVAL;
  if (r->nchecks >= CS_REPLAY_MAX_CHECKS)
    return CS_ETOOBIG;
  if (cs_grow((void **)&r->checks, &r->checks_cap, r->nchecks + 1, sizeof(*r->checks), 16) != 0)
    return CS_ENOMEM;
  r->checks[r->nchecks++] = *check;
  return 0;
}

/* The pass window of one clock: after every "at or after" bound is reached,
 * before any "at or before" bound is crossed. */
static cs_interval_t pass_window(const cs_replay_t *r, size_t c) {
  cs_interval_t p = {CS_TIME_NEG_INF, CS_TIME_POS_INF};
  for (size_t k = 0; k < r->nchecks; k++) {
    cs_interval_t w = r->windows[k * r->opts.nclocks + c];
    if (cs_interval_empty(w))
      continue;
    if (r->checks[k].dir == CS_NEED_AT_OR_AFTER && w.to_ms > p.from_ms)
      p.from_ms = w.to_ms;
    if (r->checks[k].dir == CS_NEED_AT_OR_BEFORE && w.from_ms < p.to_ms)
      p.to_ms = w.from_ms;
  }
  return p;
}

int cs_replay_run(cs_replay_t *r, cs_findings_t *findings) {
  if (r == NULL || r->ran)
    return r ? CS_ESTATE : CS_EINVAL;
  size_t nc = r->opts.nclocks;
  r->windows = malloc((r->nchecks ? r->nchecks : 1) * nc * sizeof(*r->windows));
  r->pass = malloc(nc * sizeof(*r->pass));
  r->believed = calloc(nc, sizeof(*r->believed));
  r->believed_err = calloc(nc, sizeof(*r->believed_err));
  if (!r->windows || !r->pass || !r->believed || !r->believed_err)
    return CS_ENOMEM;
  for (size_t k = 0; k < r->nchecks; k++)
    for (size_t c = 0; c < nc; c++)
      r->windows[k * nc + c] = cs_check_failure_window(&r->checks[k], &r->clocks[c]);
  for (size_t c = 0; c < nc; c++) {
    r->pass[c] = pass_window(r, c);
    if (r->opts.has_at)
      r->believed_err[c] = cs_clock_apply(&r->clocks[c], r->opts.at_ms, &r->believed[c]);
  }
  r->ran = 1;
  return findings ? cs_replay_diagnose(r, findings) : 0;
}

const cs_chain_t *cs_replay_chain(const cs_replay_t *r) { return r->chain; }
const cs_replay_opts_t *cs_replay_opts(const cs_replay_t *r) { return &r->opts; }
size_t cs_replay_nclocks(const cs_replay_t *r) { return r->opts.nclocks; }
const cs_clock_t *cs_replay_clock(const cs_replay_t *r, size_t c) {
  return c < r->opts.nclocks ? &r->clocks[c] : NULL;
}
size_t cs_replay_nchecks(const cs_replay_t *r) { return r->nchecks; }
const cs_time_check_t *cs_replay_check(const cs_replay_t *r, size_t k) {
  return k < r->nchecks ? &r->checks[k] : NULL;
}

cs_interval_t cs_replay_window(const cs_replay_t *r, size_t k, size_t c) {
  cs_interval_t none = {CS_TIME_POS_INF, CS_TIME_POS_INF};
  if (!r->ran || k >= r->nchecks || c >= r->opts.nclocks)
    return none;
  return r->windows[k * r->opts.nclocks + c];
}

cs_interval_t cs_replay_pass_window(const cs_replay_t *r, size_t c) {
  cs_interval_t none = {CS_TIME_POS_INF, CS_TIME_POS_INF};
  return r->ran && c < r->opts.nclocks ? r->pass[c] : none;
}

/* b - a where a is a finite instant and b may be infinite; saturates. */
static int64_t offset_to(int64_t b, int64_t a) {
  int64_t d;
  if (b == CS_TIME_NEG_INF || b == CS_TIME_POS_INF)
    return b;
  if (cs_time_sub(b, a, &d) != 0)
    return b > 0 ? CS_TIME_POS_INF : CS_TIME_NEG_INF;
  return d;
}

cs_interval_t cs_replay_pass_offsets(const cs_replay_t *r, size_t c) {
  cs_interval_t p = cs_replay_pass_window(r, c);
  if (!r->opts.has_at || cs_interval_empty(p))
    return (cs_interval_t){CS_TIME_POS_INF, CS_TIME_POS_INF};
  /* "skew:o,M" passes at t iff M passes at t + o (the offset is the first
   * step), i.e. iff p.from <= t + o < p.to. */
  cs_interval_t o = {offset_to(p.from_ms, r->opts.at_ms), offset_to(p.to_ms, r->opts.at_ms)};
  return o;
}

int cs_replay_believed(const cs_replay_t *r, size_t c, int64_t *believed_ms) {
  if (!r->ran || !r->opts.has_at || c >= r->opts.nclocks)
    return CS_ESTATE;
  if (r->believed_err[c] != 0)
    return r->believed_err[c];
  *believed_ms = r->believed[c];
  return 0;
}

int cs_replay_fails_at(const cs_replay_t *r, size_t k, size_t c) {
  if (!r->ran || !r->opts.has_at)
    return 0;
  return cs_interval_contains(cs_replay_window(r, k, c), r->opts.at_ms);
}
