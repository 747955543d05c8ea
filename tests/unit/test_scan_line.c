/* certskew scan's pure parts: input lines, keys, the shard hash, the done
 * set, the resume scan and the output line read from a report. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certskew/fetch/scan.h"
#include "cs_test.h"

typedef struct line_case {
  const char *line;
  int err;          /* 0, CS_EEMPTY or CS_EPARSE */
  const char *key;  /* when err == 0 */
  const char *host;
  int port;
  const char *sni;
} line_case_t;

static const line_case_t line_cases[] = {
    {"example.com", 0, "example.com:443 example.com", "example.com", 443, "example.com"},
    {"Example.COM:8443\n", 0, "example.com:8443 example.com", "example.com", 8443, "example.com"},
    {"  example.com:443 example.com  ", 0, "example.com:443 example.com", "example.com", 443,
     "example.com"},
    {"127.0.0.1:8443", 0, "127.0.0.1:8443", "127.0.0.1", 8443, ""},
    {"127.0.0.1:8443 a.test", 0, "127.0.0.1:8443 a.test", "127.0.0.1", 8443, "a.test"},
    {"[::1]:8443 b.test", 0, "[::1]:8443 b.test", "::1", 8443, "b.test"},
    {"[::1]", 0, "[::1]:443", "::1", 443, ""},
    {"::1", 0, "[::1]:443", "::1", 443, ""},
    {"host\t# comment", 0, "host:443 host", "host", 443, "host"},
    {"", CS_EEMPTY, NULL, NULL, 0, NULL},
    {"   \n", CS_EEMPTY, NULL, NULL, 0, NULL},
    {"# a comment", CS_EEMPTY, NULL, NULL, 0, NULL},
    {"a b c", CS_EPARSE, NULL, NULL, 0, NULL},
    {"host:0", CS_EPARSE, NULL, NULL, 0, NULL},
    {"host:65536", CS_EPARSE, NULL, NULL, 0, NULL},
    {"host:", CS_EPARSE, NULL, NULL, 0, NULL},
    {"host:12x", CS_EPARSE, NULL, NULL, 0, NULL},
    {"[::1", CS_EPARSE, NULL, NULL, 0, NULL},
    {"ho/st", CS_EPARSE, NULL, NULL, 0, NULL},
    {"host sni:1", CS_EPARSE, NULL, NULL, 0, NULL},
    {"a:b:c", CS_EPARSE, NULL, NULL, 0, NULL}, /* not an IPv6 address */
};

static void test_parse_lines(void) {
  for (size_t i = 0; i < sizeof line_cases / sizeof line_cases[0]; i++) {
    const line_case_t *c = &line_cases[i];
    cs_scan_target_t t;
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    int err = cs_scan_parse_line(c->line, &t, &eb);
    CS_CHECK_MSG(err == c->err, "'%s': %d != %d (%s)", c->line, err, c->err, eb.msg);
    if (err != 0 || c->err != 0)
      continue;
    CS_CHECK_EQ_STR(t.key, c->key);
    CS_CHECK_EQ_STR(t.host, c->host);
    CS_CHECK_EQ_I64(t.port, c->port);
    CS_CHECK_EQ_STR(t.sni, c->sni);
  }
}

static void test_key_hash_is_fnv1a64(void) {
  /* Published FNV-1a 64 test vectors: the shard function must never change. */
  CS_CHECK(cs_scan_key_hash("") == UINT64_C(0xcbf29ce484222325));
  CS_CHECK(cs_scan_key_hash("a") == UINT64_C(0xaf63dc4c8601ec8c));
  CS_CHECK(cs_scan_key_hash("foobar") == UINT64_C(0x85944171f73967e8));
}

static void test_shards_partition(void) {
  /* Every key is in exactly one shard of N, for several N; none is lost. */
  static const unsigned ns[] = {1, 2, 3, 7, 64};
  for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
    unsigned n = ns[a], per[64] = {0};
    for (int i = 0; i < 3000; i++) {
      char key[64];
      snprintf(key, sizeof key, "10.0.%d.%d:443 h%d.test", i / 256, i % 256, i);
      unsigned hits = 0;
      for (unsigned k = 1; k <= n; k++)
        if (cs_scan_in_shard(key, k, n)) {
          hits++;
          per[k - 1]++;
        }
      CS_CHECK_MSG(hits == 1, "%s in %u shards of %u", key, hits, n);
    }
    for (unsigned k = 0; k < n; k++) /* roughly even: at least half the mean */
      CS_CHECK_MSG(per[k] * n * 2 >= 3000, "shard %u/%u has %u of 3000", k + 1, n, per[k]);
  }
  CS_CHECK(cs_scan_in_shard("anything", 0, 0)); /* no sharding */
}

static void test_done_set(void) {
  cs_scan_set_t s;
  cs_scan_set_init(&s);
  for (uint64_t i = 0; i < 5000; i++)
    CS_REQUIRE(cs_scan_set_add(&s, i * UINT64_C(0x9e3779b97f4a7c15)) == 0);
  CS_CHECK_EQ_I64(s.count, 5000);
  for (uint64_t i = 0; i < 5000; i++)
    CS_CHECK(cs_scan_set_has(&s, i * UINT64_C(0x9e3779b97f4a7c15)));
  CS_CHECK(!cs_scan_set_has(&s, 12345));
  CS_CHECK(cs_scan_set_has(&s, 0)); /* i = 0 added hash 0 */
  cs_scan_set_free(&s);
  cs_scan_set_free(&s);
  CS_CHECK(!cs_scan_set_has(&s, 1));
}

static void test_resume_truncates_partial_line(void) {
  char path[] = "/tmp/certskew-scan-resume-XXXXXX";
  int fd = mkstemp(path);
  CS_REQUIRE(fd >= 0);
  const char *text = "{\"key\":\"a.test:443 a.test\",\"verdict\":\"pass\"}\n"
                     "not json\n"
                     "{\"key\":\"b.test:443 b.test\"}\n"
                     "{\"key\":\"c.test:443 c.te";
  CS_REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
  cs_scan_set_t done;
  cs_scan_set_init(&done);
  size_t n = 0;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  CS_CHECK(cs_scan_resume_load(fd, &done, &n, &eb) == 0);
  CS_CHECK_EQ_I64(n, 3);
  CS_CHECK(cs_scan_set_has(&done, cs_scan_key_hash("a.test:443 a.test")));
  CS_CHECK(cs_scan_set_has(&done, cs_scan_key_hash("b.test:443 b.test")));
  CS_CHECK(!cs_scan_set_has(&done, cs_scan_key_hash("c.test:443 c.test")));
  off_t end = lseek(fd, 0, SEEK_CUR);
  CS_CHECK_EQ_I64(end, (int64_t)(strlen(text) - strlen("{\"key\":\"c.test:443 c.te")));
  CS_CHECK_EQ_I64(lseek(fd, 0, SEEK_END), end);
  cs_scan_set_free(&done);
  close(fd);
  unlink(path);
}

/* A report as the analysis writes it, with or without client profiles. */
/* Reports in the shape cs_analysis_report_json writes (schema v2): the
 * clients table, the ranked causes, verdict.clients_at. */
static const char report_fail[] =
    "{\"clients\":[{\"name\":\"chrome\",\"verdict_at_instant\":\"pass\",\"root_cause\":null,"
    "\"fix\":null,\"fails_for_true_times\":[]},"
    "{\"name\":\"safari\",\"verdict_at_instant\":\"fail\",\"root_cause\":\"EXPIRED\","
    "\"fix\":\"renew\",\"fails_for_true_times\":[{\"from\":null,\"to\":null}]}],"
    "\"causes\":[{\"code\":\"EXPIRED\",\"consequence\":null,\"clients_failing\":1,"
    "\"clients\":\"safari\",\"detail\":\"gone\",\"fix\":\"renew\"}],"
    "\"verdict\":{\"clients_at\":\"fail\",\"top_cause\":\"EXPIRED\",\"at\":\"fail\","
    "\"worst_severity\":\"error\",\"top_code\":\"EXPIRED\"},"
    "\"chain\":{\"certificates\":[{\"subject\":\"CN=a\",\"not_after\":{\"rfc3339\":"
    "\"2026-01-01T00:00:00.000Z\"},\"valid_until\":{\"ms\":1767225600999},\"scts\":[]}]},"
    "\"ct\":null,\"revocation\":null,\"findings\":[{\"code\":\"OCSP_NO_STAPLE\",\"severity\":"
    "\"info\"},{\"code\":\"EXPIRED\",\"severity\":\"error\",\"summary\":\"gone\",\"fix\":"
    "\"renew\"},{\"code\":\"MISSING_INTERMEDIATE\",\"severity\":\"error\"}],"
    "\"enrichment\":{\"errors\":[{\"code\":\"ENRICH_CRL_FETCH_FAILED\",\"message\":\"x\"}]}}";
static const char report_pass[] =
    "{\"clients\":[{\"name\":\"chrome\",\"verdict_at_instant\":\"pass\",\"root_cause\":null,"
    "\"fix\":null,\"fails_for_true_times\":[]}],\"causes\":[],"
    "\"verdict\":{\"clients_at\":\"pass\",\"top_cause\":null,\"at\":\"fail\"},\"findings\":[]}";

static cJSON *line_for(const char *report, const char *const *clients, size_t n,
                       cs_scan_verdict_summary_t *sum) {
  static cs_diagnose_result_t res;
  memset(&res, 0, sizeof res);
  res.connected = 1;
  snprintf(res.addr, sizeof res.addr, "127.0.0.1:443");
  snprintf(res.tls_version, sizeof res.tls_version, "TLSv1.2");
  res.verdict.report_json = (char *)report;
  cs_scan_target_t t;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_scan_parse_line("a.test", &t, &eb) != 0)
    return NULL;
  return cs_scan_line_json(&t, NULL, &res, NULL, NULL, clients, n, 12, 0, sum);
}

static const char *s_of(const cJSON *o, const char *a, const char *b) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
  if (b != NULL)
    v = cJSON_GetObjectItemCaseSensitive(v, b);
  return cJSON_IsString(v) ? v->valuestring : "(none)";
}

static void test_line_from_report(void) {
  cs_scan_verdict_summary_t sum;
  cJSON *l = line_for(report_fail, NULL, 0, &sum);
  CS_REQUIRE(l != NULL);
  CS_CHECK_EQ_STR(s_of(l, "key", NULL), "a.test:443 a.test");
  CS_CHECK_EQ_STR(s_of(l, "verdict", NULL), "fail");
  CS_CHECK_EQ_STR(s_of(l, "root_cause", "code"), "EXPIRED");
  CS_CHECK_EQ_STR(s_of(l, "root_cause", "clients"), "safari");
  CS_CHECK_EQ_STR(s_of(l, "fix", NULL), "renew");
  CS_CHECK_EQ_STR(s_of(l, "leaf", "not_after"), "2026-01-01T00:00:00.000Z");
  CS_CHECK_EQ_STR(s_of(l, "capture_method", NULL), CS_SCAN_CAPTURE_METHOD);
  CS_CHECK_EQ_I64(cJSON_GetArraySize(cJSON_GetObjectItem(l, "error_codes")), 2);
  CS_CHECK_EQ_I64(cJSON_GetArraySize(cJSON_GetObjectItem(l, "errors")), 1);
  CS_CHECK_EQ_STR(sum.verdict, "fail");
  CS_CHECK_EQ_STR(sum.root_cause, "EXPIRED");
  cJSON_Delete(l);
}

/* Each judged client of the report, with its own verdict, cause and fix;
 * the line's verdict is the clients' (a clock model failing alone, as in
 * verdict.at, does not fail the host). */
static void test_line_from_client_profiles(void) {
  cs_scan_verdict_summary_t sum;
  cJSON *l = line_for(report_fail, NULL, 0, &sum);
  CS_REQUIRE(l != NULL);
  const cJSON *cl = cJSON_GetObjectItem(l, "clients");
  CS_CHECK_EQ_I64(cJSON_GetArraySize(cl), 2);
  CS_CHECK_EQ_STR(s_of(cJSON_GetArrayItem(cl, 0), "verdict", NULL), "pass");
  const cJSON *c1 = cJSON_GetArrayItem(cl, 1);
  CS_CHECK_EQ_STR(s_of(c1, "name", NULL), "safari");
  CS_CHECK_EQ_STR(s_of(c1, "verdict", NULL), "fail");
  CS_CHECK_EQ_STR(s_of(c1, "root_cause", NULL), "EXPIRED");
  CS_CHECK_EQ_STR(s_of(c1, "fix", NULL), "renew");
  CS_CHECK(cJSON_IsArray(cJSON_GetObjectItem(c1, "fails_for_true_times")));
  cJSON_Delete(l);
  l = line_for(report_pass, NULL, 0, &sum);
  CS_REQUIRE(l != NULL);
  CS_CHECK_EQ_STR(s_of(l, "verdict", NULL), "pass");
  CS_CHECK(cJSON_IsNull(cJSON_GetObjectItem(l, "root_cause")));
  CS_CHECK_EQ_STR(sum.verdict, "pass");
  CS_CHECK_EQ_STR(sum.root_cause, "");
  cJSON_Delete(l);
}

static void test_error_line(void) {
  cs_scan_verdict_summary_t sum;
  cJSON *l = cs_scan_line_json(NULL, "what is this", NULL, "SCAN_BAD_LINE", "bad", NULL, 0, 0,
                               0, &sum);
  CS_REQUIRE(l != NULL);
  CS_CHECK_EQ_STR(s_of(l, "key", NULL), "what is this");
  CS_CHECK(cJSON_IsNull(cJSON_GetObjectItem(l, "verdict")));
  CS_CHECK(cJSON_IsNull(cJSON_GetObjectItem(l, "capture_method")));
  CS_CHECK_EQ_STR(sum.verdict, "");
  CS_CHECK_EQ_STR(sum.root_cause, "SCAN_BAD_LINE");
  cJSON_Delete(l);
}

CS_TEST_MAIN(CS_TEST(test_parse_lines), CS_TEST(test_key_hash_is_fnv1a64),
             CS_TEST(test_shards_partition), CS_TEST(test_done_set),
             CS_TEST(test_resume_truncates_partial_line), CS_TEST(test_line_from_report),
             CS_TEST(test_line_from_client_profiles), CS_TEST(test_error_line))
