/*
 * Stapling probe against openssl s_server: a staple from -status_file is
 * captured byte for byte with the served chain; a server without a staple
 * gives none; a TLS 1.3-only server is captured by the TLS 1.3 half (its
 * staple read from the leaf's CertificateEntry; test_probe_tls13.c covers
 * it in depth). A flight answering a TLS 1.2-only ClientHello is then re-fed
 * to the passive parser in every split size to prove record/handshake
 * reassembly (for the TLS 1.3-only server: "not observable"). With CS_WRITE_SEEDS=<dir> the flights are
 * written there as fuzz seeds (fuzz/make_seeds_revocation.sh).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "certskew/tls/tls_probe.h"
#include "revocation_fixtures.h"
#include "certskew/fetch/stapling_probe.h"

static char dir[256];

typedef struct probe_out {
  int done, err;
  cs_tls_probe_outcome_t outcome;
  uint8_t ocsp[8192];
  size_t ocsp_len;
  int has_ocsp;
  uint8_t leaf[4096];
  size_t leaf_len, ncerts;
  int acked;
  uint16_t version;
} probe_out_t;

static void on_probe(int err, const cs_tls_probe_result_t *res, const char *detail, void *ud) {
  probe_out_t *o = ud;
  o->done = 1;
  o->err = err;
  o->outcome = res->outcome;
  o->ncerts = res->ncerts;
  o->acked = res->status_request_acked;
  o->version = res->version;
  if (res->ocsp != NULL && res->ocsp_len <= sizeof(o->ocsp)) {
    memcpy(o->ocsp, res->ocsp, res->ocsp_len);
    o->ocsp_len = res->ocsp_len;
    o->has_ocsp = 1;
  }
  if (res->ncerts > 0 && res->cert_lens[0] <= sizeof(o->leaf)) {
    memcpy(o->leaf, res->certs[0], res->cert_lens[0]);
    o->leaf_len = res->cert_lens[0];
  }
  if (err != 0)
    fprintf(stderr, "probe: %s\n", detail);
}

static pid_t start_server(const char *name, const char *opts, int *port_out) {
  for (int attempt = 0; attempt < 5; attempt++) {
    int port = rv_free_port();
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "openssl s_server -accept 127.0.0.1:%d -cert good.crt -key good.key "
             "-cert_chain ca.crt -naccept 4 -www %s", port, opts);
    char log[64]; /* one log per server: a stale "ACCEPT" must not count */
    snprintf(log, sizeof(log), "s_server_%s_%d", name, attempt);
    pid_t pid = rv_spawn_server(dir, log, cmd, "ACCEPT", 5000);
    if (pid > 0) {
      *port_out = port;
      return pid;
    }
  }
  return -1;
}

static void run_probe(int port, probe_out_t *o) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", port, &a);
  cs_stapling_probe_opts_t opts = {(const struct sockaddr *)&a, "good.test", 3000, 3000, NULL, NULL};
  memset(o, 0, sizeof(*o));
  CS_CHECK_EQ_I64(cs_stapling_probe_start(&loop, &opts, on_probe, o), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  CS_CHECK_EQ_I64(uv_loop_close(&loop), 0);
}

/* Raw capture with blocking sockets, to re-feed in every split size. */
static size_t capture(int port, uint8_t *buf, size_t cap) {
  uint8_t hello[CS_TLS_PROBE_HELLO_MAX], rnd[32] = {1, 2, 3};
  size_t hl, n = 0;
  if (cs_tls_probe_hello_build("good.test", rnd, hello, sizeof(hello), &hl) != 0)
    return 0;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", port, &a);
  struct timeval tv = {2, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  cs_tls_probe_parser_t *p = cs_tls_probe_parser_new();
  if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0 && write(s, hello, hl) == (ssize_t)hl) {
    while (n < cap && cs_tls_probe_parser_result(p)->outcome == CS_TLS_PROBE_INCOMPLETE) {
      ssize_t r = read(s, buf + n, cap - n);
      if (r <= 0 || cs_tls_probe_parser_feed(p, buf + n, (size_t)r, NULL) != 0)
        break;
      n += (size_t)r;
    }
  }
  cs_tls_probe_parser_free(p);
  close(s);
  return n;
}

static void refeed(const uint8_t *flight, size_t n, const probe_out_t *want,
                   cs_tls_probe_outcome_t passive) {
  for (size_t step = 1; step <= n; step = step < 16 ? step + 1 : step * 3) {
    cs_tls_probe_parser_t *p = cs_tls_probe_parser_new();
    for (size_t off = 0; off < n; off += step)
      CS_CHECK_EQ_I64(cs_tls_probe_parser_feed(p, flight + off, off + step > n ? n - off : step, NULL), 0);
    const cs_tls_probe_result_t *r = cs_tls_probe_parser_result(p);
    CS_CHECK_EQ_I64(r->outcome, passive);
    if (passive != CS_TLS_PROBE_DONE) {
      cs_tls_probe_parser_free(p);
      continue;
    }
    CS_CHECK_EQ_I64(r->ncerts, want->ncerts);
    CS_CHECK_EQ_I64(r->ocsp != NULL, want->has_ocsp);
    CS_CHECK(r->ocsp == NULL || (r->ocsp_len == want->ocsp_len &&
                                 memcmp(r->ocsp, want->ocsp, r->ocsp_len) == 0));
    cs_tls_probe_parser_free(p);
  }
}

static void write_seed(const char *name, const uint8_t *b, size_t n) {
  const char *out = getenv("CS_WRITE_SEEDS");
  if (out == NULL)
    return;
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", out, name);
  FILE *f = fopen(path, "wb");
  if (f != NULL) {
    fwrite(b, 1, n, f);
    fclose(f);
  }
}

int main(void) {
  if (cs_fx_tempdir(dir, sizeof(dir)) != 0 || rv_make_pki(dir, 8) != 0 ||
      rv_sh(dir, "openssl ocsp -index index.txt -rsigner ca.crt -rkey ca.key -CA ca.crt "
                 "-issuer ca.crt -cert good.crt -respout good.resp -ndays 1") != 0) {
    fprintf(stderr, "cannot build the PKI in %s\n", dir);
    return 1;
  }
  uint8_t *resp, *leaf_pem;
  size_t resp_len, leaf_pem_len;
  CS_CHECK_EQ_I64(rv_read(dir, "good.resp", &resp, &resp_len), 0);
  CS_CHECK_EQ_I64(rv_read(dir, "good.crt", &leaf_pem, &leaf_pem_len), 0);
  mbedtls_x509_crt leaf;
  CS_CHECK_EQ_I64(rv_load_crt(dir, "good.crt", &leaf), 0);
  struct {
    const char *name, *opts;
    cs_tls_probe_outcome_t outcome, passive;
    int staple;
    uint16_t version;
  } t[] = {
      {"staple", "-tls1_2 -status_file good.resp", CS_TLS_PROBE_DONE, CS_TLS_PROBE_DONE, 1, 0x0303},
      {"nostaple", "-tls1_2", CS_TLS_PROBE_DONE, CS_TLS_PROBE_DONE, 0, 0x0303},
      {"tls13only", "-tls1_3 -status_file good.resp", CS_TLS_PROBE_DONE,
       CS_TLS_PROBE_NOT_OBSERVABLE, 1, 0x0304},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    int port;
    pid_t pid = start_server(t[i].name, t[i].opts, &port);
    CS_CHECK(pid > 0);
    if (pid <= 0)
      continue;
    probe_out_t o;
    run_probe(port, &o);
    CS_CHECK(o.done);
    CS_CHECK_EQ_I64(o.err, 0);
    CS_CHECK_EQ_I64(o.outcome, t[i].outcome);
    CS_CHECK_EQ_I64(o.has_ocsp, t[i].staple);
    CS_CHECK_EQ_I64(o.version, t[i].version);
    if (t[i].staple) {
      CS_CHECK_EQ_I64(o.acked, 1);
      CS_CHECK(o.ocsp_len == resp_len && memcmp(o.ocsp, resp, resp_len) == 0);
    }
    if (t[i].outcome == CS_TLS_PROBE_DONE) {
      CS_CHECK_EQ_I64(o.ncerts, 2);
      CS_CHECK(o.leaf_len == leaf.raw.len && memcmp(o.leaf, leaf.raw.p, leaf.raw.len) == 0);
    }
    static uint8_t flight[65536];
    size_t n = capture(port, flight, sizeof(flight));
    CS_CHECK(n > 0);
    refeed(flight, n, &o, t[i].passive);
    char seed[64];
    snprintf(seed, sizeof(seed), "flight_%s.bin", t[i].name);
    write_seed(seed, flight, n);
    rv_kill(pid);
  }
  /* Nobody listening: a network error, promptly. */
  probe_out_t o;
  run_probe(rv_free_port(), &o);
  CS_CHECK(o.done);
  CS_CHECK_EQ_I64(o.err, CS_ENET);
  /* Garbage (an HTTP answer) is a parse error, not a crash. */
  cs_tls_probe_parser_t *p = cs_tls_probe_parser_new();
  const char http[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
  CS_CHECK_EQ_I64(cs_tls_probe_parser_feed(p, (const uint8_t *)http, sizeof(http) - 1, NULL), CS_EPARSE);
  cs_tls_probe_parser_free(p);
  mbedtls_x509_crt_free(&leaf);
  free(resp);
  free(leaf_pem);
  if (cs_test_failures == 0)
    cs_fx_rmdir(dir);
  else
    fprintf(stderr, "kept %s for inspection\n", dir);
  return cs_test_done(__FILE__);
}
