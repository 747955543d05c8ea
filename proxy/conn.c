/*
 * One client connection of the proxy: reads the request head, then
 *  - CONNECT host:port: connects upstream (TLS), judges the served chain,
 *    answers 200, terminates the client's TLS with a minted leaf and relays
 *    decrypted bytes both ways, or serves a 502 page inside the TLS session
 *    when the upstream failed or is invalid;
 *  - absolute-form http://: each request of the connection parsed and sent
 *    to its own upstream, one at a time (see "plain HTTP" below);
 *  - a request to the proxy itself: the local API / web UI.
 * Once a tunnel is established its bytes are conn_relay.c's (backpressure
 * included); the connection's state is in conn_internal.h.
 * The connection is freed only after every handle's close callback and the
 * completion of any outstanding upstream request.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "busy.h"
#include "certskew/net/endpoint.h"
#include "certskew/proxy/http_head.h"
#include "certskew/net/http_response.h"
#include "conn_internal.h"
#include "passthrough.h"
#include "proxy_ctx.h"
#include "certskew/store/fs.h"
#include "certskew/net/x509_write.h"
#include "certskew/net/splice_relay.h"
#include "certskew/net/upstream.h"
#include "certskew/clients/profile.h"
#include "certskew/fetch/verdict.h"
#include "certskew/tls/tls_hello_join.h"

#define FINAL_LINGER_MS 5000



/* The API's error list (the capture store, shared by the workers). */
static void note_store_error(cs_proxy_ctx_t *px, const char *host, int port, const char *code,
                             const char *msg, int64_t now_ms) {
  if (px->store == NULL)
    return;
  cs_proxy_lock(px);
  cs_capture_store_note_error(px->store, host, port, code, msg, now_ms);
  cs_proxy_unlock(px);
}

void cs_conn_touch(cs_conn_t *c) { c->last_activity = uv_now(c->px->loop); }

void cs_conn_log(const cs_conn_t *c, const char *fmt, ...) {
  if (!c->px->cfg->verbose)
    return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "certskew: [%s:%d] ", c->target.host, c->target.port);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* ---- lifetime ---- */

void cs_conn_maybe_free(cs_conn_t *c) {
  if (c->state != ST_CLOSING || c->client.open || c->upstream.open || c->timer_open ||
      cs_upstream_busy(&c->up))
    return;
  cs_proxy_ctx_t *px = c->px;
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    px->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  px->nconns--;
  px->closed_total++;
  atomic_fetch_sub(&px->sh->nconns, 1);
  atomic_fetch_add(&px->sh->closed_total, 1);
  cs_upstream_free(&c->up);
  cs_verdict_free(&c->verdict);
  free(c->held);
  free(c->hello);
  cs_passthrough_release(c->pt);
  cs_leaf_release(c->leaf);
  cs_leaf_release(c->sni_leaf);
  free(c->head);
  free(c->resp);
  free(c->pending);
  free(c->body);
  free(c);
}

void cs_conn_on_ep_closed(cs_endpoint_t *ep) { cs_conn_maybe_free(ep->owner); }

static void on_timer_closed(uv_handle_t *h) {
  cs_conn_t *c = h->data;
  c->timer_open = 0;
  cs_conn_maybe_free(c);
}

void cs_conn_note_sighting(cs_conn_t *c, const char *ua, const char *action);

void cs_conn_close(cs_conn_t *c) {
  if (c->state == ST_CLOSING)
    return;
  cs_conn_note_sighting(c, NULL, c->state == ST_CLIENT_HS ? "client TLS handshake failed" : "closed before a request");
  c->state = ST_CLOSING;
  cs_upstream_cancel(&c->up);
  /* Before the sockets: closing a TCP handle drops its descriptor from the
   * loop, the relay's poll handles included (splice_relay.h). */
  cs_splice_relay_close(c->splice);
  c->splice = NULL;
  cs_endpoint_close(&c->client);
  cs_endpoint_close(&c->upstream);
  if (c->timer_open && !uv_is_closing((uv_handle_t *)&c->timer))
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
  cs_conn_maybe_free(c);
}

/* ---- our own responses ---- */

void cs_conn_on_final_shutdown(cs_endpoint_t *ep, int status) {
  (void)status;
  cs_conn_t *c = ep->owner;
  /* Linger for the client's EOF (closing with unread input would reset
   * the connection and could destroy the response); the timer bounds it. */
  cs_conn_touch(c);
  if (ep->eof)
    cs_conn_close(c);
}

static void send_final(cs_conn_t *c, cs_http_response_t *r, int head_only) {
  size_t len = 0;
  uint8_t *bytes = cs_http_response_serialize(r, head_only, &len);
  cs_http_response_free(r);
  if (bytes == NULL) {
    cs_conn_close(c);
    return;
  }
  c->state = ST_FINAL;
  cs_conn_touch(c);
  int rc;
  if (c->client.has_ssl) {
    rc = cs_endpoint_send(&c->client, bytes, len);
    free(bytes);
  } else {
    rc = cs_endpoint_write_owned(&c->client, bytes, len);
  }
  if (rc != 0) {
    cs_conn_close(c);
    return;
  }
  c->client.on_shutdown = cs_conn_on_final_shutdown;
  cs_endpoint_shutdown(&c->client);
  /* Keep reading (and discarding) so the client's EOF is seen. */
  if (cs_endpoint_read_start(&c->client) != 0)
    cs_conn_close(c);
}

void cs_conn_send_simple(cs_conn_t *c, int status, const char *msg) {
  cs_http_response_t r;
  cs_http_response_init(&r);
  if (cs_http_response_json_error(&r, status, msg) != 0) {
    cs_conn_close(c);
    return;
  }
  send_final(c, &r, 0);
}

/* ---- sightings: one per intercepted connection that was judged ---- */

static void peer_text(uv_tcp_t *tcp, char *out, size_t cap) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  char ip[64] = "";
  out[0] = '\0';
  if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) != 0)
    return;
  if (ss.ss_family == AF_INET) {
    uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof ip);
    snprintf(out, cap, "%s:%d", ip, ntohs(((struct sockaddr_in *)&ss)->sin_port));
  } else if (ss.ss_family == AF_INET6) {
    uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof ip);
    snprintf(out, cap, "[%s]:%d", ip, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
  }
}

/* Records what this connection's client was given (once; intercepted
 * CONNECTs whose chain was judged and stored). ua: the first request's
 * User-Agent, or NULL. */
void cs_conn_note_sighting(cs_conn_t *c, const char *ua, const char *action) {
  if (c->sighted || c->pt != NULL || !c->is_connect || c->verdict.capture_id[0] == '\0')
    return;
  c->sighted = 1;
  char addr[80];
  peer_text(&c->client.tcp, addr, sizeof addr);
  cs_proxy_lock(c->px);
  cs_judge_sighting(c->px->judge, &c->verdict, c->verdict.judged_ms, addr, ua, "intercept",
                    action);
  cs_proxy_unlock(c->px);
}

/* The User-Agent of a request head at the start of buf, or "". */
void cs_conn_sniff_user_agent(const unsigned char *buf, size_t n, char *out, size_t cap) {
  static const char name[] = "\nuser-agent:";
  out[0] = '\0';
  for (size_t i = 0; i + sizeof name - 1 < n; i++) {
    if (strncasecmp((const char *)buf + i, name, sizeof name - 1) != 0)
      continue;
    size_t j = i + sizeof name - 1, k = 0;
    while (j < n && buf[j] == ' ')
      j++;
    while (j < n && buf[j] != '\r' && buf[j] != '\n' && k + 1 < cap)
      out[k++] = (char)buf[j++];
    out[k] = '\0';
    return;
  }
}

/* The line of text (reasons or fixes, "name: ...\n" each) for profile. */
static void line_for(const char *text, const char *profile, char *out, size_t cap) {
  size_t plen = strlen(profile);
  out[0] = '\0';
  for (const char *p = text; p != NULL && *p != '\0';) {
    const char *nl = strchr(p, '\n');
    size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
    if (len > plen + 1 && strncmp(p, profile, plen) == 0 && (p[plen] == ':' || p[plen] == '/')) {
      const char *v = memchr(p, ':', len);
      v = v != NULL ? v + 1 : p;
      while (*v == ' ')
        v++;
      snprintf(out, cap, "%.*s", (int)(len - (size_t)(v - p)), v);
      return;
    }
    p = nl != NULL ? nl + 1 : NULL;
  }
}

/* What to try for an upstream that could not be reached: --forward-invalid
 * cannot help when there is no server to forward to. */
static const char *upstream_hint(const char *code) {
  if (strcmp(code, "UPSTREAM_DNS_FAILED") == 0)
    return "The host name does not resolve from this machine: check its spelling and this "
           "machine's DNS resolver.";
  if (strcmp(code, "UPSTREAM_REFUSED") == 0 || strcmp(code, "UPSTREAM_UNREACHABLE") == 0)
    return "Nothing accepts connections at that address and port: is the server running, "
           "and reachable from this machine (firewall, routes)?";
  if (strcmp(code, "UPSTREAM_TLS_FAILED") == 0)
    return "The server's TLS handshake failed before it sent a chain: check that it speaks "
           "TLS 1.2 or later on this port.";
  if (strcmp(code, "UPSTREAM_LOOP") == 0)
    return "The target is this proxy itself.";
  return "The proxy could not get a chain from the server, so there is nothing to judge or "
         "forward; retry, or check the server.";
}

/* The 502 page: the profile judged for, the root cause and its fix, and a
 * link to the report in the web page; for an upstream that could not be
 * reached, what would help instead. */
static void send_error_page(cs_conn_t *c) {
  cs_proxy_ctx_t *px = c->px;
  cs_conn_note_sighting(c, NULL, "502 page");
  int judged = c->judged_for[0] != '\0';
  char cause[CS_VERDICT_REASONS] = "", fix[CS_VERDICT_REASONS] = "";
  if (judged) {
    line_for(c->verdict.reasons, c->judged_for, cause, sizeof cause);
    line_for(c->verdict.fixes, c->judged_for, fix, sizeof fix);
  }
  char *why = cs_html_escape(c->fail_msg);
  char *host = cs_html_escape(c->target.host);
  char *ecause = cs_html_escape(cause[0] ? cause : c->fail_code);
  char *efix = cs_html_escape(fix);
  char link[2400] = "";
  if (c->verdict.capture_id[0] != '\0')
    snprintf(link, sizeof link,
             "<p><a href=\"http://%s/#/capture/%s\">Open the report in the certskew page</a> "
             "(every client, when each fails, the trust paths) &middot; served chain: "
             "<a href=\"http://%s/api/captures/%s/chain.pem\">chain.pem</a></p>",
             px->self_text, c->verdict.capture_id, px->self_text, c->verdict.capture_id);
  size_t cap = 6144 + (why ? strlen(why) : 0) + (ecause ? strlen(ecause) : 0) +
               (efix ? strlen(efix) : 0) + strlen(link);
  char *page = malloc(cap); /* handed to the response */
  if (why == NULL || host == NULL || ecause == NULL || efix == NULL || page == NULL) {
    free(why);
    free(host);
    free(ecause);
    free(efix);
    free(page);
    cs_conn_close(c);
    return;
  }
  char head[400];
  if (judged)
    snprintf(head, sizeof head, "<p>Judged for <strong>%s</strong> (from %s) at the proxy's clock: "
             "this client rejects the chain.</p>", c->judged_for,
             c->judged_by_ua ? "the browser's User-Agent" : "<code>--browser</code>");
  else
    snprintf(head, sizeof head, "<p>The server could not be reached: <code>%s</code>.</p>",
             c->fail_code);
  const char *hint = judged ? "To let this client through while the server is fixed, start the "
                              "proxy with <code>--forward-invalid</code>."
                            : upstream_hint(c->fail_code);
  int n = snprintf(page, cap,
                   "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<title>certskew: %s:%d rejected</title></head><body>"
                   "<h1>certskew blocked %s:%d</h1>%s"
                   "<p><strong>Root cause:</strong> <code>%s</code></p>"
                   "%s%s%s%s"
                   "<p>%s</p>"
                   "<details><summary>%s</summary><pre>%s</pre></details>"
                   "</body></html>\n",
                   host, c->target.port, host, c->target.port, head, ecause,
                   efix[0] ? "<p><strong>Fix:</strong> " : "", efix, efix[0] ? "</p>" : "", link,
                   hint, judged ? "Every failing client" : "Details", why);
  free(why);
  free(host);
  free(ecause);
  free(efix);
  cs_http_response_t r;
  cs_http_response_init(&r);
  cs_http_response_adopt(&r, 502, "text/html; charset=utf-8", page,
                         n > 0 && (size_t)n < cap ? (size_t)n : strlen(page));
  cs_http_response_header(&r, "X-Certskew-Error", c->fail_code);
  if (c->verdict.capture_id[0] != '\0')
    cs_http_response_header(&r, "X-Certskew-Capture", c->verdict.capture_id);
  send_final(c, &r, 0);
}

/* ---- API ---- */

static void api_respond(cs_conn_t *c) {
  cs_proxy_ctx_t *px = c->px;
  cs_api_ctx_t actx = {.store = px->store,
                       .web_dir = px->web_dir,
                       .ca_pem = px->ca != NULL ? cs_ca_cert_pem(px->ca) : NULL,
                       .now_ms = cs_fs_now_ms(),
                       .host = cs_http_head_header(c->head, "Host"),
                       .origin = cs_http_head_header(c->head, "Origin"),
                       .confirm = cs_http_head_header(c->head, "X-Certskew-Confirm"),
                       .self_text = px->self_text,
                       .self_port = px->self_port,
                       .judge = px->judge};
  cs_http_response_t r;
  cs_http_response_init(&r);
  const char *path = c->target.kind == CS_TARGET_ORIGIN ? c->url : c->target.path;
  if (path[0] != '/')
    path = "/";
  cs_proxy_lock(px); /* the API reads and changes the store and the judge */
  int arc = cs_api_handle(&actx, c->method, path, c->body, c->body_len, &r);
  cs_proxy_unlock(px);
  if (arc != 0) {
    cs_http_response_free(&r);
    cs_conn_send_simple(c, 500, "out of memory");
    return;
  }
  send_final(c, &r, strcmp(c->method, "HEAD") == 0);
}

static void api_body_add(cs_conn_t *c, const uint8_t *data, size_t len) {
  size_t take = c->body_want - c->body_len;
  if (take > len)
    take = len;
  memcpy(c->body + c->body_len, data, take);
  c->body_len += take;
  if (c->body_len == c->body_want) {
    cs_endpoint_read_stop(&c->client);
    api_respond(c);
  }
}

static void start_api(cs_conn_t *c) {
  if (strcmp(c->method, "POST") != 0) {
    api_respond(c);
    return;
  }
  if (c->head->chunked || c->head->content_length < 0) {
    cs_conn_send_simple(c, 411, "POST bodies need a Content-Length");
    return;
  }
  if ((unsigned long long)c->head->content_length > CS_API_BODY_MAX) {
    cs_conn_send_simple(c, 413, "request body too large");
    return;
  }
  c->body_want = (size_t)c->head->content_length;
  c->body = malloc(c->body_want + 1); /* owned by c */
  if (c->body == NULL) {
    cs_conn_close(c);
    return;
  }
  c->state = ST_API_BODY;
  if (c->body_want == 0) {
    api_respond(c);
    return;
  }
  uint8_t *p = c->pending;
  size_t n = c->pending_len;
  c->pending = NULL;
  c->pending_len = 0;
  if (n > 0)
    api_body_add(c, p, n);
  free(p);
}

/* ---- intercepted TLS with the client ---- */

static int on_sni(void *arg, mbedtls_ssl_context *ssl, const unsigned char *name, size_t len) {
  cs_conn_t *c = arg;
  char host[256];
  if (len == 0 || len >= sizeof host)
    return 0;
  memcpy(host, name, len);
  host[len] = '\0';
  if (strcasecmp(host, c->target.host) == 0 || c->sni_leaf != NULL)
    return 0;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  /* A different name than CONNECT's: present a leaf for the name asked. */
  if (cs_mint_get(c->px->mint, host, cs_fs_now_ms(), &c->sni_leaf, &eb) != 0)
    return 0;
  return mbedtls_ssl_set_hs_own_cert(ssl, cs_leaf_chain(c->sni_leaf), &c->px->leaf_key);
}

static void note_failure(cs_conn_t *c, const char *code, const char *msg);

/* The profile of the browser in front (its User-Agent, else --browser)
 * decides: a 502 page if it rejects the chain, else the held request goes
 * upstream and the tunnel relays. rc: the head parser's result. */
static void decide_by_user_agent(cs_conn_t *c, int rc) {
  const char *ua = rc == 1 ? cs_http_head_header(c->head, "User-Agent") : NULL;
  const cs_client_profile_t *p = cs_client_from_user_agent(ua);
  const char *who = p != NULL ? p->name : c->px->judge->browser;
  c->ua_pending = 0;
  if (cs_verdict_client_fails(&c->verdict, who) || (c->verdict.invalid && c->verdict.failing[0] == '\0')) {
    snprintf(c->judged_for, sizeof c->judged_for, "%s", who);
    c->judged_by_ua = p != NULL;
    cs_conn_note_sighting(c, ua, "502 page");
    char msg[CS_VERDICT_REASONS + 128];
    snprintf(msg, sizeof msg, "judged as %s (%s):\n%s", who, p != NULL ? "User-Agent" : "--browser",
             c->verdict.reasons);
    note_failure(c, "UPSTREAM_INVALID", msg);
    cs_endpoint_close(&c->upstream);
    cs_endpoint_read_stop(&c->client);
    send_error_page(c);
    return;
  }
  cs_conn_log(c, "judged as %s: passes (other clients' failures are in the report)", who);
  cs_conn_note_sighting(c, ua, "relayed");
  int err = cs_endpoint_send(&c->upstream, c->held, c->held_len);
  free(c->held);
  c->held = NULL;
  c->held_len = 0;
  if (err != 0 || cs_endpoint_flush(&c->upstream) != 0) {
    cs_conn_close(c);
    return;
  }
  cs_conn_start_relay(c);
}

static void tls_head_pump(cs_conn_t *c) {
  unsigned char buf[4096];
  for (;;) {
    int n = mbedtls_ssl_read(&c->client.ssl, buf, sizeof buf);
    if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)
      return;
    if (n <= 0) {
      cs_conn_close(c);
      return;
    }
    if (c->ua_pending) {
      uint8_t *grown = realloc(c->held, c->held_len + (size_t)n);
      if (grown == NULL) {
        cs_conn_close(c);
        return;
      }
      memcpy(grown + c->held_len, buf, (size_t)n);
      c->held = grown;
      c->held_len += (size_t)n;
    }
    size_t used = 0;
    int rc = cs_http_head_feed(c->head, (const char *)buf, (size_t)n, &used);
    if (rc != 0 && c->ua_pending) {
      decide_by_user_agent(c, rc);
      return;
    }
    if (rc != 0) {
      /* Whatever the client asked (or garbage), the answer is the page. */
      cs_endpoint_read_stop(&c->client);
      send_error_page(c);
      return;
    }
  }
}

static void client_hs_step(cs_conn_t *c) {
  int ret = mbedtls_ssl_handshake(&c->client.ssl);
  if (cs_endpoint_flush(&c->client) != 0) {
    cs_conn_close(c);
    return;
  }
  if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
    return;
  if (ret == MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION) {
    cs_conn_log(c, "client TLS handshake refused: the client offers nothing newer than TLS 1.1 "
            "(protocol_version alert sent)");
    cs_conn_close(c);
    return;
  }
  if (ret != 0) {
    cs_conn_log(c, "client TLS handshake failed: -0x%04x (is the certskew CA trusted?)",
         (unsigned)-ret);
    cs_conn_close(c);
    return;
  }
  cs_conn_touch(c);
  if (c->failed || c->ua_pending) {
    c->state = ST_TLS_HEAD;
    cs_http_head_init(c->head);
    tls_head_pump(c);
    return;
  }
  cs_conn_start_relay(c);
}

static int setup_client_tls(cs_conn_t *c) {
  cs_proxy_ctx_t *px = c->px;
  mbedtls_ssl_config *conf = calloc(1, sizeof *conf); /* owned by the client endpoint */
  if (conf == NULL)
    return CS_ENOMEM;
  mbedtls_ssl_config_init(conf);
  c->client.own_conf = conf;
  static const char *alpn[] = {"http/1.1", NULL};
  if (mbedtls_ssl_config_defaults(conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                  MBEDTLS_SSL_PRESET_DEFAULT) != 0 ||
      mbedtls_ssl_conf_own_cert(conf, cs_leaf_chain(c->leaf), &px->leaf_key) != 0 ||
      mbedtls_ssl_conf_alpn_protocols(conf, alpn) != 0)
    return CS_ECRYPTO;
  mbedtls_ssl_conf_rng(conf, cs_rng_fill, &px->rng);
  /* TLS 1.2 at least, like every current browser and TLS library: a client
   * offering only TLS 1.0/1.1 gets a protocol_version alert. */
  mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_curves(conf, cs_upstream_curves());
  mbedtls_ssl_conf_ciphersuites(conf, cs_upstream_ciphersuites());
  mbedtls_ssl_conf_sni(conf, on_sni, c);
  /* The key block, for our record layer once the handshake is over
   * (cs_endpoint_tls_take_over): this conf is the client leg's alone. */
  mbedtls_ssl_conf_export_keys_ext_cb(conf, cs_tls_keys_export, &c->client.keys);
  /* Clients resume with a ticket, as with the real server: no key
   * exchange and no signature for the proxy on their next connections. */
  mbedtls_ssl_conf_session_tickets_cb(conf, mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse,
                                      px->sh->tickets);
  return cs_endpoint_tls_setup(&c->client, conf);
}


/* A ClientHello over CS_TLS_HELLO_JOIN_MAX, or interrupted by another
 * record: a fatal alert in the clear (handshake_failure), then close. */
static void refuse_hello(cs_conn_t *c, int rc) {
  static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40};
  fprintf(stderr, "certskew: [%s:%d] client ClientHello refused: %s\n", c->target.host,
          c->target.port,
          rc == CS_ETOOBIG ? "larger than 16384 bytes (one record), which mbedTLS 2.28 cannot read"
                           : "split by a record that is not a handshake record");
  cs_endpoint_tls_free(&c->client);
  if (cs_endpoint_write_copy(&c->client, alert, sizeof alert) != 0) {
    cs_conn_close(c);
    return;
  }
  c->state = ST_FINAL;
  c->client.on_shutdown = cs_conn_on_final_shutdown;
  cs_endpoint_shutdown(&c->client);
}

/* Client bytes during its handshake. mbedTLS 2.28 reads a ClientHello from
 * one record only: until the ClientHello is whole, the bytes are kept and
 * joined into one record (certskew/tls/tls_hello_join.h); then they go
 * straight to the BIO. Returns 1 when mbedTLS has new bytes, 0 when more are
 * needed, -1 when the connection is being closed. */
static int client_hs_push(cs_conn_t *c, const uint8_t *buf, size_t len) {
  if (c->hello_done) {
    if (cs_tls_bio_push(&c->client.bio, buf, len) == 0)
      return 1;
    cs_conn_close(c);
    return -1;
  }
  uint8_t *grown = realloc(c->hello, c->hello_len + len); /* owned by c */
  if (grown == NULL) {
    cs_conn_close(c);
    return -1;
  }
  memcpy(grown + c->hello_len, buf, len);
  c->hello = grown;
  c->hello_len += len;
  uint8_t *joined = NULL;
  size_t joined_len = 0;
  int rc = cs_tls_hello_join(c->hello, c->hello_len, &joined, &joined_len);
  if (rc == CS_HELLO_JOIN_NEED_MORE)
    return 0;
  if (rc < 0 && rc != CS_ENOMEM) {
    refuse_hello(c, rc);
    return -1;
  }
  if (rc == CS_HELLO_JOIN_JOINED)
    cs_conn_log(c, "client ClientHello joined from several records (%zu bytes)", joined_len);
  int err = rc < 0 ? rc
                   : cs_tls_bio_push(&c->client.bio, joined != NULL ? joined : c->hello,
                                     joined != NULL ? joined_len : c->hello_len);
  free(joined);
  free(c->hello);
  c->hello = NULL;
  c->hello_len = 0;
  c->hello_done = 1;
  if (err != 0) {
    cs_conn_close(c);
    return -1;
  }
  return 1;
}

static void start_client_tls(cs_conn_t *c) {
  static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
  if (cs_endpoint_write_copy(&c->client, ok, sizeof ok - 1) != 0 || setup_client_tls(c) != 0) {
    cs_conn_close(c);
    return;
  }
  c->state = ST_CLIENT_HS;
  cs_conn_touch(c);
  uint8_t *p = c->pending;
  size_t n = c->pending_len;
  c->pending = NULL;
  c->pending_len = 0;
  int rc = n > 0 ? client_hs_push(c, p, n) : 0;
  free(p);
  if (rc < 0 || c->state != ST_CLIENT_HS)
    return;
  if (cs_endpoint_read_start(&c->client) != 0) {
    cs_conn_close(c);
    return;
  }
  if (rc > 0 || n == 0)
    client_hs_step(c);
}

/* ---- upstream ---- */

static void note_failure(cs_conn_t *c, const char *code, const char *msg) {
  c->failed = 1;
  snprintf(c->fail_code, sizeof c->fail_code, "%s", code);
  /* A longer message (reasons of a long chain) is cut: the page shows its start. */
  size_t n = strnlen(msg, sizeof c->fail_msg - 1);
  memcpy(c->fail_msg, msg, n);
  c->fail_msg[n] = '\0';
  cs_conn_log(c, "%s: %s", code, msg);
}

static void start_passthrough(cs_conn_t *c, int status);
static void start_fallback(cs_conn_t *c);

static void on_upstream_done(cs_upstream_t *u, int status) {
  cs_conn_t *c = u->data;
  if (u->cancelled) {
    cs_conn_maybe_free(c);
    return;
  }
  cs_proxy_ctx_t *px = c->px;
  int64_t now_ms = cs_fs_now_ms();
  cs_conn_touch(c);
  if (c->pt != NULL) {
    start_passthrough(c, status);
    return;
  }
  if (status != 0 && c->is_connect && cs_upstream_cannot_intercept(u)) {
    start_fallback(c);
    return;
  }
  if (status != 0) {
    note_failure(c, u->err_code, u->err_msg);
    cs_endpoint_close(&c->upstream);
    note_store_error(px, c->target.host, c->target.port, u->err_code, u->err_msg, now_ms);
    if (!c->is_connect) {
      send_error_page(c);
      return;
    }
  } else if (c->is_connect) {
    cs_proxy_lock(px);
    int jrc = cs_judge_chain(px->judge, u, now_ms, 0, &c->verdict);
    cs_proxy_unlock(px);
    if (jrc != 0) {
      cs_conn_close(c);
      return;
    }
    /* Only a chain judged usable is resumed later; a failing one is
     * captured again by a full handshake on every connection. */
    if (c->verdict.invalid)
      cs_upstream_forget_session(u);
    else
      cs_upstream_keep_session(u);
    if (u->resumed)
      cs_conn_log(c, "upstream TLS session resumed (chain from its full handshake)");
    /* Some client profile fails: the browser in front decides, from the
     * User-Agent of the first request inside the tunnel. */
    if ((c->verdict.invalid || c->verdict.failing[0] != '\0') && !px->cfg->forward_invalid)
      c->ua_pending = 1;
  }
  if (!c->is_connect) {
    cs_conn_plain_start(c);
    return;
  }
  start_client_tls(c);
}

/* ---- fallback: relaying what cannot be intercepted ----
 *
 * The upstream answered in TLS, but mbedTLS 2.28 could not complete the
 * handshake (cs_upstream_cannot_intercept: TLS 1.3 only, a handshake message
 * split over records or larger than one, ...). A direct connection would
 * work, so instead of a 502 the tunnel is relayed byte for byte as with
 * --passthrough, on a fresh TCP connection: the browser sees the real
 * server, and the passthrough observer's side connection (the capture
 * probe) captures the chain, its report saying why it was relayed. */

static void fallback_upstream_closed(cs_endpoint_t *ep) {
  cs_conn_t *c = ep->owner;
  if (c->state != ST_UPSTREAM) {
    cs_conn_maybe_free(c);
    return;
  }
  cs_upstream_free(&c->up);
  cs_upstream_init(&c->up);
  cs_endpoint_init(&c->upstream, c, "upstream");
  c->upstream.on_closed = cs_conn_on_ep_closed;
  c->upstream.on_write_error = cs_conn_on_write_error;
  c->up.data = c;
  unsigned char ip[16];
  int is_ip = cs_x509_parse_ip(c->target.host, ip) > 0;
  if (cs_upstream_start(&c->up, c->px->loop, &c->px->up, &c->upstream, c->target.host,
                        c->target.port, is_ip ? NULL : c->target.host, 0, on_upstream_done) != 0)
    cs_conn_send_simple(c, 502, "cannot start resolving the upstream host");
}

static void start_fallback(cs_conn_t *c) {
  cs_proxy_ctx_t *px = c->px;
  if (cs_passthrough_new(&c->pt, px, c->target.host, c->target.port) != 0) {
    cs_conn_close(c);
    return;
  }
  cs_passthrough_set_relayed(c->pt, c->up.err_code, c->up.err_msg);
  /* Always said, verbose or not: the tunnel is no longer intercepted. */
  fprintf(stderr, "certskew: [%s:%d] relaying without interception: %s: %s\n", c->target.host,
          c->target.port, c->up.err_code, c->up.err_msg);
  cs_leaf_release(c->leaf);
  c->leaf = NULL;
  /* The failed attempt's handle closes before the relay's connection opens
   * (a libuv handle is not reused before its close callback). */
  c->upstream.on_closed = fallback_upstream_closed;
  cs_endpoint_close(&c->upstream);
  if (!c->upstream.open)
    fallback_upstream_closed(&c->upstream); /* nothing to wait for */
}

/* A passthrough tunnel: 200, then bytes both ways untouched (passthrough.h). */
static void start_passthrough(cs_conn_t *c, int status) {
  static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
  if (status != 0) {
    char msg[400];
    snprintf(msg, sizeof msg, "%s: %s", c->up.err_code, c->up.err_msg);
    note_failure(c, c->up.err_code, c->up.err_msg);
    cs_endpoint_close(&c->upstream);
    note_store_error(c->px, c->target.host, c->target.port, c->up.err_code, c->up.err_msg,
                     cs_fs_now_ms());
    cs_conn_send_simple(c, 502, msg);
    return;
  }
  cs_passthrough_connected(c->pt, &c->upstream.tcp, c->up.addr);
  char client[80];
  peer_text(&c->client.tcp, client, sizeof client);
  cs_passthrough_set_client(c->pt, client);
  if (cs_endpoint_write_copy(&c->client, ok, sizeof ok - 1) != 0 ||
      (c->pending_len > 0 &&
       cs_endpoint_write_copy(&c->upstream, c->pending, c->pending_len) != 0)) {
    cs_conn_close(c);
    return;
  }
  if (c->pending_len > 0)
    cs_passthrough_observe(c->pt, 1, c->pending, c->pending_len);
  free(c->pending);
  c->pending = NULL;
  c->pending_len = 0;
  cs_conn_start_relay(c);
}

/* An IP literal target (0.0.0.0, ::, ::ffff:127.0.0.1, any local interface
 * address) that reaches the proxy's own port: refused by name, before any
 * connection. Names and other spellings are checked again after resolution
 * (cs_upstream_reaches_self in upstream.c: 502 UPSTREAM_LOOP). */
static int literal_reaches_self(const cs_conn_t *c) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  if (uv_ip4_addr(c->target.host, c->target.port, (struct sockaddr_in *)&ss) != 0 &&
      uv_ip6_addr(c->target.host, c->target.port, (struct sockaddr_in6 *)&ss) != 0)
    return 0;
  return cs_upstream_reaches_self(&c->px->up, (const struct sockaddr *)&ss);
}

static int is_self_target(const cs_conn_t *c) {
  const cs_proxy_ctx_t *px = c->px;
  if (c->target.port != px->self_port)
    return 0;
  if (literal_reaches_self(c))
    return 1;
  const char *h = c->target.host;
  unsigned char ip[16];
  size_t n = cs_x509_parse_ip(h, ip);
  if (strcasecmp(h, "localhost") == 0 || (n == 4 && ip[0] == 127))
    return px->listen_loopback;
  if (n == 16) {
    static const unsigned char lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (memcmp(ip, lo6, 16) == 0)
      return px->listen_loopback;
  }
  char hostport[300];
  snprintf(hostport, sizeof hostport, "%s:%d", h, c->target.port);
  return strcasecmp(hostport, px->self_text) == 0;
}

static void start_upstream(cs_conn_t *c) {
  cs_proxy_ctx_t *px = c->px;
  unsigned char ip[16];
  int is_ip = cs_x509_parse_ip(c->target.host, ip) > 0;
  if (c->is_connect && cs_passthrough_wanted(px->cfg, c->target.host, c->target.port) &&
      cs_passthrough_new(&c->pt, px, c->target.host, c->target.port) != 0) {
    cs_conn_close(c);
    return;
  }
  if (c->is_connect && c->pt == NULL) {
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    if (cs_mint_get(px->mint, c->target.host, cs_fs_now_ms(), &c->leaf, &eb) != 0) {
      cs_conn_send_simple(c, 400, eb.msg);
      return;
    }
  }
  c->state = ST_UPSTREAM;
  cs_endpoint_read_stop(&c->client);
  c->up.data = c;
  if (cs_upstream_start(&c->up, px->loop, &px->up, &c->upstream, c->target.host,
                        c->target.port, is_ip ? NULL : c->target.host,
                        c->is_connect && c->pt == NULL, on_upstream_done) != 0)
    cs_conn_send_simple(c, 502, "cannot start resolving the upstream host");
}

void cs_conn_handle_head(cs_conn_t *c) {
  const cs_http_head_t *h = c->head;
  snprintf(c->method, sizeof c->method, "%s", cs_http_head_method(h));
  int n = snprintf(c->url, sizeof c->url, "%s", cs_http_head_url(h));
  if (n < 0 || (size_t)n >= sizeof c->url) {
    cs_conn_send_simple(c, 431, "request target too long");
    return;
  }
  if (cs_http_target_parse(c->method, c->url, &c->target) != 0) {
    cs_conn_send_simple(c, 400, "unsupported request target: use CONNECT host:port or http:// URLs");
    return;
  }
  const char *via = cs_http_head_header(h, "Via");
  if (via != NULL && strstr(via, "certskew") != NULL) {
    cs_conn_send_simple(c, 508, "request already passed through certskew: refusing to loop");
    return;
  }
  c->is_connect = c->target.kind == CS_TARGET_AUTHORITY;
  int self = c->target.kind != CS_TARGET_ORIGIN && is_self_target(c);
  if (c->is_connect && self) {
    cs_conn_send_simple(c, 508, "CONNECT to the proxy itself: refusing to loop");
    return;
  }
  if (c->target.kind == CS_TARGET_ORIGIN || self) {
    start_api(c);
    return;
  }
  const char *refused = c->is_connect ? NULL : cs_conn_plain_refusal(c);
  if (refused != NULL) {
    cs_conn_send_simple(c, 400, refused);
    return;
  }
  start_upstream(c);
}

/* Bytes of a request head (the first, or one that waited behind a plain
 * HTTP response); what follows the head is kept in c->pending. */
int cs_conn_hold(cs_conn_t *c, const uint8_t *buf, size_t len) {
  uint8_t *p = realloc(c->pending, c->pending_len + len); /* owned by c (c->pending) */
  if (p == NULL)
    return CS_ENOMEM;
  memcpy(p + c->pending_len, buf, len);
  c->pending = p;
  c->pending_len += len;
  return 0;
}

void cs_conn_head_feed(cs_conn_t *c, const uint8_t *buf, size_t len) {
  size_t used = 0;
  int rc = cs_http_head_feed(c->head, (const char *)buf, len, &used);
  if (rc == 0)
    return;
  if (rc < 0) {
    cs_conn_send_simple(c, rc == CS_ETOOBIG ? 431 : 400,
                rc == CS_ETOOBIG ? "request head too large or too many headers"
                                 : "malformed HTTP request");
    return;
  }
  if (used < len && cs_conn_hold(c, buf + used, len - used) != 0) {
    cs_conn_close(c);
    return;
  }
  cs_conn_handle_head(c);
}

void cs_conn_on_client_read(cs_endpoint_t *ep, uint8_t *buf, ssize_t nread) {
  cs_conn_t *c = ep->owner;
  cs_conn_touch(c);
  if (nread < 0) {
    ep->eof = 1;
    if (c->state == ST_FINAL && ep->shut_done)
      cs_conn_close(c);
    else if (c->state != ST_FINAL)
      cs_conn_close(c);
    return;
  }
  size_t len = (size_t)nread;
  switch (c->state) {
  case ST_HEAD:
    cs_conn_head_feed(c, buf, len);
    break;
  case ST_API_BODY:
    api_body_add(c, buf, len);
    break;
  case ST_UPSTREAM: {
    /* Pipelined bytes before our answer: keep a bounded amount. */
    if (c->pending_len + len > PENDING_MAX) {
      cs_conn_close(c);
      break;
    }
    if (cs_conn_hold(c, buf, len) != 0)
      cs_conn_close(c);
    break;
  }
  case ST_CLIENT_HS:
    if (client_hs_push(c, buf, len) > 0)
      client_hs_step(c);
    break;
  case ST_TLS_HEAD:
    if (cs_tls_bio_push(&ep->bio, buf, len) != 0) {
      cs_conn_close(c);
      break;
    }
    tls_head_pump(c);
    break;
  case ST_RELAY:
  case ST_FINAL:
  case ST_CLOSING:
  default:
    break; /* discarded */
  }
  free(buf);
}

static void on_timer(uv_timer_t *t) {
  cs_conn_t *c = t->data;
  const cs_proxy_config_t *cfg = c->px->cfg;
  uint64_t idle = uv_now(c->px->loop) - c->last_activity;
  uint64_t limit;
  switch (c->state) {
  case ST_RELAY:
  case ST_PLAIN: limit = (uint64_t)cfg->idle_timeout_ms; break;
  case ST_FINAL: limit = FINAL_LINGER_MS; break;
  default:
    /* Before the relay the timeout is a deadline from accept, not an idle
     * time: a client trickling one byte of its head now and then (slow
     * loris) must not hold a connection slot forever. */
    limit = (uint64_t)cfg->handshake_timeout_ms;
    idle = uv_now(c->px->loop) - c->accepted_at;
    break;
  }
  if (idle < limit)
    return;
  cs_conn_log(c, "timed out in state %d after %llu ms", (int)c->state, (unsigned long long)idle);
  if (c->state == ST_HEAD || c->state == ST_API_BODY) {
    cs_conn_send_simple(c, 408, c->state == ST_HEAD ? "timed out waiting for the request"
                                            : "timed out waiting for the request body");
    return;
  }
  if (c->state == ST_UPSTREAM) {
    char msg[300];
    snprintf(msg, sizeof msg, "no answer from %s:%d within %lld ms", c->target.host,
             c->target.port, (long long)cfg->handshake_timeout_ms);
    note_store_error(c->px, c->target.host, c->target.port, "UPSTREAM_TIMEOUT", msg,
                     cs_fs_now_ms());
    cs_upstream_cancel(&c->up);
    cs_endpoint_close(&c->upstream);
    cs_conn_send_simple(c, 504, msg);
    return;
  }
  cs_conn_close(c);
}

static int is_loopback_peer(uv_tcp_t *tcp) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) != 0)
    return 0;
  if (ss.ss_family == AF_INET)
    return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
  if (ss.ss_family == AF_INET6) {
    const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(a))
      return 1;
    return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
  }
  return 0;
}

static void on_refused_closed(uv_handle_t *h) { free(h); }

/* Whether a new client must be refused with 503 (busy.h): at --max-conns,
 * or with few file descriptors left. The lowest free descriptor, probed
 * with open("/dev/null"), says how many are left below the soft limit. */
static int refuse_busy(cs_proxy_ctx_t *px, uv_stream_t *server) {
  char why[160];
  size_t nopen = atomic_load(&px->sh->nconns); /* every worker's: the cap is the proxy's */
  if (nopen >= px->cfg->max_conns) {
    snprintf(why, sizeof why, "%zu connections open, the --max-conns limit", nopen);
    cs_busy_accept_refuse(px, server, "PROXY_BUSY", why);
    return 1;
  }
  /* A fresh descriptor, not a dup of the listener: another worker's thread
   * may have closed this number just before, and ThreadSanitizer treats
   * dup/F_DUPFD as a write to a descriptor it still thinks is that one's
   * (a false race); open() starts a new one for it. */
  int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int low = probe < 0 || cs_busy_fd_low(probe);
  if (probe >= 0)
    close(probe);
  if (!low)
    return 0;
  snprintf(why, sizeof why, "near the file descriptor limit (%zu connections open)", nopen);
  cs_busy_accept_refuse(px, server, "PROXY_FD_LIMIT", why);
  return 1;
}

void cs_conn_accept(cs_proxy_ctx_t *px, uv_stream_t *server) {
  if (!px->stopping && refuse_busy(px, server))
    return;
  int over = px->stopping;
  cs_conn_t *c = over ? NULL : calloc(1, sizeof *c); /* freed in maybe_free */
  if (c == NULL) {
    /* Accept and drop, so the backlog does not fill with waiting clients. */
    uv_tcp_t *t = malloc(sizeof *t); /* freed in on_refused_closed */
    if (t == NULL)
      return;
    uv_tcp_init(px->loop, t);
    (void)uv_accept(server, (uv_stream_t *)t);
    uv_close((uv_handle_t *)t, on_refused_closed);
    px->refused++;
    return;
  }
  c->px = px;
  c->state = ST_HEAD;
  cs_endpoint_init(&c->client, c, "client");
  cs_endpoint_init(&c->upstream, c, "upstream");
  cs_upstream_init(&c->up);
  c->client.on_closed = c->upstream.on_closed = cs_conn_on_ep_closed;
  c->client.on_write_error = c->upstream.on_write_error = cs_conn_on_write_error;
  c->client.on_read = cs_conn_on_client_read;
  c->next = px->conns;
  if (px->conns != NULL)
    px->conns->prev = c;
  px->conns = c;
  px->nconns++;
  atomic_fetch_add(&px->sh->nconns, 1);
  px->accepted++;
  cs_conn_touch(c);
  c->accepted_at = c->last_activity;
  uv_timer_init(px->loop, &c->timer);
  c->timer.data = c;
  c->timer_open = 1;
  c->head = malloc(sizeof *c->head); /* owned by c */
  if (c->head == NULL || cs_endpoint_open(&c->client, px->loop) != 0 ||
      uv_accept(server, (uv_stream_t *)&c->client.tcp) != 0) {
    cs_conn_close(c);
    return;
  }
  cs_http_head_init(c->head);
  uv_tcp_nodelay(&c->client.tcp, 1);
  if (!px->cfg->allow_remote && !is_loopback_peer(&c->client.tcp)) {
    /* Never an open proxy: remote clients need --allow-remote. */
    px->refused++;
    cs_conn_close(c);
    return;
  }
  int64_t tick = px->cfg->handshake_timeout_ms < px->cfg->idle_timeout_ms
                     ? px->cfg->handshake_timeout_ms
                     : px->cfg->idle_timeout_ms;
  tick /= 4;
  if (tick < 50)
    tick = 50;
  if (tick > 1000)
    tick = 1000;
  uv_timer_start(&c->timer, on_timer, (uint64_t)tick, (uint64_t)tick);
  if (cs_endpoint_read_start(&c->client) != 0)
    cs_conn_close(c);
}

void cs_conn_close_all(cs_proxy_ctx_t *px) {
  cs_conn_t *c = px->conns;
  while (c != NULL) {
    cs_conn_t *next = c->next; /* conn_close never frees synchronously here */
    cs_conn_close(c);
    c = next;
  }
}
