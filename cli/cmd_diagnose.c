/* `certskew diagnose HOST[:PORT]`: the proxy's capture and report, no browser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "certskew/proxy/ca.h"
#include "certskew/store/capture.h"
#include "analysis_args.h"
#include "cli_commands.h"
#include "cmd_args.h"
#include "certskew/fetch/diagnose.h"
#include "certskew/proxy/http_head.h"
#include "certskew/store/fs.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: certskew diagnose HOST[:PORT] [OPTIONS]\n"
          "\n"
          "Connects to HOST (port 443 by default) the way the proxy does, captures the\n"
          "chain exactly as served, probes stapling (stapled OCSP, TLS-extension SCTs)\n"
          "and fetches the OCSP response, CRL and missing intermediate the certificates\n"
          "name (http:// only), then judges it all at the real clock and every --clock.\n"
          "\n"
          "options:\n"
          "  --sni NAME         server name to send (default HOST; none for IP addresses)\n"
          "  --timeout D        give up on the capture, and on each probe or fetch, after D\n"
          "                     (default 10s)\n"
          "  --no-fetch         probe stapling only: fetch no OCSP, CRL or caIssuers URL\n"
          "  --json             print the JSON report\n"
          "  --store DIR        capture store (default: the proxy's, under CERTSKEW_HOME)\n"
          "  --no-store         do not record the capture\n"
          "%s"
          "\n"
          "The real clock (exact) is always judged, then each --clock (no default set).\n"
          "Without --at/--now the instant judged is the current time. --host defaults to\n"
          "the SNI (or HOST). --ocsp/--crl files replace what the probe and fetches found.\n"
          "\n"
          "exit status: 0 every client asked (--client; default chrome, safari, firefox,\n"
          "openssl, openssl-1.0.2) passes at the real clock, 1 some client fails,\n"
          "3 connection or TLS failure, 2 usage error.\n",
          cs_analysis_args_help);
}

static void print_error_json(const cs_diagnose_result_t *res, const char *target) {
  cJSON *o = cJSON_CreateObject();
  cJSON *e = cJSON_AddObjectToObject(o, "error");
  cJSON_AddStringToObject(o, "target", target);
  cJSON_AddStringToObject(e, "code", res->err_code);
  cJSON_AddStringToObject(e, "message", res->err_msg);
  if (strcmp(res->err_code, "UPSTREAM_TLS13_ONLY") == 0)
    /* The chain and any staple travel encrypted in TLS 1.3. */
    cJSON_AddBoolToObject(o, "stapling_observable", 0);
  char *text = cJSON_Print(o);
  if (text != NULL)
    printf("%s\n", text);
  free(text);
  cJSON_Delete(o);
}

static const char *state_text(cs_enrich_state_t s) {
  static const char *const names[] = {"not run", "ok", "FAILED", "skipped"};
  return (unsigned)s < 4 ? names[s] : "?";
}

static void print_step(const char *name, const cs_enrich_step_t *s) {
  printf("  %-6s %s%s%s%s%s\n", name, state_text(s->state), s->url[0] ? " " : "", s->url,
         s->detail[0] ? ": " : "", s->detail);
}

static void print_enrichment(const cs_enrich_result_t *e) {
  if (e == NULL)
    return;
  printf("enrichment:\n");
  if (e->probe.state == CS_ENRICH_OK && !e->stapling_observable)
    printf("  probe  ok: stapling not observable (TLS 1.3 only)\n");
  else if (e->probe.state == CS_ENRICH_OK)
    printf("  probe  ok: %s, %zu TLS-extension SCT(s)\n",
           e->staple != NULL ? "OCSP response stapled" : "no staple", e->ntls_scts);
  else
    print_step("probe", &e->probe);
  print_step("ocsp", &e->ocsp);
  print_step("crl", &e->crl);
  print_step("aia", &e->aia);
}

static const char *jstr(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *jtime(const cJSON *t) {
  const char *s = jstr(t, "rfc3339");
  return s != NULL ? s : "unbounded";
}

/* The report's per-client table, failure windows, causes and fixes: the
 * text `certskew replay` prints first (replay_print.c), read from the
 * report JSON the judgement wrote. Returns 0 when printed. */
static int print_clients_json(const char *report_json) {
  cJSON *r = report_json != NULL ? cJSON_Parse(report_json) : NULL;
  const cJSON *clients = cJSON_GetObjectItemCaseSensitive(r, "clients");
  if (!cJSON_IsArray(clients) || cJSON_GetArraySize(clients) == 0) {
    cJSON_Delete(r);
    return -1;
  }
  const cJSON *c0 = cJSON_GetArrayItem(clients, 0);
  printf("clients at %s:\n", jtime(cJSON_GetObjectItemCaseSensitive(c0, "judged_at")));
  const cJSON *c;
  cJSON_ArrayForEach(c, clients) {
    const char *cause = jstr(c, "root_cause"), *cons = jstr(c, "consequence");
    const char *verdict = jstr(c, "verdict_at_instant");
    printf("  %-16s %s  ", jstr(c, "name") ? jstr(c, "name") : "?",
           verdict != NULL && strcmp(verdict, "fail") == 0 ? "FAIL" : "pass");
    if (cause != NULL)
      printf("%s%s%s  ", cause, cons ? " -> " : "", cons ? cons : "");
    printf("fails ");
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(c, "fails_for_true_times"), *w;
    int k = 0;
    cJSON_ArrayForEach(w, ws) {
      const cJSON *from = cJSON_GetObjectItemCaseSensitive(w, "from");
      const cJSON *to = cJSON_GetObjectItemCaseSensitive(w, "to");
      if (k++ == 3) {
        printf("; +%d more", cJSON_GetArraySize(ws) - 3);
        break;
      }
      if (k > 1)
        printf("; ");
      if (cJSON_IsNull(from) && cJSON_IsNull(to))
        printf("always");
      else if (cJSON_IsNull(from))
        printf("until %s", jtime(to));
      else if (cJSON_IsNull(to))
        printf("from %s on", jtime(from));
      else
        printf("from %s until %s", jtime(from), jtime(to));
    }
    if (k == 0)
      printf("never");
    printf("\n");
  }
  const cJSON *causes = cJSON_GetObjectItemCaseSensitive(r, "causes");
  int nc = cJSON_GetArraySize(causes);
  if (nc == 0)
    printf("every client passes at this instant\n");
  for (int k = 0; k < nc && k < 2; k++) {
    const cJSON *x = cJSON_GetArrayItem(causes, k);
    const char *cons = jstr(x, "consequence"), *detail = jstr(x, "detail"), *fix = jstr(x, "fix");
    printf("%s cause: %s (fails %s)%s%s\n", k == 0 ? "top" : "next", jstr(x, "code"),
           jstr(x, "clients") ? jstr(x, "clients") : "?", cons ? ", reported as " : "",
           cons ? cons : "");
    if (detail != NULL)
      printf("  %s\n", detail);
    if (fix != NULL && fix[0] != '\0')
      printf("  fix: %s\n", fix);
  }
  if (nc > 2)
    printf("(%d more causes: see --json)\n", nc - 2);
  cJSON_Delete(r);
  return 0;
}

static void print_text(const cs_diagnose_result_t *res, const char *target) {
  const cs_verdict_t *v = &res->verdict;
  printf("%s (%s): %s %s, %zu certificate%s served\n", target, res->addr, res->tls_version,
         res->cipher, res->ncerts, res->ncerts == 1 ? "" : "s");
  int table = print_clients_json(v->report_json) == 0;
  if (!table && (v->invalid || v->failing[0] != '\0'))
    printf("FAILS at the real clock for some client:\n%s", v->reasons);
  else if (!table)
    printf("valid at the real clock%s\n", v->worst == 1 ? " (warnings: see --json)" : "");
  print_enrichment(res->enrich);
  if (v->capture_id[0] != '\0')
    printf("capture: %s\n", v->capture_id);
}

static int open_store(const char *dir, cs_capture_store_t **out) {
  char path[4200];
  if (dir != NULL) {
    snprintf(path, sizeof path, "%s", dir);
  } else {
    char home[4096];
    if (cs_ca_home_dir(home, sizeof home) != 0)
      return -1;
    snprintf(path, sizeof path, "%s/captures", home);
  }
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_capture_store_open(out, path, 1000, &eb) != 0) {
    fprintf(stderr, "certskew diagnose: warning: capture store unavailable: %s\n", eb.msg);
    return -1;
  }
  return 0;
}

int cs_cmd_diagnose(int argc, char **argv) {
  const char *cmd = "diagnose", *target = NULL, *store_dir = NULL;
  int json = 0, no_store = 0, status = 2;
  cs_analysis_args_t args;
  cs_analysis_args_init(&args);
  cs_diagnose_opts_t opts;
  memset(&opts, 0, sizeof opts);
  opts.timeout_ms = 10000;
  opts.fetch = 1;
  cs_capture_store_t *store = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = NULL;
    int shared = cs_analysis_args_option(&args, cmd, argc, argv, &i);
    if (shared < 0)
      goto out;
    if (shared > 0)
      continue;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      status = 0;
      goto out;
    }
    if (strcmp(a, "--json") == 0) {
      json = 1;
    } else if (strcmp(a, "--no-store") == 0) {
      no_store = 1;
    } else if (strcmp(a, "--no-fetch") == 0) {
      opts.fetch = 0;
    } else if (strcmp(a, "--sni") == 0) {
      if ((opts.sni = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        goto out;
    } else if (strcmp(a, "--store") == 0) {
      if ((store_dir = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        goto out;
    } else if (strcmp(a, "--timeout") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL ||
          cs_cmd_duration(cmd, a, v, &opts.timeout_ms) != 0)
        goto out;
    } else if (a[0] == '-' || target != NULL) {
      fprintf(stderr, "certskew diagnose: unexpected argument '%s' (see --help)\n", a);
      goto out;
    } else {
      target = a;
    }
  }
  char host[CS_HTTP_HOST_MAX];
  if (target == NULL ||
      cs_http_authority_parse(target, strlen(target), 443, host, sizeof host, &opts.port) != 0) {
    fprintf(stderr, "certskew diagnose: need HOST[:PORT] (e.g. example.com or 127.0.0.1:8443)\n");
    goto out;
  }
  /* The real clock is always judged first (the exit status is its
   * verdict), then each --clock; not replay's default set. */
  if (args.opts.nclocks >= CS_REPLAY_MAX_CLOCKS) {
    fprintf(stderr, "certskew diagnose: at most %d --clock models\n", CS_REPLAY_MAX_CLOCKS - 1);
    goto out;
  }
  memmove(&args.clocks[1], &args.clocks[0], args.opts.nclocks * sizeof args.clocks[0]);
  cs_clock_init_exact(&args.clocks[0]);
  args.opts.nclocks++;
  status = 3;
  if (cs_analysis_args_load(&args, cmd) != 0)
    goto out;
  opts.host = host;
  opts.analysis = &args.opts;
  opts.trust_file = args.ntrust_paths ? args.trust_paths[0] : NULL;
  if (!no_store && open_store(store_dir, &store) == 0)
    opts.store = store;
  cs_diagnose_result_t res;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  int rc = cs_diagnose_run(&opts, &res, &eb);
  if (rc != 0) {
    fprintf(stderr, "certskew diagnose: %s\n", eb.msg[0] ? eb.msg : cs_strerror(rc));
  } else if (!res.connected) {
    if (json)
      print_error_json(&res, target);
    else
      printf("%s: %s: %s\n", target, res.err_code, res.err_msg);
  } else {
    if (json && res.verdict.report_json != NULL)
      printf("%s\n", res.verdict.report_json);
    else
      print_text(&res, target);
    status = res.verdict.invalid || res.verdict.failing[0] != '\0' ? 1 : 0;
  }
  cs_diagnose_result_free(&res);
out:
  cs_capture_store_free(store);
  cs_analysis_args_free(&args);
  return status;
}
