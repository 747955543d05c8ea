/*
 * `certskew replay CHAIN [--at TIME|--now] [--clock MODEL]... [--sweep FROM..TO] [--json]`
 *
 * Exit status: 0 when nothing fails at the instant asked (or no instant was
 * asked), 1 when some clock model fails at it, 2 for usage errors, 3 when the
 * input cannot be read or parsed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "certskew/analysis.h"
#include "certskew/time.h"
#include "cli_commands.h"
#include "file_io.h"
#include "replay_print.h"

enum { EXIT_PASS = 0, EXIT_FAILS = 1, EXIT_USAGE = 2, EXIT_INPUT = 3 };

static void usage(FILE *out) {
  fprintf(out,
          "usage: certskew replay CHAIN.pem [options]\n"
          "\n"
          "Replays validation of a served chain (PEM or DER; '-' reads standard input) at\n"
          "client clock models, and explains what fails, for which clocks, from when to when.\n"
          "\n"
          "options:\n"
          "  --at TIME          judge at this true time: RFC 3339 with ms\n"
          "                     (2026-11-23T21:03:03.157Z), epoch ms (1795000000000) or @epoch-s\n"
          "  --now              judge at the current system time\n"
          "  --clock MODEL      add a clock model (repeatable); default: exact, trustd,\n"
          "                     openssl-ct, minute, day, -90s, -1h, +1h. See 'certskew clocks'.\n"
          "  --sweep FROM..TO   list, per clock, the segments of [FROM, TO) with their verdicts\n"
          "  --log-list FILE    Chrome v3 CT log list (JSON) to verify SCT signatures and\n"
          "                     the CT policy with; current list:\n"
          "                     https://www.gstatic.com/ct/log_list/v3/all_logs_list.json\n"
          "  --json             print the JSON report (schema in docs/report-schema.md)\n"
          "  --compact          with --json: one line\n"
          "\n"
          "exit status: 0 passes (or no instant asked), 1 fails at the instant for some\n"
          "clock, 2 usage error, 3 unreadable or malformed input\n");
}

typedef struct replay_args {
  const char *chain_path;
  const char *log_list_path;
  int json, compact;
  cs_analysis_opts_t opts;
  cs_clock_t clocks[CS_REPLAY_MAX_CLOCKS];
} replay_args_t;

/* Returns the option's value for "--opt VALUE" or "--opt=VALUE", advancing *i. */
static const char *opt_value(int argc, char **argv, int *i, const char *name) {
  size_t n = strlen(name);
  if (strncmp(argv[*i], name, n) != 0)
    return NULL;
  if (argv[*i][n] == '=')
    return argv[*i] + n + 1;
  if (argv[*i][n] != '\0')
    return NULL;
  if (*i + 1 >= argc) {
    fprintf(stderr, "certskew replay: %s needs a value\n", name);
    exit(EXIT_USAGE);
  }
  return argv[++*i];
}

static int parse_time_arg(const char *what, const char *text, int64_t *out) {
  int err = cs_time_parse(text, out);
  if (err != 0)
    fprintf(stderr, "certskew replay: %s '%s': %s\n", what, text, cs_strerror(err));
  return err;
}

static int parse_args(int argc, char **argv, replay_args_t *a) {
  const char *v;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      exit(EXIT_PASS);
    } else if (strcmp(argv[i], "--json") == 0) {
      a->json = 1;
    } else if (strcmp(argv[i], "--compact") == 0) {
      a->compact = 1;
    } else if (strcmp(argv[i], "--now") == 0) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      a->opts.has_at = 1;
      a->opts.at_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    } else if ((v = opt_value(argc, argv, &i, "--at")) != NULL) {
      if (parse_time_arg("--at", v, &a->opts.at_ms) != 0)
        return EXIT_USAGE;
      a->opts.has_at = 1;
    } else if ((v = opt_value(argc, argv, &i, "--clock")) != NULL) {
      if (a->opts.nclocks >= CS_REPLAY_MAX_CLOCKS) {
        fprintf(stderr, "certskew replay: at most %d clock models\n", CS_REPLAY_MAX_CLOCKS);
        return EXIT_USAGE;
      }
      cs_errbuf_t eb;
      cs_errbuf_init(&eb);
      if (cs_clock_parse(&a->clocks[a->opts.nclocks], v, &eb) != 0) {
        fprintf(stderr, "certskew replay: --clock '%s': %s\n", v, eb.msg);
        return EXIT_USAGE;
      }
      a->opts.nclocks++;
    } else if ((v = opt_value(argc, argv, &i, "--log-list")) != NULL) {
      a->log_list_path = v;
    } else if ((v = opt_value(argc, argv, &i, "--sweep")) != NULL) {
      const char *dots = strstr(v, "..");
      char from[128];
      if (dots == NULL || (size_t)(dots - v) >= sizeof(from)) {
        fprintf(stderr, "certskew replay: --sweep wants FROM..TO, got '%s'\n", v);
        return EXIT_USAGE;
      }
      memcpy(from, v, (size_t)(dots - v));
      from[dots - v] = '\0';
      if (parse_time_arg("--sweep FROM", from, &a->opts.sweep_from_ms) != 0 ||
          parse_time_arg("--sweep TO", dots + 2, &a->opts.sweep_to_ms) != 0)
        return EXIT_USAGE;
      if (a->opts.sweep_from_ms >= a->opts.sweep_to_ms) {
        fprintf(stderr, "certskew replay: --sweep FROM must be before TO\n");
        return EXIT_USAGE;
      }
      a->opts.has_sweep = 1;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      fprintf(stderr, "certskew replay: unknown option '%s' (see --help)\n", argv[i]);
      return EXIT_USAGE;
    } else if (a->chain_path == NULL) {
      a->chain_path = argv[i];
    } else {
      fprintf(stderr, "certskew replay: one chain file at a time ('%s' is extra)\n", argv[i]);
      return EXIT_USAGE;
    }
  }
  if (a->chain_path == NULL) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if (a->opts.nclocks == 0)
    a->opts.nclocks = cs_clock_default_set(a->clocks, CS_REPLAY_MAX_CLOCKS);
  a->opts.clocks = a->clocks;
  a->opts.source = a->chain_path;
  return 0;
}

int cs_cmd_replay(int argc, char **argv) {
  replay_args_t *a = calloc(1, sizeof(*a)); /* freed below: too big for the stack */
  if (a == NULL)
    return EXIT_INPUT;
  int status = parse_args(argc, argv, a);
  uint8_t *buf = NULL;
  size_t len = 0;
  cs_analysis_t *an = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  uint8_t *list_json = NULL;
  size_t list_len = 0;
  cs_ct_log_list_t *logs = NULL;
  if (status != 0)
    goto done;
  if (a->log_list_path != NULL) {
    if (cs_file_read(a->log_list_path, CS_CT_LOGLIST_MAX_INPUT, &list_json, &list_len, &eb) != 0 ||
        cs_ct_log_list_load(&logs, list_json, list_len, &eb) != 0) {
      fprintf(stderr, "certskew replay: --log-list %s: %s\n", a->log_list_path,
              eb.msg[0] ? eb.msg : cs_strerror(eb.code));
      status = EXIT_INPUT;
      goto done;
    }
    a->opts.log_list = logs;
  }
  if (cs_file_read(a->chain_path, CS_CHAIN_MAX_INPUT, &buf, &len, &eb) != 0 ||
      cs_analyze(&an, buf, len, &a->opts, &eb) != 0) {
    fprintf(stderr, "certskew replay: %s: %s\n", a->chain_path,
            eb.msg[0] ? eb.msg : cs_strerror(eb.code));
    status = EXIT_INPUT;
    goto done;
  }
  if (a->json) {
    char *text = cs_analysis_report_json(an, !a->compact); /* owned here */
    if (text == NULL) {
      fprintf(stderr, "certskew replay: out of memory building the report\n");
      status = EXIT_INPUT;
      goto done;
    }
    fputs(text, stdout);
    fputc('\n', stdout);
    free(text);
  } else {
    cs_replay_print(stdout, an, isatty(STDOUT_FILENO));
  }
  status = a->opts.has_at && cs_findings_worst(cs_analysis_findings(an)) == CS_SEV_ERROR
               ? EXIT_FAILS
               : EXIT_PASS;
done:
  cs_analysis_free(an);
  cs_ct_log_list_free(logs);
  free(list_json);
  free(buf);
  free(a);
  return status;
}
