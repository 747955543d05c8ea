/*
 * CT in the capture path: `certskew diagnose --log-list` against openssl
 * s_server (127.0.0.1) serving a lab leaf with embedded SCTs and SCTs in
 * the TLS extension (-serverinfo). The stapling probe brings the TLS SCTs
 * to the analysis; the report's ct section must give each SCT's verdict,
 * and the counts must equal `openssl s_client -ct`'s on the same server.
 * Cases: TLS SCTs over this leaf (all valid), and over another
 * certificate (embedded valid, TLS invalid: SCT_SIGNATURE_INVALID).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <mbedtls/pem.h>

#include "certskew/lab_ct.h"
#include "certskew/time.h"
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

typedef struct world {
  ct_rng_t rng;
  cs_lab_ct_ca_t ca;
  cs_lab_ct_log_t logs[NLOGS];
  int64_t now_ms;
  char dir[256];
} world_t;

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_pems(world_t *w, const char *name, const uint8_t *a, size_t la, const uint8_t *b,
                      size_t lb, char *path) {
  char *pa = NULL, *pb = NULL, *both = NULL;
  int rc = -1;
  if (cs_lab_ct_cert_pem(a, la, &pa) == 0 && (b == NULL || cs_lab_ct_cert_pem(b, lb, &pb) == 0) &&
      (both = malloc(strlen(pa) + (pb ? strlen(pb) : 0) + 1)) != NULL) {
    strcpy(both, pa);
    if (pb != NULL)
      strcat(both, pb);
    rc = ct_write(w->dir, name, both, strlen(both), path);
  }
  free(pa);
  free(pb);
  free(both);
  return rc;
}

/* x509_entry SCTs by every log over cert_der as a serverinfo PEM file. */
static int write_serverinfo(world_t *w, const uint8_t *cert_der, size_t cert_len, char *path) {
  uint8_t *scts[NLOGS] = {0}, *list = NULL;
  size_t lens[NLOGS] = {0}, list_len = 0;
  int err = 0;
  for (int i = 0; i < NLOGS && err == 0; i++)
    err = cs_lab_ct_sct_sign(&w->logs[i], CS_CT_ENTRY_X509, w->now_ms - 60000, NULL, cert_der,
                             cert_len, ct_rng, &w->rng, &scts[i], &lens[i]);
  if (err == 0)
    err = cs_lab_ct_sct_list((const uint8_t *const *)scts, lens, NLOGS, &list, &list_len);
  for (int i = 0; i < NLOGS; i++)
    free(scts[i]);
  if (err != 0 || list_len > 60000) {
    free(list);
    return -1;
  }
  static uint8_t ext[4 + 60000];
  static unsigned char pem[90000];
  size_t olen = 0;
  ext[0] = 0;
  ext[1] = 18; /* signed_certificate_timestamp */
  ext[2] = (uint8_t)(list_len >> 8);
  ext[3] = (uint8_t)list_len;
  memcpy(ext + 4, list, list_len);
  free(list);
  if (mbedtls_pem_write_buffer("-----BEGIN SERVERINFO FOR CT-----\n",
                               "-----END SERVERINFO FOR CT-----\n", ext, list_len + 4, pem,
                               sizeof pem, &olen) != 0)
    return -1;
  return ct_write(w->dir, "serverinfo.pem", pem, strlen((char *)pem), path);
}

/* Runs diagnose against 127.0.0.1:port; *out is the parsed JSON report. */
static int run_diagnose(world_t *w, int port, cJSON **out) {
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

static void run_case(world_t *w, const ct_case_t *c) {
  int before = ct_failures;
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
  CT_EQ_INT(cs_lab_ct_leaf_issue(&leaf, &w->ca, &spec, w->now_ms - 120000, ct_rng, &w->rng), 0);
  const uint8_t *signed_der = leaf.der;
  size_t signed_len = leaf.der_len;
  if (c->tls_for_other_cert) {
    cs_lab_ct_leaf_spec_t os = spec;
    os.dns_name = "old.lab.test";
    CT_EQ_INT(cs_lab_ct_leaf_issue(&other, &w->ca, &os, w->now_ms - 120000, ct_rng, &w->rng), 0);
    signed_der = other.der;
    signed_len = other.der_len;
  }
  CT_EQ_INT(cs_lab_ct_openssl_log_file(logs, NLOGS, &ctlog), 0);
  CT_EQ_INT(cs_lab_ct_chrome_log_list(logs, NLOGS, w->now_ms, &chrome), 0);
  CT_EQ_INT(cs_lab_ct_key_pem(&leaf.key, &keypem), 0);
  if (ct_failures != before)
    goto done;
  CT_EQ_INT(ct_write(w->dir, "ctlog.cnf", ctlog, strlen(ctlog), ctlog_path), 0);
  CT_EQ_INT(ct_write(w->dir, "chrome.json", chrome, strlen(chrome), NULL), 0);
  CT_EQ_INT(ct_write(w->dir, "leaf.key", keypem, strlen(keypem), key_path), 0);
  CT_EQ_INT(write_pems(w, "ca.pem", w->ca.der, w->ca.der_len, NULL, 0, ca_path), 0);
  CT_EQ_INT(write_pems(w, "chain.pem", leaf.der, leaf.der_len, w->ca.der, w->ca.der_len,
                       chain_path),
            0);
  CT_EQ_INT(write_serverinfo(w, signed_der, signed_len, si_path), 0);
  if (ct_failures != before)
    goto done;

  /* openssl's verdict on the same leaf and SCTs. */
  CT_EQ_INT(ct_openssl_sct_check(w->dir, chain_path, key_path, ca_path, ctlog_path, si_path, &ov),
            0);
  CT_EQ_INT(ov.valid, c->embedded_valid + c->tls_valid);
  CT_EQ_INT(ov.invalid, c->tls_invalid);

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
  CT_CHECK(server > 0);
  if (server <= 0 || run_diagnose(w, port, &report) != 0) {
    CT_CHECK(0 && "diagnose ran");
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
  CT_EQ_INT(emb_valid, c->embedded_valid);
  CT_EQ_INT(tls_valid, c->tls_valid);
  CT_EQ_INT(tls_invalid, c->tls_invalid);
  CT_EQ_INT(other_verdicts, 0);
  /* Same counts as openssl's. */
  CT_EQ_INT(emb_valid + tls_valid, ov.valid);
  CT_EQ_INT(tls_invalid, ov.invalid);
  const cJSON *probe = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(report, "enrichment"), "probe");
  CT_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(probe, "tls_sct_count")),
            NLOGS);
  if (c->finding != NULL)
    CT_CHECK(has_finding(report, c->finding));
  CT_CHECK(!has_finding(report, "CT_NO_LOG_LIST"));
  if (ct_failures != before) {
    char *text = cJSON_Print(report);
    fprintf(stderr, "report: %.4000s\n", text != NULL ? text : "?");
    free(text);
  }
done:
  printf("%s case: %s (openssl: %d valid, %d invalid)\n", ct_failures == before ? "ok" : "FAILED",
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
  world_t w;
  memset(&w, 0, sizeof w);
  w.now_ms = wall_ms();
  if (ct_rng_init(&w.rng, "test_enrich_ct") != 0 || ct_tmpdir(w.dir, sizeof w.dir) != 0) {
    fprintf(stderr, "setup failed\n");
    return 1;
  }
  cs_lab_ct_ca_init(&w.ca);
  static const struct {
    uint8_t alg;
    const char *name, *op;
  } LOGS[NLOGS] = {{CS_SCT_SIG_ECDSA, "Lab ECDSA log", "Lab Operator A"},
                   {CS_SCT_SIG_RSA, "Lab RSA log", "Lab Operator B"}};
  int ok = cs_lab_ct_ca_generate(&w.ca, "Enrich Lab Root", w.now_ms, ct_rng, &w.rng) == 0;
  for (int i = 0; i < NLOGS; i++) {
    cs_lab_ct_log_init(&w.logs[i]);
    ok = ok && cs_lab_ct_log_generate(&w.logs[i], LOGS[i].alg, LOGS[i].name, LOGS[i].op,
                                      w.now_ms - 30 * CS_MS_PER_DAY, ct_rng, &w.rng) == 0;
  }
  CT_CHECK(ok);
  for (size_t i = 0; ok && i < sizeof CASES / sizeof CASES[0]; i++)
    run_case(&w, &CASES[i]);
  for (int i = 0; i < NLOGS; i++)
    cs_lab_ct_log_free(&w.logs[i]);
  cs_lab_ct_ca_free(&w.ca);
  ct_rng_free(&w.rng);
  ct_rmdir(w.dir);
  return ct_done("test_enrich_ct");
}
