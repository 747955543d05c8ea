/*
 * CRLs made by `openssl ca -gencrl` are parsed and judged; CRL and caIssuers
 * (DER and PKCS#7 certs-only from `openssl crl2pkcs7`) are fetched over real
 * HTTP from python3's http.server through our libuv fetcher, from the URLs
 * the certificate's own AIA / CRLDP extensions name.
 */
#include <string.h>
#include <time.h>

#include "certskew/revocation/crl.h"
#include "certskew/revocation/revocation.h"
#include "certskew/fetch/http_fetch.h"
#include "certskew/fetch/ocsp_fetch.h"
#include "revocation_fixtures.h"

static char dir[256];
static int http_port;

static int load_crl(const char *name, cs_crl_info_t *crl) {
  uint8_t *buf;
  size_t len;
  cs_crl_info_init(crl);
  if (rv_read(dir, name, &buf, &len) != 0)
    return -1;
  int ret = cs_crl_parse(crl, buf, len, NULL);
  free(buf);
  return ret;
}

static void test_parse(const mbedtls_x509_crt *ca, const mbedtls_x509_crt *other) {
  static const char *files[] = {"ca.crl", "ca.crl.pem"};
  mbedtls_x509_crt good, revoked;
  CS_CHECK_EQ_I64(rv_load_crt(dir, "good.crt", &good), 0);
  CS_CHECK_EQ_I64(rv_load_crt(dir, "revoked.crt", &revoked), 0);
  int64_t now_ms = (int64_t)time(NULL) * 1000;
  for (size_t i = 0; i < 2; i++) {
    cs_crl_info_t crl;
    CS_CHECK_EQ_I64(load_crl(files[i], &crl), 0);
    CS_CHECK(strcmp(crl.issuer, "CN=RV Test CA") == 0);
    CS_CHECK_EQ_I64(crl.nentries, 1);
    CS_CHECK(crl.has_next_update);
    CS_CHECK_EQ_I64(crl.next_update_ms - crl.this_update_ms, 7 * CS_MS_PER_DAY); /* default_crl_days */
    CS_CHECK(crl.this_update_ms > now_ms - 10 * CS_MS_PER_MINUTE &&
             crl.this_update_ms <= now_ms + CS_MS_PER_MINUTE);
    CS_CHECK_EQ_I64(cs_crl_verify(&crl, ca, NULL), 0);
    CS_CHECK_EQ_I64(cs_crl_verify(&crl, other, NULL), CS_ENOTFOUND);
    int64_t when = 0;
    CS_CHECK_EQ_I64(cs_crl_find_serial(&crl, revoked.serial.p, revoked.serial.len, &when), 1);
    CS_CHECK(when > now_ms - 10 * CS_MS_PER_MINUTE && when <= now_ms + CS_MS_PER_MINUTE);
    CS_CHECK_EQ_I64(cs_crl_find_serial(&crl, good.serial.p, good.serial.len, NULL), 0);
    CS_CHECK_EQ_I64(cs_crl_parse(&crl, (const uint8_t *)"x", 1, NULL), CS_ESTATE);
    cs_crl_info_free(&crl);
    cs_crl_info_free(&crl);
  }
  /* Bad input: clear errors. */
  cs_crl_info_t crl;
  cs_crl_info_init(&crl);
  CS_CHECK_EQ_I64(cs_crl_parse(&crl, (const uint8_t *)"", 0, NULL), CS_EEMPTY);
  CS_CHECK_EQ_I64(cs_crl_parse(&crl, (const uint8_t *)"\x30\x03\x02\x01\x01", 5, NULL), CS_EPARSE);
  /* A flipped signature byte: parses, does not verify. */
  uint8_t *buf;
  size_t len;
  CS_CHECK_EQ_I64(rv_read(dir, "ca.crl", &buf, &len), 0);
  buf[len - 1] ^= 0x01;
  CS_CHECK_EQ_I64(cs_crl_parse(&crl, buf, len, NULL), 0);
  CS_CHECK_EQ_I64(cs_crl_verify(&crl, ca, NULL), CS_ECRYPTO);
  /* openssl agrees it is bad (it exits 0 either way, so read its verdict). */
  char path[512];
  snprintf(path, sizeof(path), "%s/bad.crl", dir);
  FILE *f = fopen(path, "wb");
  if (f != NULL) {
    fwrite(buf, 1, len, f);
    fclose(f);
  }
  CS_CHECK(rv_sh(dir, "openssl crl -inform DER -in bad.crl -CAfile ca.crt -noout 2>&1 | "
                     "grep -q 'verify OK'") != 0);
  CS_CHECK_EQ_I64(rv_sh(dir, "openssl crl -inform DER -in ca.crl -CAfile ca.crt -noout 2>&1 | "
                         "grep -q 'verify OK'"), 0);
  free(buf);

  /* Diagnosis table. */
  cs_crl_info_t good_crl;
  CS_CHECK_EQ_I64(load_crl("ca.crl", &good_crl), 0);
  int64_t t0 = good_crl.this_update_ms, nb = t0 - CS_MS_PER_DAY;
  struct {
    const mbedtls_x509_crt *leaf;
    const cs_crl_info_t *crl;
    int64_t at_ms;
    const char *code;
    int present;
  } t[] = {
      {&revoked, &good_crl, t0 + 1000, "REVOKED", 1},
      {&good, &good_crl, t0 + 1000, "REVOKED", 0},
      {&good, &good_crl, t0 + 1000, "CRL_STALE", 0},
      {&good, &good_crl, good_crl.next_update_ms, "CRL_STALE", 0},
      {&good, &good_crl, good_crl.next_update_ms + 1, "CRL_STALE", 1},
      {&good, &crl, t0 + 1000, "CRL_BAD_SIGNATURE", 1},
      {&good, &good_crl, t0 + 1000, "CRL_BAD_SIGNATURE", 0},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    cs_findings_t *fs = cs_findings_new();
    cs_revocation_input_t in = {t[i].leaf, ca, nb, NULL, 1, NULL, t[i].crl, 0, t[i].at_ms, 0, 0};
    CS_CHECK_EQ_I64(cs_revocation_diagnose(&in, fs), 0);
    if (cs_findings_has(fs, t[i].code) != t[i].present)
      fprintf(stderr, "CRL diagnosis case %zu: %s expected %d\n", i, t[i].code, t[i].present);
    CS_CHECK_EQ_I64(cs_findings_has(fs, t[i].code), t[i].present);
    CS_CHECK(cs_findings_has(fs, "OCSP_NO_STAPLE"));
    cJSON *j = cs_revocation_to_json(&in);
    CS_CHECK(j != NULL && cJSON_GetObjectItem(j, "crl") != NULL);
    cJSON_Delete(j);
    cs_findings_free(fs);
  }
  /* Time checks: thisUpdate at-or-after, nextUpdate at-or-before. */
  cs_time_check_t checks[CS_REVOCATION_MAX_CHECKS];
  size_t n = 0;
  CS_CHECK_EQ_I64(cs_revocation_time_checks(NULL, NULL, NULL, &good_crl, checks,
                                        CS_REVOCATION_MAX_CHECKS, &n), 0);
  CS_CHECK_EQ_I64(n, 2);
  CS_CHECK_EQ_I64(checks[0].kind, CS_CHECK_CRL_THIS_UPDATE);
  CS_CHECK_EQ_I64(checks[0].dir, CS_NEED_AT_OR_AFTER);
  CS_CHECK_EQ_I64(checks[0].bound_ms, t0);
  CS_CHECK_EQ_I64(checks[1].kind, CS_CHECK_CRL_NEXT_UPDATE);
  CS_CHECK_EQ_I64(checks[1].dir, CS_NEED_AT_OR_BEFORE);
  CS_CHECK_EQ_I64(checks[1].bound_ms, good_crl.next_update_ms);
  cs_crl_info_free(&good_crl);
  cs_crl_info_free(&crl);
  mbedtls_x509_crt_free(&good);
  mbedtls_x509_crt_free(&revoked);
}

typedef struct out {
  int done, err;
  cs_crl_info_t *crl;
  mbedtls_x509_crt *certs;
  char detail[256];
  int status;
  size_t body_len;
} out_t;

static void on_crl(int err, cs_crl_info_t *crl, const char *detail, void *ud) {
  out_t *o = ud;
  o->done = 1;
  o->err = err;
  o->crl = crl;
  snprintf(o->detail, sizeof(o->detail), "%s", detail);
}

static void on_aia(int err, mbedtls_x509_crt *certs, const char *detail, void *ud) {
  out_t *o = ud;
  o->done = 1;
  o->err = err;
  o->certs = certs;
  snprintf(o->detail, sizeof(o->detail), "%s", detail);
}

static void on_http(const cs_http_result_t *r, void *ud) {
  out_t *o = ud;
  o->done = 1;
  o->err = r->error;
  o->status = r->status;
  o->body_len = r->body_len;
}

static void test_fetch(const mbedtls_x509_crt *ca) {
  mbedtls_x509_crt good;
  CS_CHECK_EQ_I64(rv_load_crt(dir, "good.crt", &good), 0);
  cs_revocation_urls_t urls, none;
  CS_CHECK_EQ_I64(cs_revocation_urls_get(&good, &urls), 0);
  char want[128];
  snprintf(want, sizeof(want), "http://127.0.0.1:%d/", http_port);
  CS_CHECK(strcmp(urls.ocsp, want) == 0);
  snprintf(want, sizeof(want), "http://127.0.0.1:%d/ca.der", http_port);
  CS_CHECK(strcmp(urls.ca_issuers, want) == 0);
  snprintf(want, sizeof(want), "http://127.0.0.1:%d/ca.crl", http_port);
  CS_CHECK(strcmp(urls.crl, want) == 0);
  CS_CHECK_EQ_I64(cs_revocation_urls_get(ca, &none), 0);
  CS_CHECK(none.ocsp[0] == '\0' && none.ca_issuers[0] == '\0' && none.crl[0] == '\0');

  char cmd[256];
  snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -u -m http.server --bind 127.0.0.1 %d", http_port);
  pid_t pid = rv_spawn_server(dir, "httpd", cmd, "Serving HTTP", 10000);
  CS_CHECK(pid > 0);
  if (pid <= 0)
    goto done;
  uv_loop_t loop;
  uv_loop_init(&loop);
  out_t o;
  memset(&o, 0, sizeof(o));
  CS_CHECK_EQ_I64(cs_crl_fetch(&loop, urls.crl, 5000, on_crl, &o), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  CS_CHECK(o.done && o.err == 0 && o.crl != NULL);
  if (o.crl != NULL) {
    CS_CHECK_EQ_I64(cs_crl_verify(o.crl, ca, NULL), 0);
    cs_crl_info_free(o.crl);
    free(o.crl);
  }
  /* caIssuers as DER and as PKCS#7 certs-only: both give the CA. */
  char p7[128];
  snprintf(p7, sizeof(p7), "http://127.0.0.1:%d/ca.p7c", http_port);
  const char *aia_urls[] = {urls.ca_issuers, p7};
  for (size_t i = 0; i < 2; i++) {
    memset(&o, 0, sizeof(o));
    CS_CHECK_EQ_I64(cs_aia_fetch(&loop, aia_urls[i], 5000, on_aia, &o), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CS_CHECK(o.done && o.err == 0 && o.certs != NULL);
    if (o.certs != NULL) {
      CS_CHECK(o.certs->raw.len == ca->raw.len &&
               memcmp(o.certs->raw.p, ca->raw.p, ca->raw.len) == 0);
      mbedtls_x509_crt_free(o.certs);
      free(o.certs);
    }
  }
  /* 404 and an oversize body are clear errors. */
  memset(&o, 0, sizeof(o));
  snprintf(p7, sizeof(p7), "http://127.0.0.1:%d/missing.crl", http_port);
  CS_CHECK_EQ_I64(cs_crl_fetch(&loop, p7, 5000, on_crl, &o), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  CS_CHECK(o.done && o.err == CS_ENET && strstr(o.detail, "404") != NULL && o.crl == NULL);
  memset(&o, 0, sizeof(o));
  cs_http_request_t hr = {urls.crl, "GET", NULL, NULL, 0, 5000, 16};
  CS_CHECK_EQ_I64(cs_http_fetch(&loop, &hr, on_http, &o), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  CS_CHECK(o.done);
  CS_CHECK_EQ_I64(o.err, CS_ETOOBIG);
  hr.max_body = 0;
  memset(&o, 0, sizeof(o));
  CS_CHECK_EQ_I64(cs_http_fetch(&loop, &hr, on_http, &o), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  CS_CHECK(o.done && o.err == 0 && o.status == 200);
  CS_CHECK_EQ_I64(uv_loop_close(&loop), 0);
  rv_kill(pid);
  /* AIA-completed chains: the diagnosis names the clients that break. */
  cs_findings_t *fs = cs_findings_new();
  cs_revocation_input_t in = {&good, ca, 0, NULL, 0, NULL, NULL, 1, CS_MS_PER_DAY, 0, 0};
  CS_CHECK_EQ_I64(cs_revocation_diagnose(&in, fs), 0);
  CS_CHECK(cs_findings_has(fs, "AIA_FETCHED_INTERMEDIATE"));
  CS_CHECK(cs_findings_has(fs, "STAPLING_NOT_OBSERVABLE"));
  cs_findings_free(fs);
done:
  mbedtls_x509_crt_free(&good);
}

static void test_url_parse(void) {
  struct { const char *url; int ret; const char *host; int port; const char *path; } t[] = {
      {"http://ocsp.example.com", 0, "ocsp.example.com", 80, "/"},
      {"http://127.0.0.1:8080/a/b?c", 0, "127.0.0.1", 8080, "/a/b?c"},
      {"HTTP://[::1]:81/x", 0, "::1", 81, "/x"},
      {"https://example.com/", CS_EINVAL, NULL, 0, NULL},
      {"http://:80/", CS_EINVAL, NULL, 0, NULL},
      {"http://h:99999/", CS_EINVAL, NULL, 0, NULL},
      {"http://h/a b", CS_EINVAL, NULL, 0, NULL},
      {"ldap://h/cn=x", CS_EINVAL, NULL, 0, NULL},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    char host[256], path[2048];
    uint16_t port = 0;
    CS_CHECK_EQ_I64(cs_http_url_parse(t[i].url, host, &port, path), t[i].ret);
    if (t[i].ret == 0) {
      CS_CHECK(strcmp(host, t[i].host) == 0);
      CS_CHECK_EQ_I64(port, t[i].port);
      CS_CHECK(strcmp(path, t[i].path) == 0);
    }
  }
}

int main(void) {
  test_url_parse();
  int built = -1;
  for (int attempt = 0; attempt < 3 && built != 0; attempt++) {
    http_port = rv_free_port();
    built = cs_fx_tempdir(dir, sizeof(dir)) == 0 ? rv_make_pki(dir, http_port) : -1;
  }
  if (built != 0 ||
      rv_sh(dir, "openssl crl2pkcs7 -nocrl -certfile ca.crt -outform DER -out ca.p7c") != 0) {
    fprintf(stderr, "cannot build the PKI in %s\n", dir);
    return 1;
  }
  mbedtls_x509_crt ca, other;
  CS_CHECK_EQ_I64(rv_load_crt(dir, "ca.crt", &ca), 0);
  CS_CHECK_EQ_I64(rv_load_crt(dir, "other.crt", &other), 0);
  test_parse(&ca, &other);
  test_fetch(&ca);
  mbedtls_x509_crt_free(&ca);
  mbedtls_x509_crt_free(&other);
  if (cs_test_failures == 0)
    cs_fx_rmdir(dir);
  else
    fprintf(stderr, "kept %s for inspection\n", dir);
  return cs_test_done(__FILE__);
}
