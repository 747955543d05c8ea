/*
 * The command-line options every analyzing command shares (replay,
 * diagnose, ...): clock models, the instant, a sweep, trust stores, the
 * host name, the CT log list, and captured OCSP/CRL files. Parsing them and
 * loading the files they name lives here once.
 */
#ifndef CERTSKEW_PROXY_ANALYSIS_ARGS_H
#define CERTSKEW_PROXY_ANALYSIS_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/analysis/analysis.h"

#define CS_ARGS_MAX_TRUST 16
#define CS_ARGS_MAX_LOG_LISTS CS_CT_LOGLIST_MAX_LISTS

typedef struct cs_analysis_args {
  cs_analysis_opts_t opts; /* ready for cs_analyze after cs_analysis_args_load */
  cs_clock_t clocks[CS_REPLAY_MAX_CLOCKS];
  cs_client_t clients[CS_ANALYSIS_MAX_CLIENTS]; /* --client, in order */
  /* what the options named */
  const char *trust_paths[CS_ARGS_MAX_TRUST];
  size_t ntrust_paths;
  int no_trust;
  const char *log_list_paths[CS_ARGS_MAX_LOG_LISTS]; /* merged; none: the shipped list */
  size_t nlog_list_paths;
  const char *ocsp_path, *crl_path;
  /* what was loaded (owned) */
  cs_trust_store_t *stores[CS_ARGS_MAX_TRUST];
  size_t nstores;
  uint8_t *ocsp_der, *crl_buf;
  size_t ocsp_len, crl_len;
  cs_ct_log_list_t *log_list;
} cs_analysis_args_t;

/* Cannot fail. */
void cs_analysis_args_init(cs_analysis_args_t *a);
/* Releases what load allocated; safe twice. */
void cs_analysis_args_free(cs_analysis_args_t *a);

/* If argv[*i] is one of the shared options, consumes it (and its value,
 * advancing *i) and returns 1; returns 0 if it is not one of them; prints
 * "certskew CMD: ..." and returns -1 when its value is bad. */
int cs_analysis_args_option(cs_analysis_args_t *a, const char *cmd, int argc, char **argv, int *i);

/* After the options: fills default clocks, loads the trust stores (the
 * system bundle unless --trust or --no-trust), the log lists (or the one
 * certskew ships, see log_list_load.h) and the OCSP/CRL
 * files. Prints what failed; returns 0, or CS_EIO/CS_EPARSE/... */
int cs_analysis_args_load(cs_analysis_args_t *a, const char *cmd);

/* The help text of the shared options, for a command's --help. */
extern const char cs_analysis_args_help[];

#endif
