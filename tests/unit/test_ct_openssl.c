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

#include "certskew/ct/ct.h"
#include "certskew/lab/lab_ct.h"
#include "certskew/core/time.h"
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

static int has(cs_findings_t *f, const char *code) { return code == NULL || cs_findings_has(f, code); }

static void run_case(ct_world_t *w, const ct_case_t *c) {
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
  CS_CHECK_EQ_I64(ct_write_pems(w->dir, "ca.pem", w->ca.der, w->ca.der_len, NULL, 0, ca_path), 0);
  CS_CHECK_EQ_I64(ct_write_pems(w->dir, "chain.pem", leaf.der, leaf.der_len, w->ca.der, w->ca.der_len,
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
    CS_CHECK_EQ_I64(ct_tls_sct_list(w, c->tls_mask, signed_der, signed_len, &tls_list, &tls_len), 0);
    CS_CHECK_EQ_I64(ct_write_serverinfo(w->dir, tls_list, tls_len, si_path), 0);
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
  static const ct_world_log_t LOGS[NLOGS] = {{CS_SCT_SIG_ECDSA, "Lab ECDSA log", "Lab Operator A"},
                                             {CS_SCT_SIG_RSA, "Lab RSA log", "Lab Operator B"},
                                             {CS_SCT_SIG_ECDSA, "Lab third log", "Lab Operator C"}};
  ct_world_t w;
  if (ct_world_init(&w, "test_ct_openssl", "certskew lab CT root", LOGS, NLOGS, CS_MS_PER_DAY) != 0)
    CS_FAIL_AT("could not make the lab world");
  if (cs_test_failures == 0)
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++)
      run_case(&w, &CASES[i]);
  ct_world_free(&w);
  return cs_test_done("test_ct_openssl");
}
