/*
 * The TLS 1.3 capture probe against real servers on loopback:
 *  - openssl s_server -tls1_3 with each TLS 1.3 suite, with and without a
 *    HelloRetryRequest (-groups P-256 / P-384 while our first share is
 *    X25519), RSA (rsa_pss_rsae) and ECDSA P-256 / P-384 keys, a staple
 *    (-status_file) and an SCT list (-serverinfo: ct_fixtures' v2 file,
 *    which OpenSSL puts in the leaf's CertificateEntry), both byte for byte;
 *    a server asking for a client certificate (CertificateRequest);
 *  - a ~20 KB chain sent in 512-byte records (-max_send_frag 512), and a
 *    70-certificate chain refused explicitly (CS_ETOOBIG), in TLS 1.3 and 1.2;
 *  - gnutls-serv in TLS 1.3 only (each suite, and HRR), with its staple;
 *  - a TLS 1.2-only server still captured by the 1.2 path, and a server
 *    whose SCTs travel in TLS 1.2 only (version-1 serverinfo): the TLS 1.3
 *    capture gets them from the I/O half's TLS 1.2 follow-up;
 *  - a server whose key file has the certificate's public key but another
 *    private scalar (OpenSSL checks only the public half): its
 *    CertificateVerify is reported as BAD_CERT_VERIFY, never a capture.
 * Each TLS 1.3 flight is then replayed into a client with the same
 * deterministic RNG in every split size (same keys, so it decrypts), and,
 * with CS_WRITE_SEEDS=<dir>, its decrypted messages are written as seeds for
 * fuzz/fuzz_tls13_messages.c (and with CS_WRITE_FLIGHTS=<dir> the HRR
 * flights for fuzz/fuzz_tls_probe.c; fuzz/make_seeds_tls13.sh).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <mbedtls/pem.h>

#include "certskew/tls/tls_probe.h"
#include "ct_fixtures.h"
#include "revocation_fixtures.h"
#include "certskew/fetch/stapling_probe.h"
#include "tls13_internal.h"

static char dir[256];

typedef struct out {
  int done, err;
  char detail[256];
  cs_tls_probe_outcome_t outcome;
  uint16_t version, suite, group, cv_alg;
  int hrr, acked;
  cs_tls_probe_cv_t cv;
  char alpn[256];
  size_t ncerts;
  uint8_t leaf[4096], ocsp[8192], sct[1024];
  size_t leaf_len, ocsp_len, sct_len;
} out_t;

static void copy_result(out_t *o, const cs_tls_probe_result_t *r) {
  o->outcome = r->outcome;
  o->version = r->version;
  o->suite = r->cipher_suite;
  o->group = r->group;
  o->hrr = r->hrr;
  o->acked = r->status_request_acked;
  o->cv = r->cert_verify;
  o->cv_alg = r->cert_verify_alg;
  snprintf(o->alpn, sizeof(o->alpn), "%s", r->alpn);
  o->ncerts = r->ncerts;
  if (r->ncerts > 0 && r->cert_lens[0] <= sizeof(o->leaf)) {
    memcpy(o->leaf, r->certs[0], r->cert_lens[0]);
    o->leaf_len = r->cert_lens[0];
  }
  if (r->ocsp != NULL && r->ocsp_len <= sizeof(o->ocsp)) {
    memcpy(o->ocsp, r->ocsp, r->ocsp_len);
    o->ocsp_len = r->ocsp_len;
  }
  if (r->sct_list != NULL && r->sct_list_len <= sizeof(o->sct)) {
    memcpy(o->sct, r->sct_list, r->sct_list_len);
    o->sct_len = r->sct_list_len;
  }
}

static void on_probe(int err, const cs_tls_probe_result_t *res, const char *detail, void *ud) {
  out_t *o = ud;
  o->done = 1;
  o->err = err;
  snprintf(o->detail, sizeof(o->detail), "%s", detail != NULL ? detail : "");
  copy_result(o, res);
}

/* The I/O half, as enrich.c and passthrough.c use it (its own RNG). */
static void run_probe(int port, out_t *o) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", port, &a);
  cs_stapling_probe_opts_t opts = {(const struct sockaddr *)&a, "good.test", 3000, 5000, NULL,
                                   NULL};
  memset(o, 0, sizeof(*o));
  CS_CHECK_EQ_I64(cs_stapling_probe_start(&loop, &opts, on_probe, o), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  CS_CHECK_EQ_I64(uv_loop_close(&loop), 0);
}

/* Blocking driver with a deterministic RNG: records every server byte. */
static size_t capture(int port, const char *label, uint8_t *buf, size_t cap) {
  ct_rng_t rng;
  cs_tls_probe_parser_t *p = NULL;
  size_t n = 0;
  if (ct_rng_init(&rng, label) != 0)
    return 0;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", port, &a);
  struct timeval tv = {3, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (cs_tls_probe_client_new("good.test", ct_rng, &rng, &p, NULL) != 0 ||
      connect(s, (struct sockaddr *)&a, sizeof(a)) != 0)
    goto out;
  for (;;) {
    const uint8_t *o;
    size_t ol;
    cs_tls_probe_parser_take_output(p, &o, &ol);
    if (ol > 0 && write(s, o, ol) != (ssize_t)ol)
      break;
    if (n == cap || cs_tls_probe_parser_result(p)->outcome != CS_TLS_PROBE_INCOMPLETE)
      break;
    ssize_t r = read(s, buf + n, cap - n);
    if (r <= 0 || cs_tls_probe_parser_feed(p, buf + n, (size_t)r, NULL) != 0)
      break;
    n += (size_t)r;
  }
out:
  cs_tls_probe_parser_free(p);
  ct_rng_free(&rng);
  close(s);
  return n;
}

/* Replays a captured flight into a client with the same RNG, in splits. */
static void refeed(const uint8_t *flight, size_t n, const char *label, const out_t *want) {
  static const size_t steps[] = {1, 2, 3, 5, 7, 64, 511, 4096, 1 << 20};
  for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
    ct_rng_t rng;
    cs_tls_probe_parser_t *p = NULL;
    CS_REQUIRE(ct_rng_init(&rng, label) == 0);
    CS_REQUIRE(cs_tls_probe_client_new("good.test", ct_rng, &rng, &p, NULL) == 0);
    const uint8_t *o;
    size_t ol;
    int ret = 0;
    for (size_t off = 0; off < n && ret == 0; off += steps[k]) {
      cs_tls_probe_parser_take_output(p, &o, &ol);
      ret = cs_tls_probe_parser_feed(p, flight + off, off + steps[k] > n ? n - off : steps[k],
                                     NULL);
    }
    CS_CHECK_EQ_I64(ret, 0);
    out_t got;
    memset(&got, 0, sizeof(got));
    copy_result(&got, cs_tls_probe_parser_result(p));
    CS_CHECK_EQ_I64(got.outcome, want->outcome);
    CS_CHECK_EQ_I64(got.suite, want->suite);
    CS_CHECK_EQ_I64(got.hrr, want->hrr);
    CS_CHECK_EQ_I64(got.ncerts, want->ncerts);
    CS_CHECK(got.ocsp_len == want->ocsp_len && memcmp(got.ocsp, want->ocsp, got.ocsp_len) == 0);
    CS_CHECK(got.sct_len == want->sct_len && memcmp(got.sct, want->sct, got.sct_len) == 0);
    cs_tls_probe_parser_free(p);
    ct_rng_free(&rng);
  }
}

/* ---- fuzz seeds: the flight's messages, decrypted with the replayed keys ---- */

/* Writes dir $env/name: the selector byte (if sel >= 0), then b. */
static void write_file(const char *env, const char *name, int sel, const uint8_t *b, size_t n) {
  const char *outdir = getenv(env);
  if (outdir == NULL)
    return;
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", outdir, name);
  FILE *f = fopen(path, "wb");
  if (f != NULL) {
    uint8_t s = (uint8_t)sel;
    if (sel >= 0)
      fwrite(&s, 1, 1, f);
    fwrite(b, 1, n, f);
    fclose(f);
  }
}

static void write_seed(const char *name, uint8_t sel, const uint8_t *b, size_t n) {
  write_file("CS_WRITE_SEEDS", name, sel, b, n);
}

static void write_message_seeds(const char *tag, const uint8_t *flight, size_t n,
                                const char *label) {
  if (getenv("CS_WRITE_SEEDS") == NULL)
    return;
  static uint8_t hs[512 * 1024], plain[CS_TLS13_REC_MAX];
  size_t hs_len = 0, used = 0;
  ct_rng_t rng;
  cs_tls13_client_t *c = NULL;
  cs_tls_probe_result_t res;
  memset(&res, 0, sizeof(res));
  if (ct_rng_init(&rng, label) != 0 || cs_tls13_client_new("good.test", ct_rng, &rng, &c, NULL) != 0)
    goto out;
  int keyed = 0;
  for (size_t off = 0; off + 5 <= n;) {
    size_t rl = (size_t)flight[off + 3] << 8 | flight[off + 4];
    if (off + 5 + rl > n)
      break;
    if (flight[off] == 22 && !keyed && rl + hs_len <= sizeof(hs)) {
      memcpy(hs + hs_len, flight + off + 5, rl);
      hs_len += rl;
    } else if (flight[off] == 23 && keyed) {
      size_t pl;
      uint8_t inner;
      if (cs_tls13_client_open(c, flight + off, flight + off + 5, rl, plain, &pl, &inner, NULL) != 0)
        break;
      if (inner == 22 && pl + hs_len <= sizeof(hs)) {
        memcpy(hs + hs_len, plain, pl);
        hs_len += pl;
      }
    }
    off += 5 + rl;
    while (hs_len - used >= 4) { /* whole messages */
      size_t ml = (size_t)hs[used + 1] << 16 | (size_t)hs[used + 2] << 8 | hs[used + 3];
      if (hs_len - used - 4 < ml)
        break;
      const uint8_t *body = hs + used + 4;
      char name[96];
      uint8_t t = hs[used];
      snprintf(name, sizeof(name), "%s_msg%u.bin", tag, t);
      if (t == 2) {
        cs_tls13_server_hello_t sh;
        int hrr = cs_tls13_server_hello_parse(body, ml, &sh, NULL) == 0 && sh.hrr;
        snprintf(name, sizeof(name), "%s_%s.bin", tag, hrr ? "hrr" : "sh");
        write_seed(name, 0, body, ml);
        if (hrr ? cs_tls13_client_hrr(c, body, ml, &res, NULL) != 0
                : cs_tls13_client_server_hello(c, body, ml, &res, NULL) != 0)
          goto out;
        keyed = !hrr;
      } else if (t == 8 || t == 11 || t == 15) {
        write_seed(name, t == 8 ? 1 : t == 11 ? 2 : 3, body, ml);
      }
      used += 4 + ml;
    }
  }
out:
  cs_tls13_client_free(c);
  ct_rng_free(&rng);
}

/* ---- servers ---- */

static pid_t start(const char *name, const char *fmt_cmd, const char *ready, int *port_out) {
  for (int attempt = 0; attempt < 5; attempt++) {
    int port = rv_free_port();
    char cmd[2048], log[96];
    const char *at = strstr(fmt_cmd, "%d"); /* the port's place in the command */
    if (at == NULL)
      return -1;
    snprintf(cmd, sizeof(cmd), "%.*s%d%s", (int)(at - fmt_cmd), fmt_cmd, port, at + 2);
    snprintf(log, sizeof(log), "srv_%s_%d", name, attempt);
    pid_t pid = rv_spawn_server(dir, log, cmd, ready, 8000);
    if (pid > 0) {
      *port_out = port;
      return pid;
    }
  }
  return -1;
}

typedef struct tcase {
  const char *name;
  const char *server;   /* command format with %d for the port */
  const char *ready;
  int err;              /* expected probe error (0: a final outcome) */
  cs_tls_probe_outcome_t outcome;
  uint16_t version, suite, group;
  int hrr;
  uint16_t cv_alg;      /* 0: not checked */
  int staple, sct;      /* byte-exact expectations */
  size_t ncerts;        /* 0: not checked */
  const char *alpn;
} tcase_t;

#define OSSL "openssl s_server -accept 127.0.0.1:%d -naccept 3 -www "
#define OSSL13 OSSL "-tls1_3 -status_file good.resp -serverinfo serverinfo.pem "
#define RSA "-cert rsa.crt -key rsa.key "
#define EC256 "-cert good.crt -key good.key -cert_chain ca.crt "
#define EC384 "-cert ec384.crt -key ec384.key "
#define GNUTLS "gnutls-serv --port %d --x509certfile rsa.crt --x509keyfile rsa.key "  \
               "--ocsp-response good.resp --ignore-ocsp-response-errors --priority "     \
               "NORMAL:-VERS-ALL:+VERS-TLS1.3"

static const tcase_t CASES[] = {
    {"aes128", OSSL13 RSA "-ciphersuites TLS_AES_128_GCM_SHA256", "ACCEPT", 0, CS_TLS_PROBE_DONE,
     0x0304, 0x1301, 0x1D, 0, 0x0804, 1, 1, 1, NULL},
    {"aes256", OSSL13 RSA "-ciphersuites TLS_AES_256_GCM_SHA384", "ACCEPT", 0, CS_TLS_PROBE_DONE,
     0x0304, 0x1302, 0x1D, 0, 0x0804, 1, 1, 1, NULL},
    {"chacha", OSSL13 RSA "-ciphersuites TLS_CHACHA20_POLY1305_SHA256", "ACCEPT", 0,
     CS_TLS_PROBE_DONE, 0x0304, 0x1303, 0x1D, 0, 0x0804, 1, 1, 1, NULL},
    {"aes128_hrr", OSSL13 RSA "-ciphersuites TLS_AES_128_GCM_SHA256 -groups P-256", "ACCEPT", 0,
     CS_TLS_PROBE_DONE, 0x0304, 0x1301, 0x17, 1, 0x0804, 1, 1, 1, NULL},
    {"aes256_hrr", OSSL13 RSA "-ciphersuites TLS_AES_256_GCM_SHA384 -groups P-256", "ACCEPT", 0,
     CS_TLS_PROBE_DONE, 0x0304, 0x1302, 0x17, 1, 0x0804, 1, 1, 1, NULL},
    {"chacha_hrr", OSSL13 RSA "-ciphersuites TLS_CHACHA20_POLY1305_SHA256 -groups P-256",
     "ACCEPT", 0, CS_TLS_PROBE_DONE, 0x0304, 0x1303, 0x17, 1, 0x0804, 1, 1, 1, NULL},
    {"ecdsa256_alpn", OSSL13 EC256 "-alpn h2", "ACCEPT", 0, CS_TLS_PROBE_DONE, 0x0304, 0x1301,
     0x1D, 0, 0x0403, 1, 1, 2, "h2"},
    {"ecdsa384_hrr384", OSSL13 EC384 "-groups P-384", "ACCEPT", 0, CS_TLS_PROBE_DONE, 0x0304,
     0x1301, 0x18, 1, 0x0503, 1, 1, 1, NULL},
    /* A CertificateRequest between EncryptedExtensions and Certificate. */
    {"certreq", OSSL13 RSA "-verify 1", "ACCEPT", 0, CS_TLS_PROBE_DONE, 0x0304, 0x1301, 0x1D, 0,
     0x0804, 1, 1, 1, NULL},
    {"chain41_frag512", OSSL13 RSA "-cert_chain pad40.pem -max_send_frag 512", "ACCEPT", 0,
     CS_TLS_PROBE_DONE, 0x0304, 0x1301, 0x1D, 0, 0x0804, 1, 1, 41, NULL},
    {"chain71", OSSL "-tls1_3 " RSA "-cert_chain pad70.pem", "ACCEPT", CS_ETOOBIG,
     CS_TLS_PROBE_INCOMPLETE, 0x0304, 0x1302, 0x1D, 0, 0, 0, 0, 0, NULL},
    {"tls12_chain41", OSSL "-tls1_2 -status_file good.resp " RSA "-cert_chain pad40.pem "
     "-max_send_frag 512", "ACCEPT", 0, CS_TLS_PROBE_DONE, 0x0303, 0, 0, 0, 0, 1, 0, 41, NULL},
    {"tls12_chain71", OSSL "-tls1_2 " RSA "-cert_chain pad70.pem", "ACCEPT", CS_ETOOBIG,
     CS_TLS_PROBE_INCOMPLETE, 0x0303, 0, 0, 0, 0, 0, 0, 0, NULL},
    {"bad_cert_verify", OSSL "-tls1_3 -cert bad.crt -key badpriv.key", "ACCEPT", 0,
     CS_TLS_PROBE_BAD_CERT_VERIFY, 0x0304, 0x1301, 0x1D, 0, 0x0403, 0, 0, 1, NULL},
    {"gnutls_aes128", GNUTLS ":-CIPHER-ALL:+AES-128-GCM", "listening", 0, CS_TLS_PROBE_DONE,
     0x0304, 0x1301, 0x1D, 0, 0x0804, 1, 0, 1, NULL},
    {"gnutls_aes256", GNUTLS ":-CIPHER-ALL:+AES-256-GCM", "listening", 0, CS_TLS_PROBE_DONE,
     0x0304, 0x1302, 0x1D, 0, 0x0804, 1, 0, 1, NULL},
    {"gnutls_chacha", GNUTLS ":-CIPHER-ALL:+CHACHA20-POLY1305", "listening", 0,
     CS_TLS_PROBE_DONE, 0x0304, 0x1303, 0x1D, 0, 0x0804, 1, 0, 1, NULL},
    {"gnutls_hrr", GNUTLS ":-GROUP-ALL:+GROUP-SECP256R1", "listening", 0, CS_TLS_PROBE_DONE,
     0x0304, 0, 0x17, 1, 0x0804, 1, 0, 1, NULL},
};

static const char PKI[] =
    "set -e\n"
    "openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.crt -subj /CN=good.test "
    "-days 2 2>/dev/null\n"
    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout ec384.key "
    "-out ec384.crt -subj /CN=good.test -days 2 2>/dev/null\n"
    /* ~500-byte padding certificates for the long chains */
    "for i in $(seq 70); do openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
    "-nodes -keyout /dev/null -subj \"/CN=padding certificate $i/O=certskew chain length test\" "
    "-days 2 2>/dev/null; done > pad70.pem\n"
    "awk '/BEGIN/{n++} n<=40' pad70.pem > pad40.pem\n"
    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout bad.key "
    "-out bad.crt -subj /CN=good.test -days 2 2>/dev/null\n"
    "openssl ocsp -index index.txt -rsigner ca.crt -rkey ca.key -CA ca.crt -issuer ca.crt "
    "-cert good.crt -respout good.resp -ndays 1";

/* openssl's version-1 serverinfo: OpenSSL sends it in TLS 1.2 only. */
static int write_serverinfo_v1(const uint8_t *list, size_t len) {
  uint8_t ext[4 + 256];
  unsigned char pem[1024];
  size_t olen = 0;
  if (len > 256)
    return -1;
  const uint8_t hdr[4] = {0, 18, (uint8_t)(len >> 8), (uint8_t)len};
  memcpy(ext, hdr, 4);
  memcpy(ext + 4, list, len);
  if (mbedtls_pem_write_buffer("-----BEGIN SERVERINFO FOR CT-----\n",
                               "-----END SERVERINFO FOR CT-----\n", ext, len + 4, pem,
                               sizeof(pem), &olen) != 0)
    return -1;
  return cs_fx_write(dir, "serverinfo_v1.pem", pem, strlen((char *)pem), NULL);
}

/* SCTs only in TLS 1.2: the TLS 1.3 capture takes them from the follow-up. */
static void test_tls12_follow_up(const uint8_t *sct, size_t sct_len, const uint8_t *resp,
                                 size_t resp_len) {
  int port;
  CS_CHECK_EQ_I64(write_serverinfo_v1(sct, sct_len), 0);
  pid_t pid = start("followup", OSSL "-status_file good.resp -serverinfo serverinfo_v1.pem " RSA,
                    "ACCEPT", &port);
  CS_CHECK(pid > 0);
  if (pid <= 0)
    return;
  out_t o;
  run_probe(port, &o);
  CS_CHECK_EQ_I64(o.err, 0);
  CS_CHECK_EQ_I64(o.outcome, CS_TLS_PROBE_DONE);
  CS_CHECK_EQ_I64(o.version, 0x0304);
  CS_CHECK_EQ_I64(o.cv, CS_TLS_PROBE_CV_VERIFIED);
  CS_CHECK(o.ocsp_len == resp_len && memcmp(o.ocsp, resp, resp_len) == 0); /* from TLS 1.3 */
  CS_CHECK(o.sct_len == sct_len && memcmp(o.sct, sct, sct_len) == 0);      /* from TLS 1.2 */
  CS_CHECK_MSG(strstr(o.detail, "SCT list from a TLS 1.2 follow-up") != NULL, "%s", o.detail);
  fprintf(stderr, "  followup: %s\n", o.detail);
  rv_kill(pid);
}

static int have_gnutls(void) { return system("gnutls-serv --version >/dev/null 2>&1") == 0; }

int main(void) {
  if (cs_fx_tempdir(dir, sizeof(dir)) != 0 || rv_make_pki(dir, 8) != 0 || rv_sh(dir, PKI) != 0 ||
      rv_make_foreign_scalar_key(dir, "bad.key", "badpriv.key") != 0) {
    fprintf(stderr, "cannot build the PKI in %s\n", dir);
    return 1;
  }
  /* An SCT list as a server would send it: one SCT (v1, log id, time, no
   * extensions, a dummy signature): the probe carries it opaque. */
  uint8_t sct[2 + 2 + 47 + 8];
  memset(sct, 0, sizeof(sct));
  sct[1] = sizeof(sct) - 2;
  sct[3] = sizeof(sct) - 4;
  for (size_t i = 5; i < sizeof(sct); i++)
    sct[i] = (uint8_t)(i * 7);
  sct[4] = 0;                       /* v1 */
  uint8_t *resp;
  size_t resp_len;
  if (ct_write_serverinfo(dir, sct, sizeof(sct), NULL) != 0 || rv_read(dir, "good.resp", &resp, &resp_len) != 0) {
    fprintf(stderr, "cannot write the server files in %s\n", dir);
    return 1;
  }
  int gnutls = have_gnutls();
  if (!gnutls)
    fprintf(stderr, "gnutls-serv not installed: GnuTLS cases skipped (apt-get install gnutls-bin)\n");
  for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
    const tcase_t *t = &CASES[i];
    if (strncmp(t->name, "gnutls", 6) == 0 && !gnutls)
      continue;
    int port;
    pid_t pid = start(t->name, t->server, t->ready, &port);
    CS_CHECK(pid > 0);
    if (pid <= 0)
      continue;
    fprintf(stderr, "case %s\n", t->name);
    out_t o;
    run_probe(port, &o);
    CS_CHECK(o.done);
    CS_CHECK_EQ_I64(o.err, t->err);
    if (o.err != 0)
      fprintf(stderr, "  %s: %s\n", t->name, o.detail);
    if (t->err == 0) {
      CS_CHECK_EQ_I64(o.outcome, t->outcome);
      CS_CHECK_EQ_I64(o.version, t->version);
      if (t->suite != 0)
        CS_CHECK_EQ_I64(o.suite, t->suite);
      CS_CHECK_EQ_I64(o.hrr, t->hrr);
      if (t->version == 0x0304) {
        CS_CHECK_EQ_I64(o.group, t->group);
        CS_CHECK_EQ_I64(o.cv_alg, t->cv_alg);
        CS_CHECK_EQ_I64(o.cv, t->outcome == CS_TLS_PROBE_DONE ? CS_TLS_PROBE_CV_VERIFIED
                                                              : CS_TLS_PROBE_CV_BAD_SIGNATURE);
      }
      CS_CHECK_EQ_I64(o.acked, t->staple);
      CS_CHECK(!t->staple || (o.ocsp_len == resp_len && memcmp(o.ocsp, resp, resp_len) == 0));
      CS_CHECK(!t->sct || (o.sct_len == sizeof(sct) && memcmp(o.sct, sct, sizeof(sct)) == 0));
      if (t->ncerts != 0)
        CS_CHECK_EQ_I64(o.ncerts, t->ncerts);
      CS_CHECK_EQ_STR(o.alpn, t->alpn != NULL ? t->alpn : "");
      fprintf(stderr, "  %s: %s\n", t->name, o.detail);
    }
    if (t->version == 0x0304 && t->err == 0) {
      static uint8_t flight[1 << 20];
      char label[64];
      snprintf(label, sizeof(label), "tls13 %s", t->name);
      size_t n = capture(port, label, flight, sizeof(flight));
      CS_CHECK(n > 0);
      refeed(flight, n, label, &o);
      write_message_seeds(t->name, flight, n, label);
      char fname[96]; /* whole flights for fuzz_tls_probe's client mode */
      snprintf(fname, sizeof(fname), "flight13_%s.bin", t->name);
      if (t->hrr)
        write_file("CS_WRITE_FLIGHTS", fname, -1, flight, n);
    }
    rv_kill(pid);
  }
  test_tls12_follow_up(sct, sizeof(sct), resp, resp_len);
  free(resp);
  if (cs_test_failures == 0)
    cs_fx_rmdir(dir);
  else
    fprintf(stderr, "kept %s for inspection\n", dir);
  return cs_test_done(__FILE__);
}
