/*
 * Checked millisecond arithmetic and civil-date conversion.
 *
 * The civil conversion uses the days-from-civil algorithm (H. Hinnant) on
 * 64-bit integers, so it is exact for every year whose instant fits int64 ms
 * (about ±292 million years) rather than stopping at 2038 (32-bit time_t) or
 * 2262 (64-bit nanoseconds), the limits real clients trip over.
 */
#include "certskew/core/time.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cs_time_add(int64_t a, int64_t b, int64_t *out) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    return CS_EOVERFLOW;
  *out = r;
  return 0;
}

int cs_time_sub(int64_t a, int64_t b, int64_t *out) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r))
    return CS_EOVERFLOW;
  *out = r;
  return 0;
}

int cs_time_mul(int64_t a, int64_t b, int64_t *out) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    return CS_EOVERFLOW;
  *out = r;
  return 0;
}

/* Floor division for unit > 0; never overflows (quotient magnitude <= |t|). */
static int64_t floor_div(int64_t t, int64_t unit) {
  int64_t q = t / unit;
  if ((t % unit) != 0 && t < 0)
    q -= 1;
  return q;
}

int cs_time_floor(int64_t t_ms, int64_t unit_ms, int64_t *out) {
  if (unit_ms <= 0)
    return CS_EINVAL;
  return cs_time_mul(floor_div(t_ms, unit_ms), unit_ms, out);
}

int cs_time_ceil(int64_t t_ms, int64_t unit_ms, int64_t *out) {
  if (unit_ms <= 0)
    return CS_EINVAL;
  int64_t q = floor_div(t_ms, unit_ms);
  if (t_ms % unit_ms != 0 && q == INT64_MAX)
    return CS_EOVERFLOW;
  if (t_ms % unit_ms != 0)
    q += 1;
  return cs_time_mul(q, unit_ms, out);
}

static int is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int64_t y, int m) {
  static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Years beyond this cannot be represented in int64 ms; rejecting them first
 * keeps the day arithmetic itself free of overflow. */
#define CS_MAX_ABS_YEAR INT64_C(292278994)

int cs_time_from_civil(const cs_civil_t *c, int64_t *out_ms) {
  if (c->month < 1 || c->month > 12 || c->day < 1 || c->hour < 0 || c->hour > 23 ||
      c->minute < 0 || c->minute > 59 || c->second < 0 || c->second > 59 ||
      c->millisecond < 0 || c->millisecond > 999)
    return CS_ERANGE;
  if (c->year > CS_MAX_ABS_YEAR || c->year < -CS_MAX_ABS_YEAR)
    return CS_EOVERFLOW;
  if (c->day > days_in_month(c->year, c->month))
    return CS_ERANGE;
  int64_t y = c->year - (c->month <= 2);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (c->month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + c->day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  int64_t ms_of_day = ((int64_t)c->hour * 3600 + c->minute * 60 + c->second) * 1000 + c->millisecond;
  int64_t t;
  /* For negative days, days * DAY alone can pass INT64_MIN although the sum
   * with ms_of_day fits: take one day off the product and add it back. */
  if (days < 0) {
    if (cs_time_mul(days + 1, CS_MS_PER_DAY, &t) != 0 ||
        cs_time_add(t, ms_of_day - CS_MS_PER_DAY, &t) != 0)
      return CS_EOVERFLOW;
  } else if (cs_time_mul(days, CS_MS_PER_DAY, &t) != 0 || cs_time_add(t, ms_of_day, &t) != 0) {
    return CS_EOVERFLOW;
  }
  *out_ms = t;
  return 0;
}

void cs_time_to_civil(int64_t t_ms, cs_civil_t *out) {
  int64_t days = floor_div(t_ms, CS_MS_PER_DAY);
  /* The remainder, not t - days * DAY: that product leaves int64 near INT64_MIN. */
  int64_t ms_of_day = t_ms % CS_MS_PER_DAY;
  if (ms_of_day < 0)
    ms_of_day += CS_MS_PER_DAY;
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  out->year = yoe + era * 400 + (m <= 2);
  out->month = (int)m;
  out->day = (int)d;
  out->hour = (int)(ms_of_day / CS_MS_PER_HOUR);
  out->minute = (int)(ms_of_day / CS_MS_PER_MINUTE % 60);
  out->second = (int)(ms_of_day / 1000 % 60);
  out->millisecond = (int)(ms_of_day % 1000);
}

/* Reads exactly n decimal digits. */
static int read_digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)(*p)[i]))
      return CS_EPARSE;
    v = v * 10 + ((*p)[i] - '0');
  }
  *p += n;
  *out = v;
  return 0;
}

/* Parses a signed decimal integer into int64 with overflow detection; *end
 * points after the digits. */
static int parse_i64(const char *s, int64_t *out, const char **end) {
  const char *p = s;
  int neg = 0;
  if (*p == '+' || *p == '-')
    neg = (*p++ == '-');
  if (!isdigit((unsigned char)*p))
    return CS_EPARSE;
  int64_t v = 0;
  while (isdigit((unsigned char)*p)) {
    int d = *p++ - '0';
    if (cs_time_mul(v, 10, &v) != 0 || cs_time_add(v, neg ? -d : d, &v) != 0)
      return CS_EOVERFLOW;
  }
  *out = v;
  *end = p;
  return 0;
}

static int parse_rfc3339(const char *s, int64_t *out_ms) {
  const char *p = s;
  cs_civil_t c = {0};
  int year, err = 0;
  if ((err = read_digits(&p, 4, &year)) != 0)
    return err;
  c.year = year;
  if (*p++ != '-' || read_digits(&p, 2, &c.month) || *p++ != '-' || read_digits(&p, 2, &c.day))
    return CS_EPARSE;
  if (*p != 'T' && *p != 't' && *p != ' ')
    return CS_EPARSE;
  p++;
  if (read_digits(&p, 2, &c.hour) || *p++ != ':' || read_digits(&p, 2, &c.minute) ||
      *p++ != ':' || read_digits(&p, 2, &c.second))
    return CS_EPARSE;
  if (*p == '.') {
    p++;
    int ndig = 0, ms = 0;
    while (isdigit((unsigned char)*p)) {
      /* Sub-millisecond digits cannot be represented: refuse non-zero ones
       * rather than silently truncate an instant the user typed on purpose. */
      if (ndig >= 3) {
        if (*p++ != '0')
          return CS_ERANGE;
        continue;
      }
      ms = ms * 10 + (*p++ - '0');
      ndig++;
    }
    if (ndig == 0)
      return CS_EPARSE;
    while (ndig < 3) {
      ms *= 10;
      ndig++;
    }
    c.millisecond = ms;
  }
  int64_t offset_ms = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p++ == '-' ? -1 : 1, oh, om;
    if (read_digits(&p, 2, &oh) || *p++ != ':' || read_digits(&p, 2, &om) || oh > 23 || om > 59)
      return CS_EPARSE;
    offset_ms = sign * ((int64_t)oh * CS_MS_PER_HOUR + (int64_t)om * CS_MS_PER_MINUTE);
  } else {
    return CS_EPARSE;
  }
  if (*p != '\0')
    return CS_EPARSE;
  int64_t t;
  if ((err = cs_time_from_civil(&c, &t)) != 0)
    return err;
  return cs_time_sub(t, offset_ms, out_ms);
}

int cs_time_parse(const char *s, int64_t *out_ms) {
  if (s == NULL || *s == '\0')
    return CS_EINVAL;
  const char *end;
  int64_t v;
  if (s[0] == '@') {
    int err = parse_i64(s + 1, &v, &end);
    if (err != 0)
      return err;
    if (*end != '\0')
      return CS_EPARSE;
    return cs_time_mul(v, 1000, out_ms);
  }
  /* Four digits then '-' is a date; anything else numeric is epoch ms. */
  if (strlen(s) >= 5 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
      isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3]) && s[4] == '-')
    return parse_rfc3339(s, out_ms);
  int err = parse_i64(s, &v, &end);
  if (err != 0)
    return err;
  if (strcmp(end, "ms") != 0 && *end != '\0')
    return CS_EPARSE;
  *out_ms = v;
  return 0;
}

/* Writes v as exactly `width` zero-padded digits. */
static char *put_digits(char *p, int v, int width) {
  for (int i = width - 1; i >= 0; i--) {
    p[i] = (char)('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

size_t cs_time_format(int64_t t_ms, char buf[CS_TIME_STRLEN]) {
  if (t_ms > CS_TIME_NEG_INF && t_ms < CS_TIME_POS_INF) {
    /* The common case by hand: the report formats thousands of instants
     * per chain and snprintf dominated the whole replay. */
    cs_civil_t c;
    cs_time_to_civil(t_ms, &c);
    if (c.year >= 0 && c.year <= 9999) {
      char *p = put_digits(buf, (int)c.year, 4);
      *p++ = '-';
      p = put_digits(p, c.month, 2);
      *p++ = '-';
      p = put_digits(p, c.day, 2);
      *p++ = 'T';
      p = put_digits(p, c.hour, 2);
      *p++ = ':';
      p = put_digits(p, c.minute, 2);
      *p++ = ':';
      p = put_digits(p, c.second, 2);
      *p++ = '.';
      p = put_digits(p, c.millisecond, 3);
      *p++ = 'Z';
      *p = '\0';
      return (size_t)(p - buf);
    }
  }
  if (t_ms == CS_TIME_NEG_INF)
    return (size_t)snprintf(buf, CS_TIME_STRLEN, "-inf");
  if (t_ms == CS_TIME_POS_INF)
    return (size_t)snprintf(buf, CS_TIME_STRLEN, "+inf");
  cs_civil_t c;
  cs_time_to_civil(t_ms, &c);
  int n;
  if (c.year >= 0 && c.year <= 9999)
    n = snprintf(buf, CS_TIME_STRLEN, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year,
                 c.month, c.day, c.hour, c.minute, c.second, c.millisecond);
  else /* ISO 8601 expanded year: always signed */
    n = snprintf(buf, CS_TIME_STRLEN, "%+" PRId64 "-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year,
                 c.month, c.day, c.hour, c.minute, c.second, c.millisecond);
  return n < 0 ? 0 : (size_t)n;
}

static int unit_ms(const char **p, int64_t *out) {
  static const struct {
    const char *name;
    int64_t ms;
  } units[] = {{"ms", 1}, {"s", CS_MS_PER_SECOND}, {"m", CS_MS_PER_MINUTE}, {"h", CS_MS_PER_HOUR},
               {"d", CS_MS_PER_DAY}, {"w", 7 * CS_MS_PER_DAY}};
  /* "ms" before "m": longest match first. */
  for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
    size_t n = strlen(units[i].name);
    if (strncmp(*p, units[i].name, n) == 0 && !isalpha((unsigned char)(*p)[n])) {
      *p += n;
      *out = units[i].ms;
      return 0;
    }
  }
  return CS_EPARSE;
}

int cs_duration_parse(const char *s, int64_t *out_ms) {
  if (s == NULL || *s == '\0')
    return CS_EINVAL;
  const char *p = s;
  int neg = 0;
  if (*p == '+' || *p == '-')
    neg = (*p++ == '-');
  int64_t total = 0;
  int terms = 0;
  while (*p != '\0') {
    if (!isdigit((unsigned char)*p))
      return CS_EPARSE;
    int64_t whole = 0, frac = 0, frac_scale = 1;
    const char *end;
    int err = parse_i64(p, &whole, &end);
    if (err != 0)
      return err;
    p = end;
    if (*p == '.') {
      p++;
      if (!isdigit((unsigned char)*p))
        return CS_EPARSE;
      while (isdigit((unsigned char)*p)) {
        if (frac_scale >= INT64_C(1000000000))
          return CS_ERANGE;
        frac = frac * 10 + (*p++ - '0');
        frac_scale *= 10;
      }
    }
    int64_t unit = 1;
    if (*p == '\0' && terms == 0 && frac_scale == 1) {
      unit = 1; /* bare number: milliseconds */
    } else if ((err = unit_ms(&p, &unit)) != 0) {
      return err;
    }
    int64_t term, frac_ms;
    if (cs_time_mul(whole, unit, &term) != 0)
      return CS_EOVERFLOW;
    /* The fraction must land on a whole millisecond ("1.5s" yes, "1.5ms" no). */
    if (frac != 0) {
      if (cs_time_mul(frac, unit, &frac_ms) != 0)
        return CS_EOVERFLOW;
      if (frac_ms % frac_scale != 0)
        return CS_ERANGE;
      if (cs_time_add(term, frac_ms / frac_scale, &term) != 0)
        return CS_EOVERFLOW;
    }
    if (cs_time_add(total, term, &total) != 0)
      return CS_EOVERFLOW;
    terms++;
  }
  if (terms == 0)
    return CS_EPARSE;
  if (neg && cs_time_mul(total, -1, &total) != 0)
    return CS_EOVERFLOW;
  *out_ms = total;
  return 0;
}

size_t cs_duration_format(int64_t d_ms, char buf[CS_DURATION_STRLEN]) {
  if (d_ms == INT64_MIN)
    return (size_t)snprintf(buf, CS_DURATION_STRLEN, "-%" PRIu64 " ms", (uint64_t)INT64_MAX + 1);
  const char *sign = d_ms < 0 ? "-" : "";
  uint64_t a = (uint64_t)(d_ms < 0 ? -d_ms : d_ms);
  if (a < 1000)
    return (size_t)snprintf(buf, CS_DURATION_STRLEN, "%s%" PRIu64 " ms", sign, a);
  uint64_t days = a / 86400000u, h = a / 3600000u % 24, m = a / 60000u % 60, s = a / 1000u % 60,
           ms = a % 1000u;
  char *p = buf;
  size_t left = CS_DURATION_STRLEN;
  int n = snprintf(p, left, "%s", sign);
  p += n, left -= (size_t)n;
  if (days) {
    n = snprintf(p, left, "%" PRIu64 "d ", days);
    p += n, left -= (size_t)n;
  }
  if (days || h) {
    n = snprintf(p, left, "%" PRIu64 "h ", h);
    p += n, left -= (size_t)n;
  }
  if (days || h || m) {
    n = snprintf(p, left, "%" PRIu64 "m ", m);
    p += n, left -= (size_t)n;
  }
  if (ms)
    n = snprintf(p, left, "%" PRIu64 ".%03" PRIu64 "s", s, ms);
  else
    n = snprintf(p, left, "%" PRIu64 "s", s);
  p += n;
  return (size_t)(p - buf);
}
