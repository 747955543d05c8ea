/*
 * Client profiles: the unit of judgement. A profile is a named, documented
 * bundle of what one real client family does when it validates a served
 * chain: which clock it reads for certificate validity and for SCT
 * timestamps, how it ends a certificate's validity, how it builds paths,
 * whether it checks the anchor's expiry, fetches a missing intermediate,
 * enforces a CT policy, acts on revocation, and so on. Every field has the
 * source it was read from (docs/clients.md cites them); "UNKNOWN" where
 * nobody has read one.
 *
 * cs_client_judge() decides, for one profile (optionally with a skewed
 * clock), from the results the other analyzers computed: the verdict at an
 * instant, the exact windows of true time in which the client fails, the
 * root cause and its fix. Pure: no I/O, no clock.
 */
#ifndef CERTSKEW_CLIENTS_PROFILE_H
#define CERTSKEW_CLIENTS_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/chain.h"
#include "certskew/core/clock.h"
#include "certskew/core/error.h"
#include "certskew/core/findings.h"
#include "certskew/core/replay.h"
#include "certskew/ct/ct.h"
#include "certskew/revocation/revocation.h"
#include "certskew/trust/trust.h"

/* How the last second of a certificate's validity is judged. */
typedef enum cs_notafter_rule {
  CS_NOTAFTER_INCLUSIVE = 0, /* believed <= notAfter (RFC 5280 §4.1.2.5) */
  CS_NOTAFTER_EXCLUSIVE = 1, /* believed <  notAfter (OpenSSL X509_cmp_time) */
} cs_notafter_rule_t;

typedef enum cs_path_rule {
  CS_PATHS_ALL = 0,         /* a path builder: any usable path to an anchor will do */
  CS_PATHS_UNTRUSTED_FIRST, /* OpenSSL 1.0.2 default: follows the served certificates
                               first; tries other paths only if that chain does not end
                               at a trusted certificate */
} cs_path_rule_t;

typedef enum cs_ct_policy_kind {
  CS_CT_NONE = 0,
  CS_CT_CHROME,
  CS_CT_APPLE,
  CS_CT_FIREFOX,
} cs_ct_policy_kind_t;

/* One behaviour's source: a spec, policy page or client source file. */
typedef struct cs_client_sources {
  const char *clock;
  const char *sct_clock;
  const char *notafter;
  const char *paths;
  const char *anchor_expiry;
  const char *aia;
  const char *ct;
  const char *revocation;
  const char *min_tls;
  const char *critical;
} cs_client_sources_t;

typedef struct cs_client_profile {
  const char *name;           /* "chrome", "safari", ... */
  const char *aliases;        /* comma-separated other names, "" if none */
  const char *description;    /* who this is, one line */
  const char *cert_clock;     /* cs_clock_parse model for certificate validity */
  const char *sct_clock;      /* model for SCT "in the future" checks */
  cs_notafter_rule_t notafter;
  cs_path_rule_t paths;
  int anchor_expiry_checked;  /* 1: an expired anchor fails the path */
  int aia_fetch;              /* 1: fetches a missing issuer from caIssuers */
  cs_ct_policy_kind_t ct;     /* CT policy enforced (SCTs counted only if not NONE) */
  int fails_on_revoked;       /* 1: an OCSP/CRL "revoked" answer it sees fails it */
  const char *revocation;     /* what it does, one line */
  const char *min_tls;        /* "1.2", ... */
  int rejects_unknown_critical; /* 1: unknown critical extension (and CT poison) fail */
  cs_client_sources_t src;
} cs_client_profile_t;

/* The table, terminated by an entry whose name is NULL. */
const cs_client_profile_t *cs_client_profiles(void);
/* A profile by name or alias (case-insensitive), or NULL. */
const cs_client_profile_t *cs_client_profile_find(const char *name);
/* The profiles judged when none is asked (chrome, safari, firefox, openssl,
 * openssl-1.0.2): fills up to max pointers, returns how many. */
size_t cs_client_default_set(const cs_client_profile_t **out, size_t max);
/* The profile's min_tls as a protocol version (0x0301 for "1.0" ... 0x0304
 * for "1.3"); 0 when unset or unreadable. */
int cs_client_min_tls_version(const cs_client_profile_t *p);
/* The profile of the client that sent this User-Agent, or NULL when it
 * names none we know (Chrome/Chromium/Edge, Safari, Firefox, curl). */
const cs_client_profile_t *cs_client_from_user_agent(const char *ua);

#define CS_CLIENT_NAME_MAX 128

/* A profile as asked: optionally with a clock model applied before the
 * profile's own clock (a skewed client of that family). */
typedef struct cs_client {
  const cs_client_profile_t *profile;
  char name[CS_CLIENT_NAME_MAX]; /* "safari" or "safari:skew:-2s" */
  int has_skew;
  cs_clock_t skew;               /* the model applied first (only with has_skew) */
  cs_clock_t cert_clock;         /* skew then the profile's cert clock */
  cs_clock_t sct_clock;          /* skew then the profile's SCT clock */
} cs_client_t;

/* Parses "NAME" or "NAME:MODEL" (MODEL in cs_clock_parse syntax, e.g.
 * "safari:skew:-2s", "chrome:-90s"). Returns 0, CS_ENOTFOUND (no such
 * profile), or a cs_clock_parse error; eb says why. */
int cs_client_parse(cs_client_t *out, const char *text, cs_errbuf_t *eb) CS_MUST_CHECK;
/* The profile with no skew. Cannot fail. */
void cs_client_from_profile(cs_client_t *out, const cs_client_profile_t *p);

/* What the judgement reads (all borrowed for the call). */
typedef struct cs_client_input {
  const cs_chain_t *chain;            /* served chain, required */
  const cs_replay_t *replay;          /* after cs_replay_run, required */
  const cs_ct_result_t *ct;           /* may be NULL */
  const cs_trust_result_t *trust;     /* NULL: no trust store was given */
  const cs_trust_result_t *trust_aia; /* paths with the caIssuers certificate added, or NULL */
  const cs_revocation_input_t *rev;   /* NULL without revocation material */
  cs_findings_t *findings;            /* every analyzer's findings (read only; sorted on demand) */
  int64_t at_ms;                      /* the instant judged */
  int server_tls_version;             /* best version the server speaks (0x0301 TLS 1.0 ...),
                                         0: unknown (not judged) */
  int64_t issued_ms;                  /* failure windows start here at the earliest (the
                                         certificate does not exist before); CS_TIME_NEG_INF
                                         for no clipping */
} cs_client_input_t;

#define CS_CLIENT_MAX_WINDOWS 16

typedef struct cs_client_verdict {
  char name[CS_CLIENT_NAME_MAX];
  const cs_client_profile_t *profile;
  int fails_at;                 /* 1: fails at in->at_ms */
  size_t nwindows;              /* true-time intervals in which it fails (sorted) */
  cs_interval_t windows[CS_CLIENT_MAX_WINDOWS];
  int windows_truncated;
  const char *cause;            /* root cause code at the instant (static), NULL if it passes */
  const char *consequence;      /* what the client reports, when it differs ("SCT_POLICY_TOO_FEW") */
  char detail[256];             /* what the cause is about */
  char fix[512];                /* how to fix it */
} cs_client_verdict_t;

/* Judges client against the analysis results. Returns 0 or CS_EINVAL. */
int cs_client_judge(const cs_client_t *client, const cs_client_input_t *in,
                    cs_client_verdict_t *out) CS_MUST_CHECK;

#endif
