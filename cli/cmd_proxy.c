/* `certskew proxy`: run the intercepting proxy (see certskew/proxy/proxy.h). */
#include <stdio.h>
#include <string.h>

#include "certskew/clients/profile.h"

#include "certskew/proxy/proxy.h"
#include "cli_commands.h"
#include "cmd_args.h"
#include "log_list_load.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: certskew proxy [OPTIONS]\n"
          "\n"
          "Intercepting HTTP/1.1 proxy: point a browser (or curl -x) at it. Every HTTPS\n"
          "server's chain is captured as served and judged at the real clock and at every\n"
          "--clock model, and for each client profile (chrome, safari, firefox, openssl,\n"
          "openssl-1.0.2). The browser gets a 502 page naming the cause only when its own\n"
          "profile rejects the chain at the real clock: the profile is picked from the\n"
          "User-Agent of the first request inside the tunnel (Chrome/Edge, Safari, Firefox,\n"
          "curl -> openssl), else --browser. Other clients' failures are in the report.\n"
          "Trust the local CA first: certskew ca path / certskew ca export.\n"
          "\n"
          "options:\n"
          "  --listen ADDR          address to listen on (default 127.0.0.1; anything but\n"
          "                         loopback prints a warning)\n"
          "  --port N               port (default 8080; 0 = any free port, see --port-file)\n"
          "  --port-file FILE       write the bound port to FILE once listening\n"
          "  --allow-remote         serve clients that are not on loopback (never by default)\n"
          "  --trust FILE           upstream trust anchors (PEM; default: system store)\n"
          "  --clock MODEL          also judge at this client clock (repeatable; see\n"
          "                         'certskew clocks')\n"
          "  --forward-invalid      pass traffic to invalid upstreams through anyway\n"
          "  --browser NAME         profile judging tunnels whose User-Agent names none we\n"
          "                         know (default chrome; see docs/clients.md)\n"
          "  --passthrough [HOST...] do not decrypt: relay CONNECT tunnels byte for byte so\n"
          "                         the browser validates the real chain (no CA to install);\n"
          "                         certskew reads the TLS handshake going by. Without HOST:\n"
          "                         every host; with HOSTs (name, *.suffix, optional :port,\n"
          "                         comma-separated or repeated): only those\n"
          "  --intercept HOST...    intercept these hosts even with --passthrough\n"
          "  --home DIR             CA directory (default $CERTSKEW_HOME,\n"
          "                         $XDG_DATA_HOME/certskew or ~/.local/share/certskew)\n"
          "  --store DIR            capture store (default HOME/captures)\n"
          "  --max-captures N       captures kept (default 1000; superseded, expired chains\n"
          "                         deleted first, then the least recently seen)\n"
          "  --web DIR              static files served at / (default: the web/ directory)\n"
          "  --max-conns N          client connections at once (default 1024)\n"
          "  --workers N            event loops on N threads (default $CERTSKEW_WORKERS,\n"
          "                         else one per CPU, at most 16 and as ulimit -n allows;\n"
          "                         1: a single loop, no thread)\n"
          "  --handshake-timeout D  connect + handshakes deadline (default 10s)\n"
          "  --idle-timeout D       close a tunnel idle this long (default 120s)\n"
          "  --verbose              log each connection's events to stderr\n"
          "  --log-list FILE        Chrome v3 CT log list (JSON): verify SCTs in every report;\n"
          "                         repeatable, merged by log id; default: the list certskew\n"
          "                         ships ($CERTSKEW_LOG_LIST overrides, 'none' for no list)\n"
          "\n"
          "Each chain captured for the first time is then enriched in the background: a\n"
          "stapling probe (stapled OCSP, TLS-extension SCTs) and the OCSP, CRL and caIssuers\n"
          "URLs the certificate names (http:// only); its report.json is rewritten with\n"
          "the result. Never in any connection's path.\n"
          "  --no-fetch             probe only: fetch no OCSP, CRL or caIssuers URL\n"
          "  --no-enrich            neither probe nor fetch\n"
          "  --fetch-timeout D      per probe/fetch step (default 5s)\n"
          "  --max-enrich N         enrichments at once (default 4)\n"
          "\n"
          "Local API on the same port: GET /api/captures, /api/captures/ID/report,\n"
          "/api/captures/ID/chain.pem, /api/ca.pem; POST /api/replay.\n");
}

int cs_cmd_proxy(int argc, char **argv) {
  cs_proxy_config_t cfg;
  cs_proxy_config_init(&cfg);
  const char *log_lists[CS_CT_LOGLIST_MAX_LISTS];
  size_t nlog_lists = 0;
  cs_clock_t clocks[CS_CMD_MAX_CLOCKS + 1];
  size_t nclocks = 0;
  cs_clock_init_exact(&clocks[nclocks++]);
  const char *cmd = "proxy";
  /* Host rules borrow argv's strings. */
  const char *pass_hosts[64], *icpt_hosts[64];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = NULL;
    long long n = 0;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(a, "--passthrough") == 0 || strcmp(a, "--intercept") == 0) {
      int pass = a[2] == 'p';
      const char **list = pass ? pass_hosts : icpt_hosts;
      size_t *n_list = pass ? &cfg.npassthrough_hosts : &cfg.nintercept_hosts;
      int any = 0;
      while (i + 1 < argc && argv[i + 1][0] != '-' && argv[i + 1][0] != '\0') {
        if (*n_list == 64) {
          fprintf(stderr, "certskew proxy: more than 64 %s arguments\n", a);
          return 2;
        }
        list[(*n_list)++] = argv[++i];
        any = 1;
      }
      if (pass && !any)
        cfg.passthrough = 1;
      if (!pass && !any) {
        fprintf(stderr, "certskew proxy: --intercept needs at least one HOST\n");
        return 2;
      }
    } else if (strcmp(a, "--forward-invalid") == 0) {
      cfg.forward_invalid = 1;
    } else if (strcmp(a, "--browser") == 0 && i + 1 < argc) {
      const cs_client_profile_t *p = cs_client_profile_find(argv[++i]);
      if (p == NULL) {
        fprintf(stderr, "certskew proxy: --browser %s: no such client profile (chrome, safari, "
                        "firefox, openssl, openssl-1.0.2)\n", argv[i]);
        return 2;
      }
      cfg.browser = p->name;
    } else if (strcmp(a, "--allow-remote") == 0) {
      cfg.allow_remote = 1;
    } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
      cfg.verbose = 1;
    } else if (strcmp(a, "--no-fetch") == 0) {
      cfg.no_fetch = 1;
    } else if (strcmp(a, "--no-enrich") == 0) {
      cfg.no_enrich = 1;
    } else if (strcmp(a, "--log-list") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        return 2;
      if (nlog_lists == CS_CT_LOGLIST_MAX_LISTS) {
        fprintf(stderr, "certskew proxy: more than %d --log-list files\n", CS_CT_LOGLIST_MAX_LISTS);
        return 2;
      }
      log_lists[nlog_lists++] = v;
    } else if (strcmp(a, "--fetch-timeout") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL ||
          cs_cmd_duration(cmd, a, v, &cfg.fetch_timeout_ms) != 0)
        return 2;
    } else if (strcmp(a, "--max-enrich") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL ||
          cs_cmd_uint(cmd, a, v, 1, 64, &n) != 0)
        return 2;
      cfg.max_enrich = (size_t)n;
    } else if (strcmp(a, "--listen") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        return 2;
      cfg.listen_host = v;
    } else if (strcmp(a, "--port") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL ||
          cs_cmd_uint(cmd, a, v, 0, 65535, &n) != 0)
        return 2;
      cfg.listen_port = (int)n;
    } else if (strcmp(a, "--port-file") == 0) {
      if ((cfg.port_file = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        return 2;
    } else if (strcmp(a, "--trust") == 0) {
      if ((cfg.trust_file = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        return 2;
    } else if (strcmp(a, "--home") == 0) {
      if ((cfg.home_dir = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        return 2;
    } else if (strcmp(a, "--store") == 0) {
      if ((cfg.store_dir = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        return 2;
    } else if (strcmp(a, "--web") == 0) {
      if ((cfg.web_dir = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        return 2;
    } else if (strcmp(a, "--clock") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL ||
          cs_cmd_clock(cmd, v, clocks, &nclocks) != 0)
        return 2;
    } else if (strcmp(a, "--workers") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL ||
          cs_cmd_uint(cmd, a, v, 1, CS_PROXY_MAX_WORKERS, &n) != 0)
        return 2;
      cfg.workers = (int)n;
    } else if (strcmp(a, "--max-conns") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL ||
          cs_cmd_uint(cmd, a, v, 1, 100000, &n) != 0)
        return 2;
      cfg.max_conns = (size_t)n;
    } else if (strcmp(a, "--max-captures") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL ||
          cs_cmd_uint(cmd, a, v, 1, 10000000, &n) != 0)
        return 2;
      cfg.max_captures = (size_t)n;
    } else if (strcmp(a, "--handshake-timeout") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL ||
          cs_cmd_duration(cmd, a, v, &cfg.handshake_timeout_ms) != 0)
        return 2;
    } else if (strcmp(a, "--idle-timeout") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL ||
          cs_cmd_duration(cmd, a, v, &cfg.idle_timeout_ms) != 0)
        return 2;
    } else {
      fprintf(stderr, "certskew proxy: unknown option '%s' (see --help)\n", a);
      return 2;
    }
  }
  cfg.passthrough_hosts = pass_hosts;
  cfg.intercept_hosts = icpt_hosts;
  cfg.clocks = clocks;
  cfg.nclocks = nclocks;
  cs_ct_log_list_t *log_list = NULL; /* owned here; the proxy borrows it */
  if (cs_log_list_load(cmd, log_lists, nlog_lists, &log_list) != 0)
    return 1;
  cfg.log_list = log_list;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  int rc = cs_proxy_run(&cfg, &eb);
  cs_ct_log_list_free(log_list);
  if (rc != 0) {
    fprintf(stderr, "certskew proxy: %s\n", eb.msg[0] ? eb.msg : cs_strerror(rc));
    return 1;
  }
  return 0;
}
