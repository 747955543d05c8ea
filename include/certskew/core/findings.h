/*
 * Findings: the diagnosis. Each finding has a stable code (SCREAMING_SNAKE,
 * part of the report schema), a severity, a one-sentence summary, an
 * explanation with the numbers, evidence as key/value pairs, and a fix.
 *
 * A cs_findings_t owns every string added to it. Analyzers append; the
 * report sorts by severity (errors first), then rank, then insertion order.
 */
#ifndef CERTSKEW_CORE_FINDINGS_H
#define CERTSKEW_CORE_FINDINGS_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/error.h"

typedef enum cs_severity {
  CS_SEV_INFO = 0,    /* a fact worth knowing; nothing fails */
  CS_SEV_WARNING = 1, /* fails for some modeled clocks or times, not at the one asked */
  CS_SEV_ERROR = 2,   /* fails at the time and clock asked about */
} cs_severity_t;

typedef struct cs_evidence {
  char *key;   /* owned */
  char *value; /* owned */
} cs_evidence_t;

typedef struct cs_finding {
  const char *code;     /* static string, e.g. "SCT_IN_FUTURE" */
  cs_severity_t severity;
  int rank;             /* within a severity, lower comes first */
  int cert_index;       /* certificate concerned, -1 if none */
  int item_index;       /* SCT/response index concerned, -1 if none */
  char *summary;        /* owned; one sentence */
  char *explanation;    /* owned; the numbers */
  char *fix;            /* owned; may be NULL */
  cs_evidence_t *evidence; /* owned array */
  size_t nevidence;
  const char *caused_by; /* static code of the finding that causes this one, or NULL */
  int cause_rank;        /* > 0: position of this root cause among the clients' causes
                            (1 first); such findings come before all others */
} cs_finding_t;

typedef struct cs_findings cs_findings_t;

/* Returns NULL on allocation failure. */
cs_findings_t *cs_findings_new(void);
/* Safe on NULL. */
void cs_findings_free(cs_findings_t *f);

/* Appends a finding; summary/explanation/fix are copied (fix may be NULL).
 * On success *out (optional) points at the new finding, valid until the
 * next add or free, to attach evidence. */
int cs_findings_add(cs_findings_t *f, const char *code, cs_severity_t severity, int rank,
                    int cert_index, int item_index, const char *summary,
                    const char *explanation, const char *fix, cs_finding_t **out) CS_MUST_CHECK;

/* Appends formatted evidence to the most recently added finding. */
int cs_findings_evidence(cs_findings_t *f, const char *key, const char *fmt, ...)
    CS_PRINTF(3, 4) CS_MUST_CHECK;

size_t cs_findings_count(const cs_findings_t *f);
/* i-th finding in report order (sorted on demand); NULL if out of range. */
const cs_finding_t *cs_findings_get(cs_findings_t *f, size_t i);
/* Marks every finding with code as caused by the finding with code cause
 * (static strings): in report order it comes right after that finding
 * (nested under it), never above it. */
void cs_findings_set_cause(cs_findings_t *f, const char *code, const char *cause);
/* Gives every finding with code the root-cause rank (1 first): ranked
 * causes come before every other finding. */
void cs_findings_set_cause_rank(cs_findings_t *f, const char *code, int rank);

/* The report's name of a severity: "error", "warning" or "info" (an out-of-range
 * value: "unknown"). Static string. */
const char *cs_severity_name(cs_severity_t s);
/* Highest severity present, or -1 when empty. */
int cs_findings_worst(const cs_findings_t *f);
/* 1 if a finding with this code exists. */
int cs_findings_has(const cs_findings_t *f, const char *code);

#endif
