/*
 * Fetching OCSP and AIA data over HTTP (on include/certskew/fetch/http_fetch.h): an OCSP POST
 * to the responder named in the certificate's AIA, and a caIssuers GET for a
 * missing intermediate. Asynchronous on libuv; callers that run with
 * --no-fetch simply never call these.
 */
#ifndef CERTSKEW_FETCH_OCSP_FETCH_H
#define CERTSKEW_FETCH_OCSP_FETCH_H

#include <stdint.h>

#include <mbedtls/x509_crt.h>
#include <uv.h>

#include "certskew/core/error.h"
#include "certskew/revocation/ocsp.h"

/* Called exactly once. On err == 0, *resp is a parsed response now owned by
 * the callee (free with cs_ocsp_response_free); otherwise resp is NULL and
 * detail says why (HTTP status, parse error, network). http_status is 0 when
 * no HTTP response arrived. */
typedef void (*cs_ocsp_fetch_cb)(int err, cs_ocsp_response_t *resp, int http_status,
                                 const char *detail, void *ud);

/* POSTs an OCSP request for leaf (issued by issuer; both only borrowed for
 * the call) to url (http:// only). timeout_ms 0 = the HTTP default.
 * On 0, cb runs later; on error (CS_EINVAL, CS_ENOMEM, CS_EUNSUPPORTED) never. */
int cs_ocsp_fetch(uv_loop_t *loop, const char *url, const mbedtls_x509_crt *leaf,
                  const mbedtls_x509_crt *issuer, uint64_t timeout_ms, cs_ocsp_fetch_cb cb,
                  void *ud) CS_MUST_CHECK;

/* Called exactly once. On err == 0, certs is an mbedTLS list now owned by the
 * callee (mbedtls_x509_crt_free + free): the certificates found in the body
 * (DER, PEM or PKCS#7 certs-only). */
typedef void (*cs_aia_fetch_cb)(int err, mbedtls_x509_crt *certs, const char *detail, void *ud);

/* GETs a caIssuers URL (http:// only). Same contract as cs_ocsp_fetch. */
int cs_aia_fetch(uv_loop_t *loop, const char *url, uint64_t timeout_ms, cs_aia_fetch_cb cb,
                 void *ud) CS_MUST_CHECK;

/* GETs a CRL distribution point (http:// only) and parses it. On err == 0,
 * crl is a heap cs_crl_info_t now owned by the callee (cs_crl_info_free + free). */
struct cs_crl_info;
typedef void (*cs_crl_fetch_cb)(int err, struct cs_crl_info *crl, const char *detail, void *ud);
int cs_crl_fetch(uv_loop_t *loop, const char *url, uint64_t timeout_ms, cs_crl_fetch_cb cb,
                 void *ud) CS_MUST_CHECK;

#endif
