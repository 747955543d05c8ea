/*
 * cs_proxy_run: opens the CA, the capture store and the upstream trust,
 * listens (loopback unless told otherwise), and runs the loop until SIGINT
 * or SIGTERM. See certskew/proxy/proxy.h.
 *
 * Workers (--workers N): worker 0 is the calling thread's loop, which also
 * owns the signals, the flush timer and the enrichment queue; workers 1..N-1
 * are threads with their own loops. Each worker listens on its own socket,
 * all bound with SO_REUSEPORT to one address, so the kernel spreads new
 * connections and a connection stays on the loop that accepted it until it
 * closes: no hand-off, no shared connection state. What the workers share
 * and how is in proxy_ctx.h. A single worker listens without SO_REUSEPORT
 * and starts no thread: today's path. At a signal, worker 0 closes its
 * clients and wakes every other worker (a uv_async each) to close theirs;
 * the threads are joined before the shared state is freed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/proxy/proxy.h"
#include "certskew/fetch/enrich.h"
#include "busy.h"
#include "enrich_queue.h"
#include "certskew/store/file_io.h"
#include "proxy_ctx.h"
#include "certskew/store/fs.h"
#include "certskew/net/session_cache.h"

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

/* Workers 1..N-1 (worker 0 is the runner's own px, loop and server). */
typedef struct worker {
  cs_proxy_ctx_t px;
  uv_loop_t loop;
  uv_tcp_t server;
  uv_async_t stop;        /* from worker 0's thread: close everything */
  uv_thread_t thread;
  int loop_ok, started;
} worker_t;

typedef struct runner {
  cs_proxy_ctx_t px;      /* worker 0 */
  cs_proxy_shared_t sh;
  int sh_ok;
  cs_judge_t judge;
  worker_t *workers;      /* owned: nworkers - 1 of them */
  int nworkers;
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

static void on_worker_stop(uv_async_t *a) {
  worker_t *w = a->data;
  w->px.stopping = 1;
  cs_conn_close_all(&w->px);
  uv_close((uv_handle_t *)&w->server, NULL);
  uv_close((uv_handle_t *)&w->stop, NULL);
}

static void worker_main(void *arg) {
  worker_t *w = arg;
  uv_run(&w->loop, UV_RUN_DEFAULT);
  cs_conn_close_all(&w->px);
  uv_walk(&w->loop, close_walk, NULL);
  uv_run(&w->loop, UV_RUN_DEFAULT);
}

static void on_signal(uv_signal_t *s, int signum) {
  runner_t *r = s->data;
  fprintf(stderr, "certskew: signal %d, stopping\n", signum);
  r->px.stopping = 1;
  for (int i = 0; i < r->nworkers - 1; i++)
    if (r->workers[i].started)
      uv_async_send(&r->workers[i].stop);
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
  uint64_t closed = atomic_load(&r->sh.closed_total); /* every worker's */
  if (closed == r->trimmed_at)
    return;
  r->trimmed_at = closed;
  malloc_trim(0);
#else
  (void)r;
#endif
}

static void on_flush(uv_timer_t *t) {
  runner_t *r = t->data;
  release_memory(r);
  if (r->px.store == NULL)
    return;
  cs_proxy_lock(&r->px);
  int rc = cs_capture_store_flush(r->px.store, cs_fs_now_ms());
  cs_proxy_unlock(&r->px);
  if (rc != 0)
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
  if (rc == 0 && cs_mint_key_copy(px->mint, &px->leaf_key) != 0)
    rc = cs_errbuf_set(eb, CS_ECRYPTO, "cannot copy the leaf key");
  if (rc == 0 && cs_rng_init(&px->rng, "certskew-server") != 0)
    rc = cs_errbuf_set(eb, CS_ECRYPTO, "cannot seed the random generator");
  if (rc == 0)
    rc = cs_upstream_conf_init(&px->up, cfg->trust_file, eb);
  if (rc != 0)
    return rc;
  r->sh.tickets = &px->up.tickets;
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
  cs_judge_init(&r->judge, &base, px->store);
  px->judge = &r->judge;
  if (cfg->browser != NULL)
    snprintf(r->judge.browser, sizeof r->judge.browser, "%s", cfg->browser);
  if (px->store != NULL && !cfg->no_enrich) {
    cs_enrich_queue_conf_t qc = {.loop = &r->loop,
                                 .judge = &r->judge,
                                 .lock = &r->sh.state,
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
    r->judge.on_new = cs_enrich_queue_on_new;
    r->judge.on_new_ud = r->enrich;
  }
  px->web_dir = cfg->web_dir != NULL ? cfg->web_dir : CS_WEB_DIR;
  return 0;
}

/* A listening socket for one of several workers: SO_REUSEPORT, bound to
 * ss (whose port is the first socket's once known). */
static int reuseport_socket(const struct sockaddr_storage *ss, uv_os_sock_t *out) {
  int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return uv_translate_sys_error(errno);
  int on = 1;
  socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                            : sizeof(struct sockaddr_in);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0 ||
      bind(fd, (const struct sockaddr *)ss, len) != 0) {
    int e = uv_translate_sys_error(errno);
    close(fd);
    return e;
  }
  *out = fd;
  return 0;
}

/* Binds and listens on server (on loop): alone, as libuv does; one of
 * several workers, with SO_REUSEPORT. */
static int listen_on(uv_loop_t *loop, uv_tcp_t *server, cs_proxy_ctx_t *px,
                     const struct sockaddr_storage *ss, int shared) {
  uv_tcp_init(loop, server);
  server->data = px;
  int e;
  if (!shared) {
    e = uv_tcp_bind(server, (const struct sockaddr *)ss, 0);
  } else {
    uv_os_sock_t fd = -1;
    e = reuseport_socket(ss, &fd);
    if (e == 0 && (e = uv_tcp_open(server, fd)) != 0)
      close(fd);
  }
  if (e == 0)
    e = uv_listen((uv_stream_t *)server, 511, on_connection);
  return e;
}

/* Worker i (1..N-1): its own loop, RNG, upstream conf (trust, session cache)
 * and leaf key; the rest is worker 0's, shared (proxy_ctx.h). */
static int worker_open(runner_t *r, worker_t *w, int i, const struct sockaddr_storage *ss,
                       cs_errbuf_t *eb) {
  const cs_proxy_ctx_t *p0 = &r->px;
  cs_proxy_ctx_t *px = &w->px;
  px->cfg = p0->cfg;
  px->ca = p0->ca;
  px->mint = p0->mint;
  px->store = p0->store;
  px->judge = p0->judge;
  px->sh = p0->sh;
  px->worker = i;
  px->web_dir = p0->web_dir;
  px->listen_loopback = p0->listen_loopback;
  px->self_port = p0->self_port;
  snprintf(px->self_text, sizeof px->self_text, "%s", p0->self_text);
  mbedtls_pk_init(&px->leaf_key);
  if (uv_loop_init(&w->loop) != 0)
    return cs_errbuf_set(eb, CS_ENOMEM, "no event loop for worker %d", i);
  w->loop_ok = 1;
  px->loop = &w->loop;
  int rc = cs_mint_key_copy(px->mint, &px->leaf_key);
  if (rc != 0)
    return cs_errbuf_set(eb, rc, "cannot copy the leaf key for worker %d", i);
  if (cs_rng_init(&px->rng, "certskew-server") != 0)
    return cs_errbuf_set(eb, CS_ECRYPTO, "cannot seed the random generator");
  if ((rc = cs_upstream_conf_init(&px->up, p0->cfg->trust_file, eb)) != 0)
    return rc;
  /* One upstream session cache for every worker (it locks itself). */
  cs_session_cache_free(px->up.sessions);
  px->up.sessions = p0->up.sessions;
  if (cs_upstream_conf_set_self(&px->up, (const struct sockaddr *)ss) != 0)
    fprintf(stderr, "certskew: warning: cannot list the local interface addresses (worker %d)\n",
            i);
  int e = listen_on(&w->loop, &w->server, px, ss, 1);
  if (e != 0)
    return cs_errbuf_set(eb, CS_ENET, "worker %d cannot listen: %s", i, uv_strerror(e));
  uv_async_init(&w->loop, &w->stop, on_worker_stop);
  w->stop.data = w;
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
  int e = listen_on(&r->loop, &r->server, px, &ss, r->nworkers > 1);
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
  /* The other workers bind the port the first socket got (--port 0). */
  for (int i = 1; i < r->nworkers; i++) {
    int rc = worker_open(r, &r->workers[i - 1], i, &ss, eb);
    if (rc != 0)
      return rc;
  }
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
  if (r->nworkers > 1 || cfg->verbose)
    fprintf(stderr, "certskew: %d worker%s\n", r->nworkers, r->nworkers > 1 ? "s" : "");
  return 0;
}

/* Client descriptors wanted per worker at the least. */
#define FDS_PER_WORKER 64

/* How many workers the soft descriptor limit leaves FDS_PER_WORKER client
 * descriptors each, above the busy reserve (busy.h); at least 1. */
static int workers_for_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return CS_PROXY_MAX_WORKERS;
  if (rl.rlim_cur <= (rlim_t)CS_BUSY_FD_RESERVE + FDS_PER_WORKER)
    return 1;
  rlim_t n = (rl.rlim_cur - CS_BUSY_FD_RESERVE) / FDS_PER_WORKER;
  return n > CS_PROXY_MAX_WORKERS ? CS_PROXY_MAX_WORKERS : (int)n;
}

/* --workers, else $CERTSKEW_WORKERS, else one per CPU within the bounds
 * below. */
static int worker_count(const cs_proxy_config_t *cfg) {
  if (cfg->workers > 0)
    return cfg->workers > CS_PROXY_MAX_WORKERS ? CS_PROXY_MAX_WORKERS : cfg->workers;
  const char *env = getenv("CERTSKEW_WORKERS");
  if (env != NULL && env[0] != '\0') {
    char *end;
    long n = strtol(env, &end, 10);
    if (*end == '\0' && n >= 1 && n <= CS_PROXY_MAX_WORKERS)
      return (int)n;
    fprintf(stderr, "certskew: warning: CERTSKEW_WORKERS='%s' is not 1..%d; ignored\n", env,
            CS_PROXY_MAX_WORKERS);
  }
  /* One loop per CPU this process may run on: full handshakes, the proxy's
   * costliest work, scale with loops while a core is free (bench_proxy.sh,
   * 2 cores: 1.4-1.5x the rate with 2 workers at 16 and 64 clients). Capped
   * so a large machine does not get dozens of mostly idle loops, and by the
   * descriptor limit: each loop costs descriptors of its own (epoll, wakeup,
   * listening socket), and under a low limit (ulimit -n 80) four loops left
   * no room for a single client above the busy reserve. */
  unsigned cpus = uv_available_parallelism();
  int n = cpus < 1 ? 1 : cpus > CS_PROXY_DEFAULT_WORKERS_MAX ? CS_PROXY_DEFAULT_WORKERS_MAX : (int)cpus;
  int budget = workers_for_fd_limit();
  return n < budget ? n : budget;
}

/* Frees worker w (its thread joined, or never started). */
static void worker_free(worker_t *w) {
  if (w->loop_ok) {
    cs_conn_close_all(&w->px);
    uv_walk(&w->loop, close_walk, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&w->loop) != 0)
      fprintf(stderr, "certskew: warning: worker %d's event loop not fully closed\n",
              w->px.worker);
  }
  w->px.up.sessions = NULL; /* worker 0's */
  cs_upstream_conf_free(&w->px.up);
  cs_rng_free(&w->px.rng);
  mbedtls_pk_free(&w->px.leaf_key);
}

int cs_proxy_run(const cs_proxy_config_t *cfg, cs_errbuf_t *eb) {
  runner_t *r = calloc(1, sizeof *r); /* freed at the end of this function */
  if (r == NULL)
    return CS_ENOMEM;
  r->nworkers = worker_count(cfg);
  if (r->nworkers > workers_for_fd_limit())
    fprintf(stderr,
            "certskew: warning: %d workers leave fewer than %d descriptors each under the "
            "descriptor limit (ulimit -n): clients will be refused with 503 PROXY_FD_LIMIT early\n",
            r->nworkers, FDS_PER_WORKER);
  r->workers = r->nworkers > 1 ? calloc((size_t)r->nworkers - 1, sizeof *r->workers) : NULL;
  if (r->nworkers > 1 && r->workers == NULL) {
    free(r);
    return CS_ENOMEM;
  }
  /* A peer closing while we write must be an error code, not a signal. */
  signal(SIGPIPE, SIG_IGN);
  r->sh_ok = uv_mutex_init(&r->sh.state) == 0;
  r->sh.nworkers = r->nworkers;
  r->px.sh = &r->sh;
  r->px.cfg = cfg;
  r->px.loop = &r->loop;
  mbedtls_pk_init(&r->px.leaf_key);
  int loop_ok = uv_loop_init(&r->loop) == 0;
  /* A bad address is refused before anything is created on disk. */
  struct sockaddr_storage probe;
  int rc = 0;
  if (uv_ip4_addr(cfg->listen_host, 0, (struct sockaddr_in *)&probe) != 0 &&
      uv_ip6_addr(cfg->listen_host, 0, (struct sockaddr_in6 *)&probe) != 0)
    rc = cs_errbuf_set(eb, CS_EINVAL, "--listen needs an IP address, not '%s'", cfg->listen_host);
  else if (!loop_ok || !r->sh_ok)
    rc = cs_errbuf_set(eb, CS_ENOMEM, "no event loop");
  else
    rc = open_state(r, cfg, eb);
  if (rc == 0)
    rc = start_listening(r, cfg, eb);
  for (int i = 0; rc == 0 && i < r->nworkers - 1; i++) {
    worker_t *w = &r->workers[i];
    if (uv_thread_create(&w->thread, worker_main, w) != 0)
      rc = cs_errbuf_set(eb, CS_ENOMEM, "cannot start worker thread %d", i + 1);
    else
      w->started = 1;
  }
  if (rc != 0) {
    /* Threads already running stop as at a signal. */
    for (int i = 0; i < r->nworkers - 1; i++)
      if (r->workers[i].started)
        uv_async_send(&r->workers[i].stop);
  }
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
  /* Every other worker has been told to stop: wait for its clients to close. */
  for (int i = 0; i < r->nworkers - 1; i++)
    if (r->workers[i].started)
      uv_thread_join(&r->workers[i].thread);
  for (int i = 0; i < r->nworkers - 1; i++)
    worker_free(&r->workers[i]);
  if (loop_ok) {
    cs_conn_close_all(&r->px);
    cs_enrich_queue_close(r->enrich);
    uv_walk(&r->loop, close_walk, NULL);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&r->loop) != 0)
      fprintf(stderr, "certskew: warning: event loop not fully closed\n");
  }
  if (cs_enrich_queue_free(r->enrich) != 0)
    fprintf(stderr, "certskew: warning: enrichments still in flight at exit\n");
  cs_judge_free(&r->judge);
  cs_capture_store_free(r->px.store);
  cs_upstream_conf_free(&r->px.up);
  cs_rng_free(&r->px.rng);
  mbedtls_pk_free(&r->px.leaf_key);
  cs_mint_free(r->px.mint);
  cs_ca_free(r->px.ca);
  if (r->sh_ok)
    uv_mutex_destroy(&r->sh.state);
  free(r->workers);
  free(r);
  return rc;
}
