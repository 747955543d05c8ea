/*
 * Load generator for bench/bench_proxy.sh. The same client (OpenSSL,
 * blocking sockets, one thread per simulated client) drives all three
 * targets: the upstream directly, through certskew and through mitmproxy
 * (HTTP CONNECT). OpenSSL keeps the client's own CPU cost small next to
 * the proxies'; the per-phase CPU time of every watched process (--pid)
 * and of the client itself is reported so a reader can see which process
 * was the bottleneck.
 *
 * Phases (after a warm-up that is not measured):
 *   handshakes.full[c]    c concurrent clients, each looping for --duration
 *                         seconds: new TCP connection (+ CONNECT), full TLS
 *                         1.2 handshake with verification, GET /small
 *                         (HTTP/1.0), body read to its Content-Length.
 *   handshakes.resumed[c] the same, each client resuming its previous
 *                         session (ticket or id), as browsers do.
 *   keepalive             one TLS connection, --ka-requests sequential
 *                         HTTP/1.1 GET /small: per-request latency.
 *   bulk                  --bulk-runs downloads of /bulk, MB/s each, going
 *                         round the targets run by run; the
 *                         median is the figure.
 *
 * Every phase runs for all --target's back to back (interleaved), so a
 * change in the machine's background load affects them alike. Prints a
 * JSON array with one object per target.
 *
 * usage: bench_proxy_client --port P --target LABEL,PROXYPORT,CAFILE[,PID]...
 *          [--conc 1,16,64] [--duration S] [--warmup S] [--ka-requests N]
 *          [--bulk-runs N] [--pid NAME=PID]...
 *   PROXYPORT 0 connects directly; =PORT connects to a transparent TCP
 *   relay on PORT (no CONNECT: a reference such as HAProxy in TCP mode);
 *   PID is the proxy's, for its CPU time.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define MAX_CONC 8
#define MAX_PIDS 4

typedef struct opts {
  int port;
  int conc[MAX_CONC];
  int nconc;
  double duration_s, warmup_s;
  int ka_requests, bulk_runs;
  const char *pid_name[MAX_PIDS];
  int pid[MAX_PIDS];
  int npids;
} opts_t;

#define MAX_TARGETS 6

/* One target: the upstream directly (proxy 0) or through a proxy. */
typedef struct target {
  const char *label, *ca;
  int proxy, proxy_pid;
  int transparent; /* proxy is a plain TCP relay to the upstream: no CONNECT */
  SSL_CTX *ctx;
  FILE *out; /* its JSON object, in buf */
  char *buf;
  size_t len;
} target_t;

static opts_t g_o;
static target_t g_t[MAX_TARGETS];
static int g_nt;
static target_t *g_cur; /* the target being measured (read by workers) */

#define out(...) fprintf(g_cur->out, __VA_ARGS__)

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- CPU accounting ---- */

typedef struct cpu_snap {
  double proc[MAX_PIDS];
  double proxy;
  double self;
  double wall;
} cpu_snap_t;

static double proc_cpu_s(int pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')'); /* the command name may hold spaces */
  if (p == NULL)
    return -1;
  unsigned long long ut = 0, st = 0;
  /* After ")": state(3) ... utime(14) stime(15). */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
    return -1;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void snap(cpu_snap_t *s) {
  for (int i = 0; i < g_o.npids; i++)
    s->proc[i] = proc_cpu_s(g_o.pid[i]);
  s->proxy = g_cur->proxy_pid > 0 ? proc_cpu_s(g_cur->proxy_pid) : 0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  s->self = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
            (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  s->wall = now_s();
}

/* "cpu": {"client": {"s": x, "util": y}, ...}: util is CPU seconds per
 * wall second (1.0 = one core busy the whole phase). */
static void print_cpu(const cpu_snap_t *a, const cpu_snap_t *b) {
  double wall = b->wall - a->wall;
  out("\"cpu\": {\"client\": {\"s\": %.3f, \"util\": %.2f}", b->self - a->self,
         wall > 0 ? (b->self - a->self) / wall : 0);
  for (int i = 0; i < g_o.npids; i++) {
    double d = b->proc[i] - a->proc[i];
    out(", \"%s\": {\"s\": %.3f, \"util\": %.2f}", g_o.pid_name[i], d, wall > 0 ? d / wall : 0);
  }
  if (g_cur->proxy_pid > 0) {
    double d = b->proxy - a->proxy;
    out(", \"proxy\": {\"s\": %.3f, \"util\": %.2f}", d, wall > 0 ? d / wall : 0);
  }
  out("}");
}

/* ---- one connection ---- */

static int set_timeouts(int fd) {
  struct timeval tv = {10, 0};
  int one = 1;
  /* The handshake's flights are small writes: no Nagle delays. */
  return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) |
         setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) |
         setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int tcp_connect(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons((uint16_t)(g_cur->proxy ? g_cur->proxy : g_o.port));
  if (set_timeouts(fd) != 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  if (!g_cur->proxy || g_cur->transparent)
    return fd;
  char req[160];
  int len = snprintf(req, sizeof req, "CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
                     g_o.port, g_o.port);
  if (send(fd, req, (size_t)len, 0) != len) {
    close(fd);
    return -1;
  }
  /* Nothing follows the proxy's answer before our ClientHello. */
  char head[1024];
  size_t used = 0;
  while (used < sizeof head - 1) {
    ssize_t r = recv(fd, head + used, sizeof head - 1 - used, 0);
    if (r <= 0)
      break;
    used += (size_t)r;
    head[used] = '\0';
    if (strstr(head, "\r\n\r\n") != NULL)
      return strncmp(head + 8, " 200", 4) == 0 ? fd : (close(fd), -1);
  }
  close(fd);
  return -1;
}

/* Reads one response (head + Content-Length body); returns bytes or -1. */
static long long read_response(SSL *ssl) {
  static _Thread_local char buf[1 << 16];
  size_t have = 0;
  long long clen = -1, body = 0;
  for (;;) {
    int r = SSL_read(ssl, buf + have, (int)(sizeof buf - 1 - have));
    if (r <= 0)
      return -1;
    have += (size_t)r;
    buf[have] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    if (end == NULL) {
      if (have >= sizeof buf - 1)
        return -1;
      continue;
    }
    char *cl = strstr(buf, "Content-Length:");
    if (cl == NULL || cl > end)
      cl = strstr(buf, "content-length:");
    if (cl == NULL || cl > end)
      return -1;
    clen = atoll(cl + 15);
    body = (long long)(buf + have - (end + 4));
    break;
  }
  while (body < clen) {
    int r = SSL_read(ssl, buf, sizeof buf);
    if (r <= 0)
      return -1;
    body += r;
  }
  return body == clen ? clen : -1;
}

static int send_get(SSL *ssl, const char *path, int keep) {
  char req[160];
  int len = snprintf(req, sizeof req, "GET %s HTTP/1.%d\r\nHost: 127.0.0.1:%d\r\n\r\n", path, keep,
                     g_o.port);
  return SSL_write(ssl, req, len) == len ? 0 : -1;
}

static SSL *tls_open(int fd, SSL_SESSION *resume) {
  SSL *ssl = SSL_new(g_cur->ctx);
  if (ssl == NULL)
    return NULL;
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
  if (SSL_set_fd(ssl, fd) != 1 || (resume != NULL && SSL_set_session(ssl, resume) != 1) ||
      SSL_connect(ssl) != 1 || SSL_get_verify_result(ssl) != X509_V_OK) {
    SSL_free(ssl);
    return NULL;
  }
  return ssl;
}

static void tls_close(SSL *ssl, int fd) {
  if (ssl != NULL) {
    SSL_shutdown(ssl); /* our close_notify; not waiting for the peer's */
    SSL_free(ssl);
  }
  close(fd);
  ERR_clear_error();
}

/* One request on a new connection. *sess (may be NULL: no resumption) is
 * offered and replaced by the new session. */
static long long fetch(const char *path, SSL_SESSION **sess, int *resumed) {
  int fd = tcp_connect();
  if (fd < 0)
    return -1;
  SSL *ssl = tls_open(fd, sess != NULL ? *sess : NULL);
  long long got = -1;
  if (ssl == NULL)
    goto out;
  if (resumed != NULL)
    *resumed = SSL_session_reused(ssl);
  if (sess != NULL) {
    SSL_SESSION_free(*sess);
    *sess = SSL_get1_session(ssl);
  }
  if (send_get(ssl, path, 0) == 0)
    got = read_response(ssl);
out:
  tls_close(ssl, fd);
  return got;
}

/* ---- phases ---- */

typedef struct worker {
  pthread_t t;
  int resume;
  double deadline;
  double *lat; /* owned: ms per completed request */
  size_t n, cap;
  long errors, resumed;
} worker_t;

static pthread_barrier_t g_start;
static double g_t0, g_duration;

static void *work(void *arg) {
  worker_t *w = arg;
  SSL_SESSION *sess = NULL;
  pthread_barrier_wait(&g_start);
  double end = g_t0 + g_duration;
  while (now_s() < end) {
    double s = now_s();
    int re = 0;
    if (fetch("/small", w->resume ? &sess : NULL, &re) != 100) {
      w->errors++;
      continue;
    }
    if (w->n == w->cap) {
      size_t nc = w->cap ? w->cap * 2 : 1024;
      double *p = realloc(w->lat, nc * sizeof *p);
      if (p == NULL)
        break;
      w->lat = p;
      w->cap = nc;
    }
    w->lat[w->n++] = (now_s() - s) * 1000.0;
    w->resumed += re;
  }
  SSL_SESSION_free(sess);
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, int p) {
  if (n == 0)
    return -1;
  size_t k = (n * (size_t)p + 99) / 100; /* nearest rank */
  return v[k == 0 ? 0 : k - 1];
}

/* Runs c clients for duration_s; prints the phase object when print. */
static void load(int c, int resume, double duration_s, int print) {
  worker_t *ws = calloc((size_t)c, sizeof *ws);
  if (ws == NULL)
    exit(1);
  pthread_barrier_init(&g_start, NULL, (unsigned)c + 1);
  g_duration = duration_s;
  for (int i = 0; i < c; i++) {
    ws[i].resume = resume;
    if (pthread_create(&ws[i].t, NULL, work, &ws[i]) != 0)
      exit(1);
  }
  cpu_snap_t a, b;
  snap(&a);
  g_t0 = now_s();
  pthread_barrier_wait(&g_start);
  for (int i = 0; i < c; i++)
    pthread_join(ws[i].t, NULL);
  snap(&b);
  double elapsed = b.wall - g_t0;
  size_t total = 0;
  long errors = 0, resumed = 0;
  for (int i = 0; i < c; i++) {
    total += ws[i].n;
    errors += ws[i].errors;
    resumed += ws[i].resumed;
  }
  double *all = malloc((total ? total : 1) * sizeof *all);
  size_t k = 0;
  for (int i = 0; all != NULL && i < c; i++) {
    memcpy(all + k, ws[i].lat, ws[i].n * sizeof *all);
    k += ws[i].n;
  }
  if (all != NULL)
    qsort(all, total, sizeof *all, cmp_double);
  if (print && all != NULL)
    out("{\"concurrency\": %d, \"seconds\": %.2f, \"completed\": %zu, \"errors\": %ld, "
           "\"resumed_fraction\": %.3f, \"handshakes_per_s\": %.1f, "
           "\"latency_ms\": {\"p50\": %.3f, \"p99\": %.3f}, ",
           c, elapsed, total, errors, total ? (double)resumed / (double)total : 0,
           elapsed > 0 ? (double)total / elapsed : 0, pct(all, total, 50), pct(all, total, 99));
  if (print) {
    print_cpu(&a, &b);
    out("}");
  }
  free(all);
  for (int i = 0; i < c; i++)
    free(ws[i].lat);
  free(ws);
  pthread_barrier_destroy(&g_start);
}

static void keepalive(void) {
  int n = g_o.ka_requests;
  double *lat = calloc((size_t)n, sizeof *lat);
  int fd = tcp_connect();
  SSL *ssl = fd >= 0 ? tls_open(fd, NULL) : NULL;
  int ok = 0;
  cpu_snap_t a, b;
  snap(&a);
  for (int i = 0; ssl != NULL && lat != NULL && i < n; i++) {
    double s = now_s();
    if (send_get(ssl, "/small", 1) != 0 || read_response(ssl) != 100)
      break;
    lat[ok++] = (now_s() - s) * 1000.0;
  }
  snap(&b);
  if (fd >= 0)
    tls_close(ssl, fd);
  if (lat != NULL)
    qsort(lat, (size_t)ok, sizeof *lat, cmp_double);
  out("{\"requests\": %d, \"errors\": %d, \"requests_per_s\": %.1f, "
         "\"latency_ms\": {\"p50\": %.3f, \"p99\": %.3f}, ",
         ok, n - ok, b.wall > a.wall ? ok / (b.wall - a.wall) : 0,
         lat ? pct(lat, (size_t)ok, 50) : -1, lat ? pct(lat, (size_t)ok, 99) : -1);
  print_cpu(&a, &b);
  out("}");
  free(lat);
}

/* Bulk runs go round the targets (run 1 of each target, then run 2 of
 * each, ...), so a change in the machine's load during the phase hits every
 * target alike instead of whichever ran last. Each target's CPU and wall
 * time are the sums over its own runs. */
typedef struct bulk_result {
  double mbps[16];
  int ok;
  long long bytes;
  cpu_snap_t cpu; /* summed deltas over this target's runs */
} bulk_result_t;

static void bulk_run(bulk_result_t *r) {
  cpu_snap_t a, b;
  snap(&a);
  double s = now_s();
  long long got = fetch("/bulk", NULL, NULL);
  double d = now_s() - s;
  snap(&b);
  if (got > 0 && d > 0) {
    r->mbps[r->ok++] = (double)got / d / 1e6;
    r->bytes = got;
  }
  for (int i = 0; i < g_o.npids; i++)
    r->cpu.proc[i] += b.proc[i] - a.proc[i];
  r->cpu.proxy += b.proxy - a.proxy;
  r->cpu.self += b.self - a.self;
  r->cpu.wall += b.wall - a.wall;
}

static void bulk_print(const bulk_result_t *r, int n) {
  double sorted[16];
  memcpy(sorted, r->mbps, sizeof sorted);
  qsort(sorted, (size_t)r->ok, sizeof *sorted, cmp_double);
  out("{\"bytes\": %lld, \"runs\": %d, \"errors\": %d, \"runs_MBps\": [", r->bytes, r->ok,
      n - r->ok);
  for (int i = 0; i < r->ok; i++)
    out("%s%.1f", i ? ", " : "", r->mbps[i]);
  out("], \"MBps\": %.1f, ", r->ok ? sorted[r->ok / 2] : -1.0);
  cpu_snap_t zero;
  memset(&zero, 0, sizeof zero);
  print_cpu(&zero, &r->cpu);
  out("}");
}

static int parse_args(int argc, char **argv) {
  g_o.duration_s = 3;
  g_o.warmup_s = 1;
  g_o.ka_requests = 2000;
  g_o.bulk_runs = 3;
  g_o.conc[0] = 1;
  g_o.conc[1] = 16;
  g_o.conc[2] = 64;
  g_o.nconc = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (strcmp(k, "--port") == 0) g_o.port = atoi(v);
    else if (strcmp(k, "--target") == 0 && g_nt < MAX_TARGETS) {
      /* LABEL,PROXYPORT,CAFILE[,PROXYPID]; PROXYPORT 0 = direct, =PORT = a
       * transparent TCP relay listening on PORT (no CONNECT) */
      char *t = strdup(v), *save = NULL;
      target_t *x = &g_t[g_nt++];
      x->label = strtok_r(t, ",", &save);
      char *pp = strtok_r(NULL, ",", &save);
      x->ca = strtok_r(NULL, ",", &save);
      char *pid = strtok_r(NULL, ",", &save);
      if (x->label == NULL || pp == NULL || x->ca == NULL)
        return -1;
      x->transparent = pp[0] == '=';
      x->proxy = atoi(pp + x->transparent);
      x->proxy_pid = pid != NULL ? atoi(pid) : 0;
    }
    else if (strcmp(k, "--duration") == 0) g_o.duration_s = atof(v);
    else if (strcmp(k, "--warmup") == 0) g_o.warmup_s = atof(v);
    else if (strcmp(k, "--ka-requests") == 0) g_o.ka_requests = atoi(v);
    else if (strcmp(k, "--bulk-runs") == 0) g_o.bulk_runs = atoi(v);
    else if (strcmp(k, "--conc") == 0) {
      g_o.nconc = 0;
      char tmp[128];
      snprintf(tmp, sizeof tmp, "%s", v);
      for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t != NULL && g_o.nconc < MAX_CONC;
           t = strtok_r(NULL, ",", &save))
        g_o.conc[g_o.nconc++] = atoi(t);
    } else if (strcmp(k, "--pid") == 0 && g_o.npids < MAX_PIDS) {
      const char *eq = strchr(v, '=');
      if (eq == NULL)
        return -1;
      g_o.pid_name[g_o.npids] = strndup(v, (size_t)(eq - v));
      g_o.pid[g_o.npids++] = atoi(eq + 1);
    } else
      return -1;
  }
  for (int i = 0; i < g_o.nconc; i++)
    if (g_o.conc[i] < 1 || g_o.conc[i] > 1024)
      return -1;
  return g_o.port > 0 && g_nt > 0 && g_o.duration_s > 0 && g_o.ka_requests > 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  if (parse_args(argc, argv) != 0) {
    fprintf(stderr, "usage: bench_proxy_client --port P --target LABEL,PROXYPORT,CAFILE[,PID]... "
                    "[--conc 1,16,64] [--duration S] [--warmup S] [--ka-requests N] "
                    "[--bulk-runs N] [--pid NAME=PID]...\n");
    return 2;
  }
  for (int i = 0; i < g_nt; i++) {
    target_t *t = &g_t[i];
    t->ctx = SSL_CTX_new(TLS_client_method());
    t->out = open_memstream(&t->buf, &t->len);
    if (t->ctx == NULL || t->out == NULL ||
        SSL_CTX_set_max_proto_version(t->ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_load_verify_locations(t->ctx, t->ca, NULL) != 1) {
      fprintf(stderr, "bench_proxy_client: cannot set up TLS (CA file %s)\n", t->ca);
      return 1;
    }
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    /* Sessions are kept per simulated client by the caller, never by a
     * shared cache, so "full" runs really are full handshakes. */
    SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
  }
  int maxc = 1;
  for (int i = 0; i < g_o.nconc; i++)
    maxc = g_o.conc[i] > maxc ? g_o.conc[i] : maxc;
  /* Warm-up (not measured): leaves minted, chains judged, caches filled. */
  for (int i = 0; i < g_nt; i++) {
    g_cur = &g_t[i];
    load(maxc, 1, g_o.warmup_s, 0);
    out("{\"label\": \"%s\", \"handshakes\": {", g_cur->label);
  }
  /* Every phase runs for all targets back to back, so a change in the
   * machine's background load hits them alike. */
  for (int r = 0; r < 2; r++) {
    for (int i = 0; i < g_nt; i++) {
      g_cur = &g_t[i];
      out("%s\"%s\": [", r ? ", " : "", r ? "resumed" : "full");
    }
    for (int c = 0; c < g_o.nconc; c++)
      for (int i = 0; i < g_nt; i++) {
        g_cur = &g_t[i];
        if (c)
          out(", ");
        load(g_o.conc[c], r, g_o.duration_s, 1);
      }
    for (int i = 0; i < g_nt; i++) {
      g_cur = &g_t[i];
      out("]");
    }
  }
  for (int i = 0; i < g_nt; i++) {
    g_cur = &g_t[i];
    out("}, \"keepalive\": ");
    keepalive();
  }
  static bulk_result_t bulk[MAX_TARGETS];
  int runs = g_o.bulk_runs > 16 ? 16 : g_o.bulk_runs;
  for (int k = 0; k < runs; k++)
    for (int i = 0; i < g_nt; i++) {
      g_cur = &g_t[i];
      bulk_run(&bulk[i]);
    }
  for (int i = 0; i < g_nt; i++) {
    g_cur = &g_t[i];
    out(", \"bulk\": ");
    bulk_print(&bulk[i], runs);
    out("}");
  }
  printf("[");
  for (int i = 0; i < g_nt; i++) {
    fclose(g_t[i].out);
    printf("%s%s", i ? ",\n" : "", g_t[i].buf);
    free(g_t[i].buf);
    SSL_CTX_free(g_t[i].ctx);
  }
  printf("]\n");
  return 0;
}
