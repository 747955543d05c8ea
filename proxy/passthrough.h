/*
 * Passthrough capture: a CONNECT tunnel relayed byte for byte, so the
 * browser validates the real server's chain and shows its own error, while
 * certskew watches the TLS records go by (read-only, certskew/tls/tls_sniff.h).
 *
 * TLS 1.2: the chain, the stapled OCSP response and the SCT extension are
 * read from the plaintext handshake. TLS 1.3 (or a resumed session): the
 * chain is not in the tunnel, so a short side connection to the same address
 * with the client's SNI (the stapling probe, include/certskew/fetch/stapling_probe.h)
 * captures what the server serves. Either way the chain goes through
 * cs_analyze into the capture store like an intercepted one, with the
 * browser's observed reaction as a finding and the report's "capture" object
 * saying how it was captured.
 *
 * Data path: conn.c queues the bytes for the other side first, then shows
 * them to cs_passthrough_observe (borrowed for the call; libuv never runs a
 * write callback before control returns to the loop, so the buffer is
 * intact). Once the sniffer has seen enough it ignores further calls at the
 * cost of one flag test. The side connection and the analysis run later, on
 * the loop (a uv_idle callback), never inside a read callback.
 *
 * Lifetime: conn.c owns the object until cs_passthrough_release; from then
 * on the object finishes its capture on its own and frees itself.
 */
#ifndef CERTSKEW_PROXY_PASSTHROUGH_H
#define CERTSKEW_PROXY_PASSTHROUGH_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "certskew/core/error.h"
#include "certskew/proxy/proxy.h"

struct cs_proxy_ctx;
typedef struct cs_passthrough cs_passthrough_t;

/* 1 when a CONNECT to host:port is to be relayed without interception,
 * under cfg's default and per-host rules (see certskew/proxy/proxy.h). */
int cs_passthrough_wanted(const cs_proxy_config_t *cfg, const char *host, int port);

/* A new observer for a tunnel to host:port (copied). *out owned by the
 * caller until cs_passthrough_release. CS_ENOMEM. */
/* The client's "ip:port", recorded with the connection's sighting (copied). */
void cs_passthrough_set_client(cs_passthrough_t *pt, const char *addr);

int cs_passthrough_new(cs_passthrough_t **out, struct cs_proxy_ctx *px, const char *host,
                       int port) CS_MUST_CHECK;
/* The tunnel is relayed because interception failed (conn.c's fallback):
 * code and msg (copied) go into the capture's report (the finding
 * INTERCEPTION_FELL_BACK and capture.relayed_because) and into any error
 * noted when the chain is not captured. */
void cs_passthrough_set_relayed(cs_passthrough_t *pt, const char *code, const char *msg);
/* The tunnel's upstream is connected: its peer address is where a side
 * connection goes; addr_text ("ip:port") is recorded in the capture. */
void cs_passthrough_connected(cs_passthrough_t *pt, const uv_tcp_t *upstream,
                              const char *addr_text);
/* Bytes one side sent, already queued for the other (borrowed for the call). */
void cs_passthrough_observe(cs_passthrough_t *pt, int from_client, const uint8_t *data,
                            size_t len);
/* That side ended (EOF, reset). */
void cs_passthrough_closed(cs_passthrough_t *pt, int from_client);
/* 1 while the observer still wants the tunnel's bytes (its handshake is not
 * captured yet): until then they must pass through cs_passthrough_observe. */
int cs_passthrough_observing(const cs_passthrough_t *pt);
/* The tunnel is gone: the object completes its capture and frees itself.
 * Safe on NULL. */
void cs_passthrough_release(cs_passthrough_t *pt);

#endif
