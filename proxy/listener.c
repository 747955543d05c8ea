/*
 * cs_proxy_run: opens the CA, the capture store and the upstream trust,
 * listens (loopback unless told otherwise), and runs the loop until SIGINT
 * or SIGTERM. See certskew/proxy/proxy.h.
 */
#include <arpa/inet.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/proxy/proxy.h"
#include "certskew/fetch/enrich.h"
#include "enrich_queue.h"
#include "certskew/store/file_io.h"
#include "proxy_ctx.h"
#include "certskew/store/fs.h"

#ifndef CS_WEB_DIR
#define CS_WEB_DIR "web"
#endif

void cs_proxy_config_init(cs_proxy_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->listen_host = "127.0.0.1";
  cfg->listen_port = CS_PROXY_DEFAULT_PORT;
  cfg->max_conns = 1024;
  cfg->max_captures = 1000;
  cfg->handshake_timeout_ms = 10000;
  cfg->idle_timeout_ms = 120000;
  cfg->fetch_timeout_ms = CS_ENRICH_DEFAULT_TIMEOUT_MS;
  cfg->max_enrich = CS_ENRICH_QUEUE_DEFAULT_INFLIGHT;
}

typedef struct runner {
  cs_proxy_ctx_t px;
  uv_loop_t loop;
  uv_tcp_t server;
  uv_signal_t sigint, sigterm;
  uv_timer_t flush;
  cs_clock_t exact;
  cs_enrich_queue_t *enrich;   /* owned; NULL without a store or with no_enrich */
  char crl_history[4200];      /* <home>/crl-history: the enrichment's fetched CRLs */
  uint64_t trimmed_at;         /* px.closed_total at the last malloc_trim */
} runner_t;

static void on_connection(uv_stream_t *server, int status) {
  cs_proxy_ctx_t *px = server->data;
  if (status != 0) {
    fprintf(stderr, "certskew: accept: %s\n", uv_strerror(status));
    return;
  }
  cs_conn_accept(px, server);
}

static void close_walk(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void on_signal(uv_signal_t *s, int signum) {
  runner_t *r = s->data;
  fprintf(stderr, "certskew: signal %d, stopping\n", signum);
  r->px.stopping = 1;
  /* Enrichments in flight end by their own timeouts, keeping the loop
   * alive at most that long; nothing waiting is started. */
  cs_enrich_queue_stop(r->enrich);
  if (cs_enrich_queue_inflight(r->enrich) > 0)
    fprintf(stderr, "certskew: waiting for %zu enrichment(s) to end\n",
            cs_enrich_queue_inflight(r->enrich));
  cs_conn_close_all(&r->px);
  uv_close((uv_handle_t *)&r->server, NULL);
  uv_close((uv_handle_t *)&r->sigint, NULL);
  uv_close((uv_handle_t *)&r->sigterm, NULL);
  uv_close((uv_handle_t *)&r->flush, NULL);
}

/* Memory freed by closed connections goes back to the system. glibc keeps
 * freed heap pages (and per-thread arenas) for reuse: after a burst of
 * never-reading clients, each with up to 1 MB queued per side, the idle
 * proxy stayed at the burst's size. malloc_trim returns every whole free
 * page; it walks the heap (about a millisecond per 100 MB), so it runs on
 * the flush tick, and only when connections closed since the last one. */
static void release_memory(runner_t *r) {
#if defined(__GLIBC__)
  if (r->px.closed_total == r->trimmed_at)
    return;
  r->trimmed_at = r->px.closed_total;
  malloc_trim(0);
#else
  (void)r;
#endif
}

static void on_flush(uv_timer_t *t) {
  runner_t *r = t->data;
  release_memory(r);
  if (r->px.store != NULL && cs_capture_store_flush(r->px.store, cs_fs_now_ms()) != 0)
    fprintf(stderr, "certskew: capture store: cannot write metadata (still serving)\n");
}

static int is_loopback_text(const char *host) {
  unsigned char a[16];
  if (inet_pton(AF_INET, host, a) == 1)
    return a[0] == 127;
  if (inet_pton(AF_INET6, host, a) == 1) {
    static const unsigned char lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return memcmp(a, lo6, 16) == 0;
  }
  return 0;
}

static int open_state(runner_t *r, const cs_proxy_config_t *cfg, cs_errbuf_t *eb) {
  cs_proxy_ctx_t *px = &r->px;
  char home[4096];
  if (cfg->home_dir != NULL)
    snprintf(home, sizeof home, "%s", cfg->home_dir);
  else if (cs_ca_home_dir(home, sizeof home) != 0)
    return cs_errbuf_set(eb, CS_ENOTFOUND,
                         "no home directory: set CERTSKEW_HOME, XDG_DATA_HOME or HOME");
  int rc = cs_ca_open(&px->ca, home, 1, cs_fs_now_ms(), eb);
  if (rc == 0)
    rc = cs_mint_new(&px->mint, px->ca, 1024, eb);
  if (rc == 0 && cs_rng_init(&px->rng, "certskew-server") != 0)
    rc = cs_errbuf_set(eb, CS_ECRYPTO, "cannot seed the random generator");
  if (rc == 0)
    rc = cs_upstream_conf_init(&px->up, cfg->trust_file, eb);
  if (rc != 0)
    return rc;
  snprintf(r->crl_history, sizeof r->crl_history, "%s/crl-history", home);
  char store[4200];
  if (cfg->store_dir != NULL)
    snprintf(store, sizeof store, "%s", cfg->store_dir);
  else
    snprintf(store, sizeof store, "%s/captures", home);
  cs_errbuf_t seb;
  cs_errbuf_init(&seb);
  /* Without a store the proxy still serves (and says so). */
  if (cs_capture_store_open(&px->store, store, cfg->max_captures, &seb) != 0)
    fprintf(stderr, "certskew: warning: capture store unavailable (%s); serving without it\n",
            seb.msg);
  const cs_clock_t *clocks = cfg->clocks;
  size_t nclocks = cfg->nclocks;
  if (clocks == NULL || nclocks == 0) {
    cs_clock_init_exact(&r->exact);
    clocks = &r->exact;
    nclocks = 1;
  }
  cs_analysis_opts_t base = {.clocks = clocks,
                             .nclocks = nclocks,
                             /* trust and name, judged by the trust analyzer at every clock */
                             .trust_stores = (const cs_trust_store_t *const *)&px->up.trust,
                             .ntrust_stores = px->up.trust != NULL,
                             .log_list = cfg->log_list};
  cs_judge_init(&px->judge, &base, px->store);
  if (cfg->browser != NULL)
    snprintf(px->judge.browser, sizeof px->judge.browser, "%s", cfg->browser);
  if (px->store != NULL && !cfg->no_enrich) {
    cs_enrich_queue_conf_t qc = {.loop = &r->loop,
                                 .judge = &px->judge,
                                 .store = px->store,
                                 .fetch = !cfg->no_fetch,
                                 .timeout_ms = cfg->fetch_timeout_ms > 0
                                                   ? (uint64_t)cfg->fetch_timeout_ms
                                                   : 0,
                                 .max_inflight = cfg->max_enrich,
                                 .verbose = cfg->verbose,
                                 .crl_history_dir = r->crl_history};
    if ((rc = cs_enrich_queue_new(&r->enrich, &qc)) != 0)
      return cs_errbuf_set(eb, rc, "cannot set up enrichment: %s", cs_strerror(rc));
    px->judge.on_new = cs_enrich_queue_on_new;
    px->judge.on_new_ud = r->enrich;
  }
  px->web_dir = cfg->web_dir != NULL ? cfg->web_dir : CS_WEB_DIR;
  return 0;
}

static int start_listening(runner_t *r, const cs_proxy_config_t *cfg, cs_errbuf_t *eb) {
  cs_proxy_ctx_t *px = &r->px;
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  if (uv_ip4_addr(cfg->listen_host, cfg->listen_port, (struct sockaddr_in *)&ss) != 0 &&
      uv_ip6_addr(cfg->listen_host, cfg->listen_port, (struct sockaddr_in6 *)&ss) != 0)
    return cs_errbuf_set(eb, CS_EINVAL, "--listen needs an IP address, not '%s'",
                         cfg->listen_host);
  px->listen_loopback = is_loopback_text(cfg->listen_host);
  if (!px->listen_loopback)
    fprintf(stderr,
            "certskew: WARNING: listening on %s, not loopback: anyone who can reach this "
            "address %s use the proxy and its API\n",
            cfg->listen_host, cfg->allow_remote ? "can" : "can connect, but only loopback "
                                                          "clients are served; --allow-remote would let them");
  uv_tcp_init(&r->loop, &r->server);
  r->server.data = px;
  int e = uv_tcp_bind(&r->server, (const struct sockaddr *)&ss, 0);
  if (e == 0)
    e = uv_listen((uv_stream_t *)&r->server, 511, on_connection);
  if (e != 0)
    return cs_errbuf_set(eb, CS_ENET, "cannot listen on %s:%d: %s", cfg->listen_host,
                         cfg->listen_port, uv_strerror(e));
  int len = sizeof ss;
  uv_tcp_getsockname(&r->server, (struct sockaddr *)&ss, &len);
  px->self_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
  if (cs_upstream_conf_set_self(&px->up, (const struct sockaddr *)&ss) != 0)
    fprintf(stderr, "certskew: warning: cannot list the local interface addresses; loop "
                    "detection knows only loopback and the listening address\n");
  int v6 = strchr(cfg->listen_host, ':') != NULL;
  snprintf(px->self_text, sizeof px->self_text, v6 ? "[%s]:%d" : "%s:%d", cfg->listen_host,
           px->self_port);
  if (cfg->port_file != NULL) {
    char text[16];
    int n = snprintf(text, sizeof text, "%d\n", px->self_port);
    if (cs_fs_write_atomic(cfg->port_file, text, (size_t)n, 0644, eb) != 0)
      return CS_EIO;
  }
  fprintf(stderr,
          "certskew: proxy listening on %s (CA: %s)\n"
          "  web page:     http://%s/\n"
          "  trust the CA: http://%s/ca  (steps per browser and OS; or: certskew ca export)\n"
          "  try:          curl -x http://%s --cacert %s https://example.com/\n",
          px->self_text, cs_ca_cert_path(px->ca), px->self_text, px->self_text, px->self_text,
          cs_ca_cert_path(px->ca));
  return 0;
}

int cs_proxy_run(const cs_proxy_config_t *cfg, cs_errbuf_t *eb) {
  runner_t *r = calloc(1, sizeof *r); /* freed at the end of this function */
  if (r == NULL)
    return CS_ENOMEM;
  /* A peer closing while we write must be an error code, not a signal. */
  signal(SIGPIPE, SIG_IGN);
  r->px.cfg = cfg;
  r->px.loop = &r->loop;
  int loop_ok = uv_loop_init(&r->loop) == 0;
  /* A bad address is refused before anything is created on disk. */
  struct sockaddr_storage probe;
  int rc = 0;
  if (uv_ip4_addr(cfg->listen_host, 0, (struct sockaddr_in *)&probe) != 0 &&
      uv_ip6_addr(cfg->listen_host, 0, (struct sockaddr_in6 *)&probe) != 0)
    rc = cs_errbuf_set(eb, CS_EINVAL, "--listen needs an IP address, not '%s'", cfg->listen_host);
  else if (!loop_ok)
    rc = cs_errbuf_set(eb, CS_ENOMEM, "no event loop");
  else
    rc = open_state(r, cfg, eb);
  if (rc == 0)
    rc = start_listening(r, cfg, eb);
  if (rc == 0) {
    uv_signal_init(&r->loop, &r->sigint);
    uv_signal_init(&r->loop, &r->sigterm);
    r->sigint.data = r->sigterm.data = r;
    uv_signal_start(&r->sigint, on_signal, SIGINT);
    uv_signal_start(&r->sigterm, on_signal, SIGTERM);
    uv_timer_init(&r->loop, &r->flush);
    r->flush.data = r;
    uv_timer_start(&r->flush, on_flush, 5000, 5000);
    uv_run(&r->loop, UV_RUN_DEFAULT);
  }
  if (loop_ok) {
    cs_conn_close_all(&r->px);
    uv_walk(&r->loop, close_walk, NULL);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&r->loop) != 0)
      fprintf(stderr, "certskew: warning: event loop not fully closed\n");
  }
  if (cs_enrich_queue_free(r->enrich) != 0)
    fprintf(stderr, "certskew: warning: enrichments still in flight at exit\n");
  cs_judge_free(&r->px.judge);
  cs_capture_store_free(r->px.store);
  cs_upstream_conf_free(&r->px.up);
  cs_rng_free(&r->px.rng);
  cs_mint_free(r->px.mint);
  cs_ca_free(r->px.ca);
  free(r);
  return rc;
}
