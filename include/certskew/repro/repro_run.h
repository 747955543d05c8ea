/*
 * Running `certskew repro` cases: the material a client would have (the
 * served chain, trust anchors, log list, OCSP, CRL) either issued in memory
 * by the lab for a scenario, or read from the files a chain script names;
 * then one cs_analyze per case at the case's clock and exact true time.
 */
#ifndef CERTSKEW_REPRO_REPRO_RUN_H
#define CERTSKEW_REPRO_REPRO_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/analysis/analysis.h"
#include "certskew/core/error.h"
#include "certskew/repro/repro_script.h"

typedef struct cs_repro_material {
  uint8_t *chain;                 /* owned: PEM or DER */
  size_t chain_len;
  cs_trust_store_t *stores[CS_REPRO_MAX_TRUST]; /* owned */
  size_t nstores;
  cs_ct_log_list_t *log_list;     /* owned, may be NULL */
  uint8_t *ocsp;                  /* owned, may be NULL */
  size_t ocsp_len;
  uint8_t *crl;                   /* owned, may be NULL */
  size_t crl_len;
  int64_t issued_ms;              /* what "issued" means in the cases */
} cs_repro_material_t;

/* Cannot fail. */
void cs_repro_material_init(cs_repro_material_t *m);
/* Safe twice. */
void cs_repro_material_free(cs_repro_material_t *m);

/* Issues the script's scenario at its "issued" instant with fresh keys
 * (verdicts depend on times, never on key bytes) and keeps all of its
 * material; each case's "material" selects what its client has. */
int cs_repro_material_scenario(cs_repro_material_t *m, const cs_repro_script_t *s,
                               cs_errbuf_t *eb) CS_MUST_CHECK;
/* Reads a chain script's files; relative paths are taken from dir (the
 * script's directory). issued_ms = latest embedded SCT of the leaf, else
 * its notBefore. */
int cs_repro_material_files(cs_repro_material_t *m, const cs_repro_script_t *s, const char *dir,
                            cs_errbuf_t *eb) CS_MUST_CHECK;

typedef struct cs_repro_outcome {
  int64_t at_ms;                  /* the true time judged */
  int64_t believed_ms;            /* what the clock read */
  int pass;                       /* no error finding; for a client case: the client passes */
  char cause[CS_REPRO_CODE_MAX];  /* a client case's root cause, "" if it passes */
  char codes[CS_REPRO_MAX_CODES][CS_REPRO_CODE_MAX]; /* error codes, sorted, unique */
  size_t ncodes;
  char warnings[CS_REPRO_MAX_CODES][CS_REPRO_CODE_MAX]; /* warning codes, sorted, unique */
  size_t nwarnings;
  int ok;                         /* matches the expectation */
  char diff[600];                 /* what differs, "" when ok */
} cs_repro_outcome_t;

/* Judges one case. Returns 0 with *out filled (ok or not), or a CS_E* code
 * with eb when the analysis cannot run (chain unreadable, time overflow). */
int cs_repro_run_case(const cs_repro_material_t *m, const cs_repro_script_t *s,
                      const cs_repro_case_t *c, cs_repro_outcome_t *out,
                      cs_errbuf_t *eb) CS_MUST_CHECK;

#endif
