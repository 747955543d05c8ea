/* The list of findings (include/certskew/core/findings.h). */
#include "certskew/core/findings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

struct cs_findings {
  cs_finding_t *items; /* owned array */
  size_t *view;        /* owned: report order as indexes into items */
  size_t n, cap;
  int sorted;
};

cs_findings_t *cs_findings_new(void) { return calloc(1, sizeof(cs_findings_t)); }

static void finding_release(cs_finding_t *f) {
  free(f->summary);
  free(f->explanation);
  free(f->fix);
  for (size_t i = 0; i < f->nevidence; i++) {
    free(f->evidence[i].key);
    free(f->evidence[i].value);
  }
  free(f->evidence);
}

void cs_findings_free(cs_findings_t *f) {
  if (f == NULL)
    return;
  for (size_t i = 0; i < f->n; i++)
    finding_release(&f->items[i]);
  free(f->items);
  free(f->view);
  free(f);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int cs_findings_add(cs_findings_t *f, const char *code, cs_severity_t severity, int rank,
                    int cert_index, int item_index, const char *summary,
                    const char *explanation, const char *fix, cs_finding_t **out) {
  if (f == NULL || code == NULL || summary == NULL)
    return CS_EINVAL;
  /* items and view always have the same room. */
  size_t view_cap = f->cap;
  if (cs_grow((void **)&f->view, &view_cap, f->n + 1, sizeof(*f->view), 8) != 0 ||
      cs_grow((void **)&f->items, &f->cap, f->n + 1, sizeof(*f->items), 8) != 0)
    return CS_ENOMEM;
  cs_finding_t *it = &f->items[f->n];
  memset(it, 0, sizeof(*it));
  it->code = code;
  it->severity = severity;
  it->rank = rank;
  it->cert_index = cert_index;
  it->item_index = item_index;
  it->summary = strdup(summary);
  it->explanation = dup_or_null(explanation);
  it->fix = dup_or_null(fix);
  if (it->summary == NULL || (explanation && !it->explanation) || (fix && !it->fix)) {
    finding_release(it);
    return CS_ENOMEM;
  }
  f->n++;
  f->sorted = 0;
  if (out != NULL)
    *out = it;
  return 0;
}

int cs_findings_evidence(cs_findings_t *f, const char *key, const char *fmt, ...) {
  if (f == NULL || f->n == 0 || key == NULL)
    return CS_EINVAL;
  cs_finding_t *it = &f->items[f->n - 1];
  char value[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(value, sizeof(value), fmt, ap);
  va_end(ap);
  cs_evidence_t *ev = realloc(it->evidence, (it->nevidence + 1) * sizeof(*ev));
  if (ev == NULL)
    return CS_ENOMEM;
  it->evidence = ev;
  ev[it->nevidence].key = strdup(key);
  ev[it->nevidence].value = strdup(value);
  if (ev[it->nevidence].key == NULL || ev[it->nevidence].value == NULL) {
    free(ev[it->nevidence].key);
    free(ev[it->nevidence].value);
    return CS_ENOMEM;
  }
  it->nevidence++;
  return 0;
}

size_t cs_findings_count(const cs_findings_t *f) { return f ? f->n : 0; }

static int comes_before(const cs_finding_t *a, size_t ia, const cs_finding_t *b, size_t ib) {
  if ((a->cause_rank > 0) != (b->cause_rank > 0))
    return a->cause_rank > 0;
  if (a->cause_rank != b->cause_rank)
    return a->cause_rank < b->cause_rank;
  if (a->severity != b->severity)
    return a->severity > b->severity;
  if (a->rank != b->rank)
    return a->rank < b->rank;
  return ia < ib;
}

static int has_code_item(const cs_findings_t *f, const char *code) {
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->items[i].code, code) == 0)
      return 1;
  return 0;
}

static int emitted(const size_t *order, size_t n, size_t item) {
  for (size_t k = 0; k < n; k++)
    if (order[k] == item)
      return 1;
  return 0;
}

/* Emits view[i] and then, recursively, what it causes (depth-limited: a
 * cycle of causes stops at the first repeat). */
static void emit_with_consequences(const cs_findings_t *f, size_t i, size_t *order, size_t *out,
                                   int depth) {
  if (emitted(order, *out, f->view[i]) || *out >= f->n)
    return;
  order[(*out)++] = f->view[i];
  if (depth >= 8)
    return;
  const char *code = f->items[f->view[i]].code;
  for (size_t j = 0; j < f->n; j++) {
    const cs_finding_t *c = &f->items[f->view[j]];
    if (c->caused_by != NULL && strcmp(c->caused_by, code) == 0)
      emit_with_consequences(f, j, order, out, depth + 1);
  }
}

/* A finding whose cause is present follows that cause, at any depth. */
static void nest_consequences(cs_findings_t *f) {
  size_t *order = malloc(f->n * sizeof(*order)); /* freed below */
  if (order == NULL || f->n == 0) {
    free(order);
    return; /* the plain order stays: still a valid report */
  }
  size_t out = 0;
  for (size_t i = 0; i < f->n; i++) {
    const cs_finding_t *it = &f->items[f->view[i]];
    if (it->caused_by != NULL && has_code_item(f, it->caused_by))
      continue;
    emit_with_consequences(f, i, order, &out, 0);
  }
  /* Anything left (a cycle of causes) keeps its sorted place at the end. */
  for (size_t i = 0; i < f->n && out < f->n; i++)
    if (!emitted(order, out, f->view[i]))
      order[out++] = f->view[i];
  memcpy(f->view, order, f->n * sizeof(*order));
  free(order);
}

/* Insertion sort of the view: lists are short, and items never move, so a
 * pointer from cs_findings_add stays the most recent one. */
static void sort_view(cs_findings_t *f) {
  for (size_t i = 0; i < f->n; i++)
    f->view[i] = i;
  for (size_t i = 1; i < f->n; i++) {
    size_t cur = f->view[i], j = i;
    while (j > 0 && comes_before(&f->items[cur], cur, &f->items[f->view[j - 1]], f->view[j - 1])) {
      f->view[j] = f->view[j - 1];
      j--;
    }
    f->view[j] = cur;
  }
  nest_consequences(f);
  f->sorted = 1;
}

void cs_findings_set_cause(cs_findings_t *f, const char *code, const char *cause) {
  for (size_t i = 0; f != NULL && i < f->n; i++)
    if (strcmp(f->items[i].code, code) == 0 && strcmp(code, cause) != 0)
      f->items[i].caused_by = cause;
  if (f != NULL)
    f->sorted = 0;
}

void cs_findings_set_cause_rank(cs_findings_t *f, const char *code, int rank) {
  for (size_t i = 0; f != NULL && i < f->n; i++)
    if (strcmp(f->items[i].code, code) == 0)
      f->items[i].cause_rank = rank;
  if (f != NULL)
    f->sorted = 0;
}

const cs_finding_t *cs_findings_get(cs_findings_t *f, size_t i) {
  if (f == NULL || i >= f->n)
    return NULL;
  if (!f->sorted)
    sort_view(f);
  return &f->items[f->view[i]];
}

int cs_findings_worst(const cs_findings_t *f) {
  int worst = -1;
  for (size_t i = 0; f && i < f->n; i++)
    if ((int)f->items[i].severity > worst)
      worst = (int)f->items[i].severity;
  return worst;
}

int cs_findings_has(const cs_findings_t *f, const char *code) {
  for (size_t i = 0; f && i < f->n; i++)
    if (strcmp(f->items[i].code, code) == 0)
      return 1;
  return 0;
}

const char *cs_severity_name(cs_severity_t s) {
  switch (s) {
  case CS_SEV_ERROR:
    return "error";
  case CS_SEV_WARNING:
    return "warning";
  case CS_SEV_INFO:
    return "info";
  default:
    return "unknown";
  }
}
