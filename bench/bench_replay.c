/*
 * Replay throughput: how many chain replays per second the engine does, one
 * replay being a parse of the served chain plus every check for 8 clock
 * models (the default set) with the diagnosis, without signature checks;
 * and how that scales with chain length. Prints one JSON object.
 *
 * "engine" is parse + checks (windows, pass windows, verdicts at the
 * instant); "diagnosed" adds the ranked findings with their text; and
 * "with_json_report" renders the whole report too. The primary figures parse DER, which is what the proxy captures off the
 * wire; PEM (files) adds base64 decoding, reported beside it.
 *
 *   bench_replay FULL_CHAIN.pem [SECONDS_PER_POINT]
 *
 * FULL_CHAIN.pem is leaf, intermediate, root (tests/lib/mkchain.sh makes
 * one; bench/run_bench_replay.sh does it all). Longer chains repeat the
 * non-leaf certificates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certskew/analysis/analysis.h"
#include "certskew/store/file_io.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* PEM blocks of the input, to rebuild chains of any length. */
static size_t split_pem(char *text, char **blocks, size_t max) {
  size_t n = 0;
  char *p = text;
  while (n < max && (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL) {
    char *end = strstr(p, "-----END CERTIFICATE-----");
    if (end == NULL)
      break;
    end += strlen("-----END CERTIFICATE-----");
    size_t len = (size_t)(end - p);
    blocks[n] = malloc(len + 2); /* freed in main */
    if (blocks[n] == NULL)
      break;
    memcpy(blocks[n], p, len);
    blocks[n][len] = '\n';
    blocks[n][len + 1] = '\0';
    n++;
    p = end;
  }
  return n;
}

typedef struct rate {
  long n;
  double per_sec;
} rate_t;

/* The engine alone: parse plus every time check for every clock, no
 * diagnosis text (what the replay target of the issue counts). */
static rate_t measure_engine(const uint8_t *buf, size_t len, const cs_analysis_opts_t *o,
                             double budget) {
  rate_t r = {0, 0};
  cs_replay_opts_t ro = {o->clocks, o->nclocks, o->has_at, o->at_ms, 0, 0, 0};
  double start = now_s(), elapsed;
  do {
    for (int i = 0; i < 32; i++) {
      cs_chain_t *chain = NULL;
      cs_replay_t *rp = NULL;
      if (cs_chain_load(&chain, buf, len, NULL) != 0 || cs_replay_new(&rp, chain, &ro, NULL) != 0 ||
          cs_replay_run(rp, NULL) != 0) {
        r.n = -1;
        return r;
      }
      cs_replay_free(rp);
      cs_chain_free(chain);
      r.n++;
    }
    elapsed = now_s() - start;
  } while (elapsed < budget);
  r.per_sec = (double)r.n / elapsed;
  return r;
}

/* Runs cs_analyze over buf for about budget seconds; with_report also
 * renders the JSON report each time. Returns a negative n on error. */
static rate_t measure(const uint8_t *buf, size_t len, const cs_analysis_opts_t *o, double budget,
                      int with_report) {
  rate_t r = {0, 0};
  double start = now_s(), elapsed;
  do {
    for (int i = 0; i < 32; i++) {
      cs_analysis_t *a = NULL;
      if (cs_analyze(&a, buf, len, o, NULL) != 0) {
        r.n = -1;
        return r;
      }
      if (with_report)
        free(cs_analysis_report_json(a, 0));
      cs_analysis_free(a);
      r.n++;
    }
    elapsed = now_s() - start;
  } while (elapsed < budget);
  r.per_sec = (double)r.n / elapsed;
  return r;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_replay FULL_CHAIN.pem [SECONDS_PER_POINT]\n");
    return 2;
  }
  double budget = argc > 2 ? atof(argv[2]) : 1.0;
  uint8_t *pem;
  size_t len;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_file_read(argv[1], 1 << 20, &pem, &len, &eb) != 0) {
    fprintf(stderr, "bench_replay: %s\n", eb.msg);
    return 1;
  }
  char *blocks[8];
  size_t nblocks = split_pem((char *)pem, blocks, 8);
  if (nblocks < 2) {
    fprintf(stderr, "bench_replay: need a chain of at least 2 certificates\n");
    return 1;
  }
  cs_clock_t clocks[8];
  size_t nclocks = cs_clock_default_set(clocks, 8);
  cs_analysis_opts_t o = {.source = "bench", .clocks = clocks, .nclocks = nclocks, .has_at = 1,
                          .at_ms = INT64_C(1795467783219)};
  printf("{\n  \"benchmark\": \"replay\",\n  \"clock_models\": %zu,\n  \"signature_checks\": false,\n"
         "  \"seconds_per_point\": %.2f,\n  \"points\": [\n", nclocks, budget);
  for (size_t length = 1; length <= 8; length++) {
    /* leaf, then the other certificates cyclically */
    size_t cap = 1;
    for (size_t i = 0; i < length; i++)
      cap += strlen(blocks[i == 0 ? 0 : 1 + (i - 1) % (nblocks - 1)]);
    char *chain = malloc(cap); /* freed below */
    if (chain == NULL)
      return 1;
    chain[0] = '\0';
    for (size_t i = 0; i < length; i++)
      strcat(chain, blocks[i == 0 ? 0 : 1 + (i - 1) % (nblocks - 1)]);
    size_t chain_len = strlen(chain);
    /* The same chain as concatenated DER. */
    cs_chain_t *parsed = NULL;
    if (cs_chain_load(&parsed, (const uint8_t *)chain, chain_len, &eb) != 0) {
      fprintf(stderr, "bench_replay: %s\n", eb.msg);
      return 1;
    }
    size_t der_len = 0;
    for (size_t i = 0; i < cs_chain_count(parsed); i++)
      der_len += cs_chain_cert(parsed, i)->der_len;
    uint8_t *der = malloc(der_len); /* freed below */
    if (der == NULL)
      return 1;
    der_len = 0;
    for (size_t i = 0; i < cs_chain_count(parsed); i++) {
      memcpy(der + der_len, cs_chain_cert(parsed, i)->der, cs_chain_cert(parsed, i)->der_len);
      der_len += cs_chain_cert(parsed, i)->der_len;
    }
    cs_chain_free(parsed);
    rate_t e = measure_engine(der, der_len, &o, budget);
    rate_t d = measure(der, der_len, &o, budget, 0);
    rate_t p = measure((const uint8_t *)chain, chain_len, &o, budget / 2, 0);
    rate_t j = measure(der, der_len, &o, budget / 2, 1);
    if (e.n < 0 || d.n < 0 || p.n < 0 || j.n < 0) {
      fprintf(stderr, "bench_replay: analysis failed\n");
      return 1;
    }
    printf("    {\"chain_length\": %zu, \"engine_replays_per_sec\": %.0f, "
           "\"us_per_engine_replay\": %.2f, \"diagnosed_replays_per_sec\": %.0f, "
           "\"diagnosed_pem_replays_per_sec\": %.0f, \"diagnosed_with_json_report_per_sec\": %.0f}%s\n",
           length, e.per_sec, 1e6 / e.per_sec, d.per_sec, p.per_sec, j.per_sec, length < 8 ? "," : "");
    free(der);
    free(chain);
  }
  printf("  ]\n}\n");
  for (size_t i = 0; i < nblocks; i++)
    free(blocks[i]);
  free(pem);
  return 0;
}
