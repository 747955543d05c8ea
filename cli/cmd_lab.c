/*
 * `certskew lab SCENARIO`: issues a lab scenario at the real clock (minus
 * --issued-ago) and serves it on 127.0.0.1 — TLS with the scenario's chain,
 * HTTP for OCSP, the CRL and AIA — until SIGINT/SIGTERM or --duration.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "certskew/lab/lab_scenario.h"
#include "certskew/core/time.h"
#include "cli_commands.h"
#include "cmd_args.h"
#include "certskew/lab/lab_files.h"
#include "certskew/lab/lab_server.h"
#include "certskew/store/fs.h"
#include "certskew/net/rng.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: certskew lab SCENARIO [OPTIONS]\n"
          "       certskew lab --list\n"
          "\n"
          "Issues SCENARIO's material with a lab CA and two lab CT logs at the real clock\n"
          "and serves it on 127.0.0.1 (ephemeral ports unless given): a TLS server with\n"
          "the chain, and an HTTP server for OCSP (POST /ocsp), the CRL (/crl.der) and\n"
          "the intermediate (/intermediate.der), named in the leaf's AIA and CRL DP.\n"
          "The TLS server does not staple (mbedTLS 2.28 cannot): clients fetch OCSP.\n"
          "\n"
          "options:\n"
          "  --listen [127.0.0.1:]PORT  TLS port (default: ephemeral)\n"
          "  --http [127.0.0.1:]PORT    HTTP port for OCSP/CRL/AIA (default: ephemeral)\n"
          "  --issued-ago DUR           issue DUR before now (e.g. 500ms, 2h)\n"
          "  --name DNS                 the leaf's name (default localhost)\n"
          "  --out DIR                  write the material there (default: certskew-lab-SCENARIO)\n"
          "  --no-serve                 write the material and exit\n"
          "  --duration DUR             stop serving after DUR (default: until a signal)\n"
          "  --verbose                  log TLS handshake failures\n"
          "\n"
          "files in DIR:\n%s",
          cs_lab_files_help);
}

static void list(void) {
  for (int i = 0; i < CS_LAB_SC_COUNT; i++) {
    const cs_lab_scenario_info_t *info = cs_lab_scenario_info((cs_lab_scenario_id_t)i);
    printf("%-24s %s%s%s%s\n", info->name, info->summary, info->cause_codes[0] ? " [" : "",
           info->cause_codes, info->cause_codes[0] ? "]" : "");
  }
}

/* "PORT" or "127.0.0.1:PORT"; anything else is refused (loopback only). */
static int parse_port(const char *opt, const char *v, int *port) {
  const char *p = v;
  if (strncmp(v, "127.0.0.1:", 10) == 0)
    p = v + 10;
  else if (strchr(v, ':') != NULL) {
    fprintf(stderr, "certskew lab: %s: the lab listens on 127.0.0.1 only, not '%s'\n", opt, v);
    return -1;
  }
  long long n;
  if (cs_cmd_uint("lab", opt, p, 0, 65535, &n) != 0)
    return -1;
  *port = (int)n;
  return 0;
}

typedef struct lab_run {
  cs_lab_server_t srv;
  uv_signal_t sigint, sigterm;
  uv_timer_t stop_timer;
  int has_timer;
} lab_run_t;

static void stop_all(lab_run_t *r) {
  cs_lab_server_stop(&r->srv);
  if (!uv_is_closing((uv_handle_t *)&r->sigint))
    uv_close((uv_handle_t *)&r->sigint, NULL);
  if (!uv_is_closing((uv_handle_t *)&r->sigterm))
    uv_close((uv_handle_t *)&r->sigterm, NULL);
  if (r->has_timer && !uv_is_closing((uv_handle_t *)&r->stop_timer))
    uv_close((uv_handle_t *)&r->stop_timer, NULL);
}

static void on_signal(uv_signal_t *s, int signum) {
  (void)signum;
  stop_all(s->data);
}

static void on_timer(uv_timer_t *t) { stop_all(t->data); }

static void print_summary(const cs_lab_scenario_t *sc, const char *dir, const cs_lab_addrs_t *a,
                          int serving) {
  const cs_lab_scenario_info_t *info = cs_lab_scenario_info(sc->id);
  char t[CS_TIME_STRLEN];
  cs_time_format(sc->issued_ms, t);
  printf("certskew lab: %s - %s\n", info->name, info->summary);
  printf("  issued        %s\n", t);
  printf("  cause codes   %s\n", info->cause_codes[0] ? info->cause_codes : "(none at exact clocks)");
  printf("  trust anchor  %s/trust.pem\n", dir);
  printf("  log list      %s/log_list.json   (openssl: %s/ct_logs.cnf)\n", dir, dir);
  if (serving) {
    printf("  TLS           127.0.0.1:%d  (name %s)\n", a->tls_port, a->dns_name);
    printf("  OCSP          %s\n  CRL           %s\n  caIssuers     %s\n", sc->ocsp_url,
           sc->crl_url, sc->ca_issuers_url);
    printf("try:\n  openssl s_client -connect 127.0.0.1:%d -servername %s -CAfile %s/trust.pem "
           "-ct -ctlogfile %s/ct_logs.cnf </dev/null\n",
           a->tls_port, a->dns_name, dir, dir);
    printf("  certskew diagnose 127.0.0.1:%d --trust %s/trust.pem\n", a->tls_port, dir);
    printf("through the proxy (a browser or curl in front; --trust makes the lab CA its upstream "
           "anchor):\n"
           "  certskew proxy --trust %s/trust.pem --log-list %s/log_list.json\n"
           "  curl -x http://127.0.0.1:8080 --cacert \"$(certskew ca path)\" "
           "https://127.0.0.1:%d/\n",
           dir, dir, a->tls_port);
  }
  printf("  certskew replay %s/chain.pem --trust %s/trust.pem --log-list %s/log_list.json "
         "--ocsp %s/ocsp.der --crl %s/crl.der --now\n",
         dir, dir, dir, dir, dir);
  fflush(stdout);
}

typedef struct lab_opts {
  const char *scenario, *dir, *name;
  int tls_port, http_port, serve, verbose;
  int64_t issued_ago_ms, duration_ms;
} lab_opts_t;

static int parse(int argc, char **argv, lab_opts_t *o) {
  const char *cmd = "lab", *v;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 1;
    }
    if (strcmp(a, "--list") == 0) {
      list();
      return 1;
    }
    if (strcmp(a, "--no-serve") == 0) {
      o->serve = 0;
    } else if (strcmp(a, "--verbose") == 0) {
      o->verbose = 1;
    } else if (strcmp(a, "--listen") == 0 || strcmp(a, "--http") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL ||
          parse_port(a, v, a[2] == 'l' ? &o->tls_port : &o->http_port) != 0)
        return -1;
    } else if (strcmp(a, "--issued-ago") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        return -1;
      if (cs_duration_parse(v, &o->issued_ago_ms) != 0 || o->issued_ago_ms < 0) {
        fprintf(stderr, "certskew lab: --issued-ago needs a duration >= 0, not '%s'\n", v);
        return -1;
      }
    } else if (strcmp(a, "--duration") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL ||
          cs_cmd_duration(cmd, a, v, &o->duration_ms) != 0)
        return -1;
    } else if (strcmp(a, "--out") == 0) {
      if ((o->dir = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        return -1;
    } else if (strcmp(a, "--name") == 0) {
      if ((o->name = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        return -1;
    } else if (a[0] == '-' || o->scenario != NULL) {
      fprintf(stderr, "certskew lab: unexpected argument '%s' (see --help)\n", a);
      return -1;
    } else {
      o->scenario = a;
    }
  }
  if (o->scenario == NULL) {
    fprintf(stderr, "certskew lab: name a scenario (certskew lab --list)\n");
    return -1;
  }
  return 0;
}

int cs_cmd_lab(int argc, char **argv) {
  lab_opts_t o = {NULL, NULL, "localhost", 0, 0, 1, 0, 0, 0};
  int rc = parse(argc, argv, &o);
  if (rc != 0)
    return rc > 0 ? 0 : 2;
  cs_lab_scenario_id_t id;
  if (cs_lab_scenario_find(o.scenario, &id) != 0) {
    fprintf(stderr, "certskew lab: no scenario '%s'; these exist:\n", o.scenario);
    list();
    return 2;
  }
  char dir[4096], base[64];
  (void)snprintf(dir, sizeof(dir), "%s", o.dir ? o.dir : "");
  if (o.dir == NULL)
    (void)snprintf(dir, sizeof(dir), "certskew-lab-%s", o.scenario);
  uv_loop_t loop;
  lab_run_t r;
  memset(&r, 0, sizeof(r));
  cs_lab_scenario_t sc;
  cs_lab_scenario_init(&sc);
  cs_rng_t rng;
  int status = 3, loop_ok = uv_loop_init(&loop) == 0, rng_ok = 0;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  cs_lab_server_init(&r.srv, &loop);
  r.srv.verbose = o.verbose;
  if (!loop_ok)
    goto out;
  if (o.serve && cs_lab_server_listen_http(&r.srv, o.http_port, &eb) != 0)
    goto fail;
  (void)snprintf(base, sizeof(base), "http://127.0.0.1:%d",
                 o.serve ? r.srv.http_port : (o.http_port ? o.http_port : 9));
  rng_ok = cs_rng_init(&rng, "certskew lab") == 0;
  /* The one read of the real clock: everything else is relative to it. */
  cs_lab_scenario_params_t params = {o.name, base, cs_fs_now_ms() - o.issued_ago_ms};
  if (!rng_ok || (rc = cs_lab_scenario_build(&sc, id, &params, cs_rng_fill, &rng)) != 0) {
    cs_errbuf_set(&eb, rng_ok ? rc : CS_ECRYPTO, "cannot issue the scenario: %s",
                  cs_strerror(rng_ok ? rc : CS_ECRYPTO));
    goto fail;
  }
  if (o.serve && cs_lab_server_listen_tls(&r.srv, &sc, o.tls_port, &eb) != 0)
    goto fail;
  cs_lab_addrs_t addrs = {o.serve ? r.srv.tls_port : 0, o.serve ? r.srv.http_port : 0, o.name};
  if (cs_lab_files_write(dir, &sc, &addrs, &eb) != 0)
    goto fail;
  print_summary(&sc, dir, &addrs, o.serve);
  status = 0;
  if (!o.serve)
    goto out;
  uv_signal_init(&loop, &r.sigint);
  uv_signal_init(&loop, &r.sigterm);
  r.sigint.data = r.sigterm.data = &r;
  uv_signal_start(&r.sigint, on_signal, SIGINT);
  uv_signal_start(&r.sigterm, on_signal, SIGTERM);
  if (o.duration_ms > 0) {
    uv_timer_init(&loop, &r.stop_timer);
    r.stop_timer.data = &r;
    r.has_timer = 1;
    uv_timer_start(&r.stop_timer, on_timer, (uint64_t)o.duration_ms, 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  printf("certskew lab: stopped (%llu TLS handshakes, %llu HTTP requests, %llu OCSP)\n",
         (unsigned long long)r.srv.tls_handshakes, (unsigned long long)r.srv.http_requests,
         (unsigned long long)r.srv.ocsp_requests);
  goto out;
fail:
  fprintf(stderr, "certskew lab: %s\n", eb.msg);
out:
  if (loop_ok) {
    cs_lab_server_stop(&r.srv);
    uv_run(&loop, UV_RUN_DEFAULT); /* run the close callbacks */
    (void)uv_loop_close(&loop);
  }
  cs_lab_server_free(&r.srv);
  cs_lab_scenario_free(&sc);
  if (rng_ok)
    cs_rng_free(&rng);
  return status;
}
