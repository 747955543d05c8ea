/*
 * Differential test: SCTs signed by the CT lab are judged by certskew and by
 * openssl (s_client -ct -ctlogfile against s_server on 127.0.0.1), and the
 * verdicts must agree in every case: valid embedded SCTs (ECDSA and RSA
 * logs), a certificate that differs from its precertificate, one log
 * signing wrongly, a log neither knows, and SCTs delivered in the TLS
 * extension (x509_entry), for the right and for a different certificate.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/pem.h>

#include "certskew/ct.h"
#include "certskew/lab_ct.h"
#include "certskew/time.h"
#include "ct_fixtures.h"

enum { LOG_A, LOG_B, LOG_C, NLOGS };

typedef struct ct_case {
  const char *name;
  uint32_t embed_mask;      /* logs that sign embedded SCTs */
  uint32_t known_mask;      /* logs in the openssl ctlog file and the Chrome list */
  uint32_t bad_mask;        /* embedding logs that sign a wrong issuer hash (bit = position) */
  const char *precert_name; /* mismatch: precertificate SAN */
  uint32_t tls_mask;        /* logs whose x509_entry SCTs go in the TLS extension */
  int tls_for_other_cert;   /* TLS SCTs sign another certificate */
  /* Expected (and compared with openssl): */
  int valid, invalid, unknown;
  const char *finding;      /* a code that must be present, or NULL */
  const char *absent;       /* a code that must be absent, or NULL */
  int compliant;
} ct_case_t;

static const ct_case_t CASES[] = {
    {"valid ECDSA+RSA embedded", 3, 7, 0, NULL, 0, 0, 2, 0, 0, NULL, "SCT_SIGNATURE_INVALID_ALL",
     1},
    {"certificate differs from precertificate", 3, 7, 0, "precert.lab.test", 0, 0, 0, 2, 0,
     "SCT_SIGNATURE_INVALID_ALL", "SCT_SIGNATURE_INVALID", 0},
    {"one log signs wrongly", 3, 7, 2, NULL, 0, 0, 1, 1, 0, "SCT_SIGNATURE_INVALID",
     "SCT_SIGNATURE_INVALID_ALL", 0},
    {"unknown log", 7, 3, 0, NULL, 0, 0, 2, 0, 1, "SCT_UNKNOWN_LOG", NULL, 1},
    {"TLS extension SCTs", 0, 7, 0, NULL, 3, 0, 2, 0, 0, NULL, "SCT_POLICY_TOO_FEW", 1},
    {"TLS extension SCTs of another certificate", 0, 7, 0, NULL, 3, 1, 0, 2, 0,
     "SCT_SIGNATURE_INVALID", NULL, 0},
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

static int write_pem_cert(world_t *w, const char *name, const uint8_t *der, size_t len,
                          const uint8_t *der2, size_t len2, char *path) {
  char *a = NULL, *b = NULL;
  int rc = -1;
  if (cs_lab_ct_cert_pem(der, len, &a) == 0 && (der2 == NULL || cs_lab_ct_cert_pem(der2, len2, &b) == 0)) {
    size_t la = strlen(a), lb = b ? strlen(b) : 0;
    char *both = malloc(la + lb + 1);
    if (both != NULL) {
      memcpy(both, a, la);
      if (b)
        memcpy(both + la, b, lb);
      rc = cs_fx_write(w->dir, name, both, la + lb, path);
      free(both);
    }
  }
  free(a);
  free(b);
  return rc;
}

/* x509_entry SCTs over cert_der by the logs in mask, as a TLS-encoded list. */
static int tls_sct_list(world_t *w, uint32_t mask, const uint8_t *cert_der, size_t cert_len,
                        uint8_t **list, size_t *list_len) {
  uint8_t *scts[NLOGS] = {0};
  size_t lens[NLOGS] = {0}, n = 0;
  int err = 0;
  for (int i = 0; i < NLOGS && err == 0; i++)
    if (mask & (1u << i)) {
      err = cs_lab_ct_sct_sign(&w->logs[i], CS_CT_ENTRY_X509, w->now_ms - 60000, NULL, cert_der,
                               cert_len, ct_rng, &w->rng, &scts[n], &lens[n]);
      n++;
    }
  if (err == 0)
    err = cs_lab_ct_sct_list((const uint8_t *const *)scts, lens, n, list, list_len);
  for (size_t i = 0; i < n; i++)
    free(scts[i]);
  return err;
}

/* openssl's -serverinfo file: PEM of (type 18, length, list). */
static int write_serverinfo(world_t *w, const uint8_t *list, size_t len, char *path) {
  uint8_t ext[4 + 65600];
  unsigned char pem[90000];
  size_t olen = 0;
  ext[0] = 0;
  ext[1] = 18;
  ext[2] = (uint8_t)(len >> 8);
  ext[3] = (uint8_t)len;
  memcpy(ext + 4, list, len);
  if (mbedtls_pem_write_buffer("-----BEGIN SERVERINFO FOR CT-----\n",
                               "-----END SERVERINFO FOR CT-----\n", ext, len + 4, pem, sizeof(pem),
                               &olen) != 0)
    return -1;
  return cs_fx_write(w->dir, "serverinfo.pem", pem, strlen((char *)pem), path);
}

static int has(cs_findings_t *f, const char *code) { return code == NULL || cs_findings_has(f, code); }

static void run_case(world_t *w, const ct_case_t *c) {
  cs_lab_ct_leaf_t leaf, other;
  const cs_lab_ct_log_t *embed[NLOGS], *known[NLOGS];
  size_t nembed = 0, nknown = 0;
  char ca_path[512], chain_path[512], key_path[512], ctlog_path[512], si_path[512];
  char *ctlog = NULL, *chrome = NULL, *keypem = NULL;
  uint8_t *tls_list = NULL, *chain_der = NULL;
  size_t tls_len = 0;
  cs_ct_log_list_t *list = NULL;
  cs_chain_t *chain = NULL;
  cs_ct_result_t *res = NULL;
  cs_findings_t *findings = cs_findings_new();
  cs_sct_t tls_scts[CS_SCT_LIST_MAX];
  size_t ntls = 0;
  ct_openssl_verdict_t ov;
  cs_errbuf_t eb;
  int before = cs_test_failures;

  cs_errbuf_init(&eb);
  cs_lab_ct_leaf_init(&leaf);
  cs_lab_ct_leaf_init(&other);
  for (int i = 0; i < NLOGS; i++) {
    if (c->embed_mask & (1u << i))
      embed[nembed++] = &w->logs[i];
    if (c->known_mask & (1u << i))
      known[nknown++] = &w->logs[i];
  }
  cs_lab_ct_leaf_spec_t spec = {0};
  spec.dns_name = "www.lab.test";
  spec.backdate_ms = CS_MS_PER_HOUR;
  spec.lifetime_ms = 90 * CS_MS_PER_DAY;
  spec.logs = embed;
  spec.nlogs = nembed;
  spec.precert_dns_name = c->precert_name;
  spec.bad_log_mask = c->bad_mask;
  CS_CHECK_EQ_I64(cs_lab_ct_leaf_issue(&leaf, &w->ca, &spec, w->now_ms - 120000, ct_rng, &w->rng), 0);
  CS_CHECK_EQ_I64(cs_lab_ct_openssl_log_file(known, nknown, &ctlog), 0);
  CS_CHECK_EQ_I64(cs_lab_ct_chrome_log_list(known, nknown, w->now_ms, &chrome), 0);
  CS_CHECK_EQ_I64(cs_lab_ct_key_pem(&leaf.key, &keypem), 0);
  if (cs_test_failures != before)
    goto done;
  CS_CHECK_EQ_I64(cs_fx_write(w->dir, "ctlog.cnf", ctlog, strlen(ctlog), ctlog_path), 0);
  CS_CHECK_EQ_I64(cs_fx_write(w->dir, "leaf.key", keypem, strlen(keypem), key_path), 0);
  CS_CHECK_EQ_I64(write_pem_cert(w, "ca.pem", w->ca.der, w->ca.der_len, NULL, 0, ca_path), 0);
  CS_CHECK_EQ_I64(write_pem_cert(w, "chain.pem", leaf.der, leaf.der_len, w->ca.der, w->ca.der_len,
                           chain_path),
            0);
  if (c->tls_mask != 0) {
    const uint8_t *signed_der = leaf.der;
    size_t signed_len = leaf.der_len;
    if (c->tls_for_other_cert) {
      cs_lab_ct_leaf_spec_t os = spec;
      os.dns_name = "old.lab.test";
      CS_CHECK_EQ_I64(cs_lab_ct_leaf_issue(&other, &w->ca, &os, w->now_ms - 120000, ct_rng, &w->rng), 0);
      signed_der = other.der;
      signed_len = other.der_len;
    }
    CS_CHECK_EQ_I64(tls_sct_list(w, c->tls_mask, signed_der, signed_len, &tls_list, &tls_len), 0);
    CS_CHECK_EQ_I64(write_serverinfo(w, tls_list, tls_len, si_path), 0);
    CS_CHECK_EQ_I64(cs_sct_list_parse(tls_list, tls_len, CS_SCT_SOURCE_TLS, tls_scts, CS_SCT_LIST_MAX,
                                &ntls, &eb),
              0);
  }
  if (cs_test_failures != before)
    goto done;

  /* openssl's verdict. */
  CS_CHECK_EQ_I64(ct_openssl_sct_check(w->dir, chain_path, key_path, ca_path, ctlog_path,
                                 c->tls_mask ? si_path : NULL, &ov),
            0);
  CS_CHECK(ov.handshake_ok);
  CS_CHECK_EQ_I64(ov.present, c->valid + c->invalid + c->unknown);

  /* certskew's verdict, judged now. */
  chain_der = malloc(leaf.der_len + w->ca.der_len);
  CS_CHECK(chain_der != NULL);
  if (chain_der == NULL)
    goto done;
  memcpy(chain_der, leaf.der, leaf.der_len);
  memcpy(chain_der + leaf.der_len, w->ca.der, w->ca.der_len);
  CS_CHECK_EQ_I64(cs_chain_load(&chain, chain_der, leaf.der_len + w->ca.der_len, &eb), 0);
  CS_CHECK_EQ_I64(cs_ct_log_list_load(&list, (const uint8_t *)chrome, strlen(chrome), &eb), 0);
  if (chain == NULL || list == NULL)
    goto done;
  cs_ct_opts_t opts = {0};
  opts.logs = list;
  opts.extra_scts = ntls ? tls_scts : NULL;
  opts.nextra_scts = ntls;
  CS_CHECK_EQ_I64(cs_ct_analyze_ex(&res, chain, &opts, w->now_ms, findings), 0);
  if (res == NULL)
    goto done;
  int valid = 0, invalid = 0, unknown = 0;
  for (size_t i = 0; i < cs_ct_result_count(res); i++) {
    cs_ct_sig_verdict_t v = cs_ct_result_sct(res, i)->verdict;
    valid += v == CS_CT_SIG_VALID;
    invalid += v == CS_CT_SIG_INVALID;
    unknown += v == CS_CT_SIG_UNKNOWN_LOG;
  }
  /* Agreement with openssl, and with what the lab meant to build. */
  CS_CHECK_EQ_I64(valid, ov.valid);
  CS_CHECK_EQ_I64(invalid, ov.invalid);
  CS_CHECK_EQ_I64(unknown, ov.unknown_log);
  CS_CHECK_EQ_I64(valid, c->valid);
  CS_CHECK_EQ_I64(invalid, c->invalid);
  CS_CHECK_EQ_I64(unknown, c->unknown);
  CS_CHECK(has(findings, c->finding));
  CS_CHECK(c->absent == NULL || !cs_findings_has(findings, c->absent));
  CS_CHECK_EQ_I64(cs_ct_result_policy(res)->compliant, c->compliant);
  CS_CHECK_EQ_I64(cs_findings_has(findings, "SCT_POLICY_TOO_FEW"), !c->compliant);
done:
  printf("%s case: %s (openssl: %d valid, %d invalid, %d unknown log)\n",
         cs_test_failures == before ? "ok" : "FAILED", c->name, ov.valid, ov.invalid, ov.unknown_log);
  cs_ct_result_free(res);
  cs_findings_free(findings);
  cs_chain_free(chain);
  cs_ct_log_list_free(list);
  free(chain_der);
  free(tls_list);
  free(ctlog);
  free(chrome);
  free(keypem);
  cs_lab_ct_leaf_free(&leaf);
  cs_lab_ct_leaf_free(&other);
}

int main(void) {
  world_t w;
  memset(&w, 0, sizeof(w));
  w.now_ms = wall_ms();
  if (ct_rng_init(&w.rng, "test_ct_openssl") != 0 || cs_fx_tempdir(w.dir, sizeof(w.dir)) != 0) {
    fprintf(stderr, "setup failed\n");
    return 1;
  }
  cs_lab_ct_ca_init(&w.ca);
  static const struct {
    uint8_t alg;
    const char *name, *op;
  } LOGS[NLOGS] = {{CS_SCT_SIG_ECDSA, "Lab ECDSA log", "Lab Operator A"},
                   {CS_SCT_SIG_RSA, "Lab RSA log", "Lab Operator B"},
                   {CS_SCT_SIG_ECDSA, "Lab third log", "Lab Operator C"}};
  for (int i = 0; i < NLOGS; i++) {
    cs_lab_ct_log_init(&w.logs[i]);
    CS_CHECK_EQ_I64(cs_lab_ct_log_generate(&w.logs[i], LOGS[i].alg, LOGS[i].name, LOGS[i].op,
                                     w.now_ms - CS_MS_PER_DAY, ct_rng, &w.rng),
              0);
  }
  CS_CHECK_EQ_I64(cs_lab_ct_ca_generate(&w.ca, "certskew lab CT root", w.now_ms, ct_rng, &w.rng), 0);
  if (cs_test_failures == 0)
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++)
      run_case(&w, &CASES[i]);
  for (int i = 0; i < NLOGS; i++)
    cs_lab_ct_log_free(&w.logs[i]);
  cs_lab_ct_ca_free(&w.ca);
  ct_rng_free(&w.rng);
  cs_fx_rmdir(w.dir);
  return cs_test_done("test_ct_openssl");
}
