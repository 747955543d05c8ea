/* Shared analysis options (see analysis_args.h). */
#include "analysis_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certskew/revocation/crl.h"
#include "certskew/core/time.h"
#include "certskew/store/file_io.h"
#include "certskew/store/trust_store_load.h"
#include "log_list_load.h"

/* An OCSP response or a CRL larger than this is hostile, not real. */
#define CS_ARGS_MAX_REVOCATION_FILE (16u * 1024 * 1024)

const char cs_analysis_args_help[] =
    "  --at TIME          judge at this true time: RFC 3339 with ms\n"
    "                     (2026-11-23T21:03:03.157Z), epoch ms (1795000000000) or @epoch-s\n"
    "  --now              judge at the current system time\n"
    "  --clock MODEL      add a clock model (repeatable); default: exact, trustd,\n"
    "                     openssl-ct, minute, day, -90s, -1h, +1h. See 'certskew clocks'.\n"
    "  --client NAME[:MODEL]  judge as this client (repeatable): chrome, safari,\n"
    "                     firefox, openssl (curl), openssl-1.0.2; MODEL (clock syntax)\n"
    "                     skews that client, e.g. safari:skew:-2s. Default: all five.\n"
    "                     See 'certskew clocks' and docs/clients.md.\n"
    "  --sweep FROM..TO   list, per clock, the segments of [FROM, TO) with their verdicts\n"
    "  --trust FILE       trust store (PEM bundle or DER), repeatable: one store per file,\n"
    "                     judged side by side; default: the system bundle\n"
    "                     (/etc/ssl/certs/ca-certificates.crt)\n"
    "  --no-trust         do not build paths to a trust store\n"
    "  --host NAME        check the leaf against this host name (DNS or IP)\n"
    "  --log-list FILE    Chrome v3 CT log list (JSON) to verify SCT signatures and\n"
    "                     the CT policy with; repeatable, merged by log id. Default:\n"
    "                     the snapshot certskew ships (share/certskew/log_list.json,\n"
    "                     or $CERTSKEW_LOG_LIST; 'none' for no list). Current list:\n"
    "                     https://www.gstatic.com/ct/log_list/v3/all_logs_list.json\n"
    "  --ocsp FILE        a stapled OCSP response (DER) captured with the chain\n"
    "  --crl FILE         the issuer's CRL (DER or PEM)\n";

void cs_analysis_args_init(cs_analysis_args_t *a) { memset(a, 0, sizeof(*a)); }

void cs_analysis_args_free(cs_analysis_args_t *a) {
  for (size_t i = 0; i < a->nstores; i++)
    cs_trust_store_free(a->stores[i]);
  a->nstores = 0;
  cs_ct_log_list_free(a->log_list);
  a->log_list = NULL;
  free(a->ocsp_der);
  free(a->crl_buf);
  a->ocsp_der = a->crl_buf = NULL;
}

/* "--opt VALUE" or "--opt=VALUE": the value, NULL if argv[*i] is not --opt;
 * *missing is set when --opt has no value. */
static const char *value_of(int argc, char **argv, int *i, const char *name, int *missing) {
  size_t n = strlen(name);
  if (strncmp(argv[*i], name, n) != 0)
    return NULL;
  if (argv[*i][n] == '=')
    return argv[*i] + n + 1;
  if (argv[*i][n] != '\0')
    return NULL;
  if (*i + 1 >= argc) {
    *missing = 1;
    return NULL;
  }
  return argv[++*i];
}

static int bad(const char *cmd, const char *what, const char *value, const char *why) {
  fprintf(stderr, "certskew %s: %s '%s': %s\n", cmd, what, value, why);
  return -1;
}

int cs_analysis_args_option(cs_analysis_args_t *a, const char *cmd, int argc, char **argv, int *i) {
  static const char *const with_value[] = {"--at", "--clock", "--client", "--sweep", "--trust", "--host",
                                           "--log-list", "--ocsp", "--crl"};
  const char *arg = argv[*i];
  if (strcmp(arg, "--now") == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    a->opts.has_at = 1;
    a->opts.at_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return 1;
  }
  if (strcmp(arg, "--no-trust") == 0) {
    a->no_trust = 1;
    return 1;
  }
  for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++) {
    int missing = 0;
    const char *v = value_of(argc, argv, i, with_value[k], &missing);
    if (missing) {
      fprintf(stderr, "certskew %s: %s needs a value\n", cmd, with_value[k]);
      return -1;
    }
    if (v == NULL)
      continue;
    const char *opt = with_value[k];
    int err;
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    if (strcmp(opt, "--at") == 0) {
      if ((err = cs_time_parse(v, &a->opts.at_ms)) != 0)
        return bad(cmd, "--at", v, cs_strerror(err));
      a->opts.has_at = 1;
    } else if (strcmp(opt, "--clock") == 0) {
      if (a->opts.nclocks >= CS_REPLAY_MAX_CLOCKS)
        return bad(cmd, "--clock", v, "too many clock models");
      if (cs_clock_parse(&a->clocks[a->opts.nclocks], v, &eb) != 0)
        return bad(cmd, "--clock", v, eb.msg);
      a->opts.nclocks++;
    } else if (strcmp(opt, "--client") == 0) {
      if (a->opts.nclients >= CS_ANALYSIS_MAX_CLIENTS)
        return bad(cmd, "--client", v, "too many clients");
      if (cs_client_parse(&a->clients[a->opts.nclients], v, &eb) != 0)
        return bad(cmd, "--client", v, eb.msg);
      a->opts.nclients++;
    } else if (strcmp(opt, "--sweep") == 0) {
      const char *dots = strstr(v, "..");
      char from[128];
      if (dots == NULL || (size_t)(dots - v) >= sizeof(from))
        return bad(cmd, "--sweep", v, "wants FROM..TO");
      memcpy(from, v, (size_t)(dots - v));
      from[dots - v] = '\0';
      if ((err = cs_time_parse(from, &a->opts.sweep_from_ms)) != 0 ||
          (err = cs_time_parse(dots + 2, &a->opts.sweep_to_ms)) != 0)
        return bad(cmd, "--sweep", v, cs_strerror(err));
      if (a->opts.sweep_from_ms >= a->opts.sweep_to_ms)
        return bad(cmd, "--sweep", v, "FROM must be before TO");
      a->opts.has_sweep = 1;
    } else if (strcmp(opt, "--trust") == 0) {
      if (a->ntrust_paths >= CS_ARGS_MAX_TRUST)
        return bad(cmd, "--trust", v, "too many trust stores");
      a->trust_paths[a->ntrust_paths++] = v;
    } else if (strcmp(opt, "--host") == 0) {
      a->opts.hostname = v;
    } else if (strcmp(opt, "--log-list") == 0) {
      if (a->nlog_list_paths >= CS_ARGS_MAX_LOG_LISTS)
        return bad(cmd, "--log-list", v, "too many log lists");
      a->log_list_paths[a->nlog_list_paths++] = v;
    } else if (strcmp(opt, "--ocsp") == 0) {
      a->ocsp_path = v;
    } else {
      a->crl_path = v;
    }
    return 1;
  }
  return 0;
}

static int load_trust(cs_analysis_args_t *a, const char *cmd) {
  if (a->no_trust)
    return 0;
  size_t n = a->ntrust_paths ? a->ntrust_paths : 1;
  for (size_t i = 0; i < n; i++) {
    const char *path = a->ntrust_paths ? a->trust_paths[i] : NULL;
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    size_t skipped = 0;
    int err = cs_trust_store_load_file(&a->stores[a->nstores], path, &skipped, &eb);
    if (err != 0 && path == NULL) {
      /* No system bundle is a fact about this machine, not a user error. */
      fprintf(stderr, "certskew %s: no system trust store (%s); trust not checked, use --trust FILE\n",
              cmd, eb.msg);
      return 0;
    }
    if (err != 0) {
      fprintf(stderr, "certskew %s: --trust %s: %s\n", cmd, path, eb.msg[0] ? eb.msg : cs_strerror(err));
      return err;
    }
    if (skipped)
      fprintf(stderr, "certskew %s: %s: skipped %zu unreadable certificate(s)\n", cmd,
              path ? path : CS_TRUST_SYSTEM_BUNDLE, skipped);
    a->nstores++;
  }
  return 0;
}

static int read_named(const char *cmd, const char *opt, const char *path, size_t max, uint8_t **buf,
                      size_t *len) {
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  int err = cs_file_read(path, max, buf, len, &eb);
  if (err != 0)
    fprintf(stderr, "certskew %s: %s %s: %s\n", cmd, opt, path, eb.msg[0] ? eb.msg : cs_strerror(err));
  return err;
}

int cs_analysis_args_load(cs_analysis_args_t *a, const char *cmd) {
  int err;
  if (a->opts.nclocks == 0)
    a->opts.nclocks = cs_clock_default_set(a->clocks, CS_REPLAY_MAX_CLOCKS);
  a->opts.clocks = a->clocks;
  a->opts.clients = a->clients;
  if ((err = load_trust(a, cmd)) != 0)
    return err;
  a->opts.trust_stores = (const cs_trust_store_t *const *)a->stores;
  a->opts.ntrust_stores = a->nstores;
  if ((err = cs_log_list_load(cmd, a->log_list_paths, a->nlog_list_paths, &a->log_list)) != 0)
    return err;
  a->opts.log_list = a->log_list;
  if (a->ocsp_path != NULL) {
    if ((err = read_named(cmd, "--ocsp", a->ocsp_path, CS_ARGS_MAX_REVOCATION_FILE, &a->ocsp_der,
                          &a->ocsp_len)) != 0)
      return err;
    a->opts.stapled_ocsp = a->ocsp_der;
    a->opts.stapled_ocsp_len = a->ocsp_len;
  }
  if (a->crl_path != NULL) {
    if ((err = read_named(cmd, "--crl", a->crl_path, CS_ARGS_MAX_REVOCATION_FILE, &a->crl_buf,
                          &a->crl_len)) != 0)
      return err;
    a->opts.crl = a->crl_buf;
    a->opts.crl_len = a->crl_len;
  }
  return 0;
}
