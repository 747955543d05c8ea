/*
 * certskew error codes.
 *
 * Every certskew function that can fail returns int: 0 on success or one of
 * the negative CS_E* codes below. One table (CS_ERRNO_MAP) pairs each code
 * with its message, libuv-style, so codes and messages can never drift apart.
 *
 * Parsers that can say more than a code (which certificate, which byte) also
 * take an optional cs_errbuf_t and write a one-line detail into it.
 */
#ifndef CERTSKEW_CORE_ERROR_H
#define CERTSKEW_CORE_ERROR_H

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define CS_MUST_CHECK __attribute__((warn_unused_result))
#define CS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CS_MUST_CHECK
#define CS_PRINTF(a, b)
#endif

/* X(name, value, message). Values are stable: they appear in JSON reports. */
#define CS_ERRNO_MAP(X)                                                       \
  X(ENOMEM, -1, "out of memory")                                              \
  X(EINVAL, -2, "invalid argument")                                           \
  X(EOVERFLOW, -3, "time arithmetic overflows 64-bit milliseconds")           \
  X(EPARSE, -4, "malformed input")                                            \
  X(ETRUNC, -5, "input is truncated")                                         \
  X(ETOOBIG, -6, "input exceeds a size limit")                                \
  X(EUNSUPPORTED, -7, "unsupported version or algorithm")                     \
  X(ENOTFOUND, -8, "not found")                                               \
  X(EIO, -9, "input/output error")                                            \
  X(ECRYPTO, -10, "cryptographic operation failed")                           \
  X(ERANGE, -11, "value out of range")                                        \
  X(EEMPTY, -12, "input holds nothing to analyze")                            \
  X(ENOSPACE, -13, "output buffer too small")                                 \
  X(ENET, -14, "network error")                                               \
  X(ETIMEDOUT, -15, "operation timed out")                                    \
  X(ESTATE, -16, "operation not valid in the current state")

typedef enum cs_errno {
  CS_OK = 0,
#define CS_ERRNO_ENUM(name, value, msg) CS_##name = (value),
  CS_ERRNO_MAP(CS_ERRNO_ENUM)
#undef CS_ERRNO_ENUM
} cs_errno_t;

/* Human message for a code; never NULL (unknown codes get a generic text). */
const char *cs_strerror(int err);
/* Stable short name ("EPARSE") for a code; never NULL. */
const char *cs_errname(int err);

/* Optional detail for an error: a caller-owned buffer, zeroed by _init. */
typedef struct cs_errbuf {
  int code;       /* last code set, 0 if none */
  char msg[256];  /* one line, NUL-terminated */
} cs_errbuf_t;

void cs_errbuf_init(cs_errbuf_t *eb);
/* Records code and a formatted detail in eb (eb may be NULL) and returns code,
 * so a parser can write `return cs_errbuf_set(eb, CS_EPARSE, "...")`. */
int cs_errbuf_set(cs_errbuf_t *eb, int code, const char *fmt, ...) CS_PRINTF(3, 4);

#endif
