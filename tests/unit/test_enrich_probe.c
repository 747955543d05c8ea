/*
 * The enrichment job (include/certskew/fetch/enrich.h) against real peers on 127.0.0.1:
 * openssl s_server (TLS 1.2 and TLS 1.3) stapling a response made by
 * `openssl ocsp`, one stapling nothing, one whose TLS 1.3 CertificateVerify
 * does not match its certificate, a closed port and a peer answering
 * garbage. The material is then judged (cs_judge_enriched) and the report
 * must carry what was found: the very staple s_server sent,
 * OCSP_NO_STAPLE, or an ENRICH_PROBE_FAILED error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "certskew/fetch/enrich.h"
#include "revocation_fixtures.h"
#include "certskew/fetch/verdict.h"

static char dir[256];

typedef struct probe_case {
  const char *name;
  const char *server; /* s_server options; "refused": nothing listens; "garbage": junk peer */
  cs_enrich_state_t probe_state;
  int observable, stapled;
  const char *finding; /* must be in the report, or NULL */
  const char *absent;  /* must not be, or NULL */
  const char *error;   /* an enrichment error code expected, or NULL */
} probe_case_t;

static const probe_case_t CASES[] = {
    {"stapled", "-tls1_2 -status_file good.resp", CS_ENRICH_OK, 1, 1, NULL, "OCSP_NO_STAPLE",
     NULL},
    {"no staple", "-tls1_2", CS_ENRICH_OK, 1, 0, "OCSP_NO_STAPLE", "STAPLING_NOT_OBSERVABLE",
     NULL},
    /* TLS 1.3: the staple comes from the leaf's CertificateEntry, decrypted. */
    {"TLS 1.3 stapled", "-tls1_3 -status_file good.resp", CS_ENRICH_OK, 1, 1, NULL,
     "STAPLING_NOT_OBSERVABLE", NULL},
    {"TLS 1.3 no staple", "-tls1_3", CS_ENRICH_OK, 1, 0, "OCSP_NO_STAPLE",
     "STAPLING_NOT_OBSERVABLE", NULL},
    /* The server cannot prove it holds the leaf's key: nothing it sent is used. */
    {"TLS 1.3 bad CertificateVerify", "-tls1_3 -status_file good.resp -key badpriv.key",
     CS_ENRICH_FAILED, 0, 0, NULL, "OCSP_NO_STAPLE", "ENRICH_PROBE_FAILED"},
    {"refused", "refused", CS_ENRICH_FAILED, 0, 0, NULL, "STAPLING_NOT_OBSERVABLE",
     "ENRICH_PROBE_FAILED"},
    {"garbage", "garbage", CS_ENRICH_FAILED, 0, 0, NULL, "OCSP_NO_STAPLE", "ENRICH_PROBE_FAILED"},
};

static pid_t start_peer(const probe_case_t *c, int *port_out) {
  for (int attempt = 0; attempt < 5; attempt++) {
    int port = rv_free_port();
    char cmd[700], log[64];
    if (strcmp(c->server, "garbage") == 0)
      snprintf(cmd, sizeof cmd,
               "python3 -u -c 'import socket\ns=socket.socket()\ns.bind((\"127.0.0.1\",%d))\n"
               "s.listen(8)\nprint(\"ACCEPT\",flush=True)\nwhile True:\n"
               "  c,_=s.accept(); c.recv(4096); c.sendall(b\"\\x16\\x03\\x03\\x00\\x05junk!\" * 3); "
               "c.close()'",
               port);
    else
      snprintf(cmd, sizeof cmd,
               "openssl s_server -accept 127.0.0.1:%d -cert good.crt -key good.key "
               "-cert_chain ca.crt -www %s",
               port, c->server);
    snprintf(log, sizeof log, "peer_%d", port); /* a stale "ACCEPT" must not count */
    pid_t pid = rv_spawn_server(dir, log, cmd, "ACCEPT", 5000);
    if (pid > 0) {
      *port_out = port;
      return pid;
    }
  }
  return -1;
}

static void on_enriched(cs_enrich_result_t *res, void *ud) { *(cs_enrich_result_t **)ud = res; }

static int has_code(const cJSON *report, const char *code) {
  const cJSON *f;
  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(report, "findings")) {
    const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "code"));
    if (c != NULL && strcmp(c, code) == 0)
      return 1;
  }
  return 0;
}

static void run_case(const probe_case_t *c, const uint8_t *chain, size_t chain_len,
                     const uint8_t *staple, size_t staple_len) {
  int before = cs_test_failures, port = -1;
  pid_t pid = -1;
  if (strcmp(c->server, "refused") == 0)
    port = rv_free_port(); /* bound and closed: nothing listens there now */
  else
    pid = start_peer(c, &port);
  CS_CHECK(port > 0);
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
  uv_loop_t loop;
  uv_loop_init(&loop);
  cs_enrich_result_t *res = NULL;
  cs_enrich_opts_t eo = {chain, chain_len, addr, "good.test", 0, 0, 3000, NULL};
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  CS_CHECK_EQ_I64(cs_enrich_start(&loop, &eo, on_enriched, &res, &eb), 0);
  CS_CHECK(res == NULL); /* never inside cs_enrich_start */
  uv_run(&loop, UV_RUN_DEFAULT);
  CS_CHECK_EQ_I64(uv_loop_close(&loop), 0);
  CS_CHECK(res != NULL);
  if (res == NULL)
    goto out;
  CS_CHECK_EQ_I64(res->probe.state, c->probe_state);
  CS_CHECK_EQ_I64(res->ocsp.state, CS_ENRICH_NOT_RUN); /* fetch = 0 */
  CS_CHECK_EQ_I64(res->crl.state, CS_ENRICH_NOT_RUN);
  if (c->probe_state == CS_ENRICH_OK)
    CS_CHECK_EQ_I64(res->stapling_observable, c->observable);
  CS_CHECK_EQ_I64(res->staple != NULL, c->stapled);
  if (c->stapled) /* byte for byte what s_server was told to staple */
    CS_CHECK(res->staple_len == staple_len && memcmp(res->staple, staple, staple_len) == 0);
  cs_clock_t exact;
  cs_clock_init_exact(&exact);
  cs_analysis_opts_t base = {.clocks = &exact, .nclocks = 1};
  cs_judge_t judge;
  cs_judge_init(&judge, &base, NULL);
  cs_verdict_t v;
  CS_CHECK_EQ_I64(cs_judge_enriched(&judge, addr, "good.test", chain, chain_len, 0, res, &v), 0);
  cJSON *report = v.report_json != NULL ? cJSON_Parse(v.report_json) : NULL;
  CS_CHECK(report != NULL);
  if (report != NULL) {
    if (c->finding != NULL)
      CS_CHECK(has_code(report, c->finding));
    if (c->absent != NULL)
      CS_CHECK(!has_code(report, c->absent));
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(report, "enrichment");
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(en, "errors");
    const char *code = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(errs, 0), "code"));
    if (c->error != NULL)
      CS_CHECK(code != NULL && strcmp(code, c->error) == 0);
    else
      CS_CHECK_EQ_I64(cJSON_GetArraySize(errs), 0);
    /* The revocation section exists exactly when the probe saw something. */
    const cJSON *rev = cJSON_GetObjectItemCaseSensitive(report, "revocation");
    CS_CHECK_EQ_I64(cJSON_IsObject(rev), c->probe_state == CS_ENRICH_OK);
    if (cJSON_IsObject(rev))
      CS_CHECK_EQ_I64(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rev, "stapling_observable")),
                  c->observable);
  }
  cJSON_Delete(report);
  cs_verdict_free(&v);
out:
  printf("%s case: %s\n", cs_test_failures == before ? "ok" : "FAILED", c->name);
  cs_enrich_result_free(res);
  rv_kill(pid);
}

/* Bad arguments are refused without a callback. */
static void test_bad_arguments(const uint8_t *chain, size_t chain_len) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  cs_enrich_result_t *res = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  cs_enrich_opts_t eo = {(const uint8_t *)"not a chain", 11, "127.0.0.1:1", NULL, 1, 0, 100, NULL};
  CS_CHECK(cs_enrich_start(&loop, &eo, on_enriched, &res, &eb) != 0);
  eo.chain = NULL;
  CS_CHECK_EQ_I64(cs_enrich_start(&loop, &eo, on_enriched, &res, &eb), CS_EINVAL);
  /* A bad address skips the probe (and is not an error). */
  eo.chain = chain;
  eo.chain_len = chain_len;
  eo.addr = "not an address";
  CS_CHECK_EQ_I64(cs_enrich_start(&loop, &eo, on_enriched, &res, &eb), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  CS_CHECK(res != NULL);
  if (res != NULL)
    CS_CHECK_EQ_I64(res->probe.state, CS_ENRICH_SKIPPED);
  cs_enrich_result_free(res);
  CS_CHECK_EQ_I64(uv_loop_close(&loop), 0);
  printf("%s case: bad arguments\n", cs_test_failures == 0 ? "ok" : "FAILED");
}

int main(void) {
  if (cs_fx_tempdir(dir, sizeof(dir)) != 0 || rv_make_pki(dir, 8) != 0 ||
      rv_sh(dir, "openssl ocsp -index index.txt -rsigner ca.crt -rkey ca.key -CA ca.crt "
                 "-issuer ca.crt -cert good.crt -respout good.resp -ndays 1") != 0 ||
      rv_sh(dir, "cat good.crt ca.crt > chain.pem") != 0 ||
      rv_make_foreign_scalar_key(dir, "good.key", "badpriv.key") != 0) {
    fprintf(stderr, "cannot build the PKI in %s\n", dir);
    return 1;
  }
  uint8_t *staple = NULL, *chain = NULL;
  size_t staple_len = 0, chain_len = 0;
  CS_CHECK_EQ_I64(rv_read(dir, "good.resp", &staple, &staple_len), 0);
  CS_CHECK_EQ_I64(rv_read(dir, "chain.pem", &chain, &chain_len), 0);
  if (cs_test_failures == 0) {
    test_bad_arguments(chain, chain_len);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
      run_case(&CASES[i], chain, chain_len, staple, staple_len);
  }
  free(staple);
  free(chain);
  cs_fx_rmdir(dir);
  return cs_test_done("test_enrich_probe");
}
