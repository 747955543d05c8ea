/* The proxy's local JSON API and static web UI (requests to the proxy itself). */
#ifndef CERTSKEW_PROXY_API_H
#define CERTSKEW_PROXY_API_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/fetch/verdict.h"
#include "certskew/store/capture.h"
#include "certskew/core/error.h"
#include "certskew/net/http_response.h"

#define CS_API_BODY_MAX (64u * 1024)
#define CS_API_MAX_CLOCKS 32

typedef struct cs_api_ctx {
  cs_capture_store_t *store; /* borrowed, may be NULL */
  const char *web_dir;       /* may be NULL */
  const char *ca_pem;        /* may be NULL */
  int64_t now_ms;
  /* Who the request says it is for, against DNS rebinding and cross-origin
   * writes (all borrowed, NULL when absent): the Host and Origin header
   * values, and how the proxy names itself ("127.0.0.1:8080"). self_port is
   * the listening port. A request is served only when Host is
   * 127.0.0.1:PORT, localhost:PORT, [::1]:PORT or self_text (else 421), and
   * when it carries an Origin, that Origin is "http://" + one of those
   * (else 403). So a zeroed context refuses everything. */
  const char *host;
  const char *origin;
  const char *self_text;
  int self_port;
  const char *confirm;       /* the X-Certskew-Confirm header, or NULL: DELETE
                                /api/captures needs "clear" (a cross-site form
                                cannot send a custom header) */
  cs_judge_t *judge;         /* borrowed, may be NULL: the proxy's trust stores, log list
                                and kept enrichment, for POST /api/replay */
} cs_api_ctx_t;

/* Checks the request's Host and Origin (see cs_api_ctx_t). Returns 0 when
 * allowed, else the HTTP status to answer with (421 or 403) and a reason in
 * *why (static string). */
int cs_api_check_origin(const cs_api_ctx_t *ctx, const char **why);

/* Routes one request (after cs_api_check_origin, which it calls itself):
 *   GET  /api/captures                  list (JSON)
 *   GET  /api/captures/{id}             metadata with its "sightings" (JSON)
 *   DELETE /api/captures                clears the store (X-Certskew-Confirm: clear)
 *   GET  /api/sightings?limit=N         latest connections across captures (JSON)
 *   GET  /api/captures/{id}/report      report (JSON)
 *   GET  /api/captures/{id}/chain.pem   served chain (PEM)
 *   POST /api/replay                    {"capture":id,"clocks":[...],"at":"RFC3339"}
 *   GET  /api/ca.pem                    the local CA certificate
 *   GET  /...                           static files (static_files.h)
 * Fills r (errors are JSON {"error": ...} with 4xx). Returns 0 or CS_ENOMEM. */
int cs_api_handle(const cs_api_ctx_t *ctx, const char *method, const char *path,
                  const char *body, size_t body_len, cs_http_response_t *r) CS_MUST_CHECK;

/* Runs a replay request body against a stored capture; on success *out is
 * the report JSON (caller frees). With a judge, trust is judged against its
 * stores and name (the capture's SNI, else host), SCTs against its log
 * list, and revocation with the OCSP/CRL/caIssuers material its enrichment
 * kept for that chain (the report's "enrichment" section says what). Body:
 * {"capture": id, "clocks": [...], "clients": ["chrome", "safari:skew:-2s"],
 * "at": "RFC3339"}. Errors: CS_EPARSE (bad body, with eb), CS_ENOTFOUND
 * (unknown capture), analysis errors. */
int cs_api_replay(cs_capture_store_t *store, cs_judge_t *judge, const char *body, size_t len,
                  int64_t now_ms, char **out, cs_errbuf_t *eb) CS_MUST_CHECK;

#endif
