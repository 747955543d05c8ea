/*
 * OCSP, caIssuers and CRL fetches (include/certskew/fetch/ocsp_fetch.h): thin layers over
 * cs_http_fetch that build the request and parse the body with the pure
 * analyzers, so the callback receives parsed objects.
 */
#include "certskew/fetch/ocsp_fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/revocation/crl.h"
#include "certskew/revocation/revocation.h"
#include "certskew/fetch/http_fetch.h"

typedef struct job {
  cs_ocsp_fetch_cb ocsp_cb;
  cs_aia_fetch_cb aia_cb;
  cs_crl_fetch_cb crl_cb;
  void *ud;
} job_t;

/* Common failure: network error or non-200 status. Returns 1 if handled. */
static int http_failed(const cs_http_result_t *res, char *detail, size_t cap, int *err) {
  if (res->error != 0) {
    snprintf(detail, cap, "%s", res->detail);
    *err = res->error;
    return 1;
  }
  if (res->status != 200) {
    snprintf(detail, cap, "HTTP status %d", res->status);
    *err = CS_ENET;
    return 1;
  }
  return 0;
}

static void on_ocsp(const cs_http_result_t *res, void *ud) {
  job_t *j = ud;
  char detail[256] = "";
  int err = 0;
  cs_ocsp_response_t *resp = NULL;
  if (!http_failed(res, detail, sizeof(detail), &err)) {
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    err = cs_ocsp_parse(&resp, res->body, res->body_len, &eb);
    if (err != 0)
      snprintf(detail, sizeof(detail), "%s", eb.msg);
  }
  j->ocsp_cb(err, resp, res->status, detail, j->ud);
  free(j);
}

int cs_ocsp_fetch(uv_loop_t *loop, const char *url, const mbedtls_x509_crt *leaf,
                  const mbedtls_x509_crt *issuer, uint64_t timeout_ms, cs_ocsp_fetch_cb cb,
                  void *ud) {
  if (cb == NULL)
    return CS_EINVAL;
  uint8_t req[512];
  size_t req_len;
  int ret = cs_ocsp_request_build(leaf, issuer, req, sizeof(req), &req_len);
  if (ret != 0)
    return ret;
  job_t *j = calloc(1, sizeof(*j)); /* freed in on_ocsp */
  if (j == NULL)
    return CS_ENOMEM;
  j->ocsp_cb = cb;
  j->ud = ud;
  cs_http_request_t hr = {url, "POST", "application/ocsp-request", req, req_len, timeout_ms, 0};
  ret = cs_http_fetch(loop, &hr, on_ocsp, j);
  if (ret != 0)
    free(j);
  return ret;
}

static void on_aia(const cs_http_result_t *res, void *ud) {
  job_t *j = ud;
  char detail[256] = "";
  int err = 0;
  mbedtls_x509_crt *certs = NULL;
  if (!http_failed(res, detail, sizeof(detail), &err)) {
    certs = malloc(sizeof(*certs)); /* owned by the callee on success */
    if (certs == NULL) {
      err = CS_ENOMEM;
    } else {
      cs_errbuf_t eb;
      cs_errbuf_init(&eb);
      mbedtls_x509_crt_init(certs);
      err = cs_aia_parse_certs(res->body, res->body_len, certs, &eb);
      if (err != 0) {
        snprintf(detail, sizeof(detail), "%s", eb.msg);
        mbedtls_x509_crt_free(certs);
        free(certs);
        certs = NULL;
      }
    }
  }
  j->aia_cb(err, certs, detail, j->ud);
  free(j);
}

int cs_aia_fetch(uv_loop_t *loop, const char *url, uint64_t timeout_ms, cs_aia_fetch_cb cb,
                 void *ud) {
  if (cb == NULL)
    return CS_EINVAL;
  job_t *j = calloc(1, sizeof(*j)); /* freed in on_aia */
  if (j == NULL)
    return CS_ENOMEM;
  j->aia_cb = cb;
  j->ud = ud;
  cs_http_request_t hr = {url, "GET", NULL, NULL, 0, timeout_ms, 0};
  int ret = cs_http_fetch(loop, &hr, on_aia, j);
  if (ret != 0)
    free(j);
  return ret;
}

static void on_crl(const cs_http_result_t *res, void *ud) {
  job_t *j = ud;
  char detail[256] = "";
  int err = 0;
  cs_crl_info_t *crl = NULL;
  if (!http_failed(res, detail, sizeof(detail), &err)) {
    crl = malloc(sizeof(*crl)); /* owned by the callee on success */
    if (crl == NULL) {
      err = CS_ENOMEM;
    } else {
      cs_errbuf_t eb;
      cs_errbuf_init(&eb);
      cs_crl_info_init(crl);
      err = cs_crl_parse(crl, res->body, res->body_len, &eb);
      if (err != 0) {
        snprintf(detail, sizeof(detail), "%s", eb.msg);
        cs_crl_info_free(crl);
        free(crl);
        crl = NULL;
      }
    }
  }
  j->crl_cb(err, crl, detail, j->ud);
  free(j);
}

int cs_crl_fetch(uv_loop_t *loop, const char *url, uint64_t timeout_ms, cs_crl_fetch_cb cb,
                 void *ud) {
  if (cb == NULL)
    return CS_EINVAL;
  job_t *j = calloc(1, sizeof(*j)); /* freed in on_crl */
  if (j == NULL)
    return CS_ENOMEM;
  j->crl_cb = cb;
  j->ud = ud;
  cs_http_request_t hr = {url, "GET", NULL, NULL, 0, timeout_ms, 16u * 1024 * 1024};
  int ret = cs_http_fetch(loop, &hr, on_crl, j);
  if (ret != 0)
    free(j);
  return ret;
}
