/* Terminal rendering of an analysis (see replay_print.h). */
#include "replay_print.h"

#include <stdlib.h>
#include <string.h>

#include "certskew/core/time.h"

static const char *sev_label(cs_severity_t s, int color) {
  switch (s) {
  case CS_SEV_ERROR:
    return color ? "\033[1;31merror\033[0m  " : "error  ";
  case CS_SEV_WARNING:
    return color ? "\033[1;33mwarning\033[0m" : "warning";
  default:
    return "info   ";
  }
}

static void print_interval(FILE *out, cs_interval_t iv) {
  char a[CS_TIME_STRLEN], b[CS_TIME_STRLEN];
  if (cs_interval_empty(iv)) {
    fprintf(out, "never");
    return;
  }
  if (iv.from_ms == CS_TIME_NEG_INF && iv.to_ms == CS_TIME_POS_INF) {
    fprintf(out, "always");
    return;
  }
  cs_time_format(iv.from_ms, a);
  cs_time_format(iv.to_ms, b);
  if (iv.from_ms == CS_TIME_NEG_INF)
    fprintf(out, "until %s", b);
  else if (iv.to_ms == CS_TIME_POS_INF)
    fprintf(out, "from %s on", a);
  else
    fprintf(out, "from %s until %s", a, b);
}

static void print_chain(FILE *out, const cs_chain_t *chain) {
  char nb[CS_TIME_STRLEN], na[CS_TIME_STRLEN], st[CS_TIME_STRLEN];
  fprintf(out, "chain: %zu certificate(s)\n", cs_chain_count(chain));
  for (size_t i = 0; i < cs_chain_count(chain); i++) {
    const cs_cert_info_t *c = cs_chain_cert(chain, i);
    cs_time_format(c->not_before_ms, nb);
    cs_time_format(c->not_after_ms, na);
    fprintf(out, "  #%zu %s\n     notBefore %s  notAfter %s\n", i, c->subject, nb, na);
    for (size_t j = 0; j < c->nscts; j++) {
      cs_time_format(c->scts[j].timestamp_ms, st);
      fprintf(out, "     SCT #%zu  %s  log %02x%02x%02x%02x...%s\n", j, st, c->scts[j].log_id[0],
              c->scts[j].log_id[1], c->scts[j].log_id[2], c->scts[j].log_id[3],
              c->scts[j].supported ? "" : "  (unsupported)");
    }
    if (c->sct_parse_error)
      fprintf(out, "     SCT list: %s\n", c->sct_parse_detail);
  }
}

static void print_clocks(FILE *out, const cs_replay_t *r, int color) {
  const cs_replay_opts_t *o = cs_replay_opts(r);
  char at[CS_TIME_STRLEN], bel[CS_TIME_STRLEN];
  if (o->has_at) {
    cs_time_format(o->at_ms, at);
    fprintf(out, "\nat %s:\n", at);
  } else {
    fprintf(out, "\nclock models:\n");
  }
  for (size_t c = 0; c < cs_replay_nclocks(r); c++) {
    const cs_clock_t *clock = cs_replay_clock(r, c);
    fprintf(out, "  %-14s ", clock->name);
    if (o->has_at) {
      int64_t b;
      size_t nfail = 0;
      if (cs_replay_believed(r, c, &b) == 0)
        cs_time_format(b, bel);
      else
        snprintf(bel, sizeof(bel), "(overflow)");
      for (size_t k = 0; k < cs_replay_nchecks(r); k++)
        nfail += (size_t)cs_replay_fails_at(r, k, c);
      fprintf(out, "believes %-26s %s", bel,
              nfail ? (color ? "\033[1;31mFAIL\033[0m" : "FAIL") : "pass");
      for (size_t k = 0; k < cs_replay_nchecks(r); k++)
        if (cs_replay_fails_at(r, k, c))
          fprintf(out, "  %s (%s)", cs_check_failure_code(cs_replay_check(r, k)->kind),
                  cs_replay_check(r, k)->label);
      fprintf(out, "\n  %-14s ", "");
    }
    fprintf(out, "passes ");
    print_interval(out, cs_replay_pass_window(r, c));
    fprintf(out, "\n");
  }
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* --sweep: per clock, [from, to) split wherever a check's verdict changes
 * (the JSON's "sweep" segments), each with its verdict and failing checks. */
static void print_sweep(FILE *out, const cs_replay_t *r, int color) {
  const cs_replay_opts_t *o = cs_replay_opts(r);
  if (!o->has_sweep)
    return;
  size_t nk = cs_replay_nchecks(r);
  int64_t *cuts = malloc((2 * nk + 2) * sizeof *cuts); /* freed below */
  if (cuts == NULL)
    return;
  char a[CS_TIME_STRLEN], b[CS_TIME_STRLEN];
  cs_time_format(o->sweep_from_ms, a);
  cs_time_format(o->sweep_to_ms, b);
  fprintf(out, "\nsweep from %s until %s:\n", a, b);
  for (size_t c = 0; c < cs_replay_nclocks(r); c++) {
    size_t n = 0;
    cuts[n++] = o->sweep_from_ms;
    for (size_t k = 0; k < nk; k++) {
      cs_interval_t w = cs_replay_window(r, k, c);
      if (cs_interval_empty(w))
        continue;
      if (w.from_ms > o->sweep_from_ms && w.from_ms < o->sweep_to_ms)
        cuts[n++] = w.from_ms;
      if (w.to_ms > o->sweep_from_ms && w.to_ms < o->sweep_to_ms)
        cuts[n++] = w.to_ms;
    }
    qsort(cuts, n, sizeof *cuts, cmp_i64);
    fprintf(out, "  %s\n", cs_replay_clock(r, c)->name);
    for (size_t i = 0; i < n; i++) {
      if (i > 0 && cuts[i] == cuts[i - 1])
        continue;
      size_t j = i + 1;
      while (j < n && cuts[j] == cuts[i])
        j++;
      int64_t end = j < n ? cuts[j] : o->sweep_to_ms;
      size_t nfail = 0;
      for (size_t k = 0; k < nk; k++)
        nfail += (size_t)cs_interval_contains(cs_replay_window(r, k, c), cuts[i]);
      cs_time_format(cuts[i], a);
      cs_time_format(end, b);
      fprintf(out, "    %s .. %s  %s", a, b,
              nfail ? (color ? "\033[1;31mFAIL\033[0m" : "FAIL") : "pass");
      for (size_t k = 0; k < nk; k++)
        if (cs_interval_contains(cs_replay_window(r, k, c), cuts[i]))
          fprintf(out, "  %s (%s)", cs_check_failure_code(cs_replay_check(r, k)->kind),
                  cs_replay_check(r, k)->label);
      fprintf(out, "\n");
    }
  }
  free(cuts);
}

/* Failure windows, at most three, then how many more. */
static void print_windows(FILE *out, const cs_client_verdict_t *v) {
  if (v->nwindows == 0) {
    fprintf(out, "never");
    return;
  }
  for (size_t k = 0; k < v->nwindows && k < 3; k++) {
    if (k)
      fprintf(out, "; ");
    print_interval(out, v->windows[k]);
  }
  if (v->nwindows > 3)
    fprintf(out, "; +%zu more", v->nwindows - 3);
}

/* The per-client table and the top cause with its fix: what fails, for
 * whom, why, and what to do, before any detail. */
static void print_clients(FILE *out, const cs_analysis_t *a, int color) {
  char at[CS_TIME_STRLEN];
  cs_time_format(cs_analysis_judged_ms(a), at);
  fprintf(out, "clients at %s%s:\n", at,
          cs_replay_opts(cs_analysis_replay(a))->has_at ? "" : " (issuance: no --at given)");
  for (size_t i = 0; i < cs_analysis_nclients(a); i++) {
    const cs_client_verdict_t *v = cs_analysis_client(a, i);
    fprintf(out, "  %-16s %s  ", v->name,
            v->fails_at ? (color ? "\033[1;31mFAIL\033[0m" : "FAIL") : "pass");
    if (v->cause != NULL)
      fprintf(out, "%s%s%s  ", v->cause, v->consequence ? " -> " : "",
              v->consequence ? v->consequence : "");
    fprintf(out, "fails ");
    print_windows(out, v);
    fprintf(out, "\n");
  }
  size_t nc = cs_analysis_ncauses(a);
  if (nc == 0) {
    fprintf(out, "every client passes at this instant\n");
    return;
  }
  for (size_t k = 0; k < nc && k < 2; k++) {
    const cs_analysis_cause_t *c = cs_analysis_cause(a, k);
    fprintf(out, "%s cause: %s (fails %s)%s%s\n", k == 0 ? "top" : "next", c->code, c->clients,
            c->consequence ? ", reported as " : "", c->consequence ? c->consequence : "");
    fprintf(out, "  %s\n", c->first->detail);
    if (c->first->fix[0])
      fprintf(out, "  fix: %s\n", c->first->fix);
  }
  if (nc > 2)
    fprintf(out, "(%zu more causes below)\n", nc - 2);
}

void cs_replay_print(FILE *out, cs_analysis_t *a, int color) {
  const cs_replay_t *r = cs_analysis_replay(a);
  cs_findings_t *fs = cs_analysis_findings(a);
  print_clients(out, a, color);
  fprintf(out, "\n");
  print_chain(out, cs_analysis_chain(a));
  print_clocks(out, r, color);
  print_sweep(out, r, color);
  fprintf(out, "\nfindings (%zu):\n", cs_findings_count(fs));
  for (size_t i = 0; i < cs_findings_count(fs); i++) {
    const cs_finding_t *f = cs_findings_get(fs, i);
    if (f->caused_by != NULL)
      fprintf(out, "    -> [%s] %s (caused by %s): %s\n", sev_label(f->severity, color), f->code,
              f->caused_by, f->summary);
    else
      fprintf(out, "  [%s] %s: %s\n", sev_label(f->severity, color), f->code, f->summary);
    if (f->explanation)
      fprintf(out, "      %s\n", f->explanation);
    if (f->fix)
      fprintf(out, "      fix: %s\n", f->fix);
  }
  if (cs_findings_count(fs) == 0)
    fprintf(out, "  none: every modeled clock passes every check after issuance\n");
}
