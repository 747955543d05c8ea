/*
 * The log list certskew ships (data/log_list.json, log_list_timestamp
 * 2025-05-05T12:54:12Z) and its freshness, as a table of cases:
 *  - a real certificate (*.google.com, tests/data/README.md) whose two SCTs
 *    verify against the shipped list, judged before and after the list is
 *    70 days old (CT_LOG_LIST_STALE);
 *  - lab certificates whose log is not in the list: with the SCT after the
 *    list's timestamp the list predates the log (SCT_LOG_NOT_IN_LIST, policy
 *    undetermined, no SCT_POLICY_TOO_FEW); one second before it, the log is
 *    simply unknown (SCT_UNKNOWN_LOG, SCT_POLICY_TOO_FEW);
 *  - the shipped list merged with the lab list (--log-list twice).
 * Every file read is in the repository or made here.
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "certskew/core/time.h"
#include "certskew/ct/ct.h"
#include "certskew/lab/lab_ct.h"
#include "certskew/store/file_io.h"
#include "ct_fixtures.h"

static int64_t T(const char *s) {
  int64_t t = 0;
  if (cs_time_parse(s, &t) != 0)
    cs_test_failures++;
  return t;
}

static uint8_t *read_src(const char *rel, size_t *len) {
  char path[1024];
  uint8_t *buf = NULL;
  snprintf(path, sizeof(path), "%s/%s", ct_src_dir(), rel);
  if (cs_file_read(path, CS_CT_LOGLIST_MAX_INPUT, &buf, len, NULL) != 0)
    fprintf(stderr, "cannot read %s\n", path);
  return buf;
}

/* Argon2025h2's key as the shipped list gives it. */
#define ARGON2025H2_KEY                                                                            \
  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEr+TzlCzfpie1/rJhgxnIITojqKk9VK+8MZoc08HjtsLzD8e5yjsdeWVhIiWCVk6Y6KomKTYeKGBv6xVu93zQug=="

enum { REAL, LAB };
enum { SHIPPED = 1, LABLIST = 2 };

typedef struct fresh_case {
  const char *name;
  int chain;             /* REAL or LAB */
  const char *sct_time;  /* LAB: when the lab issues (SCT timestamps) */
  int lists;             /* SHIPPED | LABLIST */
  const char *at;        /* the time judged */
  const char *verdict;   /* of every SCT */
  int compliant, undetermined;
  const char *has[3];    /* findings present */
  const char *lacks[3];  /* findings absent */
} fresh_case_t;

static const fresh_case_t CASES[] = {
    {"real cert, shipped list, judged 2025-06-10", REAL, NULL, SHIPPED, "2025-06-10T00:00:00Z",
     "valid", 1, 0, {NULL}, {"CT_LOG_LIST_STALE", "SCT_POLICY_TOO_FEW", "SCT_UNKNOWN_LOG"}},
    /* 70 days after 2025-05-05T12:54:12Z, and one second beyond. */
    {"real cert, list exactly 70 days old", REAL, NULL, SHIPPED, "2025-07-14T12:54:12Z", "valid", 1,
     0, {NULL}, {"CT_LOG_LIST_STALE"}},
    {"real cert, list 70 days + 1 s old", REAL, NULL, SHIPPED, "2025-07-14T12:54:13Z", "valid", 1, 0,
     {"CT_LOG_LIST_STALE"}, {"SCT_POLICY_TOO_FEW"}},
    {"lab log newer than the list", LAB, "2026-11-23T21:03:03Z", SHIPPED, "2026-11-23T21:04:00Z",
     "unknown_log", 0, 1, {"SCT_LOG_NOT_IN_LIST", "CT_LOG_LIST_STALE"},
     {"SCT_POLICY_TOO_FEW", "SCT_UNKNOWN_LOG"}},
    {"lab SCT 1 s after the list", LAB, "2025-05-05T12:54:13Z", SHIPPED, "2025-05-06T00:00:00Z",
     "unknown_log", 0, 1, {"SCT_LOG_NOT_IN_LIST"}, {"SCT_POLICY_TOO_FEW", "CT_LOG_LIST_STALE"}},
    {"lab SCT 1 s before the list: unknown log", LAB, "2025-05-05T12:54:11Z", SHIPPED,
     "2025-05-06T00:00:00Z", "unknown_log", 0, 0, {"SCT_UNKNOWN_LOG", "SCT_POLICY_TOO_FEW"},
     {"SCT_LOG_NOT_IN_LIST"}},
    {"lab chain, shipped + lab lists merged", LAB, "2026-11-23T21:03:03Z", SHIPPED | LABLIST,
     "2026-11-23T21:04:00Z", "valid", 1, 0, {NULL},
     {"SCT_LOG_NOT_IN_LIST", "SCT_POLICY_TOO_FEW", "CT_LOG_LIST_STALE"}},
};

/* A lab chain (leaf + CA) with SCTs from two lab logs of two operators,
 * issued at now_ms, and the lab's own list (*lab_json, caller frees). */
static int lab_chain(int64_t now_ms, cs_chain_t **chain, char **lab_json) {
  ct_rng_t rng;
  cs_lab_ct_ca_t ca;
  cs_lab_ct_log_t logs[2];
  cs_lab_ct_leaf_t leaf;
  const cs_lab_ct_log_t *signers[2] = {&logs[0], &logs[1]};
  int err = ct_rng_init(&rng, "test_ct_list_freshness");
  cs_lab_ct_ca_init(&ca);
  cs_lab_ct_log_init(&logs[0]);
  cs_lab_ct_log_init(&logs[1]);
  cs_lab_ct_leaf_init(&leaf);
  if (err == 0)
    err = cs_lab_ct_ca_generate(&ca, "freshness root", now_ms, ct_rng, &rng);
  if (err == 0)
    err = cs_lab_ct_log_generate(&logs[0], CS_SCT_SIG_ECDSA, "Lab A", "Lab op 1", now_ms, ct_rng,
                                 &rng);
  if (err == 0)
    err = cs_lab_ct_log_generate(&logs[1], CS_SCT_SIG_ECDSA, "Lab B", "Lab op 2", now_ms, ct_rng,
                                 &rng);
  cs_lab_ct_leaf_spec_t spec = {0};
  spec.dns_name = "fresh.lab.test";
  spec.lifetime_ms = 90 * CS_MS_PER_DAY;
  spec.logs = signers;
  spec.nlogs = 2;
  if (err == 0)
    err = cs_lab_ct_leaf_issue(&leaf, &ca, &spec, now_ms, ct_rng, &rng);
  uint8_t *der = err == 0 ? malloc(leaf.der_len + ca.der_len) : NULL;
  if (der != NULL) {
    memcpy(der, leaf.der, leaf.der_len);
    memcpy(der + leaf.der_len, ca.der, ca.der_len);
    err = cs_chain_load(chain, der, leaf.der_len + ca.der_len, NULL);
    free(der);
  } else if (err == 0) {
    err = CS_ENOMEM;
  }
  if (err == 0)
    err = cs_lab_ct_chrome_log_list(signers, 2, now_ms, lab_json);
  cs_lab_ct_leaf_free(&leaf);
  cs_lab_ct_log_free(&logs[0]);
  cs_lab_ct_log_free(&logs[1]);
  cs_lab_ct_ca_free(&ca);
  ct_rng_free(&rng);
  return err;
}

static void run_case(const fresh_case_t *c, const uint8_t *shipped, size_t shipped_len,
                     const uint8_t *real, size_t real_len) {
  cs_chain_t *chain = NULL;
  cs_ct_log_list_t *list = NULL;
  cs_ct_result_t *r = NULL;
  cs_findings_t *f = cs_findings_new();
  char *lab_json = NULL;
  const uint8_t *bufs[2];
  size_t lens[2], n = 0;
  fprintf(stderr, "case: %s\n", c->name);
  int err = c->chain == REAL ? cs_chain_load(&chain, real, real_len, NULL)
                             : lab_chain(T(c->sct_time), &chain, &lab_json);
  CS_CHECK_EQ_I64(err, 0);
  if (c->lists & SHIPPED) {
    bufs[n] = shipped;
    lens[n++] = shipped_len;
  }
  if ((c->lists & LABLIST) && lab_json != NULL) {
    bufs[n] = (const uint8_t *)lab_json;
    lens[n++] = strlen(lab_json);
  }
  if (err == 0)
    CS_CHECK_EQ_I64(err = cs_ct_log_list_load_many(&list, bufs, lens, n, NULL), 0);
  if (err == 0 && f != NULL)
    CS_CHECK_EQ_I64(err = cs_ct_analyze(&r, chain, list, T(c->at), f), 0);
  if (err == 0 && r != NULL) {
    CS_CHECK_EQ_I64(cs_ct_result_count(r), 2);
    for (size_t i = 0; i < cs_ct_result_count(r); i++)
      CS_CHECK_EQ_STR(cs_ct_sig_verdict_name(cs_ct_result_sct(r, i)->verdict), c->verdict);
    CS_CHECK_EQ_I64(cs_ct_result_policy(r)->compliant, c->compliant);
    CS_CHECK_EQ_I64(cs_ct_result_policy(r)->undetermined, c->undetermined);
    for (size_t k = 0; k < 3 && c->has[k] != NULL; k++)
      CS_CHECK_EQ_I64(cs_findings_has(f, c->has[k]), 1);
    for (size_t k = 0; k < 3 && c->lacks[k] != NULL; k++)
      CS_CHECK_EQ_I64(cs_findings_has(f, c->lacks[k]), 0);
  }
  cs_ct_result_free(r);
  cs_findings_free(f);
  cs_ct_log_list_free(list);
  cs_chain_free(chain);
  free(lab_json);
}

/* Merging: the same list twice is the list once; a repeated id within one
 * list is still refused; the newer list's view of a log wins. */
static void test_merge(const uint8_t *shipped, size_t len) {
  cs_ct_log_list_t *l = NULL;
  const uint8_t *two[2] = {shipped, shipped};
  size_t lens[2] = {len, len};
  CS_CHECK_EQ_I64(cs_ct_log_list_load_many(&l, two, lens, 2, NULL), 0);
  CS_CHECK_EQ_I64(cs_ct_log_list_count(l), 181);
  CS_CHECK_EQ_STR(cs_ct_log_list_version(l), "53.34+53.34");
  cs_ct_log_list_free(l);
  l = NULL;
  CS_CHECK_EQ_I64(cs_ct_log_list_load_many(&l, two, lens, 0, NULL), CS_EINVAL);
  /* A newer list (a month later) that says Argon2025h2 is retired: its view
   * wins whichever order the lists come in; the older list's does not. */
  static const char NEWER[] =
      "{\"version\":\"99.1\",\"log_list_timestamp\":\"2025-06-05T00:00:00Z\",\"operators\":"
      "[{\"name\":\"Google\",\"logs\":[{\"description\":\"Google 'Argon2025h2' log\","
      "\"log_id\":\"EvFONL1TckyEBhnDjz96E/jntWKHiJxtMAWE6+WGJjo=\",\"key\":\"" ARGON2025H2_KEY "\","
      "\"url\":\"https://ct.googleapis.com/logs/us1/argon2025h2/\",\"mmd\":86400,"
      "\"state\":{\"retired\":{\"timestamp\":\"2025-06-01T00:00:00Z\"}}}]}]}";
  uint8_t id[32];
  size_t idlen = 0;
  CS_CHECK_EQ_I64(mbedtls_base64_decode(id, sizeof(id), &idlen,
                                        (const unsigned char *)"EvFONL1TckyEBhnDjz96E/jntWKHiJxtMAWE6+WGJjo=", 44),
                  0);
  for (int order = 0; order < 2; order++) {
    const uint8_t *pair[2] = {order ? shipped : (const uint8_t *)NEWER,
                              order ? (const uint8_t *)NEWER : shipped};
    size_t plens[2] = {order ? len : strlen(NEWER), order ? strlen(NEWER) : len};
    l = NULL;
    CS_CHECK_EQ_I64(cs_ct_log_list_load_many(&l, pair, plens, 2, NULL), 0);
    const cs_ct_log_t *log = cs_ct_log_list_find(l, id);
    CS_CHECK(log != NULL && log->state == CS_CT_STATE_RETIRED);
    CS_CHECK_EQ_I64(cs_ct_log_list_count(l), 181);
    CS_CHECK_EQ_I64(cs_ct_log_list_timestamp(l), T("2025-06-05T00:00:00Z"));
    cs_ct_log_list_free(l);
  }
  /* An error in the second of two lists names that list. */
  const uint8_t *dup[2] = {shipped, (const uint8_t *)"{\"operators\":[{\"name\":\"x\",\"logs\":[1]}]}"};
  size_t dlens[2] = {len, strlen((const char *)dup[1])};
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  l = NULL;
  CS_CHECK_EQ_I64(cs_ct_log_list_load_many(&l, dup, dlens, 2, &eb), CS_EPARSE);
  CS_CHECK(strncmp(eb.msg, "list #2: ", 9) == 0);
  CS_CHECK(l == NULL);
}

int main(void) {
  size_t shipped_len = 0, real_len = 0;
  uint8_t *shipped = read_src("data/log_list.json", &shipped_len);
  uint8_t *real = read_src("tests/data/google-com-chain.pem", &real_len);
  CS_CHECK(shipped != NULL && real != NULL);
  if (shipped != NULL && real != NULL) {
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++)
      run_case(&CASES[i], shipped, shipped_len, real, real_len);
    test_merge(shipped, shipped_len);
  }
  free(shipped);
  free(real);
  return cs_test_done("test_ct_list_freshness");
}
