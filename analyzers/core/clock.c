/*
 * Clock models (include/certskew/core/clock.h): parsing, forward application and
 * the exact inverse used for failure windows.
 */
#include "certskew/core/clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "certskew/core/time.h"

static const cs_clock_profile_t profiles[] = {
    {"exact", "skew:0",
     "ms-exact clock, zero tolerance: Chrome's CT check rejects an SCT whose timestamp is later "
     "than the current time in ms"},
    {"trustd", "trunc:1s",
     "clock read in whole seconds (macOS/iOS trustd): an SCT up to 999 ms old looks like it is "
     "in the future"},
    {"whole-second", "trunc:1s", "any client that compares against time(NULL)"},
    {"openssl-ct", "trunc:1s,skew:+300s",
     "OpenSSL CT_POLICY_EVAL_CTX default: time(NULL) plus SCT_CLOCK_DRIFT_TOLERANCE (300 s)"},
    {"day", "trunc:1d", "coarse clock with day resolution (date-only devices)"},
    {"minute", "trunc:1m", "clock read in whole minutes"},
    {"no-rtc-1970", "fixed:1970-01-01T00:00:00Z",
     "device with no real-time clock that has not synced: it believes it is the epoch"},
    {"no-rtc-2000", "fixed:2000-01-01T00:00:00Z",
     "device with no real-time clock whose firmware resets to 2000-01-01"},
    {NULL, NULL, NULL},
};

const cs_clock_profile_t *cs_clock_profiles(void) { return profiles; }

size_t cs_clock_default_set(cs_clock_t *out, size_t max) {
  static const char *const defaults[] = {"exact", "trustd", "openssl-ct", "minute",
                                         "day",   "-90s",   "-1h",        "+1h"};
  size_t n = 0;
  for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]) && n < max; i++)
    if (cs_clock_parse(&out[n], defaults[i], NULL) == 0)
      n++;
  return n;
}

void cs_clock_init_exact(cs_clock_t *clock) {
  memset(clock, 0, sizeof(*clock));
  snprintf(clock->name, sizeof(clock->name), "exact");
}

static int add_step(cs_clock_t *clock, cs_clock_step_kind_t kind, int64_t arg, cs_errbuf_t *eb) {
  if (clock->nsteps >= CS_CLOCK_MAX_STEPS)
    return cs_errbuf_set(eb, CS_ETOOBIG, "clock model has more than %d steps", CS_CLOCK_MAX_STEPS);
  clock->steps[clock->nsteps].kind = kind;
  clock->steps[clock->nsteps].arg_ms = arg;
  clock->nsteps++;
  return 0;
}

static int parse_unit(const char *arg, int64_t *unit, cs_errbuf_t *eb) {
  int err = cs_duration_parse(arg, unit);
  if (err != 0)
    return cs_errbuf_set(eb, err, "bad unit '%s': %s", arg, cs_strerror(err));
  if (*unit <= 0)
    return cs_errbuf_set(eb, CS_EINVAL, "unit '%s' must be positive", arg);
  return 0;
}

static int parse_step(cs_clock_t *clock, const char *tok, int depth, cs_errbuf_t *eb);

static int parse_list(cs_clock_t *clock, const char *text, int depth, cs_errbuf_t *eb) {
  char tok[CS_CLOCK_NAME_MAX];
  const char *p = text;
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    if (n == 0)
      return cs_errbuf_set(eb, CS_EPARSE, "empty step in clock model '%s'", text);
    if (n >= sizeof(tok))
      return cs_errbuf_set(eb, CS_ETOOBIG, "clock model step too long");
    memcpy(tok, p, n);
    tok[n] = '\0';
    int err = parse_step(clock, tok, depth, eb);
    if (err != 0)
      return err;
    if (comma == NULL)
      return 0;
    p = comma + 1;
  }
}

static int parse_step(cs_clock_t *clock, const char *tok, int depth, cs_errbuf_t *eb) {
  int64_t v;
  int err;
  if (strcmp(tok, "exact") == 0)
    return 0;
  if (tok[0] == '+' || tok[0] == '-') {
    if ((err = cs_duration_parse(tok, &v)) != 0)
      return cs_errbuf_set(eb, err, "bad offset '%s': %s", tok, cs_strerror(err));
    return add_step(clock, CS_CLOCK_OFFSET, v, eb);
  }
  if (strncmp(tok, "skew:", 5) == 0 || strncmp(tok, "offset:", 7) == 0) {
    const char *arg = strchr(tok, ':') + 1;
    if ((err = cs_duration_parse(arg, &v)) != 0)
      return cs_errbuf_set(eb, err, "bad offset '%s': %s", arg, cs_strerror(err));
    return add_step(clock, CS_CLOCK_OFFSET, v, eb);
  }
  if (strncmp(tok, "trunc:", 6) == 0 || strncmp(tok, "ceil:", 5) == 0) {
    const char *arg = strchr(tok, ':') + 1;
    if ((err = parse_unit(arg, &v, eb)) != 0)
      return err;
    return add_step(clock, tok[0] == 't' ? CS_CLOCK_TRUNC : CS_CLOCK_CEIL, v, eb);
  }
  if (strcmp(tok, "day") == 0)
    return add_step(clock, CS_CLOCK_TRUNC, CS_MS_PER_DAY, eb);
  if (strncmp(tok, "fixed:", 6) == 0) {
    if ((err = cs_time_parse(tok + 6, &v)) != 0)
      return cs_errbuf_set(eb, err, "bad instant '%s': %s", tok + 6, cs_strerror(err));
    return add_step(clock, CS_CLOCK_FIXED, v, eb);
  }
  if (strncmp(tok, "boot:", 5) == 0) {
    char buf[CS_CLOCK_NAME_MAX];
    snprintf(buf, sizeof(buf), "%s", tok + 5);
    char *at = strchr(buf, '@');
    int64_t set_to, set_at, off;
    if (at == NULL)
      return cs_errbuf_set(eb, CS_EPARSE, "boot: wants TIME@TRUE_TIME, got '%s'", tok + 5);
    *at = '\0';
    if ((err = cs_time_parse(buf, &set_to)) != 0 || (err = cs_time_parse(at + 1, &set_at)) != 0)
      return cs_errbuf_set(eb, err, "bad instant in '%s': %s", tok, cs_strerror(err));
    if ((err = cs_time_sub(set_to, set_at, &off)) != 0)
      return cs_errbuf_set(eb, err, "boot offset overflows");
    return add_step(clock, CS_CLOCK_OFFSET, off, eb);
  }
  for (const cs_clock_profile_t *pr = profiles; pr->name != NULL; pr++) {
    if (strcmp(tok, pr->name) == 0) {
      if (depth > 0)
        return cs_errbuf_set(eb, CS_EPARSE, "profile '%s' inside a profile", tok);
      return parse_list(clock, pr->model, depth + 1, eb);
    }
  }
  return cs_errbuf_set(eb, CS_EPARSE,
                       "unknown clock step '%s' (try -90s, trunc:1s, ceil:1s, day, fixed:TIME, "
                       "boot:TIME@TIME or a profile name)",
                       tok);
}

int cs_clock_parse(cs_clock_t *clock, const char *text, cs_errbuf_t *eb) {
  if (clock == NULL || text == NULL || *text == '\0')
    return cs_errbuf_set(eb, CS_EINVAL, "empty clock model");
  if (strlen(text) >= CS_CLOCK_NAME_MAX)
    return cs_errbuf_set(eb, CS_ETOOBIG, "clock model longer than %d characters",
                         CS_CLOCK_NAME_MAX - 1);
  cs_clock_t c;
  memset(&c, 0, sizeof(c));
  snprintf(c.name, sizeof(c.name), "%s", text);
  for (const cs_clock_profile_t *pr = profiles; pr->name != NULL; pr++)
    if (strcmp(text, pr->name) == 0)
      snprintf(c.description, sizeof(c.description), "%s", pr->description);
  int err = parse_list(&c, text, 0, eb);
  if (err != 0)
    return err;
  *clock = c;
  return 0;
}

int cs_clock_apply(const cs_clock_t *clock, int64_t t_ms, int64_t *believed_ms) {
  int64_t t = t_ms;
  for (int i = 0; i < clock->nsteps; i++) {
    const cs_clock_step_t *s = &clock->steps[i];
    int err = 0;
    switch (s->kind) {
    case CS_CLOCK_OFFSET:
      err = cs_time_add(t, s->arg_ms, &t);
      break;
    case CS_CLOCK_TRUNC:
      err = cs_time_floor(t, s->arg_ms, &t);
      break;
    case CS_CLOCK_CEIL:
      err = cs_time_ceil(t, s->arg_ms, &t);
      break;
    case CS_CLOCK_FIXED:
      t = s->arg_ms;
      break;
    default:
      return CS_EINVAL;
    }
    if (err != 0)
      return err;
  }
  *believed_ms = t;
  return 0;
}

/*
 * Inverse of one step: the smallest input x with step(x) >= y, where y may be
 * CS_TIME_NEG_INF ("every input") or CS_TIME_POS_INF ("no input"). Results
 * saturate at the infinities, which is exact: a bound beyond int64 is reached
 * by every, or by no, representable time.
 */
static int64_t step_first_reaching(const cs_clock_step_t *s, int64_t y) {
  int64_t x;
  if (y == CS_TIME_NEG_INF || y == CS_TIME_POS_INF) {
    if (s->kind == CS_CLOCK_FIXED)
      return y == CS_TIME_NEG_INF ? CS_TIME_NEG_INF : CS_TIME_POS_INF;
    return y;
  }
  switch (s->kind) {
  case CS_CLOCK_OFFSET:
    /* x + o >= y  <=>  x >= y - o */
    if (cs_time_sub(y, s->arg_ms, &x) != 0)
      return s->arg_ms > 0 ? CS_TIME_NEG_INF : CS_TIME_POS_INF;
    return x;
  case CS_CLOCK_TRUNC:
    /* floor_u(x) >= y  <=>  x >= ceil_u(y) */
    if (cs_time_ceil(y, s->arg_ms, &x) != 0)
      return CS_TIME_POS_INF;
    return x;
  case CS_CLOCK_CEIL:
    /* ceil_u(x) >= y  <=>  x > ceil_u(y) - u  <=>  x >= ceil_u(y) - u + 1 */
    if (cs_time_ceil(y, s->arg_ms, &x) != 0)
      return CS_TIME_POS_INF;
    /* Below INT64_MIN means every representable input qualifies. */
    if (cs_time_sub(x, s->arg_ms - 1, &x) != 0)
      return CS_TIME_NEG_INF;
    return x;
  case CS_CLOCK_FIXED:
    return s->arg_ms >= y ? CS_TIME_NEG_INF : CS_TIME_POS_INF;
  default:
    return CS_TIME_POS_INF;
  }
}

int64_t cs_clock_first_reaching(const cs_clock_t *clock, int64_t target_ms) {
  int64_t y = target_ms;
  for (int i = clock->nsteps - 1; i >= 0; i--)
    y = step_first_reaching(&clock->steps[i], y);
  return y;
}

size_t cs_clock_format(const cs_clock_t *clock, char *buf, size_t buflen) {
  size_t used = 0;
  if (buflen == 0)
    return 0;
  buf[0] = '\0';
  if (clock->nsteps == 0)
    return (size_t)snprintf(buf, buflen, "exact");
  for (int i = 0; i < clock->nsteps && used < buflen; i++) {
    const cs_clock_step_t *s = &clock->steps[i];
    const char *sep = i ? "," : "";
    int n = 0;
    char tbuf[CS_TIME_STRLEN];
    switch (s->kind) {
    case CS_CLOCK_OFFSET:
      n = snprintf(buf + used, buflen - used, "%sskew:%+" PRId64 "ms", sep, s->arg_ms);
      break;
    case CS_CLOCK_TRUNC:
      n = snprintf(buf + used, buflen - used, "%strunc:%" PRId64 "ms", sep, s->arg_ms);
      break;
    case CS_CLOCK_CEIL:
      n = snprintf(buf + used, buflen - used, "%sceil:%" PRId64 "ms", sep, s->arg_ms);
      break;
    case CS_CLOCK_FIXED:
      cs_time_format(s->arg_ms, tbuf);
      n = snprintf(buf + used, buflen - used, "%sfixed:%s", sep, tbuf);
      break;
    default:
      n = snprintf(buf + used, buflen - used, "%s?", sep);
      break;
    }
    if (n < 0)
      break;
    used += (size_t)n;
  }
  return used < buflen ? used : buflen - 1;
}
