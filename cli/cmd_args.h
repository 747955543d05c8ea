/* Small option-value parsers shared by the proxy, ca and diagnose commands. */
#ifndef CERTSKEW_PROXY_CMD_ARGS_H
#define CERTSKEW_PROXY_CMD_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/clock.h"

#define CS_CMD_MAX_CLOCKS 32

/* Returns the option's value (argv[++*i]) or NULL after printing an error
 * when it is missing. */
const char *cs_cmd_value(int argc, char **argv, int *i, const char *cmd);
/* Decimal in [min, max]; prints an error and returns -1 on failure. */
int cs_cmd_uint(const char *cmd, const char *opt, const char *s, long long min, long long max,
                long long *out);
/* Duration ("10s", "500ms") > 0; prints an error and returns -1. */
int cs_cmd_duration(const char *cmd, const char *opt, const char *s, int64_t *out_ms);
/* Appends a parsed clock model; prints an error and returns -1. */
int cs_cmd_clock(const char *cmd, const char *s, cs_clock_t *clocks, size_t *n);

#endif
