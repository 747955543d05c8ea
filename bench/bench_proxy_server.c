/*
 * Upstream HTTPS server for bench/bench_proxy.sh: OpenSSL, TLS 1.2 (what
 * certskew's mbedTLS 2.28 speaks, so all three paths run the same protocol
 * end to end), one thread per connection so concurrent clients are never
 * serialised by the server (openssl s_server -WWW handles one connection at
 * a time, which made every concurrent figure measure s_server).
 *
 *   GET /small         100-byte body
 *   GET /bulk          --bulk-bytes of body, written from a static buffer
 * HTTP/1.0 requests are answered and the connection closed; HTTP/1.1 ones
 * keep the connection open (Content-Length framing) for the keep-alive
 * request-latency figure. Session tickets and the session cache are on
 * (OpenSSL defaults), as on real servers.
 *
 * --no-resume turns tickets and the session cache off: every upstream
 * handshake is then a full one (a proxy's first visit to every server).
 *
 * usage: bench_proxy_server --cert F --key F --port-file F [--bulk-bytes N]
 *          [--no-resume 1]
 * Listens on 127.0.0.1 (ephemeral port, written to --port-file) until killed.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static SSL_CTX *g_ctx;
static long long g_bulk = 256LL * 1024 * 1024;
static unsigned char g_block[65536];

typedef struct job {
  int fd;
} job_t;

static int write_all(SSL *ssl, const void *p, size_t len) {
  const unsigned char *b = p;
  while (len > 0) {
    int w = SSL_write(ssl, b, (int)(len > 1 << 20 ? 1 << 20 : len));
    if (w <= 0)
      return -1;
    b += w;
    len -= (size_t)w;
  }
  return 0;
}

/* Reads one request head into buf; returns its length, 0 at EOF, -1 on error. */
static int read_head(SSL *ssl, char *buf, size_t cap, size_t *have) {
  for (;;) {
    buf[*have] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    if (end != NULL)
      return (int)(end - buf) + 4;
    if (*have + 1 >= cap)
      return -1;
    int r = SSL_read(ssl, buf + *have, (int)(cap - 1 - *have));
    if (r <= 0)
      return *have == 0 ? 0 : -1;
    *have += (size_t)r;
  }
}

static void serve(SSL *ssl) {
  char buf[8192];
  size_t have = 0;
  for (;;) {
    int hl = read_head(ssl, buf, sizeof buf, &have);
    if (hl <= 0)
      return;
    int keep = strstr(buf, "HTTP/1.1\r\n") != NULL && strstr(buf, "onnection: close") == NULL;
    long long len = strncmp(buf, "GET /bulk", 9) == 0 ? g_bulk : 100;
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     "Content-Length: %lld\r\nConnection: %s\r\n\r\n",
                     len, keep ? "keep-alive" : "close");
    if (len <= (long long)sizeof g_block - (long long)n) {
      /* One record for head + small body, as a real server would. */
      char one[sizeof g_block];
      memcpy(one, head, (size_t)n);
      memcpy(one + n, g_block, (size_t)len);
      if (write_all(ssl, one, (size_t)n + (size_t)len) != 0)
        return;
    } else {
      if (write_all(ssl, head, (size_t)n) != 0)
        return;
      for (long long left = len; left > 0;) {
        size_t k = left > (long long)sizeof g_block ? sizeof g_block : (size_t)left;
        if (write_all(ssl, g_block, k) != 0)
          return;
        left -= (long long)k;
      }
    }
    memmove(buf, buf + hl, have - (size_t)hl);
    have -= (size_t)hl;
    if (!keep)
      return;
  }
}

static void *conn_thread(void *arg) {
  job_t *j = arg;
  int fd = j->fd;
  free(j);
  SSL *ssl = SSL_new(g_ctx);
  if (ssl != NULL && SSL_set_fd(ssl, fd) == 1 && SSL_accept(ssl) == 1) {
    serve(ssl);
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  close(fd);
  ERR_clear_error();
  return NULL;
}

int main(int argc, char **argv) {
  const char *cert = NULL, *key = NULL, *port_file = NULL;
  int no_resume = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--cert") == 0) cert = argv[i + 1];
    else if (strcmp(argv[i], "--key") == 0) key = argv[i + 1];
    else if (strcmp(argv[i], "--port-file") == 0) port_file = argv[i + 1];
    else if (strcmp(argv[i], "--bulk-bytes") == 0) g_bulk = atoll(argv[i + 1]);
    else if (strcmp(argv[i], "--no-resume") == 0) no_resume = atoi(argv[i + 1]);
  }
  if (cert == NULL || key == NULL || port_file == NULL || g_bulk < 0) {
    fprintf(stderr, "usage: bench_proxy_server --cert F --key F --port-file F [--bulk-bytes N]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  memset(g_block, 'x', sizeof g_block);
  g_ctx = SSL_CTX_new(TLS_server_method());
  if (g_ctx == NULL || SSL_CTX_set_max_proto_version(g_ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_use_certificate_chain_file(g_ctx, cert) != 1 ||
      SSL_CTX_use_PrivateKey_file(g_ctx, key, SSL_FILETYPE_PEM) != 1) {
    ERR_print_errors_fp(stderr);
    return 1;
  }
  if (no_resume) {
    SSL_CTX_set_options(g_ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(g_ctx, SSL_SESS_CACHE_OFF);
  }
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof sa;
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 1024) != 0 ||
      getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
    perror("bench_proxy_server: listen");
    return 1;
  }
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
  FILE *f = fopen(tmp, "w");
  if (f == NULL || fprintf(f, "%d\n", ntohs(sa.sin_port)) < 0 || fclose(f) != 0 ||
      rename(tmp, port_file) != 0) {
    perror("bench_proxy_server: port file");
    return 1;
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  for (;;) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
        continue;
      perror("bench_proxy_server: accept");
      return 1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    job_t *j = malloc(sizeof *j); /* freed by the thread */
    pthread_t t;
    if (j == NULL) {
      close(fd);
      continue;
    }
    j->fd = fd;
    if (pthread_create(&t, &attr, conn_thread, j) != 0) {
      free(j);
      close(fd);
    }
  }
}
