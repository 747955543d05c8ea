/*
 * Many hosts, one command (`certskew scan`): reads "host[:port] [sni]"
 * lines, runs many diagnoses (diagnose.h: capture, enrichment, judgement)
 * at once on one event loop, and writes one JSON object per host per line
 * (JSON Lines, schema in docs/scan.md) in completion order, each line in
 * one write(2) so a kill leaves at most a partial last line.
 *
 * Memory is bounded whatever the list's length: input is read one line
 * when a slot frees, at most `concurrency` hosts are in flight, and lines
 * are written as they complete. Resuming keeps one 64-bit hash per host
 * already in the output; the shard filter keeps nothing.
 *
 * The pure parts (line parsing, keys, the shard hash, the output line, the
 * resume scan) are public for the unit tests.
 */
#ifndef CERTSKEW_FETCH_SCAN_H
#define CERTSKEW_FETCH_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "certskew/core/error.h"
#include "certskew/fetch/diagnose.h"

#define CS_SCAN_LINE_MAX 1024   /* longer input lines are reported as SCAN_BAD_LINE */
#define CS_SCAN_KEY_MAX 600
#define CS_SCAN_MAX_CLIENTS 16
#define CS_SCAN_DEFAULT_CONCURRENCY 64
#define CS_SCAN_MAX_CONCURRENCY 4096
#define CS_SCAN_MAX_CAUSES 32   /* distinct root causes counted; the rest is "other" */
#define CS_SCAN_SCHEMA "https://certskew.invalid/schema/scan-line"
#define CS_SCAN_SCHEMA_VERSION 1
/* What the connector does: an mbedTLS 2.28 TLS 1.2 client handshake. */
#define CS_SCAN_CAPTURE_METHOD "active TLS 1.2 handshake"

/* One input line, parsed. */
typedef struct cs_scan_target {
  char host[256];   /* name or IP literal, no brackets, lower case */
  int port;         /* 443 when the line names none */
  char sni[256];    /* effective SNI: as given, else the host; "" for IP literals */
  int sni_given;    /* the line named an SNI */
  char key[CS_SCAN_KEY_MAX]; /* normalised "host:port sni" ("[v6]:port" for IPv6; no
                                " sni" when the effective SNI is empty) */
} cs_scan_target_t;

/* Parses one line (without or with its '\n'). Returns 0 with *t filled;
 * CS_EEMPTY for a blank or '#' comment line; CS_EPARSE for a line that is
 * not "host[:port] [sni]" (eb says why). */
int cs_scan_parse_line(const char *line, cs_scan_target_t *t, cs_errbuf_t *eb) CS_MUST_CHECK;

/* FNV-1a 64 of the bytes of key (the shard and resume hash). */
uint64_t cs_scan_key_hash(const char *key);
/* 1 if key belongs to shard k of n (1 <= k <= n): hash % n == k - 1. */
int cs_scan_in_shard(const char *key, unsigned k, unsigned n);

/* A set of 64-bit key hashes (the hosts already in the output). */
typedef struct cs_scan_set {
  uint64_t *slots; /* owned; 0 marks a free slot (hash 0 is stored as 1) */
  size_t cap, count;
} cs_scan_set_t;
void cs_scan_set_init(cs_scan_set_t *s);
void cs_scan_set_free(cs_scan_set_t *s); /* safe twice */
int cs_scan_set_add(cs_scan_set_t *s, uint64_t h) CS_MUST_CHECK; /* 0 or CS_ENOMEM */
int cs_scan_set_has(const cs_scan_set_t *s, uint64_t h);

/* Reads an existing output file (fd open for reading and writing):
 * adds the "key" of every complete line (a JSON object ending in '\n') to
 * done, and truncates a partial last line away so appending starts on a
 * line boundary. *nlines: complete lines kept. Returns 0, CS_EIO or
 * CS_ENOMEM. Lines that do not parse are kept but not counted as done. */
int cs_scan_resume_load(int fd, cs_scan_set_t *done, size_t *nlines, cs_errbuf_t *eb) CS_MUST_CHECK;

/* The per-client verdict of one line. */
typedef struct cs_scan_verdict_summary {
  char verdict[8];          /* "pass", "fail" or "" (no verdict: an error) */
  char root_cause[64];      /* the report's first cause (causes[0].code), or the error code */
} cs_scan_verdict_summary_t;

/* Builds the output line's object for t from a finished diagnosis (res may
 * be NULL with err_code/err_msg for a host never tried, e.g. a bad line;
 * then t may be NULL and raw is the input text). clients: the --client
 * names asked (named in error lines; a judged host's line lists the
 * report's clients). elapsed_ms: the host's wall time. *sum gets the
 * verdict that counts for the exit status and summary: the report's
 * verdict.clients_at (fail when some judged client fails) and its first
 * cause. Returns a new object (caller
 * cJSON_Delete) or NULL on allocation failure. */
cJSON *cs_scan_line_json(const cs_scan_target_t *t, const char *raw,
                         const cs_diagnose_result_t *res, const char *err_code,
                         const char *err_msg, const char *const *clients, size_t nclients,
                         int64_t elapsed_ms, int64_t now_ms, cs_scan_verdict_summary_t *sum);

/* Totals of a run, for the summary. */
typedef struct cs_scan_stats {
  uint64_t read;            /* hosts read (excluding blank/comment lines) */
  uint64_t skipped_shard;   /* not in this shard */
  uint64_t skipped_done;    /* already in the output (resume) */
  uint64_t done;            /* lines written by this run */
  uint64_t pass, fail, error;
  size_t ncauses;
  struct {
    char code[64];
    uint64_t count;
  } causes[CS_SCAN_MAX_CAUSES + 1]; /* the last one is "other" when full */
} cs_scan_stats_t;

typedef struct cs_scan_opts {
  FILE *in;                 /* the host list (borrowed) */
  int out_fd;               /* where lines are written (borrowed) */
  const cs_diagnose_opts_t *diag; /* template: analysis, timeout, fetch, trust_file
                                     (host/port/sni/store are set per host) */
  unsigned concurrency;     /* hosts in flight (0: CS_SCAN_DEFAULT_CONCURRENCY) */
  unsigned shard_k, shard_n; /* 0/0: every host */
  const cs_scan_set_t *done; /* hosts to skip (borrowed), may be NULL */
  const char *const *clients; /* --client names (borrowed) */
  size_t nclients;
  FILE *progress;           /* NULL: no progress line; else rewritten there every 0.5 s */
  uint64_t total_hint;      /* hosts expected (for the progress line), 0 if unknown */
} cs_scan_opts_t;

/* Runs the whole scan. Returns 0 (stats filled) or a setup/output error
 * (CS_EIO when a line cannot be written, with eb). */
int cs_scan_run(const cs_scan_opts_t *opts, cs_scan_stats_t *stats, cs_errbuf_t *eb) CS_MUST_CHECK;

#endif
