/*
 * The passthrough capture's part of a report (pure): what the browser did
 * with the chain, as seen in the relayed tunnel (certskew/tls/tls_sniff.h), as a
 * finding that explains it with the analysis's own findings, and as the
 * report's "capture" object.
 *
 * Finding codes (stable):
 *   CLIENT_REJECTED_CHAIN   error: the client sent an alert after the server's
 *                           flight (TLS 1.2: its code is in the evidence)
 *   CLIENT_LIKELY_REJECTED  warning: the client closed right after the
 *                           server's flight without application data (TLS 1.3:
 *                           its alert, if any, is encrypted)
 *   CLIENT_ACCEPTED_CHAIN   info: the client went on to application data
 *   INTERCEPTION_FELL_BACK  info: the proxy meant to intercept, the upstream
 *                           handshake failed in a way only its mbedTLS 2.28
 *                           client meets (TLS 1.3 only, a fragmented or
 *                           oversized handshake message...), so the tunnel was
 *                           relayed; the upstream error is its evidence
 */
#ifndef CERTSKEW_TLS_PASSTHROUGH_REPORT_H
#define CERTSKEW_TLS_PASSTHROUGH_REPORT_H

#include <cjson/cJSON.h>

#include "certskew/core/error.h"
#include "certskew/core/findings.h"
#include "certskew/tls/tls_sniff.h"

/* How the chain was captured, for the report. */
#define CS_CAPTURE_METHOD_PASSIVE "passive TLS 1.2 handshake"
#define CS_CAPTURE_METHOD_SIDE_TLS13 "side connection (TLS 1.3)"
#define CS_CAPTURE_METHOD_SIDE_RESUMED "side connection (resumed TLS 1.2 session)"

/* Adds at most one finding for info's client reaction to f (none while the
 * reaction is unknown). Its explanation names the error findings already in
 * f that match the alert (e.g. unknown_ca(48) and ANCHOR_NOT_TRUSTED), or
 * says that certskew's analysis disagrees with the client. Returns 0 or
 * CS_ENOMEM. */
int cs_passthrough_add_finding(cs_findings_t *f, const cs_tls_sniff_info_t *info) CS_MUST_CHECK;

/* The report's "capture" object: {"mode": "passthrough", "method": method,
 * "tunnel": {...}, "client": {...}}. method is borrowed. Newly allocated
 * (caller cJSON_Delete), NULL on allocation failure. */
cJSON *cs_passthrough_capture_json(const cs_tls_sniff_info_t *info, const char *method);

/* Parses report_json, adds the "capture" object and prints it again
 * (pretty). *out is newly allocated (caller free()). CS_EPARSE when
 * report_json is not a JSON object, CS_ENOMEM. */
int cs_passthrough_decorate_report(const char *report_json, const cs_tls_sniff_info_t *info,
                                   const char *method, char **out) CS_MUST_CHECK;

/* Why an intercepting proxy relayed a tunnel instead (code and message of
 * the upstream failure, borrowed); NULL code when it did not. */
typedef struct cs_relay_reason {
  const char *code;
  const char *message;
} cs_relay_reason_t;

/* Adds INTERCEPTION_FELL_BACK for why (nothing when why or why->code is
 * NULL). Returns 0 or CS_ENOMEM. */
int cs_passthrough_add_fallback_finding(cs_findings_t *f, const cs_relay_reason_t *why)
    CS_MUST_CHECK;

/* cs_passthrough_decorate_report, and with why (may be NULL) the capture
 * object also says "relayed_because": {"code", "message"}. */
int cs_passthrough_decorate_report_ex(const char *report_json, const cs_tls_sniff_info_t *info,
                                      const char *method, const cs_relay_reason_t *why,
                                      char **out) CS_MUST_CHECK;

#endif
