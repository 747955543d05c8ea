/*
 * The scan runner (scan.h): one event loop, at most `concurrency`
 * diagnoses in flight, the next input line read when one finishes.
 *
 * Lifetime: a job (heap) is created per host and freed in on_job_done,
 * after its line is written; the diagnosis calls back only once all its
 * handles are closed. The progress timer is unreferenced, so the loop ends
 * when the last job does.
 */
#include "certskew/fetch/scan.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certskew/store/fs.h"

typedef struct scanner scanner_t;

typedef struct job {
  scanner_t *s;
  cs_scan_target_t target;
  cs_diagnose_opts_t opts;
  cs_diagnose_result_t res;
  int64_t t0_ms;
} job_t;

struct scanner {
  const cs_scan_opts_t *opts;
  cs_scan_stats_t *stats;
  uv_loop_t loop;
  uv_timer_t progress;
  cs_upstream_conf_t uc;
  cs_judge_t judge; /* shared by every job: analysis options only, no store */
  unsigned in_flight;
  int eof;
  int failed;       /* an output error: stop reading, let jobs finish */
  cs_errbuf_t *eb;
  int64_t start_ms;
  char line[CS_SCAN_LINE_MAX + 2];
};

static void refill(scanner_t *s);

static void count_cause(cs_scan_stats_t *st, const char *code) {
  if (code[0] == '\0')
    return;
  for (size_t i = 0; i < st->ncauses; i++)
    if (strcmp(st->causes[i].code, code) == 0) {
      st->causes[i].count++;
      return;
    }
  if (st->ncauses == CS_SCAN_MAX_CAUSES) {
    snprintf(st->causes[CS_SCAN_MAX_CAUSES].code, sizeof st->causes[0].code, "other");
    st->causes[CS_SCAN_MAX_CAUSES].count++;
    return;
  }
  snprintf(st->causes[st->ncauses].code, sizeof st->causes[0].code, "%s", code);
  st->causes[st->ncauses++].count = 1;
}

/* Writes all of buf with as few write(2) calls as the kernel allows. */
static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return CS_EIO;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Builds, writes and counts one line. */
static void emit(scanner_t *s, const cs_scan_target_t *t, const char *raw,
                 const cs_diagnose_result_t *res, const char *code, const char *msg,
                 int64_t elapsed_ms) {
  cs_scan_verdict_summary_t sum;
  cJSON *line = cs_scan_line_json(t, raw, res, code, msg, s->opts->clients, s->opts->nclients,
                                  elapsed_ms, cs_fs_now_ms(), &sum);
  char *text = line != NULL ? cJSON_PrintUnformatted(line) : NULL;
  cJSON_Delete(line);
  size_t len = text != NULL ? strlen(text) : 0;
  char *buf = text != NULL ? realloc(text, len + 2) : NULL;
  if (buf == NULL) {
    free(text);
    s->failed = 1;
    cs_errbuf_set(s->eb, CS_ENOMEM, "out of memory building a line");
    return;
  }
  buf[len] = '\n';
  buf[len + 1] = '\0';
  /* One write(2) per line: a kill leaves at most a partial last line,
   * which the next run's resume truncates away. */
  if (write_all(s->opts->out_fd, buf, len + 1) != 0 && !s->failed) {
    s->failed = 1;
    cs_errbuf_set(s->eb, CS_EIO, "cannot write the output: %s", strerror(errno));
  }
  free(buf);
  cs_scan_stats_t *st = s->stats;
  st->done++;
  if (strcmp(sum.verdict, "pass") == 0)
    st->pass++;
  else if (strcmp(sum.verdict, "fail") == 0)
    st->fail++;
  else
    st->error++;
  count_cause(st, sum.root_cause);
}

static void on_job_done(cs_diagnose_result_t *res, int rc, void *ud) {
  job_t *j = ud;
  scanner_t *s = j->s;
  int64_t elapsed = cs_fs_now_ms() - j->t0_ms;
  if (rc != 0)
    emit(s, &j->target, NULL, NULL, "SCAN_JUDGE_FAILED", cs_strerror(rc), elapsed);
  else
    emit(s, &j->target, NULL, res, NULL, NULL, elapsed);
  cs_diagnose_result_free(res);
  free(j);
  s->in_flight--;
  refill(s);
}

/* Reads the next line into s->line; 0 at the end of input. An overlong
 * line is cut at CS_SCAN_LINE_MAX (the rest is skipped) and *overlong set. */
static int next_line(scanner_t *s, int *overlong) {
  *overlong = 0;
  if (fgets(s->line, sizeof s->line, s->opts->in) == NULL)
    return 0;
  size_t n = strlen(s->line);
  if (n > 0 && s->line[n - 1] != '\n' && n > CS_SCAN_LINE_MAX) {
    *overlong = 1;
    int c;
    while ((c = fgetc(s->opts->in)) != EOF && c != '\n')
      ;
  }
  return 1;
}

static void start_job(scanner_t *s, const cs_scan_target_t *t) {
  job_t *j = calloc(1, sizeof *j); /* freed in on_job_done */
  if (j == NULL) {
    emit(s, t, NULL, NULL, "SCAN_ERROR", "out of memory", 0);
    return;
  }
  j->s = s;
  j->target = *t;
  j->opts = *s->opts->diag;
  j->opts.host = j->target.host;
  j->opts.port = j->target.port;
  j->opts.sni = j->target.sni_given || j->target.sni[0] ? j->target.sni : NULL;
  j->opts.store = NULL;
  j->t0_ms = cs_fs_now_ms();
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_diagnose_start(&s->loop, &s->uc, &s->judge, &j->opts, &j->res, on_job_done, j, &eb) !=
      0) {
    emit(s, t, NULL, NULL, "SCAN_ERROR", eb.msg[0] ? eb.msg : "cannot start", 0);
    free(j);
    return;
  }
  s->in_flight++;
}

static void refill(scanner_t *s) {
  unsigned max = s->opts->concurrency ? s->opts->concurrency : CS_SCAN_DEFAULT_CONCURRENCY;
  while (!s->eof && !s->failed && s->in_flight < max) {
    int overlong;
    if (!next_line(s, &overlong)) {
      s->eof = 1;
      break;
    }
    cs_scan_target_t t;
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    int err = overlong ? cs_errbuf_set(&eb, CS_EPARSE, "line longer than %d bytes", CS_SCAN_LINE_MAX)
                       : cs_scan_parse_line(s->line, &t, &eb);
    if (err == CS_EEMPTY)
      continue;
    s->stats->read++;
    if (err != 0) {
      /* Never silence: a bad line gets a line of its own, keyed by its text
       * (so it is sharded and resumed like any host). */
      char raw[CS_SCAN_KEY_MAX];
      size_t n = strcspn(s->line, "\r\n");
      snprintf(raw, sizeof raw, "%.*s", (int)(n < sizeof raw - 1 ? n : sizeof raw - 1), s->line);
      if (!cs_scan_in_shard(raw, s->opts->shard_k, s->opts->shard_n)) {
        s->stats->skipped_shard++;
      } else if (cs_scan_set_has(s->opts->done, cs_scan_key_hash(raw))) {
        s->stats->skipped_done++;
      } else {
        emit(s, NULL, raw, NULL, "SCAN_BAD_LINE", eb.msg, 0);
      }
      continue;
    }
    if (!cs_scan_in_shard(t.key, s->opts->shard_k, s->opts->shard_n)) {
      s->stats->skipped_shard++;
      continue;
    }
    if (cs_scan_set_has(s->opts->done, cs_scan_key_hash(t.key))) {
      s->stats->skipped_done++;
      continue;
    }
    start_job(s, &t);
  }
}

static void on_progress(uv_timer_t *h) {
  scanner_t *s = h->data;
  const cs_scan_stats_t *st = s->stats;
  double secs = (double)(cs_fs_now_ms() - s->start_ms) / 1000.0;
  double rate = secs > 0 ? (double)st->done / secs : 0;
  uint64_t total = s->opts->total_hint;
  char of[32] = "";
  if (total > 0)
    snprintf(of, sizeof of, "/%llu", (unsigned long long)total);
  fprintf(s->opts->progress,
          "\r\033[Kscan: %llu%s done, %u in flight, %.1f hosts/s, %llu fail, %llu error",
          (unsigned long long)st->done, of, s->in_flight, rate, (unsigned long long)st->fail,
          (unsigned long long)st->error);
  fflush(s->opts->progress);
}

int cs_scan_run(const cs_scan_opts_t *opts, cs_scan_stats_t *stats, cs_errbuf_t *eb) {
  memset(stats, 0, sizeof *stats);
  if (opts == NULL || opts->in == NULL || opts->diag == NULL || opts->diag->analysis == NULL ||
      opts->diag->analysis->nclocks == 0 || opts->concurrency > CS_SCAN_MAX_CONCURRENCY ||
      (opts->shard_n > 0 && (opts->shard_k < 1 || opts->shard_k > opts->shard_n)))
    return cs_errbuf_set(eb, CS_EINVAL, "scan needs an input, the analysis options and a valid shard");
  signal(SIGPIPE, SIG_IGN);
  scanner_t *s = calloc(1, sizeof *s); /* freed below */
  if (s == NULL)
    return CS_ENOMEM;
  s->opts = opts;
  s->stats = stats;
  s->eb = eb;
  int rc = cs_upstream_conf_init(&s->uc, opts->diag->trust_file, eb);
  if (rc != 0 || uv_loop_init(&s->loop) != 0) {
    cs_upstream_conf_free(&s->uc);
    free(s);
    return rc != 0 ? rc : CS_ENOMEM;
  }
  cs_judge_init(&s->judge, opts->diag->analysis, NULL);
  s->start_ms = cs_fs_now_ms();
  uv_timer_init(&s->loop, &s->progress);
  s->progress.data = s;
  if (opts->progress != NULL) {
    uv_timer_start(&s->progress, on_progress, 500, 500);
    uv_unref((uv_handle_t *)&s->progress);
  }
  refill(s);
  uv_run(&s->loop, UV_RUN_DEFAULT);
  if (opts->progress != NULL) {
    on_progress(&s->progress);
    fputc('\n', opts->progress);
  }
  uv_close((uv_handle_t *)&s->progress, NULL);
  uv_run(&s->loop, UV_RUN_DEFAULT);
  (void)uv_loop_close(&s->loop);
  rc = s->failed ? (eb->code != 0 ? eb->code : CS_EIO) : 0;
  cs_judge_free(&s->judge);
  cs_upstream_conf_free(&s->uc);
  free(s);
  return rc;
}
