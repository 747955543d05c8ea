/* Crash leftovers in the capture store: what a kill -9 can leave (temp
 * files, directories without meta.json) is never indexed, and is swept at
 * open once no live process owns it; a new capture without its chain is
 * refused. (tests/e2e/test_reliability_crash.sh kills a real proxy.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "certskew/store/capture.h"
#include "cs_test.h"

static char root[256];

static void rm_rf(const char *path) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  if (system(cmd) != 0)
    fprintf(stderr, "cleanup of %s failed\n", path);
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f == NULL)
    abort();
  fputs(text, f);
  fclose(f);
}

static int exists(const char *dir, const char *name) {
  char p[1024];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  struct stat st;
  return lstat(p, &st) == 0;
}

/* Makes root/name with a chain.pem, plus optional extra file, mtime age_s ago. */
static void leftover_dir(const char *name, const char *extra, long age_s) {
  char d[400], p[600];
  snprintf(d, sizeof d, "%s/%s", root, name);
  if (mkdir(d, 0700) != 0)
    abort();
  snprintf(p, sizeof p, "%s/chain.pem", d);
  write_text(p, "-----BEGIN CERTIFICATE-----\n");
  if (extra != NULL) {
    snprintf(p, sizeof p, "%s/%s", d, extra);
    write_text(p, "partial");
  }
  struct timeval tv[2];
  gettimeofday(&tv[0], NULL);
  tv[0].tv_sec -= age_s;
  tv[1] = tv[0];
  if (utimes(d, tv) != 0)
    abort();
}

/* The pid of a process that has exited (and been reaped). */
static long dead_pid(void) {
  pid_t pid = fork();
  if (pid == 0)
    _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  return (long)pid;
}

static void test_sweep_leftovers(void) {
  snprintf(root, sizeof root, "%s/cs_relstore_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  CS_REQUIRE(mkdtemp(root) != NULL);
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  cs_capture_store_t *s = NULL;
  CS_REQUIRE(cs_capture_store_open(&s, root, 10, &eb) == 0);
  const cs_capture_meta_t meta = {.host = "a.test", .port = 443, .sni = "a.test",
                                  .upstream = "127.0.0.1:443", .tls_version = "TLSv1.2",
                                  .cipher = "X", .worst = 0};
  uint8_t fp[32] = {1, 2, 3};
  char id[CS_CAPTURE_ID_MAX];
  CS_REQUIRE(cs_capture_store_put(s, &meta, fp, "PEM\n", "{}", 1000, id, NULL, &eb) == 0);
  /* A new capture needs its chain; nothing is created without it. */
  uint8_t fp2[32] = {9};
  CS_CHECK_EQ_I64(cs_capture_store_put(s, &meta, fp2, "", NULL, 1000, NULL, NULL, &eb), CS_EINVAL);
  CS_CHECK_EQ_I64(cs_capture_store_put(s, &meta, fp2, NULL, NULL, 1000, NULL, NULL, &eb), CS_EINVAL);
  CS_CHECK_EQ_I64((long long)cs_capture_store_count(s), 1);
  cs_capture_store_free(s);

  char tmp_dead[64], tmp_live[64], complete[CS_CAPTURE_ID_MAX + 300];
  snprintf(tmp_dead, sizeof tmp_dead, "report.json.tmp.%ld", dead_pid());
  snprintf(tmp_live, sizeof tmp_live, "report.json.tmp.%ld", (long)getppid());
  snprintf(complete, sizeof complete, "%s/%s", root, id);
  char p[sizeof complete + 80];
  snprintf(p, sizeof p, "%s/%s", complete, tmp_dead);
  write_text(p, "{\"half");
  /* table: directory | extra file | age (s) | kept after open */
  const struct {
    const char *name, *extra;
    long age_s;
    int kept;
  } cases[] = {
      {"old_incomplete_443_00", NULL, 600, 0},
      {"old_dead_writer_443_01", tmp_dead, 600, 0},
      {"fresh_incomplete_443_02", NULL, 0, 1},  /* maybe being written: kept a minute */
      {"old_live_writer_443_03", tmp_live, 600, 1}, /* a live process owns it */
  };
  size_t n = sizeof cases / sizeof cases[0];
  for (size_t i = 0; i < n; i++)
    leftover_dir(cases[i].name, cases[i].extra, cases[i].age_s);

  CS_REQUIRE(cs_capture_store_open(&s, root, 10, &eb) == 0);
  CS_CHECK_EQ_I64((long long)cs_capture_store_count(s), 1); /* only the complete one */
  char *list = cs_capture_store_list_json(s);
  CS_REQUIRE(list != NULL);
  CS_CHECK(strstr(list, id) != NULL);
  for (size_t i = 0; i < n; i++) {
    char d[400];
    snprintf(d, sizeof d, "%s/%s", root, cases[i].name);
    struct stat st;
    if ((lstat(d, &st) == 0) != cases[i].kept)
      CS_FAIL_AT("%s: kept %d, want %d", cases[i].name, !cases[i].kept, cases[i].kept);
    CS_CHECK(strstr(list, cases[i].name) == NULL); /* never listed */
    char *text = NULL;
    size_t len = 0;
    CS_CHECK_EQ_I64(cs_capture_store_read(s, cases[i].name, "chain.pem", &text, &len),
                    CS_ENOTFOUND);
    free(text);
  }
  free(list);
  CS_CHECK(!exists(complete, tmp_dead)); /* a dead writer's temp file is gone */
  CS_CHECK(exists(complete, "meta.json") && exists(complete, "chain.pem"));
  char dir3[400];
  snprintf(dir3, sizeof dir3, "%s/old_live_writer_443_03", root);
  CS_CHECK(exists(dir3, tmp_live)); /* a live writer's is kept */
  cs_capture_store_free(s);
  rm_rf(root);
}

CS_TEST_MAIN(CS_TEST(test_sweep_leftovers))
