/*
 * OCSP against openssl: responses made by `openssl ocsp` (issuer-signed,
 * delegated, unauthorized-EKU delegate, by key id, good/revoked/unknown,
 * unauthorized status) are parsed and judged; requests we build are
 * byte-identical to openssl's and answered by `openssl ocsp -port` through
 * our libuv fetcher.
 */
#include <string.h>

#include "certskew/revocation/ocsp.h"
#include "certskew/revocation/revocation.h"
#include "certskew/fetch/ocsp_fetch.h"
#include "revocation_fixtures.h"

static char dir[256];

typedef struct resp_case {
  const char *name;     /* output file */
  const char *cert;
  const char *signer;   /* -rsigner/-rkey base name */
  const char *extra;    /* extra openssl ocsp options */
  int cert_status;
  int signer_kind;
  int sig_ok;
  int by_key;
} resp_case_t;

static const resp_case_t CASES[] = {
    {"good.resp", "good", "ca", "", CS_OCSP_CERT_GOOD, CS_OCSP_SIGNER_ISSUER, 1, 0},
    {"revoked.resp", "revoked", "ca", "", CS_OCSP_CERT_REVOKED, CS_OCSP_SIGNER_ISSUER, 1, 0},
    {"unknown.resp", "unknown", "ca", "", CS_OCSP_CERT_UNKNOWN, CS_OCSP_SIGNER_ISSUER, 1, 0},
    {"keyid.resp", "good", "ca", "-resp_key_id", CS_OCSP_CERT_GOOD, CS_OCSP_SIGNER_ISSUER, 1, 1},
    {"deleg.resp", "good", "ocsp", "", CS_OCSP_CERT_GOOD, CS_OCSP_SIGNER_DELEGATED, 1, 0},
    {"baddeleg.resp", "good", "badocsp", "", CS_OCSP_CERT_GOOD, CS_OCSP_SIGNER_NONE, 0, 0},
    {"nocerts.resp", "good", "ocsp", "-resp_no_certs", CS_OCSP_CERT_GOOD, CS_OCSP_SIGNER_NONE, 0, 0},
};

static cs_ocsp_response_t *load_resp(const char *name) {
  uint8_t *buf;
  size_t len;
  cs_ocsp_response_t *r = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (rv_read(dir, name, &buf, &len) != 0)
    return NULL;
  if (cs_ocsp_parse(&r, buf, len, &eb) != 0)
    fprintf(stderr, "%s: %s\n", name, eb.msg);
  free(buf);
  return r;
}

static void test_responses(const mbedtls_x509_crt *ca) {
  for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
    const resp_case_t *c = &CASES[i];
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "openssl ocsp -index index.txt -rsigner %s.crt -rkey %s.key -CA ca.crt -issuer "
             "ca.crt -cert %s.crt -respout %s -ndays 1 %s",
             c->signer, c->signer, c->cert, c->name, c->extra);
    CS_CHECK_EQ_I64(rv_sh(dir, cmd), 0);
    cs_ocsp_response_t *r = load_resp(c->name);
    CS_CHECK(r != NULL);
    if (r == NULL)
      continue;
    const cs_ocsp_info_t *info = cs_ocsp_response_info(r);
    mbedtls_x509_crt leaf;
    CS_CHECK_EQ_I64(rv_load_crt(dir, c->cert[0] == 'r' ? "revoked.crt" : c->cert[0] == 'u'
                                   ? "unknown.crt" : "good.crt", &leaf), 0);
    CS_CHECK_EQ_I64(info->response_status, CS_OCSP_SUCCESSFUL);
    CS_CHECK_EQ_I64(info->responder_by_key, c->by_key);
    const cs_ocsp_single_t *s = cs_ocsp_response_find(r, &leaf, ca);
    CS_CHECK(s != NULL);
    if (s != NULL) {
      CS_CHECK_EQ_I64(s->status, c->cert_status);
      CS_CHECK(s->has_next_update);
      CS_CHECK_EQ_I64(s->next_update_ms - s->this_update_ms, CS_MS_PER_DAY);
      if (c->cert_status == CS_OCSP_CERT_REVOKED)
        CS_CHECK_EQ_I64(s->revocation_reason, 1); /* keyCompromise */
    }
    cs_ocsp_verify_result_t v;
    CS_CHECK_EQ_I64(cs_ocsp_verify(r, ca, &v), 0);
    CS_CHECK_EQ_I64(v.signer, c->signer_kind);
    CS_CHECK_EQ_I64(v.signature_ok, c->sig_ok);
    /* openssl agrees on the signature verdict (independent implementation). */
    snprintf(cmd, sizeof(cmd), "openssl ocsp -respin %s -CAfile ca.crt -issuer ca.crt %s",
             c->name, c->sig_ok ? "" : "-verify_other /dev/null");
    if (c->sig_ok)
      CS_CHECK_EQ_I64(rv_sh(dir, cmd), 0);
    mbedtls_x509_crt_free(&leaf);
    cs_ocsp_response_free(r);
  }
}

/* A corrupted signature must fail, a response checked against the wrong
 * issuer has no signer. */
static void test_bad_signature(const mbedtls_x509_crt *ca, const mbedtls_x509_crt *other) {
  uint8_t *buf;
  size_t len;
  CS_CHECK_EQ_I64(rv_read(dir, "good.resp", &buf, &len), 0);
  cs_ocsp_response_t *r = NULL;
  CS_CHECK_EQ_I64(cs_ocsp_parse(&r, buf, len, NULL), 0);
  const uint8_t *tbs, *sig;
  size_t tl, sl;
  const void *opts;
  CS_CHECK_EQ_I64(cs_ocsp_response_signed_parts(r, &tbs, &tl, &sig, &sl, &opts), 0);
  size_t sig_off = (size_t)(sig - cs_ocsp_response_der(r, NULL));
  cs_ocsp_verify_result_t v;
  CS_CHECK_EQ_I64(cs_ocsp_verify(r, other, &v), 0);
  CS_CHECK_EQ_I64(v.signer, CS_OCSP_SIGNER_NONE);
  cs_ocsp_response_free(r);
  buf[sig_off + sl - 1] ^= 0x01; /* last byte of the ECDSA s value */
  CS_CHECK_EQ_I64(cs_ocsp_parse(&r, buf, len, NULL), 0);
  CS_CHECK_EQ_I64(cs_ocsp_verify(r, ca, &v), 0);
  CS_CHECK_EQ_I64(v.signer, CS_OCSP_SIGNER_ISSUER);
  CS_CHECK_EQ_I64(v.signature_ok, 0);
  cs_ocsp_response_free(r);
  /* Truncations and trailing garbage are errors, never crashes. */
  for (size_t cut = 0; cut < len; cut += 7)
    CS_CHECK(cs_ocsp_parse(&r, buf, cut, NULL) < 0);
  free(buf);
}

/* Our request equals openssl's byte for byte (SHA-1 CertID, no nonce). */
static void test_request(const mbedtls_x509_crt *ca) {
  CS_CHECK_EQ_I64(rv_sh(dir, "openssl ocsp -issuer ca.crt -cert good.crt -no_nonce -reqout o.req"), 0);
  uint8_t *want;
  size_t want_len;
  CS_CHECK_EQ_I64(rv_read(dir, "o.req", &want, &want_len), 0);
  mbedtls_x509_crt leaf;
  CS_CHECK_EQ_I64(rv_load_crt(dir, "good.crt", &leaf), 0);
  uint8_t req[512];
  size_t len = 0;
  CS_CHECK_EQ_I64(cs_ocsp_request_build(&leaf, ca, req, sizeof(req), &len), 0);
  CS_CHECK_EQ_I64(len, want_len);
  CS_CHECK(len == want_len && memcmp(req, want, len) == 0);
  CS_CHECK_EQ_I64(cs_ocsp_request_build(&leaf, ca, req, 10, &len), CS_ENOSPACE);
  free(want);
  mbedtls_x509_crt_free(&leaf);
}

/* unauthorized made by openssl's ASN.1 generator: openssl ocsp itself answers
 * `unknown` (not unauthorized) for a CA it does not serve; checked too. */
static void test_unauthorized(const mbedtls_x509_crt *ca) {
  CS_CHECK_EQ_I64(rv_sh(dir, "printf 'asn1=SEQUENCE:r\\n[r]\\ns=ENUMERATED:6\\n' > u.cnf && "
                         "openssl asn1parse -genconf u.cnf -noout -out unauth.resp"), 0);
  cs_ocsp_response_t *r = load_resp("unauth.resp");
  CS_CHECK(r != NULL);
  if (r == NULL)
    return;
  CS_CHECK_EQ_I64(cs_ocsp_response_info(r)->response_status, CS_OCSP_UNAUTHORIZED);
  CS_CHECK_EQ_I64(cs_ocsp_response_info(r)->has_basic, 0);
  mbedtls_x509_crt leaf;
  CS_CHECK_EQ_I64(rv_load_crt(dir, "good.crt", &leaf), 0);
  int64_t nb;
  cs_civil_t cv = {leaf.valid_from.year, leaf.valid_from.mon, leaf.valid_from.day,
                   leaf.valid_from.hour, leaf.valid_from.min, leaf.valid_from.sec, 0};
  CS_CHECK_EQ_I64(cs_time_from_civil(&cv, &nb), 0);
  struct { int64_t age_ms; const char *code; } t[] = {
      {2 * CS_MS_PER_MINUTE, "OCSP_NOT_PROVISIONED"},
      {15 * CS_MS_PER_MINUTE - 1, "OCSP_NOT_PROVISIONED"},
      {15 * CS_MS_PER_MINUTE, "OCSP_UNAUTHORIZED"},
      {2 * CS_MS_PER_DAY, "OCSP_UNAUTHORIZED"},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    cs_findings_t *f = cs_findings_new();
    cs_revocation_input_t in = {&leaf, ca, nb, r, 1, NULL, NULL, 0, nb + t[i].age_ms, 0, 0};
    CS_CHECK_EQ_I64(cs_revocation_diagnose(&in, f), 0);
    CS_CHECK(cs_findings_has(f, t[i].code));
    CS_CHECK_EQ_I64(cs_findings_has(f, "REVOKED"), 0);
    cJSON *j = cs_revocation_to_json(&in);
    CS_CHECK(j != NULL);
    cJSON_Delete(j);
    cs_findings_free(f);
  }
  mbedtls_x509_crt_free(&leaf);
  cs_ocsp_response_free(r);
}

/* Diagnosis table over the openssl-made responses. */
static void test_diagnosis(const mbedtls_x509_crt *ca) {
  cs_ocsp_response_t *good = load_resp("good.resp"), *rev = load_resp("revoked.resp"),
                     *unk = load_resp("unknown.resp"), *bad = load_resp("baddeleg.resp");
  mbedtls_x509_crt gl, rl, ul;
  CS_CHECK_EQ_I64(rv_load_crt(dir, "good.crt", &gl), 0);
  CS_CHECK_EQ_I64(rv_load_crt(dir, "revoked.crt", &rl), 0);
  CS_CHECK_EQ_I64(rv_load_crt(dir, "unknown.crt", &ul), 0);
  const cs_ocsp_single_t *gs = cs_ocsp_response_single(good, 0);
  CS_CHECK(gs != NULL);
  if (gs == NULL)
    return;
  int64_t t0 = gs->this_update_ms, nb = t0 - 2 * CS_MS_PER_MINUTE;
  struct {
    const mbedtls_x509_crt *leaf;
    const cs_ocsp_response_t *stapled, *fetched;
    int64_t at_ms, nb_ms;
    const char *code;
    int present;
  } t[] = {
      {&gl, good, NULL, t0 + 1000, nb, "OCSP_STALE", 0},
      {&gl, good, NULL, gs->next_update_ms + 1, nb, "OCSP_STALE", 1},
      {&gl, good, NULL, t0 - 1, nb, "OCSP_NOT_YET_VALID", 1},
      {&rl, rev, NULL, t0 + 1000, nb, "REVOKED", 1},
      {&ul, unk, NULL, t0 + 1000, nb, "OCSP_NOT_PROVISIONED", 1},
      {&ul, unk, NULL, t0 + 1000, nb - CS_MS_PER_DAY, "OCSP_UNAUTHORIZED", 1},
      {&gl, bad, NULL, t0 + 1000, nb, "OCSP_BAD_SIGNATURE", 1},
      {&gl, good, NULL, t0 + 1000, nb, "OCSP_BAD_SIGNATURE", 0},
      {&gl, good, good, t0 + 1000, nb, "OCSP_STAPLE_MISMATCH", 0},
      {&rl, rev, rev, t0 + 1000, nb, "OCSP_STAPLE_MISMATCH", 0},
      {&rl, rev, unk, t0 + 1000, nb, "OCSP_STAPLE_MISMATCH", 1},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    cs_findings_t *f = cs_findings_new();
    cs_revocation_input_t in = {t[i].leaf, ca, t[i].nb_ms, t[i].stapled, 1, t[i].fetched, NULL,
                                0, t[i].at_ms, 0, 0};
    CS_CHECK_EQ_I64(cs_revocation_diagnose(&in, f), 0);
    if (cs_findings_has(f, t[i].code) != t[i].present)
      fprintf(stderr, "diagnosis case %zu: %s expected %d\n", i, t[i].code, t[i].present);
    CS_CHECK_EQ_I64(cs_findings_has(f, t[i].code), t[i].present);
    cs_findings_free(f);
  }
  /* Stapled good vs fetched revoked for the same certificate disagree. */
  cs_findings_t *f = cs_findings_new();
  cs_revocation_input_t in = {&gl, ca, nb, good, 1, unk, NULL, 0, t0 + 1000, 0, 0};
  CS_CHECK_EQ_I64(cs_revocation_diagnose(&in, f), 0);
  CS_CHECK(cs_findings_has(f, "OCSP_STAPLE_MISMATCH")); /* unk is about another serial */
  cs_findings_free(f);
  /* Time checks: producedAt, thisUpdate (at or after), nextUpdate (at or before). */
  cs_time_check_t checks[CS_REVOCATION_MAX_CHECKS];
  size_t n = 0;
  CS_CHECK_EQ_I64(cs_revocation_time_checks(good, &gl, ca, NULL, checks, CS_REVOCATION_MAX_CHECKS, &n), 0);
  CS_CHECK_EQ_I64(n, 3);
  CS_CHECK_EQ_I64(checks[1].kind, CS_CHECK_OCSP_THIS_UPDATE);
  CS_CHECK_EQ_I64(checks[1].dir, CS_NEED_AT_OR_AFTER);
  CS_CHECK_EQ_I64(checks[1].bound_ms, gs->this_update_ms);
  CS_CHECK_EQ_I64(checks[2].kind, CS_CHECK_OCSP_NEXT_UPDATE);
  CS_CHECK_EQ_I64(checks[2].bound_ms, gs->next_update_ms);
  CS_CHECK_EQ_I64(cs_revocation_time_checks(good, &gl, ca, NULL, checks, 2, &n), CS_ENOSPACE);
  /* A client 2 s slow first accepts thisUpdate 2 s after it was produced. */
  cs_clock_t slow;
  CS_CHECK_EQ_I64(cs_clock_parse(&slow, "skew:-2s", NULL), 0);
  CS_CHECK_EQ_I64(cs_clock_first_reaching(&slow, checks[1].bound_ms), gs->this_update_ms + 2000);
  mbedtls_x509_crt_free(&gl);
  mbedtls_x509_crt_free(&rl);
  mbedtls_x509_crt_free(&ul);
  cs_ocsp_response_free(good);
  cs_ocsp_response_free(rev);
  cs_ocsp_response_free(unk);
  cs_ocsp_response_free(bad);
}

typedef struct fetch_out {
  int done, err, status;
  cs_ocsp_response_t *resp;
} fetch_out_t;

static void on_fetched(int err, cs_ocsp_response_t *resp, int http_status, const char *detail,
                       void *ud) {
  fetch_out_t *o = ud;
  o->done = 1;
  o->err = err;
  o->status = http_status;
  o->resp = resp;
  if (err != 0)
    fprintf(stderr, "fetch: %s\n", detail);
}

/* Real HTTP round trips: openssl ocsp -port answers our requests. */
static void test_round_trip(const mbedtls_x509_crt *ca) {
  pid_t pid = -1;
  int port = -1;
  for (int attempt = 0; attempt < 5 && pid < 0; attempt++) {
    port = rv_free_port();
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "openssl ocsp -index index.txt -port %d -rsigner ca.crt -rkey ca.key "
             "-CA ca.crt -ndays 1 -nrequest 10", port);
    pid = rv_spawn_server(dir, "ocspd", cmd, "waiting for OCSP client", 5000);
  }
  CS_CHECK(pid > 0);
  if (pid <= 0)
    return;
  struct { const char *cert; int status; } t[] = {
      {"good.crt", CS_OCSP_CERT_GOOD},
      {"revoked.crt", CS_OCSP_CERT_REVOKED},
      {"unknown.crt", CS_OCSP_CERT_UNKNOWN},
  };
  uv_loop_t loop;
  uv_loop_init(&loop);
  char url[64];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    mbedtls_x509_crt leaf;
    CS_CHECK_EQ_I64(rv_load_crt(dir, t[i].cert, &leaf), 0);
    fetch_out_t o = {0, 0, 0, NULL};
    CS_CHECK_EQ_I64(cs_ocsp_fetch(&loop, url, &leaf, ca, 5000, on_fetched, &o), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CS_CHECK(o.done);
    CS_CHECK_EQ_I64(o.err, 0);
    CS_CHECK_EQ_I64(o.status, 200);
    const cs_ocsp_single_t *s = cs_ocsp_response_find(o.resp, &leaf, ca);
    CS_CHECK(s != NULL);
    if (s != NULL)
      CS_CHECK_EQ_I64(s->status, t[i].status);
    cs_ocsp_verify_result_t v;
    if (o.resp != NULL) {
      CS_CHECK_EQ_I64(cs_ocsp_verify(o.resp, ca, &v), 0);
      CS_CHECK_EQ_I64(v.signature_ok, 1);
    }
    cs_ocsp_response_free(o.resp);
    mbedtls_x509_crt_free(&leaf);
  }
  /* The AIA OCSP URL of the leaf is what the PKI wrote; https is refused. */
  mbedtls_x509_crt leaf;
  CS_CHECK_EQ_I64(rv_load_crt(dir, "good.crt", &leaf), 0);
  fetch_out_t o = {0, 0, 0, NULL};
  CS_CHECK_EQ_I64(cs_ocsp_fetch(&loop, "https://127.0.0.1/", &leaf, ca, 1000, on_fetched, &o),
              CS_EINVAL);
  rv_kill(pid);
  /* Nobody listens any more: a clear network error, no hang. */
  CS_CHECK_EQ_I64(cs_ocsp_fetch(&loop, url, &leaf, ca, 2000, on_fetched, &o), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  CS_CHECK(o.done);
  CS_CHECK(o.err == CS_ENET || o.err == CS_ETIMEDOUT);
  CS_CHECK(o.resp == NULL);
  mbedtls_x509_crt_free(&leaf);
  CS_CHECK_EQ_I64(uv_loop_close(&loop), 0);
}

int main(void) {
  if (cs_fx_tempdir(dir, sizeof(dir)) != 0 || rv_make_pki(dir, 8) != 0) {
    fprintf(stderr, "cannot build the PKI in %s\n", dir);
    return 1;
  }
  mbedtls_x509_crt ca, other;
  CS_CHECK_EQ_I64(rv_load_crt(dir, "ca.crt", &ca), 0);
  CS_CHECK_EQ_I64(rv_load_crt(dir, "other.crt", &other), 0);
  test_responses(&ca);
  test_bad_signature(&ca, &other);
  test_request(&ca);
  test_unauthorized(&ca);
  test_diagnosis(&ca);
  test_round_trip(&ca);
  mbedtls_x509_crt_free(&ca);
  mbedtls_x509_crt_free(&other);
  if (cs_test_failures == 0)
    cs_fx_rmdir(dir);
  else
    fprintf(stderr, "kept %s for inspection\n", dir);
  return cs_test_done(__FILE__);
}
