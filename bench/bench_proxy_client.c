/*
 * Load generator for bench/bench_proxy.sh: sequential HTTPS requests to an
 * upstream, directly or through an HTTP CONNECT proxy (certskew, mitmproxy),
 * with mbedTLS on blocking sockets. Prints one JSON object:
 *   handshakes_per_s   full connections per second (TCP + CONNECT + TLS +
 *                      one small HTTP/1.0 request read to the end)
 *   latency_ms p50/p99 per such request
 *   bulk_MBps          one large download
 *
 * usage: bench_proxy_client --port P [--proxy PORT] --ca FILE --count N
 *          [--small PATH] [--bulk PATH] [--label NAME]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

typedef struct bench {
  const char *port, *proxy, *ca, *small, *bulk, *label;
  int count;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_x509_crt trust;
  mbedtls_ssl_config conf;
} bench_t;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int send_all(mbedtls_net_context *n, const char *p, size_t len) {
  while (len > 0) {
    int w = mbedtls_net_send(n, (const unsigned char *)p, len);
    if (w <= 0)
      return -1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

/* CONNECT through the proxy; 0 when it answers 200. */
static int tunnel(mbedtls_net_context *n, const char *port) {
  char req[128];
  int len = snprintf(req, sizeof req, "CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n",
                     port, port);
  if (send_all(n, req, (size_t)len) != 0)
    return -1;
  char head[1024];
  size_t used = 0;
  while (used < sizeof head - 1) {
    int r = mbedtls_net_recv(n, (unsigned char *)head + used, 1);
    if (r <= 0)
      return -1;
    used++;
    head[used] = '\0';
    if (used >= 4 && memcmp(head + used - 4, "\r\n\r\n", 4) == 0)
      return strstr(head, " 200") != NULL ? 0 : -1;
  }
  return -1;
}

/* One connection: GET path, read to EOF; returns body+head bytes or -1. */
static long long fetch(bench_t *b, const char *path) {
  mbedtls_net_context net;
  mbedtls_ssl_context ssl;
  mbedtls_net_init(&net);
  mbedtls_ssl_init(&ssl);
  long long total = -1;
  if (mbedtls_net_connect(&net, "127.0.0.1", b->proxy ? b->proxy : b->port, MBEDTLS_NET_PROTO_TCP) != 0)
    goto out;
  /* mbedTLS sends each handshake message with its own write: without
   * NODELAY, Nagle + delayed ACK would add 40 ms to every handshake. */
  int one = 1;
  setsockopt(net.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (b->proxy != NULL && tunnel(&net, b->port) != 0)
    goto out;
  if (mbedtls_ssl_setup(&ssl, &b->conf) != 0)
    goto out;
  mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, mbedtls_net_recv, NULL);
  int rc;
  while ((rc = mbedtls_ssl_handshake(&ssl)) != 0)
    if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE)
      goto out;
  char req[256];
  int len = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
  const unsigned char *p = (const unsigned char *)req;
  while (len > 0) {
    int w = mbedtls_ssl_write(&ssl, p, (size_t)len);
    if (w <= 0)
      goto out;
    p += w;
    len -= w;
  }
  static unsigned char buf[1 << 16];
  long long got = 0;
  for (;;) {
    int r = mbedtls_ssl_read(&ssl, buf, sizeof buf);
    if (r > 0) {
      got += r;
      continue;
    }
    if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_NET_CONN_RESET)
      break;
    if (r == MBEDTLS_ERR_SSL_WANT_READ)
      continue;
    goto out;
  }
  total = got;
out:
  mbedtls_ssl_close_notify(&ssl);
  mbedtls_ssl_free(&ssl);
  mbedtls_net_free(&net);
  return total;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  bench_t b;
  memset(&b, 0, sizeof b);
  b.count = 200;
  b.small = "/small.txt";
  b.label = "run";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--port") == 0) b.port = argv[i + 1];
    else if (strcmp(argv[i], "--proxy") == 0) b.proxy = argv[i + 1];
    else if (strcmp(argv[i], "--ca") == 0) b.ca = argv[i + 1];
    else if (strcmp(argv[i], "--count") == 0) b.count = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--small") == 0) b.small = argv[i + 1];
    else if (strcmp(argv[i], "--bulk") == 0) b.bulk = argv[i + 1];
    else if (strcmp(argv[i], "--label") == 0) b.label = argv[i + 1];
  }
  if (b.port == NULL || b.ca == NULL || b.count < 1) {
    fprintf(stderr, "usage: bench_proxy_client --port P [--proxy PORT] --ca FILE --count N "
                    "[--small PATH] [--bulk PATH] [--label NAME]\n");
    return 2;
  }
  mbedtls_entropy_init(&b.entropy);
  mbedtls_ctr_drbg_init(&b.drbg);
  mbedtls_x509_crt_init(&b.trust);
  mbedtls_ssl_config_init(&b.conf);
  if (mbedtls_ctr_drbg_seed(&b.drbg, mbedtls_entropy_func, &b.entropy, NULL, 0) != 0 ||
      mbedtls_x509_crt_parse_file(&b.trust, b.ca) != 0 ||
      mbedtls_ssl_config_defaults(&b.conf, MBEDTLS_SSL_IS_CLIENT, 0, 0) != 0) {
    fprintf(stderr, "bench_proxy_client: cannot set up TLS (CA file %s)\n", b.ca);
    return 1;
  }
  mbedtls_ssl_conf_rng(&b.conf, mbedtls_ctr_drbg_random, &b.drbg);
  mbedtls_ssl_conf_ca_chain(&b.conf, &b.trust, NULL);
  mbedtls_ssl_conf_authmode(&b.conf, MBEDTLS_SSL_VERIFY_REQUIRED);
  /* Browsers' curve order (mbedTLS would offer P-521 first). */
  static const mbedtls_ecp_group_id curves[] = {MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1,
                                                MBEDTLS_ECP_DP_NONE};
  mbedtls_ssl_conf_curves(&b.conf, curves);
  double *lat = calloc((size_t)b.count, sizeof *lat);
  if (lat == NULL)
    return 1;
  int errors = 0, ok = 0;
  /* Warm-up: the proxies mint their leaf and judge the chain once. */
  (void)fetch(&b, b.small);
  double t0 = now_s();
  for (int i = 0; i < b.count; i++) {
    double s = now_s();
    if (fetch(&b, b.small) <= 0) {
      errors++;
      continue;
    }
    lat[ok++] = (now_s() - s) * 1000.0;
  }
  double elapsed = now_s() - t0;
  qsort(lat, (size_t)ok, sizeof *lat, cmp_double);
  double p50 = ok ? lat[(size_t)(ok * 50 / 100)] : -1;
  double p99 = ok ? lat[(size_t)((ok * 99) / 100 < ok ? (ok * 99) / 100 : ok - 1)] : -1;
  double mbps = -1;
  long long bulk_bytes = 0;
  if (b.bulk != NULL) {
    double s = now_s();
    bulk_bytes = fetch(&b, b.bulk);
    double d = now_s() - s;
    if (bulk_bytes > 0 && d > 0)
      mbps = (double)bulk_bytes / d / 1e6;
    else
      errors++;
  }
  printf("{\"label\": \"%s\", \"requests\": %d, \"errors\": %d, \"handshakes_per_s\": %.1f, "
         "\"latency_ms\": {\"p50\": %.3f, \"p99\": %.3f}, \"bulk_bytes\": %lld, \"bulk_MBps\": %.1f}\n",
         b.label, ok, errors, elapsed > 0 ? ok / elapsed : 0, p50, p99, bulk_bytes, mbps);
  free(lat);
  mbedtls_ssl_config_free(&b.conf);
  mbedtls_x509_crt_free(&b.trust);
  mbedtls_ctr_drbg_free(&b.drbg);
  mbedtls_entropy_free(&b.entropy);
  return errors == 0 ? 0 : 1;
}
