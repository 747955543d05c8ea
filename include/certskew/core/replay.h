/*
 * The replay engine: for each time check and each clock model, the exact set
 * of true times at which the check fails, and the verdicts at one instant.
 *
 * Every time-dependent rule a client applies has the shape "the time it
 * believes must be at or after B" (notBefore, an SCT timestamp, OCSP
 * thisUpdate) or "at or before B" (notAfter, nextUpdate). Since every clock
 * model is non-decreasing (clock.h), a check fails on a prefix or suffix of
 * true time, found exactly by cs_clock_first_reaching; a whole chain passes
 * on one interval per clock. No sampling anywhere.
 */
#ifndef CERTSKEW_CORE_REPLAY_H
#define CERTSKEW_CORE_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/chain.h"
#include "certskew/core/clock.h"
#include "certskew/core/error.h"
#include "certskew/core/findings.h"

/* A half-open interval [from_ms, to_ms) of true time (or of offsets).
 * from_ms == CS_TIME_NEG_INF / to_ms == CS_TIME_POS_INF mean unbounded;
 * empty when from_ms >= to_ms. */
typedef struct cs_interval {
  int64_t from_ms;
  int64_t to_ms;
} cs_interval_t;

int cs_interval_empty(cs_interval_t iv);
int cs_interval_contains(cs_interval_t iv, int64_t t_ms);

typedef enum cs_check_kind {
  CS_CHECK_NOT_BEFORE = 1,  /* certificate notBefore */
  CS_CHECK_NOT_AFTER,       /* certificate notAfter */
  CS_CHECK_SCT_TIMESTAMP,   /* an SCT must not be in the future */
  CS_CHECK_OCSP_THIS_UPDATE,
  CS_CHECK_OCSP_PRODUCED_AT,
  CS_CHECK_OCSP_NEXT_UPDATE,
  CS_CHECK_CRL_THIS_UPDATE,
  CS_CHECK_CRL_NEXT_UPDATE,
} cs_check_kind_t;

typedef enum cs_bound_dir {
  CS_NEED_AT_OR_AFTER = 1, /* believed >= bound_ms, else it fails */
  CS_NEED_AT_OR_BEFORE,    /* believed <= bound_ms, else it fails */
} cs_bound_dir_t;

typedef struct cs_time_check {
  cs_check_kind_t kind;
  cs_bound_dir_t dir;
  int64_t bound_ms;
  int cert_index;  /* -1 if none */
  int item_index;  /* SCT / response index, -1 if none */
  char label[96];  /* "leaf notBefore", "intermediate #1 notAfter", "SCT #0" */
} cs_time_check_t;

/* Stable code of the failure of a check kind ("NOT_YET_VALID", "EXPIRED",
 * "SCT_IN_FUTURE", "OCSP_NOT_YET_VALID", "OCSP_STALE", "CRL_STALE", ...). */
const char *cs_check_failure_code(cs_check_kind_t kind);
/* Stable name of the check kind ("not_before", "sct_timestamp", ...). */
const char *cs_check_kind_name(cs_check_kind_t kind);

/* The set of true times at which one check fails under one clock model: a
 * prefix (NEED_AT_OR_AFTER) or suffix (NEED_AT_OR_BEFORE) of time. */
cs_interval_t cs_check_failure_window(const cs_time_check_t *check, const cs_clock_t *clock);

typedef struct cs_replay cs_replay_t;

typedef struct cs_replay_opts {
  const cs_clock_t *clocks; /* borrowed for the call; copied */
  size_t nclocks;           /* >= 1 */
  int has_at;               /* 1 if at_ms is the instant asked about */
  int64_t at_ms;
  int has_sweep;            /* 1 to report segments over [sweep_from_ms, sweep_to_ms) */
  int64_t sweep_from_ms;
  int64_t sweep_to_ms;
} cs_replay_opts_t;

/* Limits of one replay (hostile input guard). */
#define CS_REPLAY_MAX_CLOCKS 64
#define CS_REPLAY_MAX_CHECKS 1024

/* Creates a replay for chain (borrowed: must outlive the replay) with the
 * chain's own checks (validity of every certificate, every embedded SCT).
 * Other analyzers add theirs with cs_replay_add_check before cs_replay_run. */
int cs_replay_new(cs_replay_t **out, const cs_chain_t *chain, const cs_replay_opts_t *opts,
                  cs_errbuf_t *eb) CS_MUST_CHECK;
/* Safe on NULL. */
void cs_replay_free(cs_replay_t *r);

int cs_replay_add_check(cs_replay_t *r, const cs_time_check_t *check) CS_MUST_CHECK;

/* Computes every window and verdict and appends the diagnosis to findings. */
int cs_replay_run(cs_replay_t *r, cs_findings_t *findings) CS_MUST_CHECK;

/* Results (valid after cs_replay_run). */
const cs_chain_t *cs_replay_chain(const cs_replay_t *r);
const cs_replay_opts_t *cs_replay_opts(const cs_replay_t *r);
size_t cs_replay_nclocks(const cs_replay_t *r);
const cs_clock_t *cs_replay_clock(const cs_replay_t *r, size_t c);
size_t cs_replay_nchecks(const cs_replay_t *r);
const cs_time_check_t *cs_replay_check(const cs_replay_t *r, size_t k);
/* Failure window of check k under clock c. */
cs_interval_t cs_replay_window(const cs_replay_t *r, size_t k, size_t c);
/* The one interval of true time in which every check passes for clock c. */
cs_interval_t cs_replay_pass_window(const cs_replay_t *r, size_t c);
/* With has_at: offsets o such that clock "skew:o,<clock c>" passes at at_ms. */
cs_interval_t cs_replay_pass_offsets(const cs_replay_t *r, size_t c);
/* With has_at: what clock c believes at at_ms; err != 0 if it overflows. */
int cs_replay_believed(const cs_replay_t *r, size_t c, int64_t *believed_ms);
/* With has_at: 1 if check k fails for clock c at at_ms. */
int cs_replay_fails_at(const cs_replay_t *r, size_t k, size_t c);

#endif
