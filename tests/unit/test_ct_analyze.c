/*
 * The CT analyzer on lab chains (no network): precertificate TBS rebuild,
 * Chrome policy by lifetime and operators, log states at the time judged,
 * temporal intervals, SCTs in the future per clock model, missing issuer,
 * no log list, the verification cache, the JSON section, and the
 * extension-removal edge cases (table of malformed TBS).
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include "certskew/ct/ct.h"
#include "certskew/lab/lab_ct.h"
#include "certskew/core/time.h"
#include "ct_fixtures.h"

enum { NL = 4 };
static ct_rng_t rng;
static cs_lab_ct_ca_t ca;
static cs_lab_ct_log_t logs[NL]; /* A (op 1), B (op 2), C (op 2), D (op 3) */
static int64_t now_ms;

static int64_t T(const char *s) {
  int64_t t = 0;
  if (cs_time_parse(s, &t) != 0)
    cs_test_failures++;
  return t;
}

typedef struct built {
  cs_lab_ct_leaf_t leaf;
  cs_chain_t *chain;
  cs_ct_log_list_t *list;
} built_t;

/* Issues a leaf signed by the logs in mask, loads it (with the CA unless
 * leaf_only) and a Chrome list of all lab logs as currently configured. */
static int build(built_t *b, uint32_t mask, int64_t lifetime_ms, const int64_t *offsets,
                 int leaf_only) {
  const cs_lab_ct_log_t *signers[NL], *all[NL];
  size_t n = 0;
  char *json = NULL;
  memset(b, 0, sizeof(*b));
  cs_lab_ct_leaf_init(&b->leaf);
  for (int i = 0; i < NL; i++) {
    all[i] = &logs[i];
    if (mask & (1u << i))
      signers[n++] = &logs[i];
  }
  cs_lab_ct_leaf_spec_t spec = {0};
  spec.dns_name = "a.lab.test";
  spec.lifetime_ms = lifetime_ms;
  spec.logs = signers;
  spec.nlogs = n;
  spec.sct_offsets_ms = offsets;
  if (cs_lab_ct_leaf_issue(&b->leaf, &ca, &spec, now_ms, ct_rng, &rng) != 0)
    return -1;
  size_t len = b->leaf.der_len + (leaf_only ? 0 : ca.der_len);
  uint8_t *der = malloc(len);
  if (der == NULL)
    return -1;
  memcpy(der, b->leaf.der, b->leaf.der_len);
  if (!leaf_only)
    memcpy(der + b->leaf.der_len, ca.der, ca.der_len);
  int err = cs_chain_load(&b->chain, der, len, NULL);
  free(der);
  if (err == 0)
    err = cs_lab_ct_chrome_log_list(all, NL, now_ms, &json);
  if (err == 0)
    err = cs_ct_log_list_load(&b->list, (const uint8_t *)json, strlen(json), NULL);
  free(json);
  return err;
}

static void unbuild(built_t *b) {
  cs_chain_free(b->chain);
  cs_ct_log_list_free(b->list);
  cs_lab_ct_leaf_free(&b->leaf);
}

static void reset_logs(void) {
  for (int i = 0; i < NL; i++) {
    logs[i].state = CS_CT_STATE_USABLE;
    logs[i].state_since_ms = now_ms - 365 * CS_MS_PER_DAY;
    logs[i].has_interval = 0;
  }
}

/* The rebuilt precertificate TBS equals the lab precertificate's TBS
 * without the poison, byte for byte. */
static void test_precert_rebuild(void) {
  built_t b;
  reset_logs();
  CS_CHECK_EQ_I64(build(&b, 1, 90 * CS_MS_PER_DAY, NULL, 0), 0);
  const cs_cert_info_t *leaf = cs_chain_cert(b.chain, 0);
  cs_ct_entry_t e;
  cs_ct_entry_init(&e);
  CS_CHECK(leaf != NULL);
  if (leaf == NULL)
    goto out;
  CS_CHECK_EQ_I64(cs_ct_entry_prepare(&e, leaf->crt, cs_chain_cert(b.chain, 1)->crt), 0);
  /* The precertificate's TBS located independently of the lab's code. */
  uint8_t *tbs = NULL;
  size_t tbs_len = 0, n = 0;
  int found = 0;
  unsigned char *p = b.leaf.precert_der, *end = p + b.leaf.precert_der_len;
  CS_CHECK_EQ_I64(mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE), 0);
  unsigned char *t = p;
  CS_CHECK_EQ_I64(mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE), 0);
  CS_CHECK_EQ_I64(cs_ct_tbs_remove_ext(t, (size_t)(p + n - t), CS_CT_OID_POISON, 10, &tbs, &tbs_len, &found), 0);
  CS_CHECK_EQ_I64(found, 1);
  CS_CHECK_EQ_I64(tbs_len, e.precert_tbs_len);
  CS_CHECK(tbs != NULL && e.precert_tbs != NULL && memcmp(tbs, e.precert_tbs, tbs_len) == 0);
  /* Issuer key hash = SHA-256 of the CA's SubjectPublicKeyInfo. */
  uint8_t h[32];
  mbedtls_x509_crt cacrt;
  mbedtls_x509_crt_init(&cacrt);
  CS_CHECK_EQ_I64(mbedtls_x509_crt_parse_der(&cacrt, ca.der, ca.der_len), 0);
  (void)mbedtls_sha256_ret(cacrt.pk_raw.p, cacrt.pk_raw.len, h, 0);
  CS_CHECK(e.has_issuer && memcmp(h, e.issuer_key_hash, 32) == 0);
  mbedtls_x509_crt_free(&cacrt);
  free(tbs);
out:
  cs_ct_entry_free(&e);
  cs_ct_entry_free(&e); /* safe twice */
  unbuild(&b);
}

/* Policy and state table. */
typedef struct policy_case {
  const char *name;
  uint32_t mask;
  int64_t lifetime_ms;
  cs_ct_log_state_t state_b; /* state of log B */
  int64_t b_since_rel_ms;    /* B's state start relative to now */
  int64_t sct_rel_ms;        /* every SCT's timestamp relative to now */
  int compliant;
  int required;
  const char *finding;
} policy_case_t;

static void test_policy(void) {
  const int64_t D = CS_MS_PER_DAY;
  const policy_case_t CASES[] = {
      {"180 days, 2 logs 2 operators", 0x3, 180 * D, CS_CT_STATE_USABLE, -D, 0, 1, 2, NULL},
      {"180 days + 1 s needs 3", 0x3, 180 * D + 1000, CS_CT_STATE_USABLE, -D, 0, 0, 3,
       "SCT_POLICY_TOO_FEW"},
      {"181 days, 3 logs 3 operators", 0xB, 181 * D, CS_CT_STATE_USABLE, -D, 0, 1, 3, NULL},
      {"2 logs of one operator", 0x6, 90 * D, CS_CT_STATE_USABLE, -D, 0, 0, 2, "SCT_POLICY_TOO_FEW"},
      {"one SCT", 0x1, 90 * D, CS_CT_STATE_USABLE, -D, 0, 0, 2, "SCT_POLICY_TOO_FEW"},
      {"retired after the SCT counts", 0x3, 90 * D, CS_CT_STATE_RETIRED, -D, -2 * D, 1, 2, NULL},
      {"retired before the SCT", 0x3, 90 * D, CS_CT_STATE_RETIRED, -3 * D, -2 * D, 0, 2,
       "SCT_LOG_NOT_USABLE"},
      {"pending log", 0x3, 90 * D, CS_CT_STATE_PENDING, -D, 0, 0, 2, "SCT_LOG_NOT_USABLE"},
      {"rejected log", 0x3, 90 * D, CS_CT_STATE_REJECTED, -D, 0, 0, 2, "SCT_LOG_NOT_USABLE"},
      {"usable only from tomorrow: qualified now", 0x3, 90 * D, CS_CT_STATE_USABLE, D, 0, 1, 2,
       NULL},
      {"readonly counts", 0x3, 90 * D, CS_CT_STATE_READONLY, -D, 0, 1, 2, NULL},
  };
  for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
    const policy_case_t *c = &CASES[i];
    built_t b;
    int64_t offs[NL] = {c->sct_rel_ms, c->sct_rel_ms, c->sct_rel_ms, c->sct_rel_ms};
    cs_ct_result_t *r = NULL;
    cs_findings_t *f = cs_findings_new();
    int before = cs_test_failures;
    reset_logs();
    logs[1].state = c->state_b;
    logs[1].state_since_ms = now_ms + c->b_since_rel_ms;
    CS_CHECK_EQ_I64(build(&b, c->mask, c->lifetime_ms, offs, 0), 0);
    CS_CHECK_EQ_I64(cs_ct_analyze(&r, b.chain, b.list, now_ms, f), 0);
    const cs_ct_policy_t *p = cs_ct_result_policy(r);
    CS_CHECK(p != NULL && p->evaluated);
    if (p != NULL) {
      CS_CHECK_EQ_I64(p->compliant, c->compliant);
      CS_CHECK_EQ_I64(p->embedded_required, c->required);
    }
    for (size_t k = 0; k < cs_ct_result_count(r); k++)
      CS_CHECK_EQ_I64(cs_ct_result_sct(r, k)->verdict, CS_CT_SIG_VALID);
    if (c->finding != NULL)
      CS_CHECK(cs_findings_has(f, c->finding));
    CS_CHECK_EQ_I64(cs_findings_has(f, "SCT_POLICY_TOO_FEW"), !c->compliant);
    if (cs_test_failures != before)
      fprintf(stderr, "policy case failed: %s\n", c->name);
    cs_ct_result_free(r);
    cs_findings_free(f);
    unbuild(&b);
  }
}

static void test_interval_future_json(void) {
  built_t b;
  cs_ct_result_t *r = NULL;
  cs_findings_t *f = cs_findings_new();
  cs_clock_t clocks[3];
  int64_t offs[NL] = {5000, 0, 0, 0}; /* log A's SCT is 5 s after issuance */
  reset_logs();
  logs[3].has_interval = 1; /* D's interval ends before the leaf expires */
  logs[3].interval_start_ms = now_ms - 10 * CS_MS_PER_DAY;
  logs[3].interval_end_ms = now_ms + 10 * CS_MS_PER_DAY;
  CS_CHECK_EQ_I64(build(&b, 0x9, 90 * CS_MS_PER_DAY, offs, 0), 0);
  CS_CHECK_EQ_I64(cs_clock_parse(&clocks[0], "exact", NULL), 0);
  CS_CHECK_EQ_I64(cs_clock_parse(&clocks[1], "skew:-10s", NULL), 0);
  CS_CHECK_EQ_I64(cs_clock_parse(&clocks[2], "+10s", NULL), 0);
  cs_ct_opts_t o = {0};
  o.logs = b.list;
  o.clocks = clocks;
  o.nclocks = 3;
  CS_CHECK_EQ_I64(cs_ct_analyze_ex(&r, b.chain, &o, now_ms, f), 0);
  CS_CHECK_EQ_I64(cs_ct_result_count(r), 2);
  const cs_ct_sct_report_t *a = cs_ct_result_sct(r, 0), *d = cs_ct_result_sct(r, 1);
  if (a != NULL && d != NULL) {
    CS_CHECK_EQ_I64(a->in_future, 1);
    CS_CHECK_EQ_I64(a->in_future_clock[0], 1);
    CS_CHECK_EQ_I64(a->in_future_clock[1], 1);
    CS_CHECK_EQ_I64(a->in_future_clock[2], 0);
    CS_CHECK_EQ_I64(d->in_future, 0);
    CS_CHECK_EQ_I64(d->interval_covers_not_after, 0);
    CS_CHECK_EQ_I64(a->interval_covers_not_after, 1);
    CS_CHECK_EQ_STR(a->log_operator, "Op 1");
  }
  CS_CHECK(cs_findings_has(f, "SCT_LOG_INTERVAL_MISMATCH"));
  cJSON *j = cs_ct_result_to_json(r);
  CS_CHECK(j != NULL);
  char *text = j ? cJSON_PrintUnformatted(j) : NULL;
  CS_CHECK(text != NULL && strstr(text, "\"signature\":\"valid\"") != NULL);
  CS_CHECK(text != NULL && strstr(text, "\"in_future_by_clock\":{\"exact\":true,\"skew:-10s\":true,\"+10s\":false}") != NULL);
  CS_CHECK(text != NULL && strstr(text, "\"covers_not_after\":false") != NULL);
  CS_CHECK(text != NULL && strstr(text, "\"replay_check\":\"SCT #0\"") != NULL);
  const cJSON *pol = cJSON_GetObjectItemCaseSensitive(j, "policy");
  CS_CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pol, "compliant")));
  free(text);
  cJSON_Delete(j);
  cs_ct_result_free(r);
  cs_findings_free(f);
  unbuild(&b);
}

static void test_no_issuer_no_list_cache(void) {
  built_t b;
  cs_ct_result_t *r = NULL;
  cs_findings_t *f = cs_findings_new();
  reset_logs();
  CS_CHECK_EQ_I64(build(&b, 0x3, 90 * CS_MS_PER_DAY, NULL, 1), 0);
  CS_CHECK_EQ_I64(cs_ct_analyze(&r, b.chain, b.list, now_ms, f), 0);
  CS_CHECK_EQ_I64(cs_ct_result_sct(r, 0) ? (int)cs_ct_result_sct(r, 0)->verdict : -1, CS_CT_SIG_NO_ISSUER);
  CS_CHECK(cs_findings_has(f, "SCT_NO_ISSUER"));
  CS_CHECK(!cs_findings_has(f, "SCT_SIGNATURE_INVALID_ALL"));
  cs_ct_result_free(r);
  cs_findings_free(f);

  f = cs_findings_new();
  r = NULL;
  CS_CHECK_EQ_I64(cs_ct_analyze(&r, b.chain, NULL, now_ms, f), 0);
  CS_CHECK(cs_findings_has(f, "CT_NO_LOG_LIST"));
  CS_CHECK(!cs_findings_has(f, "SCT_POLICY_TOO_FEW"));
  CS_CHECK_EQ_I64(cs_ct_result_sct(r, 0) ? (int)cs_ct_result_sct(r, 0)->verdict : -1, CS_CT_SIG_UNKNOWN_LOG);
  cJSON *j = cs_ct_result_to_json(r);
  CS_CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "log_list")));
  cJSON_Delete(j);
  cs_ct_result_free(r);
  cs_findings_free(f);
  unbuild(&b);

  /* Cache: the second verification of the same SCT is a hit with the same verdict. */
  reset_logs();
  CS_CHECK_EQ_I64(build(&b, 0x1, 90 * CS_MS_PER_DAY, NULL, 0), 0);
  cs_ct_cache_t *cache = cs_ct_cache_new(16);
  cs_ct_entry_t e;
  cs_ct_entry_init(&e);
  const cs_cert_info_t *leaf = cs_chain_cert(b.chain, 0);
  CS_CHECK_EQ_I64(cs_ct_entry_prepare(&e, leaf->crt, cs_chain_cert(b.chain, 1)->crt), 0);
  const cs_ct_log_t *log = cs_ct_log_list_find(b.list, leaf->scts[0].log_id);
  uint64_t hits, misses;
  CS_CHECK_EQ_I64(cs_ct_sct_verify(&e, &leaf->scts[0], log, cache), CS_CT_SIG_VALID);
  CS_CHECK_EQ_I64(cs_ct_sct_verify(&e, &leaf->scts[0], log, cache), CS_CT_SIG_VALID);
  cs_sct_t forged = leaf->scts[0];
  forged.timestamp_ms += 1;
  CS_CHECK_EQ_I64(cs_ct_sct_verify(&e, &forged, log, cache), CS_CT_SIG_INVALID);
  CS_CHECK_EQ_I64(cs_ct_sct_verify(&e, &forged, log, cache), CS_CT_SIG_INVALID);
  cs_ct_cache_stats(cache, &hits, &misses);
  CS_CHECK_EQ_I64(hits, 2);
  CS_CHECK_EQ_I64(misses, 2);
  /* Algorithm mismatch: an ECDSA log cannot have made an RSA signature. */
  forged = leaf->scts[0];
  forged.sig_alg = CS_SCT_SIG_RSA;
  CS_CHECK_EQ_I64(cs_ct_sct_verify(&e, &forged, log, NULL), CS_CT_SIG_ALG_MISMATCH);
  /* A TLS-delivered copy of an embedded SCT signs a precert, not the leaf. */
  forged = leaf->scts[0];
  forged.source = CS_SCT_SOURCE_TLS;
  CS_CHECK_EQ_I64(cs_ct_sct_verify(&e, &forged, log, NULL), CS_CT_SIG_INVALID);
  /* Replay checks exist for delivered SCTs only. */
  cs_ct_opts_t o = {0};
  o.logs = b.list;
  o.extra_scts = &forged;
  o.nextra_scts = 1;
  r = NULL;
  CS_CHECK_EQ_I64(cs_ct_analyze_ex(&r, b.chain, &o, now_ms, NULL), 0);
  cs_time_check_t checks[4];
  size_t n = 0;
  cs_ct_result_time_checks(r, checks, 4, &n);
  CS_CHECK_EQ_I64(n, 1);
  CS_CHECK_EQ_I64(checks[0].bound_ms, forged.timestamp_ms);
  CS_CHECK_EQ_I64(checks[0].item_index, 1);
  CS_CHECK_EQ_STR(checks[0].label, "SCT #1 (tls_extension)");
  cs_ct_result_free(r);
  cs_ct_entry_free(&e);
  cs_ct_cache_free(cache);
  unbuild(&b);
}

/* cs_ct_tbs_remove_ext edge cases on hand-made DER. */
static void test_tbs_table(void) {
  /* TBS = SEQ { INT 1, [3] { SEQ { ext(oid X), ext(oid Y) } } } */
  static const uint8_t X[] = {0x2A, 0x03}, Y[] = {0x2A, 0x04};
#define EXT(o) 0x30, 0x07, 0x06, 0x02, 0x2A, o, 0x04, 0x01, 0x00
  static const uint8_t two[] = {0x30, 0x19, 0x02, 0x01, 0x01, 0xA3, 0x14, 0x30, 0x12, EXT(0x03), EXT(0x04)};
  static const uint8_t one_left[] = {0x30, 0x10, 0x02, 0x01, 0x01, 0xA3, 0x0B, 0x30, 0x09, EXT(0x04)};
  static const uint8_t only[] = {0x30, 0x10, 0x02, 0x01, 0x01, 0xA3, 0x0B, 0x30, 0x09, EXT(0x03)};
  static const uint8_t none[] = {0x30, 0x03, 0x02, 0x01, 0x01};
  static const uint8_t dup[] = {0x30, 0x19, 0x02, 0x01, 0x01, 0xA3, 0x14, 0x30, 0x12, EXT(0x03), EXT(0x03)};
  static const uint8_t trunc[] = {0x30, 0x19, 0x02, 0x01, 0x01, 0xA3, 0x14, 0x30};
  static const uint8_t notseq[] = {0x31, 0x03, 0x02, 0x01, 0x01};
  static const uint8_t trailing[] = {0x30, 0x03, 0x02, 0x01, 0x01, 0x00};
  static const uint8_t badext[] = {0x30, 0x0A, 0x02, 0x01, 0x01, 0xA3, 0x05, 0x30, 0x03, 0x02, 0x01, 0x00};
  static const struct {
    const char *name;
    const uint8_t *in;
    size_t len;
    int err, found;
    const uint8_t *want;
    size_t want_len;
  } CASES[] = {
      {"remove first of two", two, sizeof(two), 0, 1, one_left, sizeof(one_left)},
      {"remove the only one: [3] omitted", only, sizeof(only), 0, 1, none, sizeof(none)},
      {"absent: exact copy", none, sizeof(none), 0, 0, none, sizeof(none)},
      {"duplicate extension", dup, sizeof(dup), CS_EPARSE, 0, NULL, 0},
      {"truncated", trunc, sizeof(trunc), CS_EPARSE, 0, NULL, 0},
      {"not a SEQUENCE", notseq, sizeof(notseq), CS_EPARSE, 0, NULL, 0},
      {"trailing bytes", trailing, sizeof(trailing), CS_EPARSE, 0, NULL, 0},
      {"extension without OID", badext, sizeof(badext), CS_EPARSE, 0, NULL, 0},
  };
  (void)Y;
  for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
    uint8_t *out = NULL;
    size_t out_len = 0;
    int found = -1;
    int err = cs_ct_tbs_remove_ext(CASES[i].in, CASES[i].len, X, sizeof(X), &out, &out_len, &found);
    int ok = err == CASES[i].err &&
             (err != 0 || (found == CASES[i].found && out_len == CASES[i].want_len &&
                           memcmp(out, CASES[i].want, out_len) == 0));
    if (!ok) {
      fprintf(stderr, "tbs case \"%s\": err %d found %d len %zu\n", CASES[i].name, err, found, out_len);
      cs_test_failures++;
    }
    free(out);
  }
  /* A long TBS (2-byte lengths) shrinking under 256 bytes re-encodes its header. */
  uint8_t big[300], *out = NULL;
  size_t out_len = 0;
  memset(big, 0, sizeof(big));
  /* SEQ(0x0112) { INT 1, [3](0x010B) { SEQ(0x0107) { EXT(X), ext Y (254 bytes) } } } */
  uint8_t *p = big;
  *p++ = 0x30; *p++ = 0x82; *p++ = 0x01; *p++ = 0x12;
  *p++ = 0x02; *p++ = 0x01; *p++ = 0x01;
  *p++ = 0xA3; *p++ = 0x82; *p++ = 0x01; *p++ = 0x0B;
  *p++ = 0x30; *p++ = 0x82; *p++ = 0x01; *p++ = 0x07;
  const uint8_t ex[] = {EXT(0x03)};
  memcpy(p, ex, sizeof(ex));
  p += sizeof(ex);
  /* Extension Y with a 244-byte value: 0x30 0x81 0xFB { OID Y, OCTET(0x81 0xF4) } */
  *p++ = 0x30; *p++ = 0x81; *p++ = 0xFB;
  *p++ = 0x06; *p++ = 0x02; *p++ = 0x2A; *p++ = 0x04;
  *p++ = 0x04; *p++ = 0x81; *p++ = 0xF4;
  p += 244;
  CS_CHECK_EQ_I64((size_t)(p - big), 4 + 0x112);
  CS_CHECK_EQ_I64(cs_ct_tbs_remove_ext(big, (size_t)(p - big), X, sizeof(X), &out, &out_len, NULL), 0);
  /* The Extensions SEQUENCE drops to 254 bytes: its length needs one byte
   * less (0x81 0xFE), so the result is 9 + 1 bytes shorter. */
  if (out != NULL) {
    static const uint8_t head[] = {0x30, 0x82, 0x01, 0x08, 0x02, 0x01, 0x01,
                                   0xA3, 0x82, 0x01, 0x01, 0x30, 0x81, 0xFE};
    CS_CHECK_EQ_I64(out_len, (size_t)(p - big) - 10);
    CS_CHECK(out_len > sizeof(head) && memcmp(out, head, sizeof(head)) == 0);
    int found = 1;
    uint8_t *again = NULL;
    size_t again_len = 0;
    CS_CHECK_EQ_I64(cs_ct_tbs_remove_ext(out, out_len, X, sizeof(X), &again, &again_len, &found), 0);
    CS_CHECK_EQ_I64(found, 0);
    free(again);
  }
  free(out);
#undef EXT
}

int main(void) {
  now_ms = T("2026-06-01T12:00:00Z");
  static const struct {
    uint8_t alg;
    const char *name, *op;
  } L[NL] = {{CS_SCT_SIG_ECDSA, "Log A", "Op 1"},
             {CS_SCT_SIG_RSA, "Log B", "Op 2"},
             {CS_SCT_SIG_ECDSA, "Log C", "Op 2"},
             {CS_SCT_SIG_ECDSA, "Log D", "Op 3"}};
  CS_CHECK_EQ_I64(ct_rng_init(&rng, "test_ct_analyze"), 0);
  cs_lab_ct_ca_init(&ca);
  CS_CHECK_EQ_I64(cs_lab_ct_ca_generate(&ca, "analyze root", now_ms, ct_rng, &rng), 0);
  for (int i = 0; i < NL; i++) {
    cs_lab_ct_log_init(&logs[i]);
    CS_CHECK_EQ_I64(cs_lab_ct_log_generate(&logs[i], L[i].alg, L[i].name, L[i].op, now_ms, ct_rng, &rng), 0);
  }
  if (cs_test_failures == 0) {
    test_precert_rebuild();
    test_policy();
    test_interval_future_json();
    test_no_issuer_no_list_cache();
  }
  test_tbs_table();
  for (int i = 0; i < NL; i++)
    cs_lab_ct_log_free(&logs[i]);
  cs_lab_ct_ca_free(&ca);
  ct_rng_free(&rng);
  return cs_test_done("test_ct_analyze");
}
