/* One JSON encoding of time for the whole report (see json_time.h). */
#include "certskew/core/json_time.h"

#include <inttypes.h>
#include <stdio.h>

#include "certskew/core/time.h"

#define JSON_EXACT_MAX INT64_C(9007199254740992) /* 2^53 */

static cJSON *ms_value(int64_t ms) {
  if (ms >= -JSON_EXACT_MAX && ms <= JSON_EXACT_MAX)
    return cJSON_CreateNumber((double)ms);
  char buf[32];
  snprintf(buf, sizeof(buf), "%" PRId64, ms);
  return cJSON_CreateString(buf);
}

cJSON *cs_json_time(int64_t t_ms) {
  if (t_ms == CS_TIME_NEG_INF || t_ms == CS_TIME_POS_INF)
    return cJSON_CreateNull();
  cJSON *o = cJSON_CreateObject();
  cJSON *ms = ms_value(t_ms);
  char buf[CS_TIME_STRLEN];
  cs_time_format(t_ms, buf);
  if (o == NULL || ms == NULL || !cJSON_AddItemToObject(o, "ms", ms)) {
    cJSON_Delete(ms);
    cJSON_Delete(o);
    return NULL;
  }
  if (cJSON_AddStringToObject(o, "rfc3339", buf) == NULL) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

static cJSON *add(cJSON *obj, const char *key, cJSON *item) {
  if (item == NULL || obj == NULL || !cJSON_AddItemToObject(obj, key, item)) {
    cJSON_Delete(item);
    return NULL;
  }
  return item;
}

cJSON *cs_json_add_time(cJSON *obj, const char *key, int64_t t_ms) {
  return add(obj, key, cs_json_time(t_ms));
}

cJSON *cs_json_add_ms(cJSON *obj, const char *key, int64_t ms) { return add(obj, key, ms_value(ms)); }
