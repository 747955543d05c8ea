/*
 * Benchmark: SCT signature verifications per second for ECDSA P-256 and
 * RSA-2048 logs, without a cache (every call hashes and verifies) and with
 * a cs_ct_cache_t keyed by (log, signed data hash, signature hash), where
 * repeated SCTs (the same certificate seen again) are answered from the
 * cache. Lab logs and a lab leaf are generated first (deterministic RNG).
 * Prints one JSON object. Usage: bench_sct_verify [seconds-per-case]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/ctr_drbg.h>

#include "certskew/ct/ct.h"
#include "certskew/lab/lab_ct.h"
#include "certskew/core/time.h"

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int fixed_entropy(void *p, unsigned char *out, size_t len) {
  (void)p;
  memset(out, 0x5A, len);
  return 0;
}

typedef struct run {
  double per_second;
  long iterations;
  int all_valid;
} run_t;

/* Verifies the SCT repeatedly for about seconds. */
static run_t measure(const cs_ct_entry_t *e, const cs_sct_t *sct, const cs_ct_log_t *log,
                     cs_ct_cache_t *cache, double seconds) {
  run_t r = {0, 0, 1};
  int64_t start = mono_ns(), limit = start + (int64_t)(seconds * 1e9), now = start;
  while (now < limit) {
    for (int k = 0; k < 16; k++) {
      r.all_valid &= cs_ct_sct_verify(e, sct, log, cache) == CS_CT_SIG_VALID;
      r.iterations++;
    }
    now = mono_ns();
  }
  r.per_second = (double)r.iterations / ((double)(now - start) / 1e9);
  return r;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  mbedtls_ctr_drbg_context rng;
  cs_lab_ct_ca_t ca;
  cs_lab_ct_log_t logs[2];
  cs_lab_ct_leaf_t leaf;
  cs_chain_t *chain = NULL;
  cs_ct_log_list_t *list = NULL;
  char *json = NULL;
  int64_t now = 1790000000000;
  if (seconds <= 0 || seconds > 60)
    seconds = 1.0;
  mbedtls_ctr_drbg_init(&rng);
  cs_lab_ct_ca_init(&ca);
  cs_lab_ct_leaf_init(&leaf);
  cs_lab_ct_log_init(&logs[0]);
  cs_lab_ct_log_init(&logs[1]);
  const cs_lab_ct_log_t *lp[2] = {&logs[0], &logs[1]};
  int err = mbedtls_ctr_drbg_seed(&rng, fixed_entropy, NULL, (const unsigned char *)"bench", 5);
  if (err == 0)
    err = cs_lab_ct_ca_generate(&ca, "bench root", now, mbedtls_ctr_drbg_random, &rng);
  if (err == 0)
    err = cs_lab_ct_log_generate(&logs[0], CS_SCT_SIG_ECDSA, "ECDSA", "A", now,
                                 mbedtls_ctr_drbg_random, &rng);
  if (err == 0)
    err = cs_lab_ct_log_generate(&logs[1], CS_SCT_SIG_RSA, "RSA", "B", now,
                                 mbedtls_ctr_drbg_random, &rng);
  cs_lab_ct_leaf_spec_t spec = {0};
  spec.dns_name = "bench.lab.test";
  spec.lifetime_ms = 90 * CS_MS_PER_DAY;
  spec.logs = lp;
  spec.nlogs = 2;
  if (err == 0)
    err = cs_lab_ct_leaf_issue(&leaf, &ca, &spec, now, mbedtls_ctr_drbg_random, &rng);
  if (err == 0)
    err = cs_lab_ct_chrome_log_list(lp, 2, now, &json);
  if (err == 0)
    err = cs_ct_log_list_load(&list, (const uint8_t *)json, strlen(json), NULL);
  size_t both = leaf.der_len + ca.der_len;
  uint8_t *der = err == 0 ? malloc(both) : NULL;
  if (der != NULL) {
    memcpy(der, leaf.der, leaf.der_len);
    memcpy(der + leaf.der_len, ca.der, ca.der_len);
    err = cs_chain_load(&chain, der, both, NULL);
  } else if (err == 0) {
    err = CS_ENOMEM;
  }
  if (err != 0) {
    fprintf(stderr, "bench setup failed: %s\n", cs_strerror(err));
    return 1;
  }
  const cs_cert_info_t *lc = cs_chain_cert(chain, 0);
  cs_ct_entry_t e;
  cs_ct_entry_init(&e);
  if (cs_ct_entry_prepare(&e, lc->crt, cs_chain_cert(chain, 1)->crt) != 0 || lc->nscts != 2)
    return 1;
  printf("{\"benchmark\":\"sct_verify\",\"seconds_per_case\":%.2f,\"tbs_bytes\":%zu,\"results\":[",
         seconds, e.precert_tbs_len);
  static const char *NAMES[2] = {"ecdsa_p256", "rsa_2048"};
  int ok = 1;
  for (size_t i = 0; i < 2; i++) {
    const cs_ct_log_t *log = cs_ct_log_list_find(list, lc->scts[i].log_id);
    cs_ct_cache_t *cache = cs_ct_cache_new(1024);
    run_t plain = measure(&e, &lc->scts[i], log, NULL, seconds);
    run_t cached = measure(&e, &lc->scts[i], log, cache, seconds);
    uint64_t hits, misses;
    cs_ct_cache_stats(cache, &hits, &misses);
    ok &= plain.all_valid && cached.all_valid;
    printf("%s{\"algorithm\":\"%s\",\"no_cache_per_second\":%.1f,\"no_cache_iterations\":%ld,"
           "\"cache_per_second\":%.1f,\"cache_iterations\":%ld,\"cache_hits\":%llu,"
           "\"cache_misses\":%llu,\"speedup\":%.1f}",
           i ? "," : "", NAMES[i], plain.per_second, plain.iterations, cached.per_second,
           cached.iterations, (unsigned long long)hits, (unsigned long long)misses,
           plain.per_second > 0 ? cached.per_second / plain.per_second : 0.0);
    cs_ct_cache_free(cache);
  }
  printf("],\"all_valid\":%s}\n", ok ? "true" : "false");
  cs_ct_entry_free(&e);
  free(der);
  free(json);
  cs_chain_free(chain);
  cs_ct_log_list_free(list);
  cs_lab_ct_leaf_free(&leaf);
  cs_lab_ct_log_free(&logs[0]);
  cs_lab_ct_log_free(&logs[1]);
  cs_lab_ct_ca_free(&ca);
  mbedtls_ctr_drbg_free(&rng);
  return ok ? 0 : 1;
}
