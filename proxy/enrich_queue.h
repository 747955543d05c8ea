/*
 * The proxy's enrichment queue: every chain captured for the first time is
 * enriched in the background (include/certskew/fetch/enrich.h), then judged again with the
 * stapled/fetched material and its report.json rewritten, atomically. At
 * most max_inflight enrichments run at once and max_pending wait; beyond
 * that a capture is not enriched (an ENRICH_QUEUE_FULL entry in the API's
 * errors says so). Failures of the probe or a fetch become entries in the
 * report's enrichment.errors and in the API's errors, never a crash, and
 * nothing here ever touches a connection.
 */
#ifndef CERTSKEW_PROXY_ENRICH_QUEUE_H
#define CERTSKEW_PROXY_ENRICH_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "certskew/store/capture.h"
#include "certskew/core/error.h"
#include "certskew/net/upstream.h"
#include "certskew/fetch/verdict.h"

#define CS_ENRICH_QUEUE_DEFAULT_INFLIGHT 4
#define CS_ENRICH_QUEUE_DEFAULT_PENDING 64

typedef struct cs_enrich_queue_conf {
  uv_loop_t *loop;
  cs_judge_t *judge;         /* borrowed: judges again with the material */
  cs_capture_store_t *store; /* borrowed: where reports are rewritten (required) */
  int fetch;                 /* 0: probe only (--no-fetch) */
  uint64_t timeout_ms;       /* per network step; 0 = CS_ENRICH_DEFAULT_TIMEOUT_MS */
  size_t max_inflight;       /* 0 = CS_ENRICH_QUEUE_DEFAULT_INFLIGHT */
  size_t max_pending;        /* 0 = CS_ENRICH_QUEUE_DEFAULT_PENDING */
  int verbose;               /* log each enrichment to stderr */
  uv_mutex_t *lock;          /* borrowed: the proxy's state lock, held by the judge's
                                callers; NULL: one thread only */
  const char *crl_history_dir; /* borrowed: where fetched CRLs are kept per URL to compare
                                  each fetch with the previous one; NULL: not kept */
} cs_enrich_queue_conf_t;

typedef struct cs_enrich_queue cs_enrich_queue_t;

/* *out owned by the caller (cs_enrich_queue_free). CS_EINVAL without a loop,
 * judge or store; CS_ENOMEM. */
int cs_enrich_queue_new(cs_enrich_queue_t **out, const cs_enrich_queue_conf_t *conf) CS_MUST_CHECK;

/* Queues the enrichment of u's chain, stored as capture_id (everything is
 * copied). Matches cs_judge_new_cb, with q as ud. Never blocks. */
void cs_enrich_queue_on_new(void *q, const cs_upstream_t *u, const char *capture_id,
                            const cs_verdict_t *v);

/* At shutdown: drops what waits; enrichments in flight end by their own
 * timeouts without writing. */
void cs_enrich_queue_stop(cs_enrich_queue_t *q);

/* Enrichments running now. */
/* Closes the queue's wake-up handle (on its loop, before cs_enrich_queue_free). */
void cs_enrich_queue_close(cs_enrich_queue_t *q);

size_t cs_enrich_queue_inflight(const cs_enrich_queue_t *q);

/* Frees q. Only once nothing is in flight (the loop has run dry); with
 * enrichments still in flight it returns CS_ESTATE and frees
 * nothing. Safe on NULL (returns 0). */
int cs_enrich_queue_free(cs_enrich_queue_t *q);

#endif
