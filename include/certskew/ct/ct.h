/*
 * Certificate Transparency: log lists, SCT signature verification (RFC 6962
 * §3.2) and the CT analyzer that explains why SCTs fail.
 *
 * Three layers, each usable alone:
 *  1. Log list: Chrome's v3 JSON log list (the format of
 *     https://www.gstatic.com/ct/log_list/v3/all_logs_list.json) parsed into
 *     an immutable cs_ct_log_list_t: operators, logs, ids, keys, states and
 *     temporal intervals. Every log id is checked to be SHA-256 of its key.
 *  2. Verification: the RFC 6962 signed data for a certificate (the
 *     precertificate TBS rebuilt from the final certificate for embedded SCTs,
 *     the whole leaf DER for SCTs from the TLS extension or OCSP) and the
 *     ECDSA / RSA signature check with the log's key, with an optional cache.
 *  3. Analysis: every SCT of a served chain judged (log, state, timestamp,
 *     signature, temporal interval) plus Chrome's CT policy, appended to
 *     cs_findings_t with stable codes (below), and a cJSON rendering.
 *
 * Everything here is pure: no files, sockets or clock; time is an argument.
 */
#ifndef CERTSKEW_CT_CT_H
#define CERTSKEW_CT_CT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "certskew/core/chain.h"
#include "certskew/core/clock.h"
#include "certskew/core/error.h"
#include "certskew/core/findings.h"
#include "certskew/core/replay.h"
#include "certskew/core/sct.h"
#include "certskew/core/time.h"

/* ------------------------------------------------------------------------ */
/* Log list                                                                 */
/* ------------------------------------------------------------------------ */

/* Chrome's log states (https://googlechrome.github.io/CertificateTransparency/log_states.html). */
typedef enum cs_ct_log_state {
  CS_CT_STATE_UNKNOWN = 0, /* no state given, or the time is before any known state */
  CS_CT_STATE_PENDING,
  CS_CT_STATE_QUALIFIED,
  CS_CT_STATE_USABLE,
  CS_CT_STATE_READONLY,
  CS_CT_STATE_RETIRED,
  CS_CT_STATE_REJECTED,
} cs_ct_log_state_t;

/* One log. Read-only; owned by its list and valid until cs_ct_log_list_free. */
typedef struct cs_ct_log {
  const char *description;   /* "" if the list gives none */
  const char *operator_name; /* the operator's "name" */
  const char *url;           /* "url", or "submission_url" of a tiled log; "" if none */
  uint8_t log_id[32];        /* SHA-256 of key_der (verified at load) */
  const uint8_t *key_der;    /* SubjectPublicKeyInfo DER */
  size_t key_der_len;
  uint8_t sig_alg;           /* CS_SCT_SIG_ECDSA or CS_SCT_SIG_RSA: what the key signs with */
  mbedtls_pk_context pk;     /* the parsed key */
  int64_t mmd_s;             /* maximum merge delay in seconds, -1 if absent */
  cs_ct_log_state_t state;   /* current state in the list */
  int64_t state_since_ms;    /* when it entered that state (valid if state != UNKNOWN) */
  int has_interval;          /* 1 if temporal_interval is given */
  int64_t interval_start_ms; /* start_inclusive */
  int64_t interval_end_ms;   /* end_exclusive */
  int tiled;                 /* 1 if listed under "tiled_logs" (static CT API) */
  int test_log;              /* 1 if log_type is "test" */
} cs_ct_log_t;

typedef struct cs_ct_log_list cs_ct_log_list_t;

/* Limits that make a hostile list a clear error rather than a resource sink. */
#define CS_CT_LOGLIST_MAX_INPUT (16u * 1024 * 1024)
#define CS_CT_LOGLIST_MAX_LOGS 4096

/* Parses a Chrome v3 log list from json[0..len) (need not be NUL-terminated;
 * copied, the caller keeps its buffer). Logs come from every operator's
 * "logs" and "tiled_logs". Strict about what verification depends on: every
 * log needs a base64 "key" that parses as an EC or RSA public key and a
 * base64 "log_id" equal to SHA-256 of that key; states and temporal
 * intervals must hold RFC 3339 timestamps; log ids must be unique.
 * On success *out is a new list (free with cs_ct_log_list_free); on error
 * *out is NULL and eb names the operator/log and the problem. Returns 0,
 * CS_EEMPTY, CS_ETOOBIG, CS_EPARSE, CS_EUNSUPPORTED or CS_ENOMEM. */
int cs_ct_log_list_load(cs_ct_log_list_t **out, const uint8_t *json, size_t len,
                        cs_errbuf_t *eb) CS_MUST_CHECK;
/* At most this many lists are merged by cs_ct_log_list_load_many. */
#define CS_CT_LOGLIST_MAX_LISTS 16

/* Parses n (1..CS_CT_LOGLIST_MAX_LISTS) Chrome v3 log lists, jsons[k][0..lens[k]),
 * each as cs_ct_log_list_load does, and merges them by log id: a log in
 * several lists appears once, as the list with the latest log_list_timestamp
 * describes it (the later input on a tie). Within one list a repeated id is
 * still an error. The merged list's log_list_timestamp is the latest of
 * them, its version the versions joined with "+". At most
 * CS_CT_LOGLIST_MAX_LOGS logs in all. Errors name the list ("list #2: ...")
 * when n > 1. Returns as cs_ct_log_list_load, or CS_EINVAL for a bad n. */
int cs_ct_log_list_load_many(cs_ct_log_list_t **out, const uint8_t *const *jsons,
                             const size_t *lens, size_t n, cs_errbuf_t *eb) CS_MUST_CHECK;
/* Safe on NULL. */
void cs_ct_log_list_free(cs_ct_log_list_t *list);

/* Marks list as a default the user did not ask for (the snapshot certskew
 * ships). Such a list judges Chrome's CT policy only for a leaf that carries
 * SCTs: Chrome exempts certificates from locally-trusted (private) roots,
 * which usually carry none, so a leaf without SCTs is not an error unless a
 * list was asked for. Safe on NULL. */
void cs_ct_log_list_set_implicit(cs_ct_log_list_t *list, int implicit);
int cs_ct_log_list_implicit(const cs_ct_log_list_t *list);

size_t cs_ct_log_list_count(const cs_ct_log_list_t *list);
/* The i-th log in list order, NULL if out of range. */
const cs_ct_log_t *cs_ct_log_list_get(const cs_ct_log_list_t *list, size_t i);
/* The log with this id, or NULL (also when list is NULL). */
const cs_ct_log_t *cs_ct_log_list_find(const cs_ct_log_list_t *list, const uint8_t log_id[32]);
/* The list's "version" string ("" if absent) and log_list_timestamp
 * (CS_TIME_NEG_INF if absent). */
const char *cs_ct_log_list_version(const cs_ct_log_list_t *list);
int64_t cs_ct_log_list_timestamp(const cs_ct_log_list_t *list);

/* Stable name of a state ("usable", "retired", ..., "unknown"). */
const char *cs_ct_log_state_name(cs_ct_log_state_t state);

/* The state of log at at_ms. The list only records the current state and
 * when it began; before that instant the previous state is inferred from
 * Chrome's life cycle (pending -> qualified -> usable -> readonly/retired)
 * and *inferred (optional) is set to 1; a rejected log's, or a pending log's
 * earlier state is UNKNOWN. */
cs_ct_log_state_t cs_ct_log_state_at(const cs_ct_log_t *log, int64_t at_ms, int *inferred);

/* ------------------------------------------------------------------------ */
/* Verification                                                             */
/* ------------------------------------------------------------------------ */

/* DER contents of the CT extension OIDs (1.3.6.1.4.1.11129.2.4.2 / .3). */
extern const uint8_t CS_CT_OID_SCT_LIST[10];
extern const uint8_t CS_CT_OID_POISON[10];

/* Copies a DER TBSCertificate without the extension whose OID content bytes
 * are oid[0..oid_len), re-encoding the lengths of the Extensions SEQUENCE,
 * the [3] wrapper and the TBS SEQUENCE. If the removed extension was the
 * only one, the [3] Extensions field is omitted (Extensions is SIZE(1..MAX)).
 * *out is newly allocated (caller frees) and *found (optional) says whether
 * the extension was present (if not, *out is an exact copy).
 * Returns 0, CS_EPARSE (not a well-formed TBS, or the extension appears
 * twice) or CS_ENOMEM. */
int cs_ct_tbs_remove_ext(const uint8_t *tbs, size_t tbs_len, const uint8_t *oid, size_t oid_len,
                         uint8_t **out, size_t *out_len, int *found) CS_MUST_CHECK;

/* RFC 6962 LogEntryType. */
typedef enum cs_ct_entry_type {
  CS_CT_ENTRY_X509 = 0,    /* SCT over the whole certificate (TLS extension, OCSP) */
  CS_CT_ENTRY_PRECERT = 1, /* SCT over the precertificate (embedded) */
} cs_ct_entry_type_t;

/* What a log signed, for one leaf: both entry forms prepared once and
 * reused for every SCT. Owns precert_tbs; borrows the leaf's DER. */
typedef struct cs_ct_entry {
  const uint8_t *leaf_der;   /* borrowed from the leaf */
  size_t leaf_der_len;
  uint8_t *precert_tbs;      /* owned: leaf TBS without SCT list and poison, or NULL */
  size_t precert_tbs_len;
  int has_issuer;            /* 1 if issuer_key_hash is set */
  uint8_t issuer_key_hash[32]; /* SHA-256 of the issuer's SubjectPublicKeyInfo */
  int precert_error;         /* 0, or why precert_tbs could not be built */
} cs_ct_entry_t;

/* Zeroes entry. Cannot fail. */
void cs_ct_entry_init(cs_ct_entry_t *entry);
/* Prepares the entry for leaf (borrowed, must outlive the entry) issued by
 * issuer (may be NULL: embedded SCTs then cannot be checked). A leaf whose
 * TBS cannot be rebuilt is not an error here: precert_error records it and
 * verification of embedded SCTs reports CS_CT_SIG_ERROR.
 * Returns 0 or CS_ENOMEM / CS_EINVAL. */
int cs_ct_entry_prepare(cs_ct_entry_t *entry, const mbedtls_x509_crt *leaf,
                        const mbedtls_x509_crt *issuer) CS_MUST_CHECK;
/* Safe on a zeroed entry and twice. */
void cs_ct_entry_free(cs_ct_entry_t *entry);

/* Serializes the RFC 6962 §3.2 digitally-signed struct of an SCT:
 * version(1)=0, signature_type(1)=0, timestamp(8), entry_type(2), the entry
 * (x509: ASN.1Cert<1..2^24-1>; precert: issuer_key_hash[32] +
 * TBSCertificate<1..2^24-1>), extensions<0..2^16-1>.
 * *out is newly allocated (caller frees). Returns 0, CS_EINVAL (negative
 * timestamp, missing entry or issuer hash), CS_ETOOBIG or CS_ENOMEM. */
int cs_ct_signed_data(cs_ct_entry_type_t type, int64_t timestamp_ms,
                      const uint8_t issuer_key_hash[32], const uint8_t *entry, size_t entry_len,
                      const uint8_t *ext, size_t ext_len, uint8_t **out,
                      size_t *out_len) CS_MUST_CHECK;

/* A verification cache keyed by (log id, SHA-256 of the signed data,
 * SHA-256 of the signature): a fixed-size table, replacement by slot. Not
 * thread-safe; owned by the caller. */
typedef struct cs_ct_cache cs_ct_cache_t;
/* capacity >= 1 entries. NULL on allocation failure. */
cs_ct_cache_t *cs_ct_cache_new(size_t capacity);
/* Safe on NULL. */
void cs_ct_cache_free(cs_ct_cache_t *cache);
/* Lookups answered from the cache, and lookups that had to verify. */
void cs_ct_cache_stats(const cs_ct_cache_t *cache, uint64_t *hits, uint64_t *misses);

/* Verifies sig over data with log's key: ECDSA (DER signature) or RSA
 * PKCS#1 v1.5, both over SHA-256. cache may be NULL.
 * Returns 0 if valid, CS_ECRYPTO if the signature does not verify,
 * CS_EUNSUPPORTED if sig_alg does not match the log's key type. */
int cs_ct_verify_signature(const cs_ct_log_t *log, uint8_t sig_alg, const uint8_t *data,
                           size_t data_len, const uint8_t *sig, size_t sig_len,
                           cs_ct_cache_t *cache) CS_MUST_CHECK;

/* The verdict on one SCT's signature. */
typedef enum cs_ct_sig_verdict {
  CS_CT_SIG_VALID = 1,
  CS_CT_SIG_INVALID,       /* does not verify with the log's key */
  CS_CT_SIG_UNKNOWN_LOG,   /* log id not in the list (or no list) */
  CS_CT_SIG_NO_ISSUER,     /* embedded SCT, but the issuer is not in the chain */
  CS_CT_SIG_UNSUPPORTED,   /* SCT version or algorithms not v1/SHA-256/ECDSA|RSA */
  CS_CT_SIG_ALG_MISMATCH,  /* SCT's signature algorithm differs from the log key's */
  CS_CT_SIG_ERROR,         /* the precertificate could not be rebuilt from the leaf */
} cs_ct_sig_verdict_t;

/* Stable name ("valid", "invalid", "unknown_log", "no_issuer", ...). */
const char *cs_ct_sig_verdict_name(cs_ct_sig_verdict_t v);

/* Verifies one SCT for the prepared entry: embedded SCTs (source EMBEDDED)
 * as precert entries, TLS/OCSP SCTs as x509 entries. log may be NULL
 * (-> UNKNOWN_LOG); cache may be NULL. Returns the verdict (never fails). */
cs_ct_sig_verdict_t cs_ct_sct_verify(const cs_ct_entry_t *entry, const cs_sct_t *sct,
                                     const cs_ct_log_t *log, cs_ct_cache_t *cache);

/* ------------------------------------------------------------------------ */
/* Analysis                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * Finding codes (stable; part of the report schema). All concern the leaf.
 *  SCT_SIGNATURE_INVALID_ALL  error: every verifiable embedded SCT fails ->
 *                             the certificate differs from the precertificate
 *                             the logs signed (the CA changed it after logging)
 *  SCT_SIGNATURE_INVALID      warning: some SCTs fail while others verify ->
 *                             that log signed wrongly (the log's fault)
 *  SCT_UNKNOWN_LOG            warning: the SCT's log is not in the log list
 *  SCT_LOG_NOT_USABLE         warning: the log was pending, rejected, or
 *                             retired before the SCT, at the time judged
 *  SCT_LOG_INTERVAL_MISMATCH  warning: the certificate's notAfter is outside
 *                             the log's temporal interval
 *  SCT_POLICY_TOO_FEW         error: too few acceptable SCTs, or from too few
 *                             operators, for Chrome's CT policy
 *  SCT_NO_ISSUER              warning: embedded SCTs cannot be verified
 *                             because the issuer is not in the served chain
 *  CT_NO_LOG_LIST             info: no log list given; signatures and policy
 *                             were not checked
 *  CT_LOG_LIST_STALE          info: the time judged is more than
 *                             CS_CT_LOG_LIST_MAX_AGE_MS after the list's
 *                             log_list_timestamp: logs may have been added,
 *                             retired or rejected since (refresh the list)
 *  SCT_LOG_NOT_IN_LIST        warning: the SCT's log is not in the list and
 *                             the SCT is newer than the list: the list
 *                             predates the log. Replaces SCT_UNKNOWN_LOG for
 *                             that SCT; it is not counted as a policy failure
 *                             (see cs_ct_policy_t.undetermined)
 *
 * Chrome CT policy implemented (source: "Chrome Certificate Transparency
 * Policy", https://googlechrome.github.io/CertificateTransparency/ct_policy.html,
 * and log_states.html, as of 2025):
 *  - an SCT is acceptable if its signature verifies with a log in the list
 *    that is qualified, usable or readonly at the time judged, or retired
 *    with the SCT's timestamp before the retirement (embedded SCTs only);
 *  - embedded SCTs: lifetime (notAfter - notBefore) <= 180 days needs 2
 *    acceptable SCTs, > 180 days needs 3;
 *  - SCTs delivered by TLS extension or OCSP: 2 acceptable SCTs, retired
 *    logs not counted;
 *  - either way the counted SCTs must come from at least 2 distinct log
 *    operators. The policy is met if the embedded or the delivered set
 *    meets it.
 */

/* A list older than this at the time judged gets CT_LOG_LIST_STALE: Chrome
 * stops enforcing its CT policy when its own log list has not been updated
 * for 70 days (10 weeks), because an older list no longer describes which
 * logs are usable; certskew draws the line where Chrome does. */
#define CS_CT_LOG_LIST_MAX_AGE_MS (70 * CS_MS_PER_DAY)

/* Optional inputs beyond the chain. Zero-initialise, then set what you have. */
typedef struct cs_ct_opts {
  const cs_ct_log_list_t *logs; /* may be NULL: no signature/policy verdicts */
  const cs_sct_t *extra_scts;   /* SCTs from the TLS extension / OCSP, each with its
                                   source set; borrowed for the call (copied) */
  size_t nextra_scts;
  const cs_clock_t *clocks;     /* clock models to judge "in the future" with; may be NULL */
  size_t nclocks;               /* <= CS_CT_MAX_CLOCKS */
  cs_ct_cache_t *cache;         /* optional verification cache */
} cs_ct_opts_t;

#define CS_CT_MAX_CLOCKS 64
/* At most this many SCTs (embedded + extra) are judged. */
#define CS_CT_MAX_SCTS (2 * CS_SCT_LIST_MAX)

/* The verdicts on one SCT (a plain value owned by the result). */
typedef struct cs_ct_sct_report {
  size_t index;               /* position among all judged SCTs ("SCT #index") */
  size_t source_index;        /* position within its own source list */
  cs_sct_source_t source;
  uint8_t version;
  uint8_t log_id[32];
  int64_t timestamp_ms;
  uint8_t sig_alg;
  int log_known;              /* 1 if the log is in the list */
  int log_newer_than_list;    /* 1 if not in the list and timestamp_ms is after the
                                 list's log_list_timestamp: the list predates the log */
  char log_description[128];  /* copied from the list, "" if unknown */
  char log_operator[96];
  cs_ct_log_state_t state_at; /* log state at the time judged */
  int state_inferred;         /* 1 if state_at was inferred (see cs_ct_log_state_at) */
  int64_t state_since_ms;     /* the log's current state start, CS_TIME_NEG_INF if none */
  int has_interval;
  int64_t interval_start_ms;
  int64_t interval_end_ms;
  int interval_covers_not_after; /* 1 if start <= notAfter < end (or no interval) */
  cs_ct_sig_verdict_t verdict;
  int in_future;              /* timestamp > the time judged (exact clock) */
  int in_future_clock[CS_CT_MAX_CLOCKS]; /* per opts->clocks[c]: believed < timestamp */
  int acceptable;             /* counts for the CT policy */
} cs_ct_sct_report_t;

/* Chrome CT policy evaluation (rules above). */
typedef struct cs_ct_policy {
  int evaluated;              /* 0 without a log list */
  int64_t lifetime_ms;        /* leaf notAfter - notBefore */
  int embedded_required;      /* 2 or 3 by lifetime */
  int embedded_acceptable;    /* acceptable embedded SCTs */
  int embedded_operators;     /* distinct operators among them */
  int delivered_required;     /* 2 */
  int delivered_acceptable;   /* acceptable TLS/OCSP SCTs */
  int delivered_operators;
  int compliant;              /* 1 if either set meets the policy */
  int undetermined;           /* 1 if not compliant, but a set would meet the policy
                                 if its SCTs from logs newer than the list counted
                                 (each as its own operator): refresh the list */
} cs_ct_policy_t;

typedef struct cs_ct_result cs_ct_result_t;

/* Judges every SCT of the chain's leaf (embedded ones and opts->extra_scts)
 * at at_ms and appends the diagnosis to findings (may be NULL to only get
 * verdicts). chain and opts are borrowed for the call. *out owns copies of
 * everything it reports (free with cs_ct_result_free).
 * Returns 0, CS_EINVAL (NULL chain/out, too many clocks), CS_ETOOBIG (too
 * many SCTs) or CS_ENOMEM; findings errors are passed on. */
int cs_ct_analyze_ex(cs_ct_result_t **out, const cs_chain_t *chain, const cs_ct_opts_t *opts,
                     int64_t at_ms, cs_findings_t *findings) CS_MUST_CHECK;
/* The same with only a log list (may be NULL). */
int cs_ct_analyze(cs_ct_result_t **out, const cs_chain_t *chain, const cs_ct_log_list_t *logs,
                  int64_t at_ms, cs_findings_t *findings) CS_MUST_CHECK;
/* Safe on NULL. */
void cs_ct_result_free(cs_ct_result_t *r);

size_t cs_ct_result_count(const cs_ct_result_t *r);
/* NULL if out of range. */
const cs_ct_sct_report_t *cs_ct_result_sct(const cs_ct_result_t *r, size_t i);
const cs_ct_policy_t *cs_ct_result_policy(const cs_ct_result_t *r);

/* SCT timestamp checks for the replay engine, for SCTs it does not already
 * know (those from the TLS extension and OCSP; embedded SCTs are added by
 * cs_replay_new itself). Fills out[0..*n) (n <= max); labels are
 * "SCT #<index> (<source>)", item_index = the report's index. */
void cs_ct_result_time_checks(const cs_ct_result_t *r, cs_time_check_t *out, size_t max,
                              size_t *n);

/* The report's "ct" section: {"log_list": {...}|null, "scts": [...],
 * "policy": {...}}. Newly allocated (caller cJSON_Delete), NULL on
 * allocation failure. */
cJSON *cs_ct_result_to_json(const cs_ct_result_t *r);

#endif
