/* Private: turns a finished replay into ranked findings. */
#ifndef CERTSKEW_CORE_REPLAY_DIAGNOSE_H
#define CERTSKEW_CORE_REPLAY_DIAGNOSE_H

#include "certskew/core/findings.h"
#include "certskew/core/replay.h"

/* Appends the findings of a replay that has run (called by cs_replay_run). */
int cs_replay_diagnose(const cs_replay_t *r, cs_findings_t *findings) CS_MUST_CHECK;

/* The best estimate of when the leaf was issued: its latest supported embedded
 * SCT timestamp (a final certificate is signed after its SCTs exist), else its
 * notBefore. *basis names which. Returns 0, or CS_EEMPTY for an empty chain. */
int cs_replay_issuance(const cs_chain_t *chain, int64_t *issued_ms, const char **basis);

#endif
