/* The one table of error names and messages (see include/certskew/core/error.h). */
#include "certskew/core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *cs_strerror(int err) {
  switch (err) {
  case CS_OK:
    return "success";
#define CS_ERRNO_MSG(name, value, msg) \
  case CS_##name:                      \
    return msg;
    CS_ERRNO_MAP(CS_ERRNO_MSG)
#undef CS_ERRNO_MSG
  default:
    return "unknown error";
  }
}

const char *cs_errname(int err) {
  switch (err) {
  case CS_OK:
    return "OK";
#define CS_ERRNO_NAME(name, value, msg) \
  case CS_##name:                       \
    return #name;
    CS_ERRNO_MAP(CS_ERRNO_NAME)
#undef CS_ERRNO_NAME
  default:
    return "EUNKNOWN";
  }
}

void cs_errbuf_init(cs_errbuf_t *eb) {
  if (eb == NULL)
    return;
  eb->code = 0;
  eb->msg[0] = '\0';
}

int cs_errbuf_set(cs_errbuf_t *eb, int code, const char *fmt, ...) {
  if (eb == NULL)
    return code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
  va_end(ap);
  eb->code = code;
  return code;
}
