/*
 * CT in the capture path: `certskew diagnose --log-list` against openssl
 * s_server (127.0.0.1) serving a lab leaf with embedded SCTs and SCTs in
 * the TLS extension (-serverinfo). The stapling probe brings the TLS SCTs
 * to the analysis (here over TLS 1.3: decrypted from the leaf's
 * CertificateEntry); the report's ct section must give each SCT's verdict,
 * and the counts must equal `openssl s_client -ct`'s on the same server.
 * Cases: TLS SCTs over this leaf (all valid), and over another
 * certificate (embedded valid, TLS invalid: SCT_SIGNATURE_INVALID).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <mbedtls/pem.h>

#include "certskew/lab/lab_ct.h"
#include "certskew/core/time.h"
#include "ct_fixtures.h"
#include "revocation_fixtures.h"

enum { NLOGS = 2 };

typedef struct ct_case {
  const char *name;
  int tls_for_other_cert;
  int embedded_valid, tls_valid, tls_invalid; /* expected, and compared with openssl */
  const char *finding;                        /* must be present, or NULL */
} ct_case_t;

static const ct_case_t CASES[] = {
    {"embedded and TLS SCTs over this leaf", 0, 2, 2, 0, NULL},
    {"TLS SCTs over another certificate", 1, 2, 0, 2, "SCT_SIGNATURE_INVALID"},
};

/* x509_entry SCTs by every log over cert_der, as openssl's serverinfo file. */
static int write_serverinfo(ct_world_t *w, const uint8_t *cert_der, size_t cert_len, char *path) {
  uint8_t *list = NULL;
  size_t list_len = 0;
  int rc = ct_tls_sct_list(w, (1u << NLOGS) - 1, cert_der, cert_len, &list, &list_len) == 0
               ? ct_write_serverinfo(w->dir, list, list_len, path)
               : -1;
  free(list);
  return rc;
}

/* Runs diagnose against 127.0.0.1:port; *out is the parsed JSON report. */
static int run_diagnose(ct_world_t *w, int port, cJSON **out) {
  const char *bin = getenv("CS_BIN");
  char cmd[2048];
  *out = NULL;
  if (bin == NULL)
    return -1;
  snprintf(cmd, sizeof cmd,
           "'%s' diagnose 127.0.0.1:%d --sni www.lab.test --trust '%s/ca.pem' --log-list "
           "'%s/chrome.json' --no-store --no-fetch --json --timeout 5s",
           bin, port, w->dir, w->dir);
  FILE *p = popen(cmd, "r");
  if (p == NULL)
    return -1;
  static char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  buf[n] = '\0';
  int st = pclose(p);
  *out = cJSON_Parse(buf);
  if (*out == NULL)
    fprintf(stderr, "diagnose (status %d) printed no JSON: %.300s\n", st, buf);
  return *out != NULL ? 0 : -1;
}

static int has_finding(const cJSON *report, const char *code) {
  const cJSON *f;
  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(report, "findings")) {
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(f, "code");
    if (cJSON_IsString(c) && strcmp(c->valuestring, code) == 0)
      return 1;
  }
  return 0;
}

static void run_case(ct_world_t *w, const ct_case_t *c) {
  int before = cs_test_failures;
  cs_lab_ct_leaf_t leaf, other;
  cs_lab_ct_leaf_init(&leaf);
  cs_lab_ct_leaf_init(&other);
  char *ctlog = NULL, *chrome = NULL, *keypem = NULL;
  char ca_path[512], chain_path[512], key_path[512], ctlog_path[512], si_path[512];
  cJSON *report = NULL;
  pid_t server = -1;
  ct_openssl_verdict_t ov;
  memset(&ov, 0, sizeof ov);
  const cs_lab_ct_log_t *logs[NLOGS] = {&w->logs[0], &w->logs[1]};
  cs_lab_ct_leaf_spec_t spec = {0};
  spec.dns_name = "www.lab.test";
  spec.backdate_ms = CS_MS_PER_HOUR;
  spec.lifetime_ms = 90 * CS_MS_PER_DAY;
  spec.logs = logs;
  spec.nlogs = NLOGS;
  CS_CHECK_EQ_I64(cs_lab_ct_leaf_issue(&leaf, &w->ca, &spec, w->now_ms - 120000, ct_rng, &w->rng), 0);
  const uint8_t *signed_der = leaf.der;
  size_t signed_len = leaf.der_len;
  if (c->tls_for_other_cert) {
    cs_lab_ct_leaf_spec_t os = spec;
    os.dns_name = "old.lab.test";
    CS_CHECK_EQ_I64(cs_lab_ct_leaf_issue(&other, &w->ca, &os, w->now_ms - 120000, ct_rng, &w->rng), 0);
    signed_der = other.der;
    signed_len = other.der_len;
  }
  CS_CHECK_EQ_I64(cs_lab_ct_openssl_log_file(logs, NLOGS, &ctlog), 0);
  CS_CHECK_EQ_I64(cs_lab_ct_chrome_log_list(logs, NLOGS, w->now_ms, &chrome), 0);
  CS_CHECK_EQ_I64(cs_lab_ct_key_pem(&leaf.key, &keypem), 0);
  if (cs_test_failures != before)
    goto done;
  CS_CHECK_EQ_I64(cs_fx_write(w->dir, "ctlog.cnf", ctlog, strlen(ctlog), ctlog_path), 0);
  CS_CHECK_EQ_I64(cs_fx_write(w->dir, "chrome.json", chrome, strlen(chrome), NULL), 0);
  CS_CHECK_EQ_I64(cs_fx_write(w->dir, "leaf.key", keypem, strlen(keypem), key_path), 0);
  CS_CHECK_EQ_I64(ct_write_pems(w->dir, "ca.pem", w->ca.der, w->ca.der_len, NULL, 0, ca_path), 0);
  CS_CHECK_EQ_I64(ct_write_pems(w->dir, "chain.pem", leaf.der, leaf.der_len, w->ca.der, w->ca.der_len,
                       chain_path),
            0);
  CS_CHECK_EQ_I64(write_serverinfo(w, signed_der, signed_len, si_path), 0);
  if (cs_test_failures != before)
    goto done;

  /* openssl's verdict on the same leaf and SCTs. */
  CS_CHECK_EQ_I64(ct_openssl_sct_check(w->dir, chain_path, key_path, ca_path, ctlog_path, si_path, &ov),
            0);
  CS_CHECK_EQ_I64(ov.valid, c->embedded_valid + c->tls_valid);
  CS_CHECK_EQ_I64(ov.invalid, c->tls_invalid);

  /* certskew's, through the capture path (capture + stapling probe). */
  int port = -1;
  for (int attempt = 0; attempt < 5 && server < 0; attempt++) {
    char cmd[2800];
    port = rv_free_port();
    snprintf(cmd, sizeof cmd,
             "openssl s_server -www -accept 127.0.0.1:%d -cert '%s' -cert_chain '%s' -key '%s' "
             "-serverinfo '%s'",
             port, chain_path, ca_path, key_path, si_path);
    char log[64]; /* one log per server: rv_spawn_server waits for "ACCEPT" in it */
    snprintf(log, sizeof log, "s_server_%d", port);
    server = rv_spawn_server(w->dir, log, cmd, "ACCEPT", 5000);
  }
  CS_CHECK(server > 0);
  if (server <= 0 || run_diagnose(w, port, &report) != 0) {
    CS_CHECK(0 && "diagnose ran");
    goto done;
  }
  int emb_valid = 0, tls_valid = 0, tls_invalid = 0, other_verdicts = 0;
  const cJSON *sct;
  cJSON_ArrayForEach(sct, cJSON_GetObjectItemCaseSensitive(
                              cJSON_GetObjectItemCaseSensitive(report, "ct"), "scts")) {
    const char *src = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sct, "source"));
    const char *sig = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sct, "signature"));
    if (src == NULL || sig == NULL) {
      other_verdicts++;
      continue;
    }
    int valid = strcmp(sig, "valid") == 0;
    if (strcmp(src, "embedded") == 0 && valid)
      emb_valid++;
    else if (strcmp(src, "tls_extension") == 0 && valid)
      tls_valid++;
    else if (strcmp(src, "tls_extension") == 0 && strcmp(sig, "invalid") == 0)
      tls_invalid++;
    else
      other_verdicts++;
  }
  CS_CHECK_EQ_I64(emb_valid, c->embedded_valid);
  CS_CHECK_EQ_I64(tls_valid, c->tls_valid);
  CS_CHECK_EQ_I64(tls_invalid, c->tls_invalid);
  CS_CHECK_EQ_I64(other_verdicts, 0);
  /* Same counts as openssl's. */
  CS_CHECK_EQ_I64(emb_valid + tls_valid, ov.valid);
  CS_CHECK_EQ_I64(tls_invalid, ov.invalid);
  const cJSON *probe = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(report, "enrichment"), "probe");
  CS_CHECK_EQ_I64(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(probe, "tls_sct_count")),
            NLOGS);
  if (c->finding != NULL)
    CS_CHECK(has_finding(report, c->finding));
  CS_CHECK(!has_finding(report, "CT_NO_LOG_LIST"));
  if (cs_test_failures != before) {
    char *text = cJSON_Print(report);
    fprintf(stderr, "report: %.4000s\n", text != NULL ? text : "?");
    free(text);
  }
done:
  printf("%s case: %s (openssl: %d valid, %d invalid)\n", cs_test_failures == before ? "ok" : "FAILED",
         c->name, ov.valid, ov.invalid);
  rv_kill(server);
  cJSON_Delete(report);
  free(ctlog);
  free(chrome);
  free(keypem);
  cs_lab_ct_leaf_free(&leaf);
  cs_lab_ct_leaf_free(&other);
}

int main(void) {
  static const ct_world_log_t LOGS[NLOGS] = {{CS_SCT_SIG_ECDSA, "Lab ECDSA log", "Lab Operator A"},
                                             {CS_SCT_SIG_RSA, "Lab RSA log", "Lab Operator B"}};
  ct_world_t w;
  int ok = ct_world_init(&w, "test_enrich_ct", "Enrich Lab Root", LOGS, NLOGS, 30 * CS_MS_PER_DAY) == 0;
  CS_CHECK(ok);
  for (size_t i = 0; ok && i < sizeof CASES / sizeof CASES[0]; i++)
    run_case(&w, &CASES[i]);
  ct_world_free(&w);
  return cs_test_done("test_enrich_ct");
}
