/* The lab's TLS and HTTP servers (see lab_server.h). */
#include "certskew/lab/lab_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/pem.h>

#include "certskew/net/endpoint.h"
#include "certskew/net/http_response.h"

typedef struct lab_conn {
  cs_endpoint_t ep;
  cs_lab_server_t *srv;
  int tls, handshaken, answered;
  char req[CS_LAB_REQUEST_MAX + 1];
  size_t req_len;
} lab_conn_t;

void cs_lab_server_init(cs_lab_server_t *s, uv_loop_t *loop) {
  memset(s, 0, sizeof(*s));
  s->loop = loop;
  mbedtls_ssl_config_init(&s->conf);
  mbedtls_x509_crt_init(&s->chain);
  mbedtls_pk_init(&s->key);
}

void cs_lab_server_free(cs_lab_server_t *s) {
  mbedtls_ssl_config_free(&s->conf);
  mbedtls_x509_crt_free(&s->chain);
  mbedtls_pk_free(&s->key);
  if (s->rng_ok)
    cs_rng_free(&s->rng);
  s->rng_ok = 0;
  mbedtls_ssl_config_init(&s->conf);
  mbedtls_x509_crt_init(&s->chain);
  mbedtls_pk_init(&s->key);
}

static void on_conn_closed(cs_endpoint_t *ep) {
  lab_conn_t *c = ep->owner;
  c->srv->nconns--;
  free(c);
}

static void conn_close(lab_conn_t *c) { cs_endpoint_close(&c->ep); }

static void on_shutdown(cs_endpoint_t *ep, int status) {
  (void)status;
  conn_close(ep->owner);
}

/* Sends r and half-closes; the connection closes when the peer has it. */
static void respond(lab_conn_t *c, cs_http_response_t *r, int head_only) {
  size_t len = 0;
  uint8_t *bytes = cs_http_response_serialize(r, head_only, &len);
  c->answered = 1;
  cs_endpoint_read_stop(&c->ep);
  if (bytes == NULL || cs_endpoint_send(&c->ep, bytes, len) != 0) {
    free(bytes);
    conn_close(c);
    return;
  }
  free(bytes);
  c->ep.on_shutdown = on_shutdown;
  cs_endpoint_shutdown(&c->ep);
  if (!c->ep.shut)
    conn_close(c);
}

static int set_bytes(cs_http_response_t *r, const char *type, const void *p, size_t n) {
  return cs_http_response_set(r, 200, type, (const char *)p, n);
}

/* A further CRL the scenario publishes at this path (an earlier version, a shard). */
static const cs_lab_crl_file_t *extra_crl(const cs_lab_scenario_t *sc, const char *path) {
  for (size_t i = 0; i < sc->nextra_crls; i++)
    if (strcmp(sc->extra_crls[i].path, path) == 0)
      return &sc->extra_crls[i];
  return NULL;
}

/* Routes one plain HTTP request of the CA's data server. */
static void answer_http(lab_conn_t *c, const char *method, const char *path) {
  const cs_lab_crl_file_t *extra = NULL;
  const cs_lab_scenario_t *sc = c->srv->sc;
  cs_http_response_t r;
  cs_http_response_init(&r);
  int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
  int rc;
  c->srv->http_requests++;
  if ((strcmp(method, "POST") == 0 && strcmp(path, "/ocsp") == 0) ||
      (get && strncmp(path, "/ocsp/", 6) == 0)) {
    /* The lab CA knows one certificate: every request gets the response the
     * scenario prescribes (good, revoked, stale or unauthorized). */
    c->srv->ocsp_requests++;
    rc = set_bytes(&r, "application/ocsp-response", sc->ocsp_der, sc->ocsp_der_len);
  } else if (get && strcmp(path, "/crl.der") == 0) {
    rc = set_bytes(&r, "application/pkix-crl", sc->crl_der, sc->crl_der_len);
  } else if (get && (extra = extra_crl(sc, path)) != NULL) {
    rc = set_bytes(&r, "application/pkix-crl", extra->der, extra->der_len);
  } else if (get && strcmp(path, "/intermediate.der") == 0) {
    rc = set_bytes(&r, "application/pkix-cert", sc->intermediate.der, sc->intermediate.der_len);
  } else if (get && strcmp(path, "/trust.pem") == 0) {
    rc = set_bytes(&r, "application/x-pem-file", sc->trust_pem, strlen(sc->trust_pem));
  } else if (get && strcmp(path, "/log_list.json") == 0) {
    rc = set_bytes(&r, "application/json", sc->log_list_json, strlen(sc->log_list_json));
  } else {
    rc = cs_http_response_set(&r, 404, "text/plain", "not found\n", 10);
  }
  if (rc != 0)
    conn_close(c);
  else
    respond(c, &r, strcmp(method, "HEAD") == 0);
  cs_http_response_free(&r);
}

static void answer_tls(lab_conn_t *c) {
  char body[256];
  const cs_lab_scenario_info_t *info = cs_lab_scenario_info(c->srv->sc->id);
  int n = snprintf(body, sizeof(body), "certskew lab: %s\n%s\n", info->name, info->summary);
  cs_http_response_t r;
  cs_http_response_init(&r);
  if (cs_http_response_set(&r, 200, "text/plain", body, (size_t)n) != 0)
    conn_close(c);
  else
    respond(c, &r, 0);
  cs_http_response_free(&r);
}

/* Once the head is complete: "METHOD PATH HTTP/x.y" and, for POST, the
 * body (Content-Length) — the OCSP request, which the lab does not need. */
static void try_request(lab_conn_t *c) {
  c->req[c->req_len] = '\0';
  char *end = strstr(c->req, "\r\n\r\n");
  if (end == NULL) {
    if (c->req_len == CS_LAB_REQUEST_MAX)
      conn_close(c);
    return;
  }
  if (c->tls) {
    answer_tls(c);
    return;
  }
  char method[16], path[512];
  if (sscanf(c->req, "%15s %511s HTTP/", method, path) != 2) {
    conn_close(c);
    return;
  }
  const char *cl = strstr(c->req, "\r\nContent-Length:");
  if (cl == NULL)
    cl = strstr(c->req, "\r\ncontent-length:");
  size_t body = cl ? strtoul(cl + 17, NULL, 10) : 0;
  size_t head = (size_t)(end + 4 - c->req);
  if (body > CS_LAB_REQUEST_MAX - head) {
    conn_close(c);
    return;
  }
  if (c->req_len - head < body)
    return; /* the body is still coming */
  answer_http(c, method, path);
}

static void append(lab_conn_t *c, const uint8_t *p, size_t n) {
  size_t room = CS_LAB_REQUEST_MAX - c->req_len;
  if (n > room)
    n = room;
  memcpy(c->req + c->req_len, p, n);
  c->req_len += n;
}

static void tls_pump(lab_conn_t *c) {
  if (!c->handshaken) {
    int ret = mbedtls_ssl_handshake(&c->ep.ssl);
    if (cs_endpoint_flush(&c->ep) != 0) {
      conn_close(c);
      return;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
      return;
    if (ret != 0) {
      if (c->srv->verbose)
        fprintf(stderr, "certskew lab: TLS handshake failed: -0x%04x\n", (unsigned)-ret);
      conn_close(c);
      return;
    }
    c->handshaken = 1;
    c->srv->tls_handshakes++;
  }
  unsigned char buf[4096];
  while (!c->answered) {
    int n = mbedtls_ssl_read(&c->ep.ssl, buf, sizeof(buf));
    if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)
      return;
    if (n <= 0) {
      conn_close(c);
      return;
    }
    append(c, buf, (size_t)n);
    try_request(c);
  }
}

static void on_read(cs_endpoint_t *ep, uint8_t *buf, ssize_t nread) {
  lab_conn_t *c = ep->owner;
  if (nread < 0) {
    free(buf);
    conn_close(c);
    return;
  }
  if (c->tls) {
    int rc = cs_tls_bio_push(&ep->bio, buf, (size_t)nread);
    free(buf);
    if (rc != 0)
      conn_close(c);
    else
      tls_pump(c);
    return;
  }
  append(c, buf, (size_t)nread);
  free(buf);
  if (!c->answered)
    try_request(c);
}

static void on_connection(uv_stream_t *listener, int status) {
  cs_lab_server_t *s = listener->data;
  int tls = listener == (uv_stream_t *)&s->tls;
  if (status != 0)
    return;
  lab_conn_t *c = calloc(1, sizeof(*c)); /* freed in on_conn_closed */
  if (c == NULL)
    return;
  cs_endpoint_init(&c->ep, c, tls ? "tls" : "http");
  c->srv = s;
  c->tls = tls;
  if (cs_endpoint_open(&c->ep, s->loop) != 0) {
    free(c);
    return;
  }
  s->nconns++;
  c->ep.on_closed = on_conn_closed;
  c->ep.on_read = on_read;
  if (uv_accept(listener, (uv_stream_t *)&c->ep.tcp) != 0 || s->nconns > CS_LAB_MAX_CONNS ||
      (tls && cs_endpoint_tls_setup(&c->ep, &s->conf) != 0) ||
      cs_endpoint_read_start(&c->ep) != 0)
    conn_close(c);
}

static int listen_on(cs_lab_server_t *s, uv_tcp_t *t, int *open, int port, int *bound,
                     cs_errbuf_t *eb) {
  struct sockaddr_in addr;
  struct sockaddr_storage got;
  int len = sizeof(got);
  if (uv_ip4_addr("127.0.0.1", port, &addr) != 0 || uv_tcp_init(s->loop, t) != 0)
    return cs_errbuf_set(eb, CS_ENET, "cannot create a socket");
  *open = 1; /* the handle exists from here on: stop closes it */
  t->data = s;
  int rc = uv_tcp_bind(t, (const struct sockaddr *)&addr, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)t, 64, on_connection);
  if (rc == 0)
    rc = uv_tcp_getsockname(t, (struct sockaddr *)&got, &len);
  if (rc != 0)
    return cs_errbuf_set(eb, CS_ENET, "cannot listen on 127.0.0.1:%d: %s", port, uv_strerror(rc));
  *bound = ntohs(((struct sockaddr_in *)&got)->sin_port);
  return 0;
}

int cs_lab_server_listen_http(cs_lab_server_t *s, int port, cs_errbuf_t *eb) {
  return listen_on(s, &s->http, &s->http_open, port, &s->http_port, eb);
}

/* mbedTLS refuses the critical CT poison of a precertificate (served by
 * precert-no-final) unless a callback accepts it; nothing else is accepted. */
static int accept_poison(void *ctx, mbedtls_x509_crt const *crt, mbedtls_x509_buf const *oid,
                         int critical, const unsigned char *p, const unsigned char *end) {
  static const uint8_t POISON[] = {0x2B, 0x06, 0x01, 0x04, 0x01, 0xD6, 0x79, 0x02, 0x04, 0x03};
  (void)ctx;
  (void)crt;
  (void)p;
  (void)end;
  if (oid->len == sizeof(POISON) && memcmp(oid->p, POISON, sizeof(POISON)) == 0)
    return 0;
  return critical ? MBEDTLS_ERR_X509_INVALID_EXTENSIONS : 0;
}

/* Every PEM certificate of pem into chain, in order. */
static int load_chain(mbedtls_x509_crt *chain, const char *pem) {
  size_t off = 0, len = strlen(pem), n = 0;
  while (off < len) {
    mbedtls_pem_context ctx;
    mbedtls_pem_init(&ctx);
    size_t used = 0;
    int ret = mbedtls_pem_read_buffer(&ctx, "-----BEGIN CERTIFICATE-----",
                                      "-----END CERTIFICATE-----",
                                      (const unsigned char *)pem + off, NULL, 0, &used);
    if (ret == 0)
      ret = mbedtls_x509_crt_parse_der_with_ext_cb(chain, ctx.buf, ctx.buflen, 1, accept_poison,
                                                   NULL);
    mbedtls_pem_free(&ctx);
    if (ret == MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT && n > 0)
      break;
    if (ret != 0)
      return -1;
    off += used;
    n++;
  }
  return n > 0 ? 0 : -1;
}

int cs_lab_server_listen_tls(cs_lab_server_t *s, const cs_lab_scenario_t *sc, int port,
                             cs_errbuf_t *eb) {
  s->sc = sc;
  s->rng_ok = 1; /* cs_rng_free is safe after a failed init */
  if (cs_rng_init(&s->rng, "certskew lab tls") != 0)
    return cs_errbuf_set(eb, CS_ECRYPTO, "cannot seed the random generator");
  if (load_chain(&s->chain, sc->chain_pem) != 0 ||
      mbedtls_pk_parse_key(&s->key, (const unsigned char *)sc->leaf_key_pem,
                           strlen(sc->leaf_key_pem) + 1, NULL, 0) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "cannot load the scenario's chain and key");
  if (mbedtls_ssl_config_defaults(&s->conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                  MBEDTLS_SSL_PRESET_DEFAULT) != 0 ||
      mbedtls_ssl_conf_own_cert(&s->conf, &s->chain, &s->key) != 0)
    return cs_errbuf_set(eb, CS_ECRYPTO, "cannot configure TLS");
  mbedtls_ssl_conf_rng(&s->conf, cs_rng_fill, &s->rng);
  return listen_on(s, &s->tls, &s->tls_open, port, &s->tls_port, eb);
}

static void close_conn_walk(uv_handle_t *h, void *arg) {
  cs_lab_server_t *s = arg;
  if (h->type != UV_TCP || h == (uv_handle_t *)&s->http || h == (uv_handle_t *)&s->tls ||
      uv_is_closing(h))
    return;
  cs_endpoint_t *ep = h->data;
  if (ep != NULL && ep->owner != NULL)
    conn_close(ep->owner);
}

void cs_lab_server_stop(cs_lab_server_t *s) {
  if (s->http_open && !uv_is_closing((uv_handle_t *)&s->http))
    uv_close((uv_handle_t *)&s->http, NULL);
  if (s->tls_open && !uv_is_closing((uv_handle_t *)&s->tls))
    uv_close((uv_handle_t *)&s->tls, NULL);
  uv_walk(s->loop, close_conn_walk, s);
}
