/* The capture store: atomic files, dedup with seen counts, retention,
 * reopening, refusing symlinks, and write failures that do not stop it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certskew/store/capture.h"
#include "cs_test.h"
#include "certskew/store/fs.h"
#include "fixture.h"

static char root[256];

static void make_root(void) {
  snprintf(root, sizeof root, "%s/cs_store_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (mkdtemp(root) == NULL)
    abort();
}

static void rm_rf(const char *path) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  if (system(cmd) != 0)
    fprintf(stderr, "cleanup of %s failed\n", path);
}

static const cs_capture_meta_t META = {.host = "Example.COM",
                                       .port = 443,
                                       .sni = "example.com",
                                       .upstream = "127.0.0.1:443",
                                       .tls_version = "TLSv1.2",
                                       .cipher = "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256",
                                       .worst = 2};

static void fp_of(int n, uint8_t fp[32]) {
  memset(fp, 0, 32);
  fp[0] = (uint8_t)n;
  fp[31] = 0xab;
}

static void test_put_and_dedup(void) {
  make_root();
  cs_capture_store_t *s = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  CS_REQUIRE(cs_capture_store_open(&s, root, 10, &eb) == 0);
  uint8_t fp[32];
  fp_of(1, fp);
  char id[CS_CAPTURE_ID_MAX];
  int is_new = 0;
  CS_CHECK_EQ_I64(cs_capture_store_put(s, &META, fp, "PEM1", "{\"r\":1}", 1000, id, &is_new, &eb), 0);
  CS_CHECK_EQ_I64(is_new, 1);
  CS_CHECK_EQ_STR(id, "example.com_443_0100000000000000");
  /* The same chain again: no new directory, a higher seen count; files unchanged. */
  CS_CHECK_EQ_I64(cs_capture_store_put(s, &META, fp, "PEM2", "{\"r\":2}", 2000, id, &is_new, &eb), 0);
  CS_CHECK_EQ_I64(is_new, 0);
  CS_CHECK_EQ_I64(cs_capture_store_count(s), 1);
  char *text = NULL;
  size_t len = 0;
  CS_REQUIRE(cs_capture_store_read(s, id, "chain.pem", &text, &len) == 0);
  CS_CHECK_EQ_STR(text, "PEM1");
  free(text);
  CS_REQUIRE(cs_capture_store_read(s, id, "report.json", &text, &len) == 0);
  CS_CHECK_EQ_STR(text, "{\"r\":1}");
  free(text);
  char *list = cs_capture_store_list_json(s);
  CS_REQUIRE(list != NULL);
  CS_CHECK(strstr(list, "\"seen_count\":\t2") != NULL);
  CS_CHECK(strstr(list, "\"worst\":\t\"error\"") != NULL);
  free(list);
  /* Unknown ids and file names are not found; ids are never paths. */
  CS_CHECK_EQ_I64(cs_capture_store_read(s, "../etc", "chain.pem", &text, &len), CS_ENOTFOUND);
  CS_CHECK_EQ_I64(cs_capture_store_read(s, id, "../../x", &text, &len), CS_ENOTFOUND);
  /* A different chain from the same host is a second capture. */
  fp_of(2, fp);
  CS_CHECK_EQ_I64(cs_capture_store_put(s, &META, fp, "PEM3", "{}", 3000, id, &is_new, &eb), 0);
  CS_CHECK_EQ_I64(is_new, 1);
  CS_CHECK_EQ_I64(cs_capture_store_count(s), 2);
  cs_capture_store_free(s); /* flushes the seen count */
  /* Reopen: the index comes back from meta.json, counts included. */
  CS_REQUIRE(cs_capture_store_open(&s, root, 10, &eb) == 0);
  CS_CHECK_EQ_I64(cs_capture_store_count(s), 2);
  list = cs_capture_store_list_json(s);
  CS_CHECK(list != NULL && strstr(list, "\"seen_count\":\t2") != NULL);
  free(list);
  cs_capture_store_free(s);
  cs_capture_store_free(NULL);
  rm_rf(root);
}

static void test_retention(void) {
  make_root();
  cs_capture_store_t *s = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  CS_REQUIRE(cs_capture_store_open(&s, root, 3, &eb) == 0);
  uint8_t fp[32];
  char ids[6][CS_CAPTURE_ID_MAX];
  for (int i = 0; i < 6; i++) {
    fp_of(i + 1, fp);
    CS_CHECK_EQ_I64(cs_capture_store_put(s, &META, fp, "P", "{}", 1000 * (i + 1), ids[i], NULL, &eb), 0);
    CS_CHECK(cs_capture_store_count(s) <= 3);
  }
  /* The three least recently seen are gone, from disk too. */
  char path[2400]; /* room for root (its buffer) plus an id */
  for (int i = 0; i < 6; i++) {
    snprintf(path, sizeof path, "%s/%s", root, ids[i]);
    struct stat st;
    int exists = lstat(path, &st) == 0;
    CS_CHECK_EQ_I64(exists, i >= 3);
  }
  cs_capture_store_free(s);
  rm_rf(root);
}

static void test_symlink_and_failures(void) {
  make_root();
  char store[400], target[400], link[600];
  snprintf(store, sizeof store, "%s/store", root);
  snprintf(target, sizeof target, "%s/elsewhere", root);
  CS_REQUIRE(mkdir(target, 0700) == 0);
  /* A store path that is a symlink is refused. */
  CS_REQUIRE(symlink(target, store) == 0);
  cs_capture_store_t *s = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  CS_CHECK(cs_capture_store_open(&s, store, 10, &eb) != 0);
  CS_CHECK(s == NULL);
  CS_REQUIRE(unlink(store) == 0);
  CS_REQUIRE(cs_capture_store_open(&s, store, 10, &eb) == 0);
  /* A symlink planted inside the store is never indexed. */
  snprintf(link, sizeof link, "%s/planted_443_00", store);
  CS_REQUIRE(symlink(target, link) == 0);
  cs_capture_store_free(s);
  CS_REQUIRE(cs_capture_store_open(&s, store, 10, &eb) == 0);
  CS_CHECK_EQ_I64(cs_capture_store_count(s), 0);
  /* The store directory replaced by a file: writes fail, are reported,
   * and nothing is indexed (only complete captures are listed). */
  rm_rf(store);
  FILE *f = fopen(store, "w");
  CS_REQUIRE(f != NULL);
  fclose(f);
  uint8_t fp[32];
  fp_of(9, fp);
  char id[CS_CAPTURE_ID_MAX];
  int rc = cs_capture_store_put(s, &META, fp, "P", "{}", 5000, id, NULL, &eb);
  CS_CHECK(rc == CS_EIO || rc == CS_ENOSPACE);
  CS_CHECK(eb.msg[0] != '\0');
  CS_CHECK(id[0] == '\0');
  CS_CHECK_EQ_I64(cs_capture_store_count(s), 0);
  char *list = cs_capture_store_list_json(s);
  CS_CHECK(list != NULL && strstr(list, "\"store_error\":\tnull") == NULL);
  free(list);
  cs_capture_store_free(s);
  rm_rf(root);
}

static void test_atomic_write(void) {
  make_root();
  char path[400];
  snprintf(path, sizeof path, "%s/file", root);
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  CS_CHECK_EQ_I64(cs_fs_write_atomic(path, "one", 3, 0600, &eb), 0);
  CS_CHECK_EQ_I64(cs_fs_write_atomic(path, "two!", 4, 0600, &eb), 0);
  char *text = NULL;
  size_t len = 0;
  CS_REQUIRE(cs_fs_read_file(path, 100, &text, &len) == 0);
  CS_CHECK_EQ_STR(text, "two!");
  free(text);
  struct stat st;
  CS_REQUIRE(stat(path, &st) == 0);
  CS_CHECK_EQ_I64(st.st_mode & 0777, 0600);
  CS_CHECK_EQ_I64(cs_fs_read_file(path, 2, &text, &len), CS_ETOOBIG);
  /* Reading through a symlink is refused. */
  char link[500];
  snprintf(link, sizeof link, "%s/link", root);
  CS_REQUIRE(symlink(path, link) == 0);
  CS_CHECK(cs_fs_read_file(link, 100, &text, &len) != 0);
  /* No temp file is left behind. */
  char cmd[600];
  snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", root);
  CS_CHECK(system(cmd) != 0);
  rm_rf(root);
}

/* Sightings: appended per capture, bounded (trimmed to the last
 * CS_SIGHTINGS_KEEP once past the slack), listed newest first across
 * captures; the verdict key is memory only; clearing deletes everything. */
static void test_sightings(void) {
  make_root();
  cs_capture_store_t *s = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  CS_REQUIRE(cs_capture_store_open(&s, root, 10, &eb) == 0);
  uint8_t fp1[32], fp2[32];
  fp_of(1, fp1);
  fp_of(2, fp2);
  char id1[CS_CAPTURE_ID_MAX], id2[CS_CAPTURE_ID_MAX];
  CS_REQUIRE(cs_capture_store_put(s, &META, fp1, "PEM1", "{}", 1000, id1, NULL, &eb) == 0);
  CS_REQUIRE(cs_capture_store_put(s, &META, fp2, "PEM2", "{}", 1500, id2, NULL, &eb) == 0);
  const int total = CS_SIGHTINGS_KEEP + CS_SIGHTINGS_SLACK + 1;
  for (int i = 0; i < total; i++) {
    cs_sighting_t sg = {.at_ms = 1000 + 2 * i, .client_addr = "127.0.0.1:5", .user_agent = "UA \"q\"",
                        .mode = "intercept", .profile = "safari",
                        .verdict = i == 0 ? "fail" : "pass", .action = "relayed"};
    CS_CHECK_EQ_I64(cs_capture_store_add_sighting(s, id1, &sg, &eb), 0);
  }
  cs_sighting_t other = {.at_ms = 1001, .mode = "passthrough", .profile = "chrome", .verdict = "fail",
                         .action = "rejected"};
  CS_CHECK_EQ_I64(cs_capture_store_add_sighting(s, id2, &other, &eb), 0);
  CS_CHECK_EQ_I64(cs_capture_store_add_sighting(s, "nope", &other, &eb), CS_ENOTFOUND);
  char path[600], *text = NULL;
  size_t len = 0;
  snprintf(path, sizeof path, "%s/%s/sightings.jsonl", root, id1);
  CS_REQUIRE(cs_fs_read_file(path, 1 << 20, &text, &len) == 0);
  long lines = 0;
  for (size_t i = 0; i < len; i++)
    lines += text[i] == '\n';
  CS_CHECK_EQ_I64(lines, CS_SIGHTINGS_KEEP);
  /* The oldest were dropped: the first line left is sighting total - KEEP. */
  char want[64];
  snprintf(want, sizeof want, "{\"at_ms\":%d,", 1000 + 2 * (total - CS_SIGHTINGS_KEEP));
  CS_CHECK(strncmp(text, want, strlen(want)) == 0);
  free(text);
  char *all = cs_capture_store_sightings_json(s, NULL, 3);
  CS_REQUIRE(all != NULL);
  snprintf(want, sizeof want, "\"at_ms\":%d,", 1000 + 2 * (total - 1));
  CS_CHECK(strstr(all, want) != NULL && strstr(all, "\"capture\":\"example.com_443_01") != NULL);
  CS_CHECK(strstr(all, "UA \\\"q\\\"") != NULL);
  CS_CHECK(strstr(all, "passthrough") == NULL); /* only the newest 3 */
  free(all);
  char *one = cs_capture_store_sightings_json(s, id2, 10);
  CS_CHECK(one != NULL && strstr(one, "\"action\":\"rejected\"") != NULL && strstr(one, "relayed") == NULL);
  free(one);
  CS_CHECK_EQ_STR(cs_capture_store_verdict_key(s, id1), "");
  cs_capture_store_set_verdict_key(s, id1, ",safari:pass|");
  CS_CHECK_EQ_STR(cs_capture_store_verdict_key(s, id1), ",safari:pass|");
  CS_CHECK(cs_capture_store_verdict_key(s, "nope") == NULL);
  CS_CHECK_EQ_I64(cs_capture_store_clear(s, &eb), 0);
  CS_CHECK_EQ_I64(cs_capture_store_count(s), 0);
  snprintf(path, sizeof path, "%s/%s", root, id1);
  struct stat st;
  CS_CHECK(lstat(path, &st) != 0);
  cs_capture_store_free(s);
  rm_rf(root);
}

/* A chain made by real openssl whose leaf expires at not_after_ms, as PEM
 * (caller frees). */
static char *chain_expiring(const char *dir, int64_t not_after_ms) {
  char na[24], nb[24], path[600];
  char na_kv[40], nb_kv[40];
  snprintf(na_kv, sizeof na_kv, "LEAF_NA=%s", cs_fx_gentime(not_after_ms, na));
  snprintf(nb_kv, sizeof nb_kv, "LEAF_NB=%s", cs_fx_gentime(not_after_ms - 86400000, nb));
  const char *settings[] = {na_kv, nb_kv, "ROOT_NB=20000101000000Z", "INT_NB=20000101000000Z",
                            NULL};
  if (cs_fx_mkchain(dir, settings) != 0)
    return NULL;
  snprintf(path, sizeof path, "%s/chain.pem", dir);
  char *pem = NULL;
  size_t len = 0;
  return cs_fs_read_file(path, 1 << 20, &pem, &len) == 0 ? pem : NULL;
}

/* Per host:port the three newest chains stay; an older, superseded chain is
 * deleted once its leaf has expired, never before; other hosts are left
 * alone; over --max-captures an expired superseded chain goes first. */
static void test_retention_per_host(void) {
  make_root();
  char tmp[256];
  CS_REQUIRE(cs_fx_tempdir(tmp, sizeof tmp) == 0);
  const int64_t now = INT64_C(1795467783000); /* 2026-11-23 */
  const int64_t day = 86400000;
  /* Host A served c0 (expired), c1 (valid), c2, c3, c4 in turn; host B one
   * expired chain. */
  const int64_t expiry[5] = {now - 10 * day, now + 10 * day, now + 20 * day, now + 30 * day,
                             now + 40 * day};
  char *pem[6] = {NULL};
  for (int i = 0; i < 6; i++) {
    char d[400];
    snprintf(d, sizeof d, "%s/c%d", tmp, i);
    pem[i] = chain_expiring(d, i < 5 ? expiry[i] : now - day);
    CS_REQUIRE(pem[i] != NULL);
  }
  cs_capture_store_t *s = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  CS_REQUIRE(cs_capture_store_open(&s, root, 100, &eb) == 0);
  cs_capture_meta_t b = META;
  b.host = "b.example";
  uint8_t fp[32];
  char ids[6][CS_CAPTURE_ID_MAX];
  fp_of(60, fp);
  CS_REQUIRE(cs_capture_store_put(s, &b, fp, pem[5], "{}", now, ids[5], NULL, &eb) == 0);
  for (int i = 0; i < 5; i++) {
    fp_of(i + 1, fp);
    CS_REQUIRE(cs_capture_store_put(s, &META, fp, pem[i], "{}", now + i, ids[i], NULL, &eb) == 0);
  }
  /* c0: expired with 4 newer chains: gone. c1: 3 newer but still valid:
   * kept. c2..c4 (the newest three) and host B's only chain: kept. */
  const int want[6] = {0, 1, 1, 1, 1, 1};
  char path[2400];
  for (int i = 0; i < 6; i++) {
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", root, ids[i]);
    CS_CHECK_EQ_I64(lstat(path, &st) == 0, want[i]);
  }
  CS_CHECK_EQ_I64(cs_capture_store_count(s), 5);
  cs_capture_store_free(s);
  /* Reopened (notAfter read back from meta.json) with room for 4: one more
   * capture of B evicts B's expired, superseded chain before anything of A. */
  CS_REQUIRE(cs_capture_store_open(&s, root, 5, &eb) == 0);
  fp_of(61, fp);
  char idb2[CS_CAPTURE_ID_MAX];
  CS_REQUIRE(cs_capture_store_put(s, &b, fp, pem[4], "{}", now + 10, idb2, NULL, &eb) == 0);
  CS_CHECK_EQ_I64(cs_capture_store_count(s), 5);
  for (int i = 1; i < 6; i++) {
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", root, ids[i]);
    CS_CHECK_EQ_I64(lstat(path, &st) == 0, i != 5);
  }
  cs_capture_store_free(s);
  for (int i = 0; i < 6; i++)
    free(pem[i]);
  cs_fx_rmdir(tmp);
  rm_rf(root);
}

CS_TEST_MAIN(CS_TEST(test_put_and_dedup), CS_TEST(test_sightings), CS_TEST(test_retention),
             CS_TEST(test_retention_per_host),
             CS_TEST(test_symlink_and_failures), CS_TEST(test_atomic_write))
