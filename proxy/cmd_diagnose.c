/* `certskew diagnose HOST[:PORT]`: the proxy's capture and report, no browser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "certskew/ca.h"
#include "certskew/capture.h"
#include "certskew/time.h"
#include "cli_commands.h"
#include "cmd_args.h"
#include "diagnose.h"
#include "http_head.h"
#include "proxy_fs.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: certskew diagnose HOST[:PORT] [OPTIONS]\n"
          "\n"
          "Connects to HOST (port 443 by default) the way the proxy does, captures the\n"
          "chain exactly as served and judges it at the real clock and every --clock.\n"
          "\n"
          "options:\n"
          "  --sni NAME        server name to send (default HOST; none for IP addresses)\n"
          "  --clock MODEL     also judge at this client clock (repeatable)\n"
          "  --at TIME         judge as if now were TIME (RFC 3339)\n"
          "  --trust FILE      trust anchors (PEM; default: system store)\n"
          "  --timeout D       give up after D (default 10s)\n"
          "  --json            print the JSON report\n"
          "  --store DIR       capture store (default: the proxy's, under CERTSKEW_HOME)\n"
          "  --no-store        do not record the capture\n"
          "\n"
          "exit status: 0 valid at the real clock, 1 invalid, 3 connection or TLS failure,\n"
          "2 usage error.\n");
}

static void print_error_json(const cs_diagnose_result_t *res, const char *target) {
  cJSON *o = cJSON_CreateObject();
  cJSON *e = cJSON_AddObjectToObject(o, "error");
  cJSON_AddStringToObject(o, "target", target);
  cJSON_AddStringToObject(e, "code", res->err_code);
  cJSON_AddStringToObject(e, "message", res->err_msg);
  char *text = cJSON_Print(o);
  if (text != NULL)
    printf("%s\n", text);
  free(text);
  cJSON_Delete(o);
}

static void print_text(const cs_diagnose_result_t *res, const char *target) {
  const cs_verdict_t *v = &res->verdict;
  printf("%s (%s): %s %s, %zu certificate%s served\n", target, res->addr, res->tls_version,
         res->cipher, res->ncerts, res->ncerts == 1 ? "" : "s");
  if (v->invalid)
    printf("INVALID at the real clock:\n%s", v->reasons);
  else
    printf("valid at the real clock%s\n", v->worst == 1 ? " (warnings: see --json)" : "");
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
  int json = 0, no_store = 0;
  cs_clock_t clocks[CS_CMD_MAX_CLOCKS + 1];
  size_t nclocks = 0;
  cs_clock_init_exact(&clocks[nclocks++]);
  cs_diagnose_opts_t opts;
  memset(&opts, 0, sizeof opts);
  opts.timeout_ms = 10000;
  opts.at_ms = cs_fs_now_ms();
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(a, "--json") == 0) {
      json = 1;
    } else if (strcmp(a, "--no-store") == 0) {
      no_store = 1;
    } else if (strcmp(a, "--sni") == 0) {
      if ((opts.sni = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        return 2;
    } else if (strcmp(a, "--trust") == 0) {
      if ((opts.trust_file = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        return 2;
    } else if (strcmp(a, "--store") == 0) {
      if ((store_dir = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        return 2;
    } else if (strcmp(a, "--clock") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL ||
          cs_cmd_clock(cmd, v, clocks, &nclocks) != 0)
        return 2;
    } else if (strcmp(a, "--timeout") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL ||
          cs_cmd_duration(cmd, a, v, &opts.timeout_ms) != 0)
        return 2;
    } else if (strcmp(a, "--at") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        return 2;
      if (cs_time_parse(v, &opts.at_ms) != 0) {
        fprintf(stderr, "certskew diagnose: --at needs an RFC 3339 time, not '%s'\n", v);
        return 2;
      }
    } else if (a[0] == '-' || target != NULL) {
      fprintf(stderr, "certskew diagnose: unexpected argument '%s' (see --help)\n", a);
      return 2;
    } else {
      target = a;
    }
  }
  char host[CS_HTTP_HOST_MAX];
  if (target == NULL ||
      cs_http_authority_parse(target, strlen(target), 443, host, sizeof host, &opts.port) != 0) {
    fprintf(stderr, "certskew diagnose: need HOST[:PORT] (e.g. example.com or 127.0.0.1:8443)\n");
    return 2;
  }
  opts.host = host;
  opts.clocks = clocks;
  opts.nclocks = nclocks;
  cs_capture_store_t *store = NULL;
  if (!no_store && open_store(store_dir, &store) == 0)
    opts.store = store;
  cs_diagnose_result_t res;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  int rc = cs_diagnose_run(&opts, &res, &eb);
  int status;
  if (rc != 0) {
    fprintf(stderr, "certskew diagnose: %s\n", eb.msg[0] ? eb.msg : cs_strerror(rc));
    status = 3;
  } else if (!res.connected) {
    if (json)
      print_error_json(&res, target);
    else
      printf("%s: %s: %s\n", target, res.err_code, res.err_msg);
    status = 3;
  } else {
    if (json && res.verdict.report_json != NULL)
      printf("%s\n", res.verdict.report_json);
    else
      print_text(&res, target);
    status = res.verdict.invalid ? 1 : 0;
  }
  cs_diagnose_result_free(&res);
  cs_capture_store_free(store);
  return status;
}
