/*
 * Clock models: what a client believes the time is, given the true time.
 *
 * A model is a short pipeline of steps applied left to right to the true
 * time t (ms): an offset (a slow or fast clock), truncation to a unit (a
 * client that reads whole seconds, e.g. macOS trustd), rounding up, or a
 * clock stopped at a fixed instant (a device with no RTC that never synced).
 * Every step is a non-decreasing function of t, so every model is too; that
 * is what lets the replay engine compute failure windows exactly (see
 * cs_clock_first_reaching) instead of sampling.
 *
 * Syntax accepted by cs_clock_parse (steps separated by ','):
 *   -90s | +2h | skew:-300ms      offset (any cs_duration_parse duration)
 *   trunc:1s | trunc:1m | day      truncate down to a unit ("day" = trunc:1d)
 *   ceil:1s                        round up to a unit
 *   fixed:2000-01-01T00:00:00Z     stopped clock (any cs_time_parse instant)
 *   boot:TIME@TRUE                 device that set its clock to TIME at true
 *                                  time TRUE and has run since (an offset)
 *   exact                          the identity (ms-exact client)
 *   NAME                           a named profile, see cs_clock_profiles()
 */
#ifndef CERTSKEW_CORE_CLOCK_H
#define CERTSKEW_CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/error.h"

typedef enum cs_clock_step_kind {
  CS_CLOCK_OFFSET = 1, /* believed = t + arg_ms */
  CS_CLOCK_TRUNC,      /* believed = floor(t / arg_ms) * arg_ms */
  CS_CLOCK_CEIL,       /* believed = ceil(t / arg_ms) * arg_ms */
  CS_CLOCK_FIXED,      /* believed = arg_ms whatever t is */
} cs_clock_step_kind_t;

typedef struct cs_clock_step {
  cs_clock_step_kind_t kind;
  int64_t arg_ms;
} cs_clock_step_t;

#define CS_CLOCK_MAX_STEPS 8
#define CS_CLOCK_NAME_MAX 96

/* A plain value: copy it freely, nothing to free. */
typedef struct cs_clock {
  char name[CS_CLOCK_NAME_MAX];        /* the text it was parsed from, or profile name */
  char description[CS_CLOCK_NAME_MAX]; /* "" or the profile's one-line story */
  int nsteps;
  cs_clock_step_t steps[CS_CLOCK_MAX_STEPS];
} cs_clock_t;

/* The identity clock ("exact"). Cannot fail. */
void cs_clock_init_exact(cs_clock_t *clock);

/* Parses a model (syntax above). eb (optional) gets a detail on error.
 * Returns 0, CS_EPARSE, CS_EINVAL (unit <= 0), CS_ETOOBIG (too many steps)
 * or CS_EOVERFLOW. */
int cs_clock_parse(cs_clock_t *clock, const char *text, cs_errbuf_t *eb) CS_MUST_CHECK;

/* What the client believes at true time t_ms. CS_EOVERFLOW if the believed
 * time leaves int64 ms. */
int cs_clock_apply(const cs_clock_t *clock, int64_t t_ms, int64_t *believed_ms) CS_MUST_CHECK;

/* The smallest true time t with believed(t) >= target_ms, exactly.
 * CS_TIME_NEG_INF if every representable t qualifies, CS_TIME_POS_INF if
 * none does (e.g. a clock stopped before target). Total: never fails. */
int64_t cs_clock_first_reaching(const cs_clock_t *clock, int64_t target_ms);

/* Named profiles of real clients whose clock handling is documented. */
typedef struct cs_clock_profile {
  const char *name;
  const char *model;       /* in cs_clock_parse syntax */
  const char *description; /* who behaves like this and where it is documented */
} cs_clock_profile_t;

/* Table of profiles, terminated by an entry whose name is NULL. */
const cs_clock_profile_t *cs_clock_profiles(void);

/* The clock models used when the user names none: the clients real cases
 * involve (exact, whole-second, OpenSSL CT, minute, day) and typical skews.
 * Fills up to max models into out; returns how many. */
size_t cs_clock_default_set(cs_clock_t *out, size_t max);

/* Writes the model back in canonical syntax ("skew:-2000ms,trunc:1000ms"). */
size_t cs_clock_format(const cs_clock_t *clock, char *buf, size_t buflen);

#endif
