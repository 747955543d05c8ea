/*
 * The lab's servers on one libuv loop (`certskew lab`):
 *  - TLS (mbedTLS over the proxy's memory-BIO endpoint) presenting the
 *    scenario's chain; after the handshake it answers any HTTP request with
 *    a short text naming the scenario;
 *  - plain HTTP for the CA's published data: POST /ocsp (and GET
 *    /ocsp/<base64>) answer the scenario's OCSP response, GET /crl.der the
 *    CRL, GET /intermediate.der the AIA caIssuers certificate, GET
 *    /trust.pem and /log_list.json the client material.
 * Both listen on 127.0.0.1 only. Stapling: mbedTLS 2.28 cannot staple, so
 * the TLS server sends no CertificateStatus; clients and certskew fetch the
 * response from the AIA OCSP URL instead (docs/repro-schema.md, "lab").
 */
#ifndef CERTSKEW_LAB_LAB_SERVER_H
#define CERTSKEW_LAB_LAB_SERVER_H

#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <uv.h>

#include "certskew/core/error.h"
#include "certskew/lab/lab_scenario.h"
#include "certskew/net/rng.h"

#define CS_LAB_MAX_CONNS 256
#define CS_LAB_REQUEST_MAX (64u * 1024)

typedef struct cs_lab_server {
  uv_loop_t *loop;                /* borrowed */
  uv_tcp_t http, tls;             /* listeners */
  int http_open, tls_open;
  int http_port, tls_port;
  const cs_lab_scenario_t *sc;    /* borrowed; set before cs_lab_server_start_tls */
  mbedtls_ssl_config conf;
  mbedtls_x509_crt chain;
  mbedtls_pk_context key;
  cs_rng_t rng;
  int rng_ok;
  size_t nconns;
  uint64_t tls_handshakes, http_requests, ocsp_requests;
  int verbose;
} cs_lab_server_t;

/* Cannot fail. */
void cs_lab_server_init(cs_lab_server_t *s, uv_loop_t *loop);
/* Listens for HTTP on 127.0.0.1:port (0: ephemeral); the bound port goes to
 * s->http_port (needed before issuing: it is in the leaf's AIA). */
int cs_lab_server_listen_http(cs_lab_server_t *s, int port, cs_errbuf_t *eb) CS_MUST_CHECK;
/* Loads sc's chain and key and listens for TLS on 127.0.0.1:port. */
int cs_lab_server_listen_tls(cs_lab_server_t *s, const cs_lab_scenario_t *sc, int port,
                             cs_errbuf_t *eb) CS_MUST_CHECK;
/* Stops listening and closes open connections (handles close on the loop). */
void cs_lab_server_stop(cs_lab_server_t *s);
/* Frees TLS state; call after the loop has run the close callbacks. */
void cs_lab_server_free(cs_lab_server_t *s);

#endif
