/*
 * Chain building and trust: why a client says "authority invalid", and at
 * which client clocks.
 *
 * From the served chain (cs_chain_t, leaf first) certskew builds EVERY
 * candidate path from the leaf to a trust anchor, the way a client does:
 * each step looks for a certificate whose subject equals the current
 * certificate's issuer, first among the trust stores' certificates, then
 * among the served ones (so a cross-signed intermediate and the self-signed
 * root of the same name both give a path). A path ends:
 *   - at an ANCHOR: a self-issued certificate found in a trust store;
 *   - at an UNTRUSTED ROOT: a self-issued certificate found in no store;
 *   - INCOMPLETE: no certificate anywhere has the issuer's name.
 *
 * Signatures are checked with mbedTLS's public-key layer directly
 * (mbedtls_pk_verify_ext over the child's TBS bytes, hashed with the child's
 * signature hash, with the parent's key), never with mbedtls_x509_crt_verify:
 * mbedTLS 2.28 reads the real system clock there. Time is ours alone: every
 * certificate on every path gets, for every clock model (clock.h), the
 * window of TRUE time in which that client believes it valid (notBefore to
 * notAfter inclusive at second resolution, i.e. cs_cert_info_t.valid_until_ms),
 * and a path passes for a clock on the intersection of its hops' windows.
 *
 * Static checks per hop (independent of time), with the semantics of
 * `openssl verify -purpose sslserver` so verdicts agree with it:
 *   - every issuing certificate is a CA (basicConstraints cA; a v1
 *     self-signed anchor is accepted, as OpenSSL does);
 *   - basicConstraints pathLenConstraint is respected;
 *   - keyUsage, when present, has keyCertSign on issuers and one of
 *     digitalSignature/keyEncipherment/keyAgreement on the leaf;
 *   - extendedKeyUsage, when present (leaf or CA), contains serverAuth;
 *   - the anchor's self-signature is not checked (RFC 5280 §6.1: an anchor
 *     is a trusted name and key; OpenSSL and browsers do the same).
 *   - nameConstraints of every issuing CA are applied to the leaf's dNSName
 *     and iPAddress SANs (OpenSSL's matching rules); other name forms
 *     (directoryName, email, URI) are not evaluated and only flagged
 *     (CS_TRUST_P_NAME_CONSTRAINTS, not fatal).
 *
 * The verdict of a path at true instant t for clock c is "pass" iff the path
 * ends at an anchor, has no static problem, the hostname (if one was given)
 * matches the leaf, and t lies in the path's window for c. The chain passes
 * if any path passes. For the exact clock and CS_TRUST_RULE_OPENSSL this
 * equals `openssl verify -attime T -purpose sslserver [-verify_hostname H]`
 * (see cs_trust_rule_t for the one second where RFC 5280 and OpenSSL differ).
 *
 * Pure: no files, no sockets, no system clock. Trust stores are filled from
 * buffers the caller read (include/certskew/store/trust_store_load.h does the file reading).
 */
#ifndef CERTSKEW_TRUST_TRUST_H
#define CERTSKEW_TRUST_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "certskew/core/chain.h"
#include "certskew/core/clock.h"
#include "certskew/core/error.h"
#include "certskew/core/findings.h"
#include "certskew/core/replay.h"

/* ------------------------------------------------------------------ */
/* Trust stores                                                        */
/* ------------------------------------------------------------------ */

typedef struct cs_trust_store cs_trust_store_t;

/* Limits that turn a hostile bundle into a clear error. The Mozilla bundle
 * holds about 150 roots. */
#define CS_TRUST_STORE_MAX_CERTS 4096
#define CS_TRUST_STORE_MAX_INPUT (16u * 1024 * 1024) /* bytes per add call */
#define CS_TRUST_STORE_NAME_MAX 128

/* Creates an empty store called name (copied, truncated to
 * CS_TRUST_STORE_NAME_MAX - 1 bytes; NULL means "trust store"). The name
 * appears in reports ("system", a file path). Returns 0 or CS_ENOMEM; on
 * error *out is NULL. The caller owns *out: free with cs_trust_store_free. */
int cs_trust_store_new(cs_trust_store_t **out, const char *name) CS_MUST_CHECK;

/* Safe on NULL. */
void cs_trust_store_free(cs_trust_store_t *store);

/* Adds the certificates in buf (borrowed for the call; copied): a PEM
 * bundle (every CERTIFICATE block; other blocks and text between blocks are
 * ignored, as in /etc/ssl/certs/ca-certificates.crt) or DER (one or more
 * concatenated certificates). A PEM block that does not parse is skipped and
 * counted in *skipped (optional), so one bad entry does not lose a whole
 * system bundle; *added (optional) counts the certificates added. Exact
 * duplicates (identical DER) are added once.
 * Returns 0, CS_EINVAL (NULL store), CS_EEMPTY (no certificate at all in
 * buf, or every one failed: eb says why), CS_ETOOBIG (input above
 * CS_TRUST_STORE_MAX_INPUT or the store above CS_TRUST_STORE_MAX_CERTS),
 * CS_EPARSE/CS_ETRUNC (input that is neither PEM nor well-formed DER, or PEM
 * text with NUL bytes) or CS_ENOMEM. On error the store keeps what it held
 * before the call. */
int cs_trust_store_add(cs_trust_store_t *store, const uint8_t *buf, size_t len, size_t *added,
                       size_t *skipped, cs_errbuf_t *eb) CS_MUST_CHECK;

const char *cs_trust_store_name(const cs_trust_store_t *store);
size_t cs_trust_store_count(const cs_trust_store_t *store);
/* The i-th certificate (owned by the store, valid until it is freed), or
 * NULL if i is out of range. */
const cs_cert_info_t *cs_trust_store_cert(const cs_trust_store_t *store, size_t i);

/* ------------------------------------------------------------------ */
/* Hostname matching (RFC 6125 as browsers apply it)                   */
/* ------------------------------------------------------------------ */

/* 1 if the certificate is valid for host, 0 if not, CS_EINVAL for a NULL
 * argument or an empty/over-long host. Rules:
 *   - host is compared case-insensitively; one trailing dot is ignored (as
 *     browsers do; X509_check_host does not);
 *   - an IPv4/IPv6 literal host (an IPv6 one may be in brackets) matches
 *     only iPAddress SANs, byte for byte; never a DNS name or the CN;
 *   - a DNS host matches dNSName SANs; the subject CN is consulted only when
 *     the certificate has no dNSName SAN at all (OpenSSL's rule; Chrome
 *     ignores the CN always and is stricter);
 *   - a wildcard is accepted only as the whole left-most label ("*.a.b"),
 *     with at least two labels after it, and stands for exactly one
 *     non-empty label; partial-label wildcards ("f*.a.b", "*x.a.b") never
 *     match (RFC 6125 §7.2, CA/B BR 7.1.4.2; OpenSSL without
 *     X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS would accept them).
 * matched (optional, matched_len bytes) receives the SAN/CN that matched. */
int cs_trust_hostname_matches(const mbedtls_x509_crt *crt, const char *host, char *matched,
                              size_t matched_len) CS_MUST_CHECK;

/* ------------------------------------------------------------------ */
/* Path building and verdicts                                          */
/* ------------------------------------------------------------------ */

#define CS_TRUST_MAX_DEPTH 8  /* certificates on one path, leaf and anchor included */
#define CS_TRUST_MAX_PATHS 64 /* candidate paths kept; more is reported as truncated */

typedef enum cs_trust_end {
  CS_TRUST_END_ANCHOR = 1,     /* ends at a self-issued certificate in a store */
  CS_TRUST_END_UNTRUSTED_ROOT, /* ends at a self-issued certificate in no store */
  CS_TRUST_END_INCOMPLETE,     /* the last certificate's issuer was found nowhere */
  CS_TRUST_END_TOO_LONG,       /* CS_TRUST_MAX_DEPTH reached before any root */
} cs_trust_end_t;

/* Static problems of a hop or path (bit set). */
typedef enum cs_trust_problem {
  CS_TRUST_P_BAD_SIGNATURE = 1u << 0,  /* the parent's key does not verify this signature */
  CS_TRUST_P_SIG_UNSUPPORTED = 1u << 1, /* algorithm/key mismatch or hash unknown to mbedTLS */
  CS_TRUST_P_NOT_A_CA = 1u << 2,       /* issues a certificate without basicConstraints cA */
  CS_TRUST_P_PATHLEN = 1u << 3,        /* more CAs below it than its pathLenConstraint */
  CS_TRUST_P_CA_KEY_USAGE = 1u << 4,   /* issuer keyUsage lacks keyCertSign */
  CS_TRUST_P_LEAF_KEY_USAGE = 1u << 5, /* leaf keyUsage unusable for TLS */
  CS_TRUST_P_EKU = 1u << 6,            /* extendedKeyUsage without serverAuth */
  CS_TRUST_P_NAME_CONSTRAINTS = 1u << 7, /* nameConstraints of a form not evaluated
                                            (directoryName, email, URI): not fatal */
  CS_TRUST_P_NAME_CONSTRAINTS_VIOLATED = 1u << 8, /* a leaf SAN name outside the permitted
                                                     or inside the excluded subtrees */
} cs_trust_problem_t;

/* Stable code of one problem bit ("BAD_SIGNATURE", "NOT_A_CA", ...), or
 * "UNKNOWN". */
const char *cs_trust_problem_code(unsigned problem_bit);

typedef enum cs_trust_sig {
  CS_TRUST_SIG_OK = 1,
  CS_TRUST_SIG_BAD,
  CS_TRUST_SIG_UNSUPPORTED,
  CS_TRUST_SIG_NOT_CHECKED, /* the anchor's own (self-)signature */
} cs_trust_sig_t;

/* One certificate on a path. Pointers borrow from the chain or the store. */
typedef struct cs_trust_hop {
  const cs_cert_info_t *cert;
  int served_index;         /* position in the served chain, -1 if from a store */
  int store_index;          /* which store (index into the stores given), -1 if served */
  int in_store;             /* 1 if this exact certificate (same DER) is in some store */
  char sig_alg[48];         /* signature algorithm of this certificate, e.g. "ECDSA with SHA256" */
  cs_trust_sig_t sig;       /* verification of this certificate by the next hop's key */
  unsigned problems;        /* cs_trust_problem_t bits found on this hop */
  int is_cross_sign;        /* a CA whose subject also names a self-issued root we know
                               (served or in a store): without that twin a cross-sign
                               looks like any intermediate */
  const cs_interval_t *windows; /* [nclocks] true times this cert is valid, per clock */
} cs_trust_hop_t;

typedef struct cs_trust_path {
  size_t nhops;                 /* >= 1; hops[0] is the leaf */
  cs_trust_hop_t hops[CS_TRUST_MAX_DEPTH];
  cs_trust_end_t end;
  int anchor_store;             /* store of the anchor (END_ANCHOR), else -1 */
  unsigned problems;            /* union of the hops' problems */
  const cs_interval_t *windows; /* [nclocks] intersection of the hops' windows */
} cs_trust_path_t;

typedef struct cs_trust_result cs_trust_result_t;

/* Builds and checks every path for chain (borrowed: must outlive the
 * result, as must the stores) against stores[0..nstores) (nstores may be 0:
 * then no path can end at an anchor) and, if hostname is not NULL, checks
 * the leaf's names. clocks[0..nclocks) (nclocks >= 1, at most
 * CS_REPLAY_MAX_CLOCKS) are copied. With has_at, at_ms is the true instant
 * the verdicts and the time findings are about; the analyzer never reads
 * the system clock.
 * findings (optional) receives the diagnosis; stable codes:
 *   MISSING_INTERMEDIATE, CHAIN_ORDER, CHAIN_EXTRA_CERT, ANCHOR_NOT_TRUSTED,
 *   ANCHOR_EXPIRED, ANCHOR_NOT_YET_VALID, CROSS_SIGN_EXPIRED,
 *   INTERMEDIATE_NOT_YET_VALID, INTERMEDIATE_EXPIRED, HOSTNAME_MISMATCH,
 *   LIFETIME_TOO_LONG, BAD_SIGNATURE, SIGNATURE_UNSUPPORTED, NOT_A_CA,
 *   PATH_LENGTH_EXCEEDED, KEY_USAGE_INVALID, EKU_INVALID,
 *   NAME_CONSTRAINTS_VIOLATION, NAME_CONSTRAINTS_UNCHECKED, NO_TRUSTED_PATH.
 * Severity: ERROR when it makes the chain fail at at_ms for clocks[0] (or,
 * for time-independent problems, always); WARNING when it fails only for
 * other clocks, or is a browser policy OpenSSL does not enforce.
 * Leaf validity in time is left to the replay engine (NOT_YET_VALID /
 * EXPIRED); it is still part of every path window and verdict here.
 * Returns 0, CS_EINVAL (NULL/empty argument, nclocks out of range),
 * CS_ENOMEM, or an error from findings. On error *out is NULL. */
int cs_trust_analyze(cs_trust_result_t **out, const cs_chain_t *chain,
                     const cs_trust_store_t *const *stores, size_t nstores, const char *hostname,
                     const cs_clock_t *clocks, size_t nclocks, int has_at, int64_t at_ms,
                     cs_findings_t *findings) CS_MUST_CHECK;

/* Safe on NULL. */
void cs_trust_result_free(cs_trust_result_t *r);

size_t cs_trust_npaths(const cs_trust_result_t *r);
/* Path i (valid until the result is freed), or NULL if out of range. Paths
 * are ordered: anchored ones first, then shortest, then newest anchor. */
const cs_trust_path_t *cs_trust_path(const cs_trust_result_t *r, size_t i);
/* 1 if more than CS_TRUST_MAX_PATHS candidates existed. */
int cs_trust_truncated(const cs_trust_result_t *r);
size_t cs_trust_nclocks(const cs_trust_result_t *r);
const cs_clock_t *cs_trust_clock(const cs_trust_result_t *r, size_t c);
/* -1 if no hostname was given, else 1 (matches) or 0. */
int cs_trust_hostname_ok(const cs_trust_result_t *r);

/* 1 if path i has no static problem, ends at an anchor and the hostname is
 * fine: it passes whenever the time is in its window. */
int cs_trust_path_usable(const cs_trust_result_t *r, size_t i);

/* Which instant ends a certificate's validity. RFC 5280 §4.1.2.5 makes
 * notAfter inclusive (valid through notAfter + 999 ms at ms resolution, as
 * cs_cert_info_t.valid_until_ms); OpenSSL 3.0 and BoringSSL (X509_cmp_time
 * maps "equal" to "earlier") treat the certificate as expired AT notAfter:
 * `openssl verify -attime <notAfter>` fails. Measured in
 * tests/unit/test_trust_verify.c; the two agree everywhere else. */
typedef enum cs_trust_rule {
  CS_TRUST_RULE_RFC5280 = 0, /* notBefore <= believed <= notAfter + 999 ms */
  CS_TRUST_RULE_OPENSSL = 1, /* notBefore <= believed <  notAfter */
} cs_trust_rule_t;

/* Verdict at true instant t_ms for clock c under a validity rule: 1 pass,
 * 0 fail; CS_EINVAL if r is NULL or c out of range. *path_index (optional)
 * gets the path a client that prefers the shortest, then newest, path would
 * pick (the first usable path, in cs_trust_path order, whose window contains
 * t_ms), or -1 if none. With CS_TRUST_RULE_RFC5280 this reads the windows
 * of cs_trust_path_t; with CS_TRUST_RULE_OPENSSL it recomputes them with
 * the exclusive notAfter. */
int cs_trust_verdict_at(const cs_trust_result_t *r, size_t c, int64_t t_ms, cs_trust_rule_t rule,
                        int *path_index);

/* The report's "trust" section (newly allocated; caller frees with
 * cJSON_Delete), or NULL on allocation failure. Stable field names:
 * stores, hostname, hostname_match, truncated, paths[] {end, anchor_store,
 * usable, problems[], windows[] {clock, from, to}, hops[] {subject, issuer,
 * source, sha256, not_before, not_after, signature_algorithm, signature,
 * cross_sign, problems[], windows[]}}, and with an instant: at,
 * verdicts[] {clock, believed, pass, path, pass_openssl, path_openssl}
 * (pass/path under RFC 5280, the *_openssl ones under CS_TRUST_RULE_OPENSSL). */
cJSON *cs_trust_result_to_json(const cs_trust_result_t *r);

#endif
