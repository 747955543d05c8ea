/*
 * Time in certskew: int64_t milliseconds since 1970-01-01T00:00:00Z (UTC,
 * proleptic Gregorian, no leap seconds), always named *_ms.
 *
 * All arithmetic is checked: a result that does not fit returns CS_EOVERFLOW
 * instead of wrapping. The two extreme values are reserved as "unbounded"
 * markers in intervals (CS_TIME_NEG_INF, CS_TIME_POS_INF).
 */
#ifndef CERTSKEW_CORE_TIME_H
#define CERTSKEW_CORE_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/error.h"

#define CS_TIME_NEG_INF INT64_MIN /* "since forever" in an interval */
#define CS_TIME_POS_INF INT64_MAX /* "for ever after" in an interval */

#define CS_MS_PER_SECOND INT64_C(1000)
#define CS_MS_PER_MINUTE INT64_C(60000)
#define CS_MS_PER_HOUR INT64_C(3600000)
#define CS_MS_PER_DAY INT64_C(86400000)

/* *out = a + b, or CS_EOVERFLOW (out untouched). */
int cs_time_add(int64_t a, int64_t b, int64_t *out) CS_MUST_CHECK;
/* *out = a - b, or CS_EOVERFLOW. */
int cs_time_sub(int64_t a, int64_t b, int64_t *out) CS_MUST_CHECK;
/* *out = a * b, or CS_EOVERFLOW. */
int cs_time_mul(int64_t a, int64_t b, int64_t *out) CS_MUST_CHECK;

/* Floor and ceiling of t to a multiple of unit_ms (> 0), mathematically
 * (towards -inf / +inf, also for negative t). CS_EOVERFLOW if not representable. */
int cs_time_floor(int64_t t_ms, int64_t unit_ms, int64_t *out) CS_MUST_CHECK;
int cs_time_ceil(int64_t t_ms, int64_t unit_ms, int64_t *out) CS_MUST_CHECK;

/* A broken-down UTC time. year is astronomical (0 = 1 BC, may be negative). */
typedef struct cs_civil {
  int64_t year;
  int month;  /* 1..12 */
  int day;    /* 1..31 */
  int hour;   /* 0..23 */
  int minute; /* 0..59 */
  int second; /* 0..59 (leap second 60 is rejected by the parsers) */
  int millisecond; /* 0..999 */
} cs_civil_t;

/* civil -> ms. CS_ERANGE for fields out of range (Feb 30, hour 24, ...),
 * CS_EOVERFLOW if the instant does not fit int64 ms. */
int cs_time_from_civil(const cs_civil_t *c, int64_t *out_ms) CS_MUST_CHECK;
/* ms -> civil; total for every int64 value. */
void cs_time_to_civil(int64_t t_ms, cs_civil_t *out);

/* Parses an instant: RFC 3339 ("2026-11-23T21:03:03.095Z", "T" or space,
 * 0-3 fraction digits, "Z" or +hh:mm), or epoch milliseconds as an integer
 * optionally suffixed "ms" ("1790000000000", "-5ms"), or epoch seconds with
 * "@" prefix ("@1790000000"). Whole string must match. */
int cs_time_parse(const char *s, int64_t *out_ms) CS_MUST_CHECK;

/* Longest output of cs_time_format including NUL. */
#define CS_TIME_STRLEN 40
/* Formats RFC 3339 with milliseconds, UTC ("2026-11-23T21:03:03.095Z").
 * Years outside 0000..9999 use the ISO 8601 expanded form ("+292278994-...").
 * CS_TIME_NEG_INF/POS_INF print as "-inf"/"+inf". Returns chars written. */
size_t cs_time_format(int64_t t_ms, char buf[CS_TIME_STRLEN]);

/* Parses a signed duration: number + unit, units ms, s, m (minutes), h, d, w;
 * several terms may follow each other ("1h30m", "-2s", "+300ms", "1.5s").
 * A bare number is milliseconds. CS_EOVERFLOW if out of range. */
int cs_duration_parse(const char *s, int64_t *out_ms) CS_MUST_CHECK;

#define CS_DURATION_STRLEN 48
/* Formats a duration for people: "-1h 2m 3.095s", "62 ms", "0 ms". */
size_t cs_duration_format(int64_t d_ms, char buf[CS_DURATION_STRLEN]);

#endif
