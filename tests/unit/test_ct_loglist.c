/*
 * Log list loader: the real Chrome list shipped in data/log_list.json (every key loads, every
 * id is SHA-256 of its key, states and intervals as published), a lab list
 * round trip, state-at-time inference, and a table of malformed lists that
 * must each fail with a clear error and never crash.
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>

#include "certskew/ct/ct.h"
#include "certskew/lab/lab_ct.h"
#include "certskew/core/time.h"
#include "ct_fixtures.h"
#include "certskew/store/file_io.h"

static int64_t T(const char *s) {
  int64_t t = 0;
  if (cs_time_parse(s, &t) != 0)
    cs_test_failures++;
  return t;
}

static void test_real_list(void) {
  char path[512];
  uint8_t *buf = NULL;
  size_t len = 0;
  cs_ct_log_list_t *l = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  snprintf(path, sizeof(path), "%s/data/log_list.json", ct_src_dir());
  CS_CHECK_EQ_I64(cs_file_read(path, CS_CT_LOGLIST_MAX_INPUT, &buf, &len, NULL), 0);
  if (buf == NULL)
    return;
  int err = cs_ct_log_list_load(&l, buf, len, &eb);
  if (err != 0)
    fprintf(stderr, "load: %s\n", eb.msg);
  CS_CHECK_EQ_I64(err, 0);
  if (l == NULL) {
    free(buf);
    return;
  }
  /* 175 RFC 6962 logs plus 6 static-CT (tiled) logs. */
  size_t n = cs_ct_log_list_count(l), tiled = 0, rsa = 0, ecdsa = 0;
  CS_CHECK_EQ_I64(n, 181);
  CS_CHECK_EQ_STR(cs_ct_log_list_version(l), "53.34");
  CS_CHECK_EQ_I64(cs_ct_log_list_timestamp(l), T("2025-05-05T12:54:12Z"));
  for (size_t i = 0; i < n; i++) {
    const cs_ct_log_t *log = cs_ct_log_list_get(l, i);
    uint8_t digest[32];
    (void)mbedtls_sha256_ret(log->key_der, log->key_der_len, digest, 0);
    CS_CHECK(memcmp(digest, log->log_id, 32) == 0); /* independent recomputation */
    CS_CHECK(cs_ct_log_list_find(l, log->log_id) == log);
    CS_CHECK(log->operator_name != NULL && log->operator_name[0] != '\0');
    tiled += log->tiled;
    rsa += log->sig_alg == CS_SCT_SIG_RSA;
    ecdsa += log->sig_alg == CS_SCT_SIG_ECDSA;
  }
  CS_CHECK_EQ_I64(tiled, 6);
  CS_CHECK_EQ_I64(rsa, 3); /* Venafi, CNNIC, PuChuangSiDa */
  CS_CHECK_EQ_I64(rsa + ecdsa, n);
  /* Google Argon2020: rejected since 2021-04-21, interval 2020. */
  uint8_t id[32];
  size_t idl = 0;
  CS_CHECK_EQ_I64(mbedtls_base64_decode(id, sizeof(id), &idl,
                                  (const unsigned char *)"sh4FzIuizYogTodm+Su5iiUgZ2va+nDnsklTLe+LkF4=", 44),
            0);
  const cs_ct_log_t *argon = cs_ct_log_list_find(l, id);
  CS_CHECK(argon != NULL);
  if (argon != NULL) {
    CS_CHECK_EQ_STR(argon->description, "Google 'Argon2020' log");
    CS_CHECK_EQ_STR(argon->operator_name, "Google");
    CS_CHECK_EQ_I64(argon->state, CS_CT_STATE_REJECTED);
    CS_CHECK_EQ_I64(argon->state_since_ms, T("2021-04-21T00:00:00Z"));
    CS_CHECK_EQ_I64(argon->has_interval, 1);
    CS_CHECK_EQ_I64(argon->interval_start_ms, T("2020-01-01T00:00:00Z"));
    CS_CHECK_EQ_I64(argon->interval_end_ms, T("2021-01-01T00:00:00Z"));
    CS_CHECK_EQ_I64(argon->mmd_s, 86400);
    int inf = 0;
    CS_CHECK_EQ_I64(cs_ct_log_state_at(argon, T("2021-04-21T00:00:00Z"), &inf), CS_CT_STATE_REJECTED);
    CS_CHECK_EQ_I64(inf, 0);
    CS_CHECK_EQ_I64(cs_ct_log_state_at(argon, T("2021-04-20T23:59:59.999Z"), &inf), CS_CT_STATE_UNKNOWN);
    CS_CHECK_EQ_I64(inf, 1);
  }
  memset(id, 0, sizeof(id));
  CS_CHECK(cs_ct_log_list_find(l, id) == NULL);
  cs_ct_log_list_free(l);
  free(buf);
}

/* State inference table on a synthetic log. */
static void test_state_at(void) {
  static const struct {
    cs_ct_log_state_t now;
    int before_inferred;
    cs_ct_log_state_t before;
  } CASES[] = {
      {CS_CT_STATE_PENDING, 1, CS_CT_STATE_UNKNOWN},   {CS_CT_STATE_QUALIFIED, 1, CS_CT_STATE_PENDING},
      {CS_CT_STATE_USABLE, 1, CS_CT_STATE_QUALIFIED},  {CS_CT_STATE_READONLY, 1, CS_CT_STATE_USABLE},
      {CS_CT_STATE_RETIRED, 1, CS_CT_STATE_USABLE},    {CS_CT_STATE_REJECTED, 1, CS_CT_STATE_UNKNOWN},
  };
  for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
    cs_ct_log_t log;
    int inf = -1;
    memset(&log, 0, sizeof(log));
    log.state = CASES[i].now;
    log.state_since_ms = 1000;
    CS_CHECK_EQ_I64(cs_ct_log_state_at(&log, 1000, &inf), CASES[i].now);
    CS_CHECK_EQ_I64(inf, 0);
    CS_CHECK_EQ_I64(cs_ct_log_state_at(&log, 999, &inf), CASES[i].before);
    CS_CHECK_EQ_I64(inf, CASES[i].before_inferred);
  }
  cs_ct_log_t none;
  memset(&none, 0, sizeof(none));
  CS_CHECK_EQ_I64(cs_ct_log_state_at(&none, 0, NULL), CS_CT_STATE_UNKNOWN);
}

/* A lab list written by the lab and read back. */
static void test_lab_roundtrip(void) {
  ct_rng_t rng;
  cs_lab_ct_log_t a, b;
  const cs_lab_ct_log_t *logs[2] = {&a, &b};
  char *json = NULL;
  cs_ct_log_list_t *l = NULL;
  int64_t now = T("2026-03-01T12:00:00Z");
  CS_CHECK_EQ_I64(ct_rng_init(&rng, "loglist"), 0);
  cs_lab_ct_log_init(&a);
  cs_lab_ct_log_init(&b);
  CS_CHECK_EQ_I64(cs_lab_ct_log_generate(&a, CS_SCT_SIG_ECDSA, "A", "Op", now, ct_rng, &rng), 0);
  CS_CHECK_EQ_I64(cs_lab_ct_log_generate(&b, CS_SCT_SIG_RSA, "B", "Op", now, ct_rng, &rng), 0);
  b.state = CS_CT_STATE_RETIRED;
  b.has_interval = 1;
  b.interval_start_ms = T("2026-01-01T00:00:00Z");
  b.interval_end_ms = T("2027-01-01T00:00:00Z");
  CS_CHECK_EQ_I64(cs_lab_ct_chrome_log_list(logs, 2, now, &json), 0);
  CS_CHECK_EQ_I64(cs_ct_log_list_load(&l, (const uint8_t *)json, json ? strlen(json) : 0, NULL), 0);
  CS_CHECK_EQ_I64(cs_ct_log_list_count(l), 2);
  const cs_ct_log_t *lb = cs_ct_log_list_find(l, b.log_id);
  CS_CHECK(lb != NULL);
  if (lb != NULL) {
    CS_CHECK_EQ_I64(lb->sig_alg, CS_SCT_SIG_RSA);
    CS_CHECK_EQ_I64(lb->state, CS_CT_STATE_RETIRED);
    CS_CHECK_EQ_I64(lb->state_since_ms, now);
    CS_CHECK_EQ_I64(lb->interval_end_ms, b.interval_end_ms);
    CS_CHECK_EQ_STR(lb->operator_name, "Op");
  }
  cs_ct_log_list_free(l);
  free(json);
  cs_lab_ct_log_free(&a);
  cs_lab_ct_log_free(&b);
  cs_lab_ct_log_free(&b); /* safe twice */
  ct_rng_free(&rng);
}

/* Malformed lists: each must fail with its code and a message naming the spot. */
#define KEY "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE6Tx2p1yKY4015NyIYvdrk36es0uAc1zA4PQ+TGRY+3ZjUTIYY9Wyu+3q/147JG4vNVKLtDWarZwVqGkg6lAYzA=="
#define ID "sh4FzIuizYogTodm+Su5iiUgZ2va+nDnsklTLe+LkF4="
#define OPS "\"operators\":[{\"name\":\"Op\",\"logs\":[{\"key\":\"" KEY "\",\"log_id\":\"" ID "\"}]}]"
#define LOG(extra) "{\"operators\":[{\"name\":\"Op\",\"logs\":[{\"key\":\"" KEY "\",\"log_id\":\"" ID "\"" extra "}]}]}"

static void test_malformed(void) {
  static const struct {
    const char *json;
    int code;
    const char *msg_part;
  } CASES[] = {
      {"", CS_EEMPTY, "empty"},
      {"{", CS_EPARSE, "not valid JSON"},
      {"[]", CS_EPARSE, "not a JSON object"},
      {"{}", CS_EPARSE, "operators"},
      {"{\"operators\":{}}", CS_EPARSE, "operators"},
      {"{\"operators\":[]}", CS_EEMPTY, "no logs"},
      {"{\"operators\":[1]}", CS_EPARSE, "operator #0"},
      {"{\"operators\":[{\"name\":\"Op\",\"logs\":[]}]}", CS_EEMPTY, "no logs"},
      {"{\"operators\":[{\"logs\":[{}]}]}", CS_EPARSE, "name"},
      {"{\"operators\":[{\"name\":\"Op\",\"logs\":{}}]}", CS_EPARSE, "must be an array"},
      {"{\"operators\":[{\"name\":\"Op\",\"logs\":[7]}]}", CS_EPARSE, "not an object"},
      {"{\"operators\":[{\"name\":\"Op\",\"logs\":[{}]}]}", CS_EPARSE, "\"key\""},
      {"{\"operators\":[{\"name\":\"Op\",\"logs\":[{\"key\":\"!!!\"}]}]}", CS_EPARSE, "\"key\""},
      {"{\"operators\":[{\"name\":\"Op\",\"logs\":[{\"key\":\"" KEY "\"}]}]}", CS_EPARSE, "log_id"},
      {"{\"operators\":[{\"name\":\"Op\",\"logs\":[{\"key\":\"" KEY "\",\"log_id\":\"AAAA\"}]}]}",
       CS_EPARSE, "32 bytes"},
      {"{\"operators\":[{\"name\":\"Op\",\"logs\":[{\"key\":\"" KEY
       "\",\"log_id\":\"9lyUL9F3MCIUVBgIMJRWjuNNExkzv98MLyALzE7xZOM=\"}]}]}",
       CS_EPARSE, "not SHA-256 of its key"},
      {"{\"operators\":[{\"name\":\"Op\",\"logs\":[{\"key\":\"AAAA\",\"log_id\":"
       "\"cJ6AyISHokEeHuTfufIqhhSS0gxHZRUMDHlKvXD4FHw=\"}]}]}",
       CS_EPARSE, "SubjectPublicKeyInfo"},
      {LOG(",\"state\":{}"), CS_EPARSE, "one member"},
      {LOG(",\"state\":{\"usable\":{}}"), CS_EPARSE, "timestamp"},
      {LOG(",\"state\":{\"usable\":{\"timestamp\":\"yesterday\"}}"), CS_EPARSE, "timestamp"},
      {LOG(",\"state\":{\"frozen\":{\"timestamp\":\"2020-01-01T00:00:00Z\"}}"), CS_EPARSE,
       "unknown state"},
      {LOG(",\"temporal_interval\":{\"start_inclusive\":\"2020-01-01T00:00:00Z\"}"), CS_EPARSE,
       "temporal_interval"},
      {LOG(",\"temporal_interval\":{\"start_inclusive\":\"2021-01-01T00:00:00Z\","
           "\"end_exclusive\":\"2020-01-01T00:00:00Z\"}"),
       CS_EPARSE, "empty"},
      {LOG(",\"mmd\":\"day\""), CS_EPARSE, "mmd"},
      {LOG(",\"description\":5"), CS_EPARSE, "strings"},
      {"{\"operators\":[{\"name\":\"Op\",\"logs\":[{\"key\":\"" KEY "\",\"log_id\":\"" ID
       "\"},{\"key\":\"" KEY "\",\"log_id\":\"" ID "\"}]}]}",
       CS_EPARSE, "duplicate log_id"},
      {"{\"version\":1," OPS "}", CS_EPARSE, "version"},
      {"{\"log_list_timestamp\":\"x\"," OPS "}", CS_EPARSE, "log_list_timestamp"},
  };
  for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
    cs_ct_log_list_t *l = (cs_ct_log_list_t *)1;
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    int err = cs_ct_log_list_load(&l, (const uint8_t *)CASES[i].json, strlen(CASES[i].json), &eb);
    if (err != CASES[i].code || l != NULL || strstr(eb.msg, CASES[i].msg_part) == NULL) {
      fprintf(stderr, "malformed case %zu: got %s \"%s\", want %s containing \"%s\"\n", i,
              cs_errname(err), eb.msg, cs_errname(CASES[i].code), CASES[i].msg_part);
      cs_test_failures++;
    }
  }
  /* The well-formed variant of the cases above loads. */
  cs_ct_log_list_t *ok = NULL;
  const char *good = LOG(",\"state\":{\"usable\":{\"timestamp\":\"2020-01-01T00:00:00Z\"}}");
  CS_CHECK_EQ_I64(cs_ct_log_list_load(&ok, (const uint8_t *)good, strlen(good), NULL), 0);
  CS_CHECK_EQ_I64(cs_ct_log_list_count(ok), 1);
  cs_ct_log_list_free(ok);
  cs_ct_log_list_free(NULL);
  /* Not NUL-terminated: the loader must respect len. */
  char unterminated[8] = {'{', '"', 'a', '"', ':', '1', '}', 'X'};
  cs_ct_log_list_t *l = NULL;
  CS_CHECK_EQ_I64(cs_ct_log_list_load(&l, (const uint8_t *)unterminated, 7, NULL), CS_EPARSE);
}

int main(void) {
  test_real_list();
  test_state_at();
  test_lab_roundtrip();
  test_malformed();
  return cs_test_done("test_ct_loglist");
}
