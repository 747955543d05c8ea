/*
 * Judging a served chain: runs cs_analyze at the real clock (and every
 * configured clock model) with the shared analysis options (trust stores,
 * CT log list, ...), records the capture, and says whether the browser may
 * be given the traffic. Verdicts are cached per host:port and chain for one
 * second so a burst of connections analyzes once. A chain stored for the
 * first time is announced through on_new (the proxy enriches it there);
 * cs_judge_enriched judges it again with the enrichment's material, and
 * cs_judge_keep_enrichment makes later connections serving that chain be
 * judged with it too (so a revoked upstream gets the 502 page once the
 * fetch has shown it), for CS_JUDGE_ENRICHED_TTL_MS.
 */
#ifndef CERTSKEW_FETCH_VERDICT_H
#define CERTSKEW_FETCH_VERDICT_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/store/capture.h"
#include "certskew/core/clock.h"
#include "certskew/core/error.h"
#include "certskew/fetch/enrich.h"
#include "certskew/net/upstream.h"

#include <mbedtls/x509_crt.h>

#define CS_VERDICT_REASONS 2048
#define CS_JUDGE_CACHE 64
#define CS_JUDGE_ENRICHED_MAX 64                    /* chains whose material is kept */
#define CS_JUDGE_ENRICHED_TTL_MS (10 * 60 * 1000)   /* then it is judged without it */

#define CS_VERDICT_FAILING 256

typedef struct cs_verdict {
  int worst;   /* cs_findings_worst, -1 if no finding */
  int invalid; /* 1: the judge's browser profile (cs_judge_t.browser) rejects the chain at
                  the real clock, or it does not parse */
  char failing[CS_VERDICT_FAILING]; /* profiles that fail at the real clock, each as
                                       ",name," (e.g. ",safari,,firefox,"); "" if none */
  int missing_intermediate; /* the trust analysis found MISSING_INTERMEDIATE */
  char capture_id[CS_CAPTURE_ID_MAX]; /* "" if not stored */
  char reasons[CS_VERDICT_REASONS];   /* "client: CAUSE: detail\n" per failing client, the
                                         browser's first */
  char fixes[CS_VERDICT_REASONS];     /* "profile: fix\n" per failing client, same order */
  char key[CS_CAPTURE_KEY_MAX];       /* cs_verdict_key of the analysis ("" from the cache) */
  int64_t judged_ms;                  /* the instant judged */
  char *report_json;                  /* owned, only when asked for */
  char *chain_pem;                    /* owned, with report_json from cs_judge_enriched */
} cs_verdict_t;

typedef struct cs_judge_cache_entry {
  char host[256];
  int port;
  uint8_t fp[32];
  int64_t at_ms;
  int worst, invalid;
  char failing[CS_VERDICT_FAILING];
  char capture_id[CS_CAPTURE_ID_MAX];
  char reasons[CS_VERDICT_REASONS];
  char fixes[CS_VERDICT_REASONS];
} cs_judge_cache_entry_t;

/* What an enrichment found about one chain served by host:port. */
typedef struct cs_judge_enriched {
  char host[256];
  int port;
  uint8_t fp[32];            /* SHA-256 of the chain's DER certificates */
  int64_t kept_ms;           /* when it was kept; expires CS_JUDGE_ENRICHED_TTL_MS later */
  cs_enrich_result_t *res;   /* owned; NULL for a free slot */
} cs_judge_enriched_t;

/* A chain was stored for the first time (capture_id), after u was judged. */
typedef void (*cs_judge_new_cb)(void *ud, const cs_upstream_t *u, const char *capture_id,
                                const cs_verdict_t *v);

typedef struct cs_judge {
  /* What every analysis shares (all borrowed): clocks (>= 1), trust stores,
   * log list, sweep; hostname NULL means each chain's SNI (else its host).
   * source, has_at/at_ms and the revocation/SCT fields are set per call. */
  cs_analysis_opts_t base;
  char browser[32];          /* profile whose verdict sets cs_verdict_t.invalid ("chrome") */
  cs_capture_store_t *store; /* borrowed; NULL to capture nothing */
  cs_judge_new_cb on_new;    /* optional */
  void *on_new_ud;
  cs_judge_cache_entry_t cache[CS_JUDGE_CACHE];
  size_t cache_next;
  cs_judge_enriched_t enriched[CS_JUDGE_ENRICHED_MAX]; /* oldest replaced first */
  size_t enriched_next;
  uint64_t analyses;         /* cs_analyze calls (cache misses) */
} cs_judge_t;

/* The verdict key of an analysis: every client's verdict and root cause at
 * the instant (",name:fail:CAUSE>CONSEQUENCE" or ",name:pass" each), then
 * "|" and extra (NULL for none; the passthrough adds the client's
 * reaction). A stored report is rewritten when a later sighting's key
 * differs. Truncated to cap. */
void cs_verdict_key(const cs_analysis_t *a, const char *extra, char *out, size_t cap);
/* 1 if key (from cs_verdict_key) says profile fails. */
int cs_verdict_key_fails(const char *key, const char *profile);

/* 1 if the profile named (a cs_client_profile_t name) fails in v. */
int cs_verdict_client_fails(const cs_verdict_t *v, const char *profile);

/* Copies *base (its pointers stay borrowed); the browser is "chrome" until
 * set. Cannot fail. */
void cs_judge_init(cs_judge_t *j, const cs_analysis_opts_t *base, cs_capture_store_t *store);
/* Releases the kept enrichment results; safe twice. */
void cs_judge_free(cs_judge_t *j);
/* Keeps res (ownership moves to the judge; freed when replaced, expired or
 * at cs_judge_free) as the material later connections to host:port serving
 * chain (DER, len bytes) are judged with, and drops cached verdicts of that
 * chain so the next connection sees it at once. */
void cs_judge_keep_enrichment(cs_judge_t *j, const char *host, int port, const uint8_t *chain,
                              size_t len, int64_t now_ms, cs_enrich_result_t *res);
/* The enrichment material kept for host:port serving the chain whose
 * cs_chain_fingerprint is fp, or NULL (none, or expired at now_ms). */
const cs_enrich_result_t *cs_judge_kept_enrichment(cs_judge_t *j, const char *host, int port,
                                                   const uint8_t fp[32], int64_t now_ms);
/* Judges u's served chain at now_ms. want_report: fill v->report_json
 * (bypasses the cache). Store write errors are logged to stderr, never
 * fatal. Calls on_new when the chain was stored for the first time. A
 * chain seen before is re-judged (at most once a second, the cache): when
 * the clients' verdicts or causes differ from those its stored report was
 * written for (or are not known since the store opened), report.json is
 * rewritten with this judgement.
 * Returns 0, or CS_ENOMEM. */
int cs_judge_chain(cs_judge_t *j, const cs_upstream_t *u, int64_t now_ms, int want_report,
                   cs_verdict_t *v) CS_MUST_CHECK;
/* Judges a chain (PEM or DER) of source ("host:port") for hostname (NULL:
 * the base's) at at_ms with the enrichment's material (extra may be NULL),
 * filling v->report_json (with the "enrichment" section when extra is
 * given) and v->chain_pem. Touches neither the cache nor the store.
 * Returns 0, or CS_ENOMEM; an unreadable chain is a CHAIN_UNREADABLE
 * reason with no report. */
int cs_judge_enriched(cs_judge_t *j, const char *source, const char *hostname,
                      const uint8_t *chain, size_t len, int64_t at_ms,
                      const cs_enrich_result_t *extra, cs_verdict_t *v) CS_MUST_CHECK;
/* Stores a chain judged by cs_judge_enriched (v->chain_pem and
 * v->report_json) as u's capture, filling v->capture_id; store errors are
 * logged, never fatal. No-op without a store. */
void cs_judge_record(cs_judge_t *j, const cs_upstream_t *u, int64_t now_ms, cs_verdict_t *v);
/* Records one connection that was given (or refused) v's capture: the
 * profile is the User-Agent's (ua non-empty and recognised), else the
 * judge's browser; its verdict comes from v. mode "intercept" or
 * "passthrough"; action what the client did or was given. Store errors are
 * logged, never fatal; no-op without a store or capture id. */
void cs_judge_sighting(cs_judge_t *j, const cs_verdict_t *v, int64_t at_ms,
                       const char *client_addr, const char *ua, const char *mode,
                       const char *action);
/* The profile a connection is judged for: the User-Agent's, else the
 * judge's browser. *from_ua (optional) says which. */
const char *cs_judge_profile_for(const cs_judge_t *j, const char *ua, int *from_ua);

/* Safe twice. */
void cs_verdict_free(cs_verdict_t *v);

#endif
