/*
 * Judging a served chain: runs cs_analyze at the real clock (and every
 * configured clock model), folds in mbedTLS's non-time verification result
 * (trust, name), records the capture, and says whether the browser may be
 * given the traffic. Verdicts are cached per host:port and chain for one
 * second so a burst of connections analyzes once.
 */
#ifndef CERTSKEW_PROXY_VERDICT_H
#define CERTSKEW_PROXY_VERDICT_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/capture.h"
#include "certskew/clock.h"
#include "certskew/error.h"
#include "upstream.h"

#include <mbedtls/x509_crt.h>

#define CS_VERDICT_REASONS 2048
#define CS_JUDGE_CACHE 64

typedef struct cs_verdict {
  int worst;   /* cs_findings_worst, -1 if no finding */
  int invalid; /* 1: fails at the real clock (or does not verify) */
  char capture_id[CS_CAPTURE_ID_MAX]; /* "" if not stored */
  char reasons[CS_VERDICT_REASONS];   /* "CODE: summary\n" per error finding */
  char *report_json;                  /* owned, only when asked for */
} cs_verdict_t;

typedef struct cs_judge_cache_entry {
  char host[256];
  int port;
  uint8_t fp[32];
  int64_t at_ms;
  int worst, invalid;
  char capture_id[CS_CAPTURE_ID_MAX];
  char reasons[CS_VERDICT_REASONS];
} cs_judge_cache_entry_t;

typedef struct cs_judge {
  const cs_clock_t *clocks; /* borrowed; nclocks >= 1 */
  size_t nclocks;
  cs_capture_store_t *store; /* borrowed; NULL to capture nothing */
  const mbedtls_x509_crt *trust; /* borrowed trust anchors */
  cs_judge_cache_entry_t cache[CS_JUDGE_CACHE];
  size_t cache_next;
  uint64_t analyses;         /* cs_analyze calls (cache misses) */
} cs_judge_t;

/* Cannot fail. */
void cs_judge_init(cs_judge_t *j, const cs_clock_t *clocks, size_t nclocks,
                   cs_capture_store_t *store, const mbedtls_x509_crt *trust);
/* Judges u's served chain at now_ms. want_report: fill v->report_json
 * (bypasses the cache). Store write errors are logged to stderr, never
 * fatal. Returns 0, or CS_ENOMEM. */
int cs_judge_chain(cs_judge_t *j, const cs_upstream_t *u, int64_t now_ms, int want_report,
                   cs_verdict_t *v) CS_MUST_CHECK;
/* Safe twice. */
void cs_verdict_free(cs_verdict_t *v);

#endif
