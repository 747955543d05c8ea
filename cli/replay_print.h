/* The human-readable summary of an analysis, for terminals. */
#ifndef CERTSKEW_PROXY_REPLAY_PRINT_H
#define CERTSKEW_PROXY_REPLAY_PRINT_H

#include <stdio.h>

#include "certskew/analysis/analysis.h"

/* Prints chain facts, per-clock verdicts and windows, and the ranked
 * findings with their fixes. color: use ANSI colors (a terminal). */
void cs_replay_print(FILE *out, cs_analysis_t *a, int color);

#endif
