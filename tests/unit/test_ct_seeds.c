/*
 * Fuzz seed generator for fuzz_loglist and fuzz_sct_list, run as a test.
 *
 * Builds, with the CT lab and a deterministic RNG, the inputs the two fuzz
 * targets start from (lab log lists, SCT lists in TLS and DER form, a
 * leaf's TBSCertificate, and damaged variants), and checks each one has
 * the verdict it was made for. With CS_CT_SEED_DIR=<dir> set (see
 * fuzz/make_seeds_ct.sh) it also writes them into <dir>/fuzz_loglist/ and
 * <dir>/fuzz_sct_list/, which is how fuzz/corpus/ was produced.
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>

#include "certskew/ct/ct.h"
#include "certskew/lab/lab_ct.h"
#include "certskew/core/time.h"
#include "ct_fixtures.h"

typedef struct seed {
  const char *target; /* "fuzz_loglist" or "fuzz_sct_list" */
  const char *name;
  uint8_t *data;      /* owned */
  size_t len;
  int want_ok;        /* 1 if the input must parse */
} seed_t;

static seed_t seeds[32];
static size_t nseeds;

static void add(const char *target, const char *name, const void *data, size_t len, int want_ok) {
  if (nseeds >= sizeof(seeds) / sizeof(seeds[0]) || (data == NULL && len > 0)) {
    cs_test_failures++;
    return;
  }
  seed_t *s = &seeds[nseeds++];
  s->target = target;
  s->name = name;
  s->data = malloc(len ? len : 1);
  if (s->data != NULL && len > 0)
    memcpy(s->data, data, len);
  s->len = len;
  s->want_ok = want_ok;
}

static int check(const seed_t *s) {
  if (strcmp(s->target, "fuzz_loglist") == 0) {
    cs_ct_log_list_t *l = NULL;
    int err = cs_ct_log_list_load(&l, s->data, s->len, NULL);
    cs_ct_log_list_free(l);
    return err == 0;
  }
  cs_sct_t scts[CS_SCT_LIST_MAX];
  size_t n = 0;
  uint8_t *out = NULL;
  size_t out_len = 0;
  int found = 0;
  int ok = cs_sct_list_parse(s->data, s->len, CS_SCT_SOURCE_TLS, scts, CS_SCT_LIST_MAX, &n, NULL) == 0 ||
           cs_sct_list_parse_der(s->data, s->len, CS_SCT_SOURCE_EMBEDDED, scts, CS_SCT_LIST_MAX, &n, NULL) == 0;
  if (cs_ct_tbs_remove_ext(s->data, s->len, CS_CT_OID_SCT_LIST, 10, &out, &out_len, &found) == 0) {
    ok = ok || found;
    free(out);
  }
  return ok;
}

int main(void) {
  ct_rng_t rng;
  cs_lab_ct_ca_t ca;
  cs_lab_ct_log_t a, b;
  cs_lab_ct_leaf_t leaf;
  char *json = NULL;
  int64_t now = 0;
  CS_CHECK_EQ_I64(cs_time_parse("2026-01-15T08:00:00Z", &now), 0);
  CS_CHECK_EQ_I64(ct_rng_init(&rng, "fuzz seeds"), 0);
  cs_lab_ct_ca_init(&ca);
  cs_lab_ct_log_init(&a);
  cs_lab_ct_log_init(&b);
  cs_lab_ct_leaf_init(&leaf);
  CS_CHECK_EQ_I64(cs_lab_ct_ca_generate(&ca, "seed root", now, ct_rng, &rng), 0);
  CS_CHECK_EQ_I64(cs_lab_ct_log_generate(&a, CS_SCT_SIG_ECDSA, "Seed ECDSA", "Seed Op A", now, ct_rng, &rng), 0);
  CS_CHECK_EQ_I64(cs_lab_ct_log_generate(&b, CS_SCT_SIG_RSA, "Seed RSA", "Seed Op B", now, ct_rng, &rng), 0);
  if (cs_test_failures != 0)
    return cs_test_done("test_ct_seeds");
  b.state = CS_CT_STATE_RETIRED;
  a.has_interval = 1;
  a.interval_start_ms = now - CS_MS_PER_DAY;
  a.interval_end_ms = now + 365 * CS_MS_PER_DAY;
  const cs_lab_ct_log_t *both[2] = {&a, &b};
  CS_CHECK_EQ_I64(cs_lab_ct_chrome_log_list(both, 2, now, &json), 0);
  if (json != NULL) {
    size_t len = strlen(json);
    add("fuzz_loglist", "lab_two_logs.json", json, len, 1);
    add("fuzz_loglist", "lab_truncated.json", json, len / 2, 0);
    /* A different id: loads must refuse it (log_id != SHA-256(key)). */
    char *bad = strdup(json), *id = bad ? strstr(bad, "\"log_id\":") : NULL;
    if (id != NULL && (id = strchr(id + 9, '"')) != NULL) {
      id[1] = id[1] == 'A' ? 'B' : 'A';
      add("fuzz_loglist", "lab_wrong_id.json", bad, len, 0);
    }
    free(bad);
  }
  free(json);
  json = NULL;
  CS_CHECK_EQ_I64(cs_lab_ct_chrome_log_list(both, 1, now, &json), 0);
  if (json != NULL)
    add("fuzz_loglist", "lab_one_log.json", json, strlen(json), 1);
  free(json);

  cs_lab_ct_leaf_spec_t spec = {0};
  spec.dns_name = "seed.lab.test";
  spec.lifetime_ms = 90 * CS_MS_PER_DAY;
  spec.logs = both;
  spec.nlogs = 2;
  CS_CHECK_EQ_I64(cs_lab_ct_leaf_issue(&leaf, &ca, &spec, now, ct_rng, &rng), 0);
  if (leaf.sct_list != NULL) {
    add("fuzz_sct_list", "tls_two_scts.bin", leaf.sct_list, leaf.sct_list_len, 1);
    add("fuzz_sct_list", "tls_truncated.bin", leaf.sct_list, leaf.sct_list_len - 7, 0);
    uint8_t der[4096];
    unsigned char *p = der + sizeof(der);
    int n = mbedtls_asn1_write_octet_string(&p, der, leaf.sct_list, leaf.sct_list_len);
    CS_CHECK(n > 0);
    if (n > 0)
      add("fuzz_sct_list", "der_two_scts.bin", p, (size_t)n, 1);
    /* The final certificate's TBS: carries the SCT list extension. */
    unsigned char *q = leaf.der, *end = leaf.der + leaf.der_len, *t;
    size_t len = 0;
    if (mbedtls_asn1_get_tag(&q, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) == 0 &&
        (t = q, mbedtls_asn1_get_tag(&q, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) == 0)
      add("fuzz_sct_list", "leaf_tbs.der", t, (size_t)(q + len - t), 1);
    else
      cs_test_failures++;
  }
  const char *dir = getenv("CS_CT_SEED_DIR");
  for (size_t i = 0; i < nseeds; i++) {
    int ok = check(&seeds[i]);
    if (ok != seeds[i].want_ok) {
      fprintf(stderr, "seed %s/%s: parses=%d, want %d\n", seeds[i].target, seeds[i].name, ok,
              seeds[i].want_ok);
      cs_test_failures++;
    }
    if (dir != NULL && dir[0] != '\0') {
      char sub[512];
      snprintf(sub, sizeof(sub), "%s/%s", dir, seeds[i].target);
      if (cs_fx_write(sub, seeds[i].name, seeds[i].data, seeds[i].len, NULL) != 0) {
        fprintf(stderr, "cannot write %s/%s\n", sub, seeds[i].name);
        cs_test_failures++;
      }
    }
    free(seeds[i].data);
  }
  CS_CHECK(nseeds >= 8);
  cs_lab_ct_leaf_free(&leaf);
  cs_lab_ct_log_free(&a);
  cs_lab_ct_log_free(&b);
  cs_lab_ct_ca_free(&ca);
  ct_rng_free(&rng);
  return cs_test_done("test_ct_seeds");
}
