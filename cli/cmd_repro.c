/*
 * `certskew repro SCRIPT.json...`: runs reproduction scripts
 * (docs/repro-schema.md), prints a table per script, writes a JSON result
 * and exits non-zero when any case differs from its expectation.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "certskew/core/time.h"
#include "cli_commands.h"
#include "cmd_args.h"
#include "certskew/store/file_io.h"
#include "certskew/repro/repro_run.h"
#include "certskew/repro/repro_script.h"

#define MAX_SCRIPTS 256

static void usage(FILE *out) {
  fprintf(out,
          "usage: certskew repro SCRIPT.json... [--result FILE] [--json] [--quiet]\n"
          "\n"
          "Runs each script: a lab scenario issued in memory (or a captured chain), judged\n"
          "by every case's clock model at its exact true time, compared with the expected\n"
          "verdict and error codes. Script format: docs/repro-schema.md; examples/.\n"
          "\n"
          "options:\n"
          "  --result FILE  also write the JSON result to FILE (default: no file)\n"
          "  --json         print the JSON result instead of the table\n"
          "  --quiet        print only mismatches and the summary\n"
          "\n"
          "exit status: 0 every case matches, 1 some case differs, 2 usage error,\n"
          "3 a script is unreadable or invalid.\n");
}

typedef struct run_opts {
  int json, quiet;
  size_t total, differ; /* cases over every script run so far */
} run_opts_t;

static void codes_text(const char codes[][CS_REPRO_CODE_MAX], size_t n, char *out, size_t cap) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < n && used < cap; i++)
    used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "", codes[i]);
  if (n == 0)
    (void)snprintf(out, cap, "-");
}

static void expected_text(const cs_repro_case_t *c, char *out, size_t cap) {
  char codes[400] = "";
  if (c->has_codes)
    codes_text(c->codes, c->ncodes, codes, sizeof(codes));
  else if (c->ninclude > 0)
    codes_text(c->include, c->ninclude, codes, sizeof(codes));
  else if (c->cause[0] != '\0')
    (void)snprintf(codes, sizeof(codes), "cause %s", c->cause);
  if (c->cause[0] != '\0') {
    (void)snprintf(out, cap, "%s %s", c->expect_pass ? "pass" : "fail", codes);
    return;
  }
  (void)snprintf(out, cap, "%s%s%s%s", c->expect_pass ? "pass" : "fail", codes[0] ? " " : "",
                 c->has_codes || codes[0] == '\0' ? "" : "+", codes);
}

static cJSON *codes_json(const char codes[][CS_REPRO_CODE_MAX], size_t n) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a != NULL && i < n; i++)
    cJSON_AddItemToArray(a, cJSON_CreateString(codes[i]));
  return a;
}

static cJSON *case_json(const cs_repro_case_t *c, const cs_repro_outcome_t *o) {
  char at[CS_TIME_STRLEN], bel[CS_TIME_STRLEN];
  cs_time_format(o->at_ms, at);
  cs_time_format(o->believed_ms, bel);
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "name", c->name);
  cJSON_AddStringToObject(j, "clock", c->clock_text);
  cJSON_AddStringToObject(j, "at_spec", c->at_text);
  cJSON_AddStringToObject(j, "at", at);
  cJSON_AddStringToObject(j, "believed", bel);
  cJSON *exp = cJSON_AddObjectToObject(j, "expected");
  cJSON_AddStringToObject(exp, "verdict", c->expect_pass ? "pass" : "fail");
  if (c->has_codes)
    cJSON_AddItemToObject(exp, "codes", codes_json(c->codes, c->ncodes));
  if (c->ninclude)
    cJSON_AddItemToObject(exp, "codes_include", codes_json(c->include, c->ninclude));
  if (c->nexclude)
    cJSON_AddItemToObject(exp, "codes_exclude", codes_json(c->exclude, c->nexclude));
  if (c->nwarnings)
    cJSON_AddItemToObject(exp, "warnings_include", codes_json(c->warnings, c->nwarnings));
  if (c->cause[0] != '\0')
    cJSON_AddStringToObject(exp, "cause", c->cause);
  if (c->has_client)
    cJSON_AddStringToObject(j, "client", c->client.name);
  cJSON *got = cJSON_AddObjectToObject(j, "got");
  cJSON_AddStringToObject(got, "verdict", o->pass ? "pass" : "fail");
  cJSON_AddItemToObject(got, "codes", codes_json(o->codes, o->ncodes));
  cJSON_AddItemToObject(got, "warnings", codes_json(o->warnings, o->nwarnings));
  if (c->has_client)
    cJSON_AddStringToObject(got, "cause", o->cause);
  cJSON_AddBoolToObject(j, "ok", o->ok);
  if (!o->ok)
    cJSON_AddStringToObject(j, "diff", o->diff);
  return j;
}

/* The case column is as wide as the script's longest case name: names are
 * never cut. */
static int name_width(const cs_repro_script_t *s) {
  size_t w = 4;
  for (size_t i = 0; i < s->ncases; i++)
    w = strlen(s->cases[i].name) > w ? strlen(s->cases[i].name) : w;
  return (int)w;
}

static void print_header(const char *path, const cs_repro_script_t *s,
                         const cs_repro_material_t *m) {
  char t[CS_TIME_STRLEN];
  cs_time_format(m->issued_ms, t);
  printf("%s%s%s: %s %s, issued %s\n", path, s->name[0] ? " - " : "", s->name,
         s->has_scenario ? "scenario" : "chain",
         s->has_scenario ? cs_lab_scenario_info(s->scenario)->name : s->chain_path, t);
  printf("  %-4s %-*s %-18s %-26s %-26s %-30s %s\n", "", name_width(s), "case", "clock",
         "true time", "clock reads", "got", "expected");
}

static void print_row(const cs_repro_script_t *s, const cs_repro_case_t *c,
                      const cs_repro_outcome_t *o) {
  char at[CS_TIME_STRLEN], bel[CS_TIME_STRLEN], got[400], codes[360], exp[400];
  cs_time_format(o->at_ms, at);
  cs_time_format(o->believed_ms, bel);
  codes_text(o->codes, o->ncodes, codes, sizeof(codes));
  if (c->has_client)
    (void)snprintf(got, sizeof(got), "%s %s%s", o->pass ? "pass" : "fail",
                   o->pass ? "" : "cause ", o->pass ? "" : o->cause);
  else
    (void)snprintf(got, sizeof(got), "%s %s", o->pass ? "pass" : "fail", o->pass ? "" : codes);
  expected_text(c, exp, sizeof(exp));
  printf("  %-4s %-*s %-18s %-26s %-26s %-30s %s\n", o->ok ? "ok" : "DIFF", name_width(s),
         c->name, c->clock_text, at, bel, got, exp);
  if (!o->ok)
    printf("       ^ %s\n", o->diff);
}

/* Runs one script; adds its JSON to results. Returns 0 all ok, 1 some
 * mismatch, 3 unusable script. */
static int run_script(const char *path, run_opts_t *ro, cJSON *results) {
  uint8_t *buf = NULL;
  size_t len = 0;
  cs_repro_script_t *s = NULL;
  cs_repro_material_t m;
  cs_repro_material_init(&m);
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  cJSON *sj = cJSON_CreateObject();
  cJSON_AddItemToArray(results, sj);
  cJSON_AddStringToObject(sj, "script", path);
  int status = 3;
  char dir[CS_REPRO_PATH_MAX];
  (void)snprintf(dir, sizeof(dir), "%s", path);
  if (cs_file_read(path, CS_REPRO_MAX_INPUT, &buf, &len, &eb) != 0 ||
      cs_repro_script_parse(&s, buf, len, &eb) != 0 ||
      (s->has_scenario ? cs_repro_material_scenario(&m, s, &eb)
                       : cs_repro_material_files(&m, s, dirname(dir), &eb)) != 0) {
    fprintf(stderr, "certskew repro: %s: %s\n", path, eb.msg);
    cJSON_AddStringToObject(sj, "error", eb.msg);
    goto done;
  }
  char t[CS_TIME_STRLEN];
  cs_time_format(m.issued_ms, t);
  cJSON_AddStringToObject(sj, "name", s->name);
  if (s->has_scenario)
    cJSON_AddStringToObject(sj, "scenario", cs_lab_scenario_info(s->scenario)->name);
  else
    cJSON_AddStringToObject(sj, "chain", s->chain_path);
  cJSON_AddStringToObject(sj, "issued", t);
  cJSON *cases = cJSON_AddArrayToObject(sj, "cases");
  if (!ro->json && !ro->quiet)
    print_header(path, s, &m);
  size_t bad = 0;
  for (size_t i = 0; i < s->ncases; i++) {
    cs_repro_outcome_t o;
    if (cs_repro_run_case(&m, s, &s->cases[i], &o, &eb) != 0) {
      fprintf(stderr, "certskew repro: %s: %s\n", path, eb.msg);
      cJSON_AddStringToObject(sj, "error", eb.msg);
      goto done;
    }
    bad += !o.ok;
    cJSON_AddItemToArray(cases, case_json(&s->cases[i], &o));
    if (ro->json)
      continue;
    if (ro->quiet && !o.ok && bad == 1)
      print_header(path, s, &m);
    if (!ro->quiet || !o.ok)
      print_row(s, &s->cases[i], &o);
  }
  ro->total += s->ncases;
  ro->differ += bad;
  cJSON_AddNumberToObject(sj, "passed", (double)(s->ncases - bad));
  cJSON_AddNumberToObject(sj, "failed", (double)bad);
  if (!ro->json)
    printf("%s: %zu case%s, %zu as expected, %zu differ%s\n", path, s->ncases,
           s->ncases == 1 ? "" : "s", s->ncases - bad, bad, bad ? "" : "");
  status = bad ? 1 : 0;
done:
  cJSON_AddBoolToObject(sj, "ok", status == 0);
  cs_repro_material_free(&m);
  cs_repro_script_free(s);
  free(buf);
  return status;
}

int cs_cmd_repro(int argc, char **argv) {
  const char *cmd = "repro", *result = NULL, *scripts[MAX_SCRIPTS];
  size_t n = 0;
  run_opts_t ro = {0, 0, 0, 0};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(a, "--json") == 0) {
      ro.json = 1;
    } else if (strcmp(a, "--quiet") == 0) {
      ro.quiet = 1;
    } else if (strcmp(a, "--no-result") == 0) { /* the default; kept for old scripts */
      result = NULL;
    } else if (strcmp(a, "--result") == 0) {
      if ((result = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        return 2;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "certskew repro: unknown option '%s' (see --help)\n", a);
      return 2;
    } else if (n == MAX_SCRIPTS) {
      fprintf(stderr, "certskew repro: at most %d scripts\n", MAX_SCRIPTS);
      return 2;
    } else {
      scripts[n++] = a;
    }
  }
  if (n == 0) {
    usage(stderr);
    return 2;
  }
  cJSON *root = cJSON_CreateObject();
  cJSON *results = cJSON_AddArrayToObject(root, "scripts");
  int status = 0;
  for (size_t i = 0; i < n; i++) {
    int st = run_script(scripts[i], &ro, results);
    status = st > status ? st : status;
  }
  cJSON_AddBoolToObject(root, "ok", status == 0);
  cJSON_AddNumberToObject(root, "cases", (double)ro.total);
  cJSON_AddNumberToObject(root, "differ", (double)ro.differ);
  if (!ro.json)
    printf("total: %zu script%s, %zu case%s, %zu as expected, %zu differ\n", n, n == 1 ? "" : "s",
           ro.total, ro.total == 1 ? "" : "s", ro.total - ro.differ, ro.differ);
  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  if (text == NULL) {
    fprintf(stderr, "certskew repro: out of memory\n");
    return 3;
  }
  if (ro.json)
    printf("%s\n", text);
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (result != NULL && cs_file_write_atomic(result, text, strlen(text), 0644, &eb) != 0) {
    fprintf(stderr, "certskew repro: cannot write %s: %s\n", result, eb.msg);
    status = status ? status : 3;
  }
  free(text);
  return status;
}
