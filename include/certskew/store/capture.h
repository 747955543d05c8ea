/*
 * The capture store: what servers served, on disk.
 *
 * One directory per served chain per host:port, named by its id
 * "<host>_<port>_<first 16 hex digits of the chain's SHA-256>", holding
 *   chain.pem    the served chain exactly as sent, in order
 *   report.json  the certskew report made when it was first captured
 *   meta.json    host, port, SNI, upstream address, TLS version, cipher,
 *                first/last seen, seen count, worst severity, report_ms (when
 *                report.json was last written)
 *   sightings.jsonl  each connection that served the chain (see below)
 * Writes are atomic (temp + rename); symlinks are never followed or created.
 * An identical chain from the same host:port is stored once; later sightings
 * are appended to sightings.jsonl, may rewrite its report (re-judged), and
 * raise its seen count (meta.json is rewritten at most every few seconds and
 * on cs_capture_store_flush). Retention: each host:port keeps its three
 * newest chains; an older, superseded chain is deleted once its leaf has
 * expired (never before: clients may still be served it). Beyond
 * max_captures a capture is deleted: first a superseded chain whose leaf
 * has expired, else a superseded one, else any, least recently seen first.
 * meta.json records the leaf's notAfter for this. Write failures (full disk,
 * unwritable directory) are returned and remembered (see the list JSON's
 * "store_error", "store_last_error", "store_failed_writes") so the proxy
 * keeps serving without a store.
 *
 * Crash safety: meta.json is written last, so a directory is a capture
 * exactly when it has meta.json; only those with chain.pem and report.json
 * and a meta.json whose every number is in range are indexed (others are
 * skipped with a log line). Opening the store
 * sweeps what a kill -9 leaves: temp files of dead writers and, after a
 * minute, directories without meta.json. One store serves one proxy at a
 * time (several may read it).
 *
 * The store also keeps, in memory, the most recent upstream failures
 * (refused, DNS, reset, handshake) so the API can show them.
 */
#ifndef CERTSKEW_STORE_CAPTURE_H
#define CERTSKEW_STORE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/error.h"

#define CS_CAPTURE_ID_MAX 300

/* The id a chain served by host:port is stored under: "<host>_<port>_<16 hex
 * of the chain's SHA-256>", the host lower-cased with characters other than
 * [a-z0-9.-] as '_' (never a path component of dots). fp is the SHA-256 of
 * the chain's DER certificates in order. */
void cs_capture_id(char id[CS_CAPTURE_ID_MAX], const char *host, int port, const uint8_t fp[32]);

typedef struct cs_capture_meta {
  const char *host;        /* the CONNECT (or diagnose) host */
  int port;
  const char *sni;         /* SNI sent upstream, "" if none */
  const char *upstream;    /* "ip:port" actually connected */
  const char *tls_version; /* e.g. "TLSv1.2" */
  const char *cipher;      /* IANA-ish suite name from mbedTLS */
  int worst;               /* cs_findings_worst at capture time, -1 if none */
} cs_capture_meta_t;

typedef struct cs_capture_store cs_capture_store_t;

/* Opens (creating with mode 0700) dir and indexes the captures found there.
 * max_captures >= 1. *out owned by the caller (cs_capture_store_free). */
int cs_capture_store_open(cs_capture_store_t **out, const char *dir, size_t max_captures,
                          cs_errbuf_t *eb) CS_MUST_CHECK;
/* Flushes pending metadata; safe on NULL. */
void cs_capture_store_free(cs_capture_store_t *s);

/* Records one sighting of a served chain. fp is the chain's SHA-256 (see
 * cs_chain_fingerprint); chain_pem and report_json are written only when
 * the chain is new (a new capture without chain_pem or report_json is
 * refused: CS_EINVAL). id_out (optional) receives the capture id ("" when a
 * new capture could not be written). *is_new (optional) says whether a
 * directory was created. Returns 0 or the write error (CS_EIO /
 * CS_ENOSPACE): a new capture is indexed only once all three files are
 * written; a failed one is removed and not indexed, so the next sighting
 * writes it whole again. */
int cs_capture_store_put(cs_capture_store_t *s, const cs_capture_meta_t *meta,
                         const uint8_t fp[32], const char *chain_pem, const char *report_json,
                         int64_t now_ms, char id_out[CS_CAPTURE_ID_MAX], int *is_new,
                         cs_errbuf_t *eb) CS_MUST_CHECK;

/* Replaces capture id's report.json (atomically), its worst severity and
 * report_ms, e.g. once the capture has been enriched (stapling probe, OCSP,
 * CRL) or re-judged with another verdict.
 * CS_ENOTFOUND if id is not (or no longer) indexed; write errors as for
 * cs_capture_store_put. */
int cs_capture_store_update_report(cs_capture_store_t *s, const char *id,
                                   const char *report_json, int worst, int64_t now_ms,
                                   cs_errbuf_t *eb) CS_MUST_CHECK;

/* Remembers an upstream failure for the API (bounded ring, memory only). */
void cs_capture_store_note_error(cs_capture_store_t *s, const char *host, int port,
                                 const char *code, const char *message, int64_t now_ms);

/* Writes dirty metadata now. Returns the first write error, or 0. */
int cs_capture_store_flush(cs_capture_store_t *s, int64_t now_ms) CS_MUST_CHECK;

/* JSON {"captures":[...], "errors":[...], "store_error": null|"...",
 * "store_last_error": null|{"message","at"}, "store_failed_writes": N}, newly
 * allocated (caller frees), NULL on allocation failure. */
char *cs_capture_store_list_json(cs_capture_store_t *s);

/* Reads file ("chain.pem", "report.json" or "meta.json") of capture id into
 * a new NUL-terminated buffer (caller frees). CS_ENOTFOUND for an unknown
 * id or file name (ids are looked up in the index, never used as paths
 * unchecked). */
int cs_capture_store_read(cs_capture_store_t *s, const char *id, const char *file, char **out,
                          size_t *len) CS_MUST_CHECK;

/* ---- Sightings: each connection that served a capture's chain ----
 * Kept per capture in "sightings.jsonl" (one JSON object a line, appended;
 * beyond CS_SIGHTINGS_KEEP + CS_SIGHTINGS_SLACK lines it is rewritten
 * atomically to its last CS_SIGHTINGS_KEEP). */
#define CS_SIGHTINGS_KEEP 200
#define CS_SIGHTINGS_SLACK 50
#define CS_CAPTURE_KEY_MAX 512

typedef struct cs_sighting {
  int64_t at_ms;           /* when the chain was judged for this connection */
  const char *client_addr; /* "ip:port" of the client, or "" */
  const char *user_agent;  /* the first request's User-Agent (intercepting only), or "" */
  const char *mode;        /* "intercept" or "passthrough" */
  const char *profile;     /* the client profile judged for (cs_client_profile_t name) */
  const char *verdict;     /* "pass" or "fail": that profile at at_ms */
  const char *action;      /* what the client did: "loaded", "rejected", "502", ... */
} cs_sighting_t;

/* Appends one sighting to capture id (all strings borrowed). CS_ENOTFOUND
 * for an unknown id; write errors CS_EIO / CS_ENOSPACE (remembered like a
 * capture's). */
int cs_capture_store_add_sighting(cs_capture_store_t *s, const char *id, const cs_sighting_t *sg,
                                  cs_errbuf_t *eb) CS_MUST_CHECK;

/* JSON {"sightings":[{at_ms, at, capture, host, port, client_addr,
 * user_agent, mode, profile, verdict, action}]}: the newest `limit`
 * sightings of capture id (NULL: across every capture), newest first.
 * Newly allocated (caller frees), NULL on allocation failure. */
char *cs_capture_store_sightings_json(cs_capture_store_t *s, const char *id, size_t limit);

/* The verdict key capture id's report was last written for ("" when not
 * known since the store opened), or NULL for an unknown id. The judge
 * rewrites a report when a sighting's key differs (verdict.h). Memory only:
 * after a restart the first sighting of each capture rewrites its report. */
const char *cs_capture_store_verdict_key(cs_capture_store_t *s, const char *id);
/* Sets it (key copied, truncated to CS_CAPTURE_KEY_MAX - 1); no-op for an unknown id. */
void cs_capture_store_set_verdict_key(cs_capture_store_t *s, const char *id, const char *key);

/* Deletes every capture (directories and index). Returns 0 or CS_EIO (the
 * first directory that could not be removed; the index is emptied anyway). */
int cs_capture_store_clear(cs_capture_store_t *s, cs_errbuf_t *eb) CS_MUST_CHECK;

/* Number of captures indexed. */
size_t cs_capture_store_count(const cs_capture_store_t *s);

#endif
