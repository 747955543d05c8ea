/*
 * `certskew replay CHAIN [analysis options] [--json]`
 *
 * Exit status: 0 when every client asked (--client; default: the five
 * profiles) passes at the instant asked (or no instant was asked), 1 when
 * some client fails at it, 2 for usage errors, 3 when an input cannot be
 * read or parsed. --clock models add rows to the report; they do not
 * decide the exit status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis_args.h"
#include "certskew/analysis/analysis.h"
#include "cli_commands.h"
#include "certskew/store/file_io.h"
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
          "%s"
          "  --json             print the JSON report (schema in docs/report-schema.md)\n"
          "  --compact          with --json: one line\n"
          "\n"
          "exit status: 0 every client asked (--client; default chrome, safari, firefox,\n"
          "openssl, openssl-1.0.2) passes at the instant (or no instant asked), 1 some\n"
          "client fails at it, 2 usage error, 3 unreadable or malformed input. --clock\n"
          "models add rows to the report; they do not decide the exit status.\n",
          cs_analysis_args_help);
}

int cs_cmd_replay(int argc, char **argv) {
  cs_analysis_args_t *args = malloc(sizeof(*args)); /* freed below: too big for the stack */
  if (args == NULL)
    return EXIT_INPUT;
  cs_analysis_args_init(args);
  const char *chain_path = NULL;
  int json = 0, compact = 0, status = EXIT_PASS;
  uint8_t *buf = NULL;
  size_t len = 0;
  cs_analysis_t *an = NULL;
  for (int i = 1; i < argc && status == EXIT_PASS; i++) {
    int used = cs_analysis_args_option(args, "replay", argc, argv, &i);
    if (used < 0) {
      status = EXIT_USAGE;
    } else if (used > 0) {
      continue;
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      goto done;
    } else if (strcmp(argv[i], "--json") == 0) {
      json = 1;
    } else if (strcmp(argv[i], "--compact") == 0) {
      compact = 1;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      fprintf(stderr, "certskew replay: unknown option '%s' (see --help)\n", argv[i]);
      status = EXIT_USAGE;
    } else if (chain_path == NULL) {
      chain_path = argv[i];
    } else {
      fprintf(stderr, "certskew replay: one chain file at a time ('%s' is extra)\n", argv[i]);
      status = EXIT_USAGE;
    }
  }
  if (status == EXIT_PASS && chain_path == NULL) {
    usage(stderr);
    status = EXIT_USAGE;
  }
  if (status != EXIT_PASS)
    goto done;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  args->opts.source = chain_path;
  if (cs_analysis_args_load(args, "replay") != 0) {
    status = EXIT_INPUT;
    goto done;
  }
  if (cs_file_read(chain_path, CS_CHAIN_MAX_INPUT, &buf, &len, &eb) != 0 ||
      cs_analyze(&an, buf, len, &args->opts, &eb) != 0) {
    fprintf(stderr, "certskew replay: %s: %s\n", chain_path, eb.msg[0] ? eb.msg : cs_strerror(eb.code));
    status = EXIT_INPUT;
    goto done;
  }
  if (json) {
    char *text = cs_analysis_report_json(an, !compact); /* owned here */
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
  status = args->opts.has_at && cs_analysis_any_client_fails(an) ? EXIT_FAILS : EXIT_PASS;
done:
  cs_analysis_free(an);
  free(buf);
  cs_analysis_args_free(args);
  free(args);
  return status;
}
