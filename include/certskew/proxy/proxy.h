/*
 * The intercepting HTTP/1.1 proxy (`certskew proxy`).
 *
 * One libuv loop. Clients send `CONNECT host:port` (intercepted: the proxy
 * connects upstream first, captures and judges the served chain, then
 * answers 200 and terminates the client's TLS with a leaf minted by the
 * local CA) or absolute-URI plain HTTP (forwarded). Requests to the proxy
 * itself (origin-form, or Host naming the proxy) reach the local JSON API
 * and the static web UI. An upstream that fails validation at the real
 * clock gets the browser an HTTP 502 page naming the cause and linking to
 * the report, unless forward_invalid is set.
 */
#ifndef CERTSKEW_PROXY_PROXY_H
#define CERTSKEW_PROXY_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/clock.h"
#include "certskew/core/error.h"
#include "certskew/ct/ct.h"

#define CS_PROXY_DEFAULT_PORT 8080
#define CS_PROXY_MAX_WORKERS 64 /* --workers upper bound */
#define CS_PROXY_DEFAULT_WORKERS_MAX 16 /* the default: the CPU count, at most this */

typedef struct cs_proxy_config {
  const char *listen_host;   /* default "127.0.0.1" */
  int listen_port;           /* default 8080; 0 = ephemeral (see port_file) */
  int allow_remote;          /* accept non-loopback clients (needs a non-loopback listen) */
  const char *home_dir;      /* CA directory; NULL = cs_ca_home_dir() */
  const char *store_dir;     /* captures; NULL = <home>/captures */
  const char *trust_file;    /* upstream trust anchors; NULL = system store */
  const char *web_dir;       /* static files; NULL = built-in default */
  const char *port_file;     /* if set, the bound port is written there once listening */
  const cs_clock_t *clocks;  /* borrowed; NULL/0 = the exact clock only */
  size_t nclocks;
  int forward_invalid;       /* pass traffic through invalid upstreams */
  const char *browser;       /* client profile judging a tunnel whose User-Agent names
                                none we know; NULL = "chrome" */
  /* Passthrough (proxy/passthrough.h): CONNECT tunnels relayed byte for byte,
   * the browser validating the real chain, certskew capturing it read-only.
   * Per-host rules (patterns "host", "*.suffix", either with ":port"; a
   * string may hold several, comma-separated) override the default; the most
   * specific matching pattern wins, intercept on a tie. */
  int passthrough;           /* default for hosts no rule names */
  const char *const *passthrough_hosts; /* borrowed */
  size_t npassthrough_hosts;
  const char *const *intercept_hosts;   /* borrowed */
  size_t nintercept_hosts;
  size_t max_conns;          /* client connections at once (default 1024) */
  /* Event loops, one thread each, sharing the listening port (SO_REUSEPORT).
   * 0: $CERTSKEW_WORKERS if set, else the number of CPUs. 1: one loop on
   * the calling thread, no other thread. */
  int workers;
  size_t max_captures;       /* retention (default 1000) */
  int64_t handshake_timeout_ms; /* default 10 s: DNS + connect + both handshakes */
  int64_t idle_timeout_ms;   /* default 120 s without a byte either way */
  int verbose;
  /* Enrichment of each new capture (stapling probe, OCSP/CRL/caIssuers
   * fetches), in the background, rewriting its report.json: */
  const cs_ct_log_list_t *log_list; /* Chrome v3 CT log list(s), loaded and merged by the
                                       caller (borrowed, outlives the proxy); NULL: SCT
                                       signatures are not verified */
  int no_fetch;              /* probe only: fetch no OCSP, CRL or caIssuers URL */
  int no_enrich;             /* neither probe nor fetch */
  int64_t fetch_timeout_ms;  /* per probe/fetch step; default 5 s */
  size_t max_enrich;         /* enrichments at once (default 4) */
} cs_proxy_config_t;

/* Defaults above. Cannot fail. */
void cs_proxy_config_init(cs_proxy_config_t *cfg);
/* Runs until SIGINT/SIGTERM. Returns 0 after a clean stop, or a CS_E* code
 * (eb says why) when it cannot start: CA, store, trust or listen errors. */
int cs_proxy_run(const cs_proxy_config_t *cfg, cs_errbuf_t *eb) CS_MUST_CHECK;

#endif
