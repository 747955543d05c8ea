/* `certskew scan [FILE|-]`: diagnose many hosts at once, one JSON line each. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis_args.h"
#include "cli_commands.h"
#include "cmd_args.h"
#include "certskew/fetch/scan.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: certskew scan [FILE|-] [OPTIONS]\n"
          "\n"
          "Reads \"host[:port] [sni]\" lines (port 443 by default; '#' comments) and\n"
          "diagnoses every host as `certskew diagnose` does (capture, stapling probe,\n"
          "OCSP/CRL/caIssuers fetches, judgement), many at once on one event loop.\n"
          "Writes one JSON object per host per line (JSON Lines, docs/scan.md), in\n"
          "completion order; unreachable hosts get a line with an error.\n"
          "\n"
          "options:\n"
          "  --concurrency N    hosts in flight (default %d, at most %d)\n"
          "  --shard K/N        only the hosts whose key hash is K-1 modulo N\n"
          "                     (FNV-1a 64 of \"host:port sni\"; see docs/scan.md)\n"
          "  --client NAME      judge for this client profile (repeatable); the exit\n"
          "                     status and summary follow these clients' verdicts\n"
          "  --out FILE         append lines to FILE (default stdout); hosts already in\n"
          "                     FILE are skipped, so a killed scan resumes\n"
          "  --timeout D        per host: the capture, and each probe or fetch step\n"
          "                     (default 5s)\n"
          "  --no-fetch         probe stapling only: fetch no OCSP, CRL or caIssuers URL\n"
          "  --no-progress      no progress line (shown when stderr is a terminal)\n"
          "%s"
          "\n"
          "The real clock (exact) is always judged, then each --clock.\n"
          "\n"
          "exit status: 0 every host passes, 1 some host fails (for an asked --client),\n"
          "3 no host fails but some could not be judged (unreachable, TLS 1.3 only, ...),\n"
          "2 usage or setup error.\n",
          CS_SCAN_DEFAULT_CONCURRENCY, CS_SCAN_MAX_CONCURRENCY, cs_analysis_args_help);
}

static int parse_shard(const char *v, unsigned *k, unsigned *n) {
  char *e;
  errno = 0;
  unsigned long a = strtoul(v, &e, 10);
  if (e == v || *e != '/' || errno != 0)
    return -1;
  const char *p = e + 1;
  unsigned long b = strtoul(p, &e, 10);
  if (e == p || *e != '\0' || errno != 0 || b < 1 || b > 1000000 || a < 1 || a > b)
    return -1;
  *k = (unsigned)a;
  *n = (unsigned)b;
  return 0;
}

/* Hosts the scan will try (lines that parse or not, in the shard, not
 * done): a streaming first pass over a regular file, for the progress
 * line's total. 0 when not a regular file. */
static uint64_t count_hosts(FILE *in, const cs_scan_opts_t *o) {
  struct stat st;
  if (fstat(fileno(in), &st) != 0 || !S_ISREG(st.st_mode))
    return 0;
  char line[CS_SCAN_LINE_MAX + 2];
  uint64_t n = 0;
  while (fgets(line, sizeof line, in) != NULL) {
    cs_scan_target_t t;
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    int err = cs_scan_parse_line(line, &t, &eb);
    if (err == CS_EEMPTY)
      continue;
    if (err == 0 && (!cs_scan_in_shard(t.key, o->shard_k, o->shard_n) ||
                     cs_scan_set_has(o->done, cs_scan_key_hash(t.key))))
      continue;
    n++;
  }
  rewind(in);
  return n;
}

static void print_summary(const cs_scan_stats_t *st) {
  fprintf(stderr,
          "scan: %llu host(s) judged this run: %llu pass, %llu fail, %llu error; "
          "%llu skipped (other shards), %llu already in the output\n",
          (unsigned long long)st->done, (unsigned long long)st->pass,
          (unsigned long long)st->fail, (unsigned long long)st->error,
          (unsigned long long)st->skipped_shard, (unsigned long long)st->skipped_done);
  size_t n = st->ncauses + (st->causes[CS_SCAN_MAX_CAUSES].count > 0);
  for (size_t i = 0; i < n; i++) {
    size_t k = i < st->ncauses ? i : CS_SCAN_MAX_CAUSES;
    fprintf(stderr, "  %-36s %llu\n", st->causes[k].code,
            (unsigned long long)st->causes[k].count);
  }
}

int cs_cmd_scan(int argc, char **argv) {
  const char *cmd = "scan", *input = NULL, *out_path = NULL;
  const char *clients[CS_SCAN_MAX_CLIENTS];
  size_t nclients = 0;
  int status = 2, no_progress = 0, out_fd = -1;
  long long conc = CS_SCAN_DEFAULT_CONCURRENCY;
  FILE *in = NULL;
  cs_scan_set_t done;
  cs_scan_set_init(&done);
  cs_analysis_args_t args;
  cs_analysis_args_init(&args);
  cs_diagnose_opts_t diag;
  memset(&diag, 0, sizeof diag);
  diag.timeout_ms = 5000;
  diag.fetch = 1;
  cs_scan_opts_t so;
  memset(&so, 0, sizeof so);
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
    if (strcmp(a, "--no-fetch") == 0) {
      diag.fetch = 0;
    } else if (strcmp(a, "--no-progress") == 0) {
      no_progress = 1;
    } else if (strcmp(a, "--concurrency") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL ||
          cs_cmd_uint(cmd, a, v, 1, CS_SCAN_MAX_CONCURRENCY, &conc) != 0)
        goto out;
    } else if (strcmp(a, "--shard") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        goto out;
      if (parse_shard(v, &so.shard_k, &so.shard_n) != 0) {
        fprintf(stderr, "certskew scan: --shard '%s': wants K/N with 1 <= K <= N\n", v);
        goto out;
      }
    } else if (strcmp(a, "--out") == 0) {
      if ((out_path = cs_cmd_value(argc, argv, &i, cmd)) == NULL)
        goto out;
    } else if (strcmp(a, "--timeout") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, cmd)) == NULL ||
          cs_cmd_duration(cmd, a, v, &diag.timeout_ms) != 0)
        goto out;
    } else if ((a[0] == '-' && a[1] != '\0') || input != NULL) {
      fprintf(stderr, "certskew scan: unexpected argument '%s' (see --help)\n", a);
      goto out;
    } else {
      input = a;
    }
  }
  /* The real clock first (its verdict is the report's), then each --clock. */
  if (args.opts.nclocks >= CS_REPLAY_MAX_CLOCKS) {
    fprintf(stderr, "certskew scan: at most %d --clock models\n", CS_REPLAY_MAX_CLOCKS - 1);
    goto out;
  }
  memmove(&args.clocks[1], &args.clocks[0], args.opts.nclocks * sizeof args.clocks[0]);
  cs_clock_init_exact(&args.clocks[0]);
  args.opts.nclocks++;
  if (cs_analysis_args_load(&args, cmd) != 0)
    goto out;
  if (input == NULL || strcmp(input, "-") == 0) {
    in = stdin;
  } else if ((in = fopen(input, "r")) == NULL) {
    fprintf(stderr, "certskew scan: %s: %s\n", input, strerror(errno));
    goto out;
  }
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (out_path != NULL) {
    if ((out_fd = open(out_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
      fprintf(stderr, "certskew scan: --out %s: %s\n", out_path, strerror(errno));
      goto out;
    }
    size_t kept = 0;
    if (cs_scan_resume_load(out_fd, &done, &kept, &eb) != 0) {
      fprintf(stderr, "certskew scan: --out %s: %s\n", out_path, eb.msg);
      goto out;
    }
    if (kept > 0)
      fprintf(stderr, "certskew scan: resuming: %zu line(s) already in %s\n", kept, out_path);
  }
  diag.analysis = &args.opts;
  diag.trust_file = args.ntrust_paths ? args.trust_paths[0] : NULL;
  so.in = in;
  so.out_fd = out_fd >= 0 ? out_fd : STDOUT_FILENO;
  so.diag = &diag;
  so.concurrency = (unsigned)conc;
  so.done = &done;
  /* --client is an analysis option (cli/analysis_args.c): its names label
   * the lines of hosts that could not be judged. */
  for (size_t i = 0; i < args.opts.nclients && i < CS_SCAN_MAX_CLIENTS; i++)
    clients[nclients++] = args.clients[i].name;
  so.clients = clients;
  so.nclients = nclients;
  if (!no_progress && isatty(STDERR_FILENO)) {
    so.progress = stderr;
    so.total_hint = count_hosts(in, &so);
  }
  cs_scan_stats_t st;
  int rc = cs_scan_run(&so, &st, &eb);
  if (rc != 0) {
    fprintf(stderr, "certskew scan: %s\n", eb.msg[0] ? eb.msg : cs_strerror(rc));
    print_summary(&st);
    goto out;
  }
  print_summary(&st);
  status = st.fail > 0 ? 1 : st.error > 0 ? 3 : 0;
out:
  if (in != NULL && in != stdin)
    fclose(in);
  if (out_fd >= 0)
    close(out_fd);
  cs_scan_set_free(&done);
  cs_analysis_args_free(&args);
  return status;
}
