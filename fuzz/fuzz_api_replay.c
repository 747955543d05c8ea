/*
 * Fuzz target for POST /api/replay: the request body (JSON: capture id,
 * clock models, instant) through the API router, against a real capture
 * store holding one lab chain (root + leaf with two SCTs), so well-formed
 * bodies reach cs_analyze and the report JSON. The store is created once,
 * in a fresh temporary directory removed at exit.
 *
 * Input: the body; every "@ID" in it is replaced by the stored capture's
 * id, so the seeds (fuzz/make_seeds_api.sh) stay valid whatever id the
 * chain gets. The lab chain is made with a fixed-seed generator at a fixed
 * instant, so runs are reproducible.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "api.h"
#include "certskew/store/capture.h"
#include "certskew/lab/lab_ct.h"
#include "certskew/core/sct.h"
#include "certskew/store/fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_MS INT64_C(1795467783095) /* 2026-11-23T21:03:03.095Z */
#define BODY_MAX (CS_API_BODY_MAX + 1)

static cs_capture_store_t *g_store;
static char g_dir[256];
static char g_id[CS_CAPTURE_ID_MAX];

/* xorshift64*: a reproducible RNG for the lab (never for real keys). */
static int fixed_rng(void *p, unsigned char *out, size_t len) {
  uint64_t *s = p;
  for (size_t i = 0; i < len; i++) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    out[i] = (unsigned char)((*s * UINT64_C(2685821657736338717)) >> 56);
  }
  return 0;
}

static void remove_store(void) {
  cs_capture_store_free(g_store);
  g_store = NULL;
  if (g_dir[0] != '\0') {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
      fprintf(stderr, "fuzz_api_replay: cannot remove %s\n", g_dir);
  }
}

/* Builds the store once; aborts on failure (nothing to fuzz without it). */
static void setup(void) {
  uint64_t seed = UINT64_C(0x9e3779b97f4a7c15);
  cs_lab_ct_log_t log1, log2;
  cs_lab_ct_ca_t ca;
  cs_lab_ct_leaf_t leaf;
  cs_lab_ct_log_init(&log1);
  cs_lab_ct_log_init(&log2);
  cs_lab_ct_ca_init(&ca);
  cs_lab_ct_leaf_init(&leaf);
  char *leaf_pem = NULL, *ca_pem = NULL, *chain = NULL;
  const char *tmp = getenv("TMPDIR");
  snprintf(g_dir, sizeof g_dir, "%s/certskew-fuzz-api-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
  if (mkdtemp(g_dir) == NULL)
    abort();
  atexit(remove_store);
  const cs_lab_ct_log_t *logs[2] = {&log1, &log2};
  const int64_t offsets[2] = {-1000, -62};
  cs_lab_ct_leaf_spec_t spec = {.dns_name = "fuzz.test",
                                .backdate_ms = 3600000,
                                .lifetime_ms = INT64_C(90) * 86400000,
                                .logs = logs,
                                .nlogs = 2,
                                .sct_offsets_ms = offsets};
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_lab_ct_log_generate(&log1, CS_SCT_SIG_ECDSA, "fuzz log 1", "op1", NOW_MS, fixed_rng,
                             &seed) != 0 ||
      cs_lab_ct_log_generate(&log2, CS_SCT_SIG_ECDSA, "fuzz log 2", "op2", NOW_MS, fixed_rng,
                             &seed) != 0 ||
      cs_lab_ct_ca_generate(&ca, "fuzz root", NOW_MS, fixed_rng, &seed) != 0 ||
      cs_lab_ct_leaf_issue(&leaf, &ca, &spec, NOW_MS, fixed_rng, &seed) != 0 ||
      cs_lab_ct_cert_pem(leaf.der, leaf.der_len, &leaf_pem) != 0 ||
      cs_lab_ct_cert_pem(ca.der, ca.der_len, &ca_pem) != 0)
    abort();
  size_t n = strlen(leaf_pem) + strlen(ca_pem) + 1;
  chain = malloc(n); /* freed below */
  if (chain == NULL)
    abort();
  snprintf(chain, n, "%s%s", leaf_pem, ca_pem);
  uint8_t fp[32];
  if (mbedtls_sha256_ret((const unsigned char *)chain, strlen(chain), fp, 0) != 0 ||
      cs_capture_store_open(&g_store, g_dir, 4, &eb) != 0)
    abort();
  cs_capture_meta_t meta = {.host = "fuzz.test", .port = 443, .sni = "fuzz.test",
                            .upstream = "127.0.0.1:443", .tls_version = "TLSv1.2",
                            .cipher = "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256", .worst = -1};
  if (cs_capture_store_put(g_store, &meta, fp, chain, "{}", NOW_MS, g_id, NULL, &eb) != 0)
    abort();
  free(chain);
  free(leaf_pem);
  free(ca_pem);
  cs_lab_ct_leaf_free(&leaf);
  cs_lab_ct_ca_free(&ca);
  cs_lab_ct_log_free(&log1);
  cs_lab_ct_log_free(&log2);
}

/* Copies data into out, replacing each "@ID" by the capture id. */
static size_t substitute(const uint8_t *data, size_t size, char *out, size_t cap) {
  size_t idlen = strlen(g_id), n = 0;
  for (size_t i = 0; i < size && n < cap; i++) {
    if (i + 3 <= size && memcmp(data + i, "@ID", 3) == 0 && n + idlen <= cap) {
      memcpy(out + n, g_id, idlen);
      n += idlen;
      i += 2;
    } else {
      out[n++] = (char)data[i];
    }
  }
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (g_store == NULL)
    setup();
  if (size > CS_API_BODY_MAX)
    return 0; /* the proxy answers 413 before the API sees such a body */
  static char body[BODY_MAX + CS_CAPTURE_ID_MAX * 64];
  size_t len = substitute(data, size, body, sizeof body);
  cs_api_ctx_t ctx = {.store = g_store,
                      .now_ms = NOW_MS,
                      .host = "127.0.0.1:8080",
                      .origin = "http://127.0.0.1:8080",
                      .self_text = "127.0.0.1:8080",
                      .self_port = 8080};
  cs_http_response_t r;
  cs_http_response_init(&r);
  if (cs_api_handle(&ctx, "POST", "/api/replay", body, len, &r) == 0) {
    /* Every answer is a complete response: 200 with a report, or a JSON error. */
    if (r.status != 200 && r.status != 400 && r.status != 404)
      abort();
    if (r.body == NULL || r.body_len == 0 || r.body[0] != '{')
      abort();
    size_t n = 0;
    free(cs_http_response_serialize(&r, 0, &n));
    /* CS_FUZZ_VERBOSE=1: show what each seed reaches (checking seeds). */
    if (getenv("CS_FUZZ_VERBOSE") != NULL)
      fprintf(stderr, "%d %.100s\n", r.status, r.body);
  }
  cs_http_response_free(&r);
  return 0;
}
