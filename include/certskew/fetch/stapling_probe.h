/*
 * The capture probe's I/O half: one short connection on libuv that sends
 * the client-mode parser's ClientHello (TLS 1.3 and 1.2 offered,
 * include/certskew/tls/tls_probe.h), feeds the server's answer to it, sends the
 * second ClientHello a HelloRetryRequest asks for, until the parser's
 * outcome is final (TLS 1.2 ServerHelloDone, TLS 1.3 CertificateVerify
 * judged, an alert), an error or a timeout, then closes without finishing
 * the handshake. A TLS 1.3 capture without a staple or an SCT list is
 * followed by a TLS 1.2-only connection (some servers send them in TLS 1.2
 * only); what it shows for the same leaf fills the result's gaps (its
 * detail says so). It runs beside the proxy's own connection, never in its
 * data path.
 */
#ifndef CERTSKEW_FETCH_STAPLING_PROBE_H
#define CERTSKEW_FETCH_STAPLING_PROBE_H

#include <stdint.h>

#include <uv.h>

#include "certskew/core/error.h"
#include "certskew/tls/tls_probe.h"

#define CS_PROBE_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define CS_PROBE_DEFAULT_HANDSHAKE_TIMEOUT_MS 5000

typedef struct cs_stapling_probe_opts {
  const struct sockaddr *addr;   /* server address (copied); IPv4 or IPv6 */
  const char *sni;               /* host name for SNI (copied), may be NULL */
  uint64_t connect_timeout_ms;   /* 0 = default */
  uint64_t handshake_timeout_ms; /* from connect to a final outcome; 0 = default */
  cs_tls_probe_rng_fn f_rng;     /* key shares and random; NULL: the probe seeds its
                                    own cs_rng (proxy_rng.h) */
  void *p_rng;                   /* with f_rng; must outlive the probe */
} cs_stapling_probe_opts_t;

/* Called exactly once. err is 0 when the server's flight was parsed to a
 * final outcome (res->outcome: DONE, BAD_CERT_VERIFY or ALERT; res->version
 * says TLS 1.2 or 1.3); otherwise
 * CS_ENET, CS_ETIMEDOUT or a parser error (CS_EPARSE, ...) with detail, and
 * res holds whatever was parsed before. res and its pointers are borrowed:
 * valid only during the callback (copy what you keep). */
typedef void (*cs_stapling_probe_cb)(int err, const cs_tls_probe_result_t *res,
                                     const char *detail, void *ud);

/* Starts a probe on loop. On 0 the callback will run exactly once (before
 * this returns if the connect cannot even be started, e.g. a bad address
 * family; otherwise from the loop). On error (CS_EINVAL, CS_ENOMEM, CS_EIO
 * without randomness, CS_ENET when the socket cannot be created) it never does. */
int cs_stapling_probe_start(uv_loop_t *loop, const cs_stapling_probe_opts_t *opts,
                            cs_stapling_probe_cb cb, void *ud) CS_MUST_CHECK;

#endif
