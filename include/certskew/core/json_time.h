/*
 * Private: how every report section writes an instant, so the report has
 * one encoding of time (docs/report-schema.md): {"ms": n, "rfc3339": "..."},
 * with "ms" a number while exact in a double (|ms| <= 2^53) and a decimal
 * string beyond; the unbounded ends CS_TIME_NEG_INF/POS_INF are null.
 */
#ifndef CERTSKEW_CORE_JSON_TIME_H
#define CERTSKEW_CORE_JSON_TIME_H

#include <stdint.h>

#include <cjson/cJSON.h>

/* A new time value (caller owns it), or NULL on allocation failure. */
cJSON *cs_json_time(int64_t t_ms);
/* Adds key: <time> to obj; returns the added item, NULL on failure. */
cJSON *cs_json_add_time(cJSON *obj, const char *key, int64_t t_ms);
/* Adds key: <ms> as a number (exact) or decimal string; NULL on failure. */
cJSON *cs_json_add_ms(cJSON *obj, const char *key, int64_t ms);

#endif
