/* Connecting to the real server (see upstream.h). */
#include "certskew/net/upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>

#include <mbedtls/error.h>
/* For mbedtls_ssl_handshake_params.resume: 2.28 has no public "was this
 * session resumed" accessor. */
#include <mbedtls/ssl_internal.h>

#include "certskew/store/fs.h"

#include "certskew/store/trust_store_load.h"

/* The endpoint whose handshake this thread is stepping (handshake_run):
 * the configuration is shared by every upstream connection, so its key
 * export callback finds the connection here. Thread-local because the
 * proxy may run several worker threads, each with its own loop. */
static _Thread_local cs_endpoint_t *stepping;

/* mbedtls_ssl_export_keys_ext_t for the shared configuration: the key
 * block goes to the endpoint being stepped (for its record layer after the
 * handshake, cs_endpoint_tls_take_over). Runs for full and resumed
 * handshakes; without a stepped endpoint (another user of the
 * configuration) nothing is kept. */
static int export_to_stepping(void *unused, const unsigned char *ms, const unsigned char *kb,
                              size_t maclen, size_t keylen, size_t ivlen,
                              const unsigned char client_random[32],
                              const unsigned char server_random[32],
                              mbedtls_tls_prf_types tls_prf_type) {
  (void)unused;
  if (stepping == NULL)
    return 0;
  return cs_tls_keys_export(&stepping->keys, ms, kb, maclen, keylen, ivlen, client_random,
                            server_random, tls_prf_type);
}

int cs_upstream_conf_init(cs_upstream_conf_t *uc, const char *trust_file, cs_errbuf_t *eb) {
  memset(uc, 0, sizeof *uc);
  mbedtls_ssl_config_init(&uc->conf);
  mbedtls_ssl_ticket_init(&uc->tickets);
  int rc = cs_rng_init(&uc->rng, "certskew-upstream");
  if (rc != 0)
    return cs_errbuf_set(eb, rc, "cannot seed the random generator");
  if (cs_session_cache_new(&uc->sessions, CS_UPSTREAM_SESSION_MAX,
                           CS_UPSTREAM_SESSION_MAX_AGE_MS) != 0)
    return cs_errbuf_set(eb, CS_ENOMEM, "out of memory");
  /* AES-256-GCM: tickets are small, and this is the standard choice. */
  if (mbedtls_ssl_ticket_setup(&uc->tickets, cs_rng_fill, &uc->rng, MBEDTLS_CIPHER_AES_256_GCM,
                               CS_CLIENT_TICKET_LIFETIME_S) != 0)
    return cs_errbuf_set(eb, CS_ECRYPTO, "cannot set up session tickets");
  const char *path = trust_file;
  if (path == NULL || path[0] == '\0')
    path = getenv("SSL_CERT_FILE");
  if (path != NULL && path[0] == '\0')
    path = NULL; /* the system bundle */
  /* Partial loads are fine (a bundle may hold certificates mbedTLS cannot
   * parse); an empty store is not. */
  size_t skipped = 0;
  rc = cs_trust_store_load_file(&uc->trust, path, &skipped, eb);
  if (rc != 0)
    return rc;
  if (cs_trust_store_count(uc->trust) == 0)
    return cs_errbuf_set(eb, CS_EIO, "no trust anchor in %s", path ? path : CS_TRUST_SYSTEM_BUNDLE);
  if (mbedtls_ssl_config_defaults(&uc->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                  MBEDTLS_SSL_PRESET_DEFAULT) != 0)
    return cs_errbuf_set(eb, CS_ECRYPTO, "cannot configure TLS");
  /* NONE: the handshake completes with any chain (still parsed and kept,
   * MBEDTLS_SSL_KEEP_PEER_CERTIFICATE) so the proxy can capture it; the
   * chain is judged against uc->trust by the trust analyzer inside
   * cs_analyze (verdict.c), at every clock model, once per chain and second
   * rather than on every handshake. */
  mbedtls_ssl_conf_authmode(&uc->conf, MBEDTLS_SSL_VERIFY_NONE);
  /* TLS 1.0 and 1.1 are still accepted here, only so that an old server's
   * chain is captured and judged: the analysis then reports PROTOCOL_TOO_OLD
   * and fails every client profile whose min_tls is above the version, so a
   * browser gets the 502 page (the client leg itself requires TLS 1.2,
   * conn.c's setup_client_tls). */
  mbedtls_ssl_conf_min_version(&uc->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_1);
  mbedtls_ssl_conf_curves(&uc->conf, cs_upstream_curves());
  mbedtls_ssl_conf_ciphersuites(&uc->conf, cs_upstream_ciphersuites());
  mbedtls_ssl_conf_rng(&uc->conf, cs_rng_fill, &uc->rng);
  mbedtls_ssl_conf_export_keys_ext_cb(&uc->conf, export_to_stepping, NULL);
  uc->alpn[0] = "http/1.1";
  uc->alpn[1] = NULL;
  if (mbedtls_ssl_conf_alpn_protocols(&uc->conf, uc->alpn) != 0)
    return cs_errbuf_set(eb, CS_ECRYPTO, "cannot configure ALPN");
  return 0;
}

const mbedtls_ecp_group_id *cs_upstream_curves(void) {
  /* mbedTLS 2.28 offers its curves strongest first (P-521 leads), and
   * servers that follow the client's order then make every handshake pay
   * for P-521. Browsers' order, X25519 first, is also the cheapest here:
   * CPU time of one ECDHE side (key generation + shared secret) with
   * mbedTLS 2.28.3 on the development machine, 0.94 ms on X25519 against
   * 1.24 ms on P-256 (P-384: about 3 ms). The same list is the proxy's
   * server-side preference, and the proxy pays an ECDHE on each side. */
  static const mbedtls_ecp_group_id curves[] = {MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1,
                                                MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_SECP521R1,
                                                MBEDTLS_ECP_DP_NONE};
  return curves;
}

const int *cs_upstream_ciphersuites(void) {
  /* ChaCha20-Poly1305 first. Relayed TLS 1.2 AEAD records are opened and
   * sealed by libcrypto (net/tls_records.c), where both AEADs cost about
   * the same: openssl speed -evp on 16 KB, development machine (AMD EPYC,
   * AES-NI), gives 4.36 GB/s for AES-128-GCM, 3.67 GB/s for AES-256-GCM
   * and 4.57 GB/s for ChaCha20-Poly1305. ChaCha stays first because it is
   * still no slower there, and it is much faster whenever a leg stays on
   * mbedTLS 2.28 (handed over late, or never): 413 MB/s against 256 MB/s
   * for mbedTLS's AES-128-GCM, which multiplies one block at a time. */
  static const int suites[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
                               MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
                               MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                               MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                               MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                               MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                               MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
                               MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
                               MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
                               MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
                               MBEDTLS_TLS_RSA_WITH_AES_128_GCM_SHA256,
                               MBEDTLS_TLS_RSA_WITH_AES_256_GCM_SHA384,
                               MBEDTLS_TLS_RSA_WITH_AES_128_CBC_SHA,
                               0};
  return suites;
}

void cs_upstream_conf_free(cs_upstream_conf_t *uc) {
  mbedtls_ssl_config_free(&uc->conf);
  mbedtls_ssl_ticket_free(&uc->tickets);
  cs_session_cache_free(uc->sessions);
  uc->sessions = NULL;
  cs_trust_store_free(uc->trust);
  uc->trust = NULL;
  free(uc->local_addrs);
  uc->local_addrs = NULL;
  uc->nlocal = 0;
  cs_rng_free(&uc->rng);
}

void cs_upstream_init(cs_upstream_t *u) { memset(u, 0, sizeof *u); }

void cs_upstream_keep_session(cs_upstream_t *u) {
  if (u->uc == NULL || !u->tls || u->resumed || u->session_key[0] == '\0' || !u->ep->has_ssl)
    return;
  /* Not resumable later is not an error now. */
  (void)cs_session_cache_save(u->uc->sessions, u->session_key, &u->ep->ssl, u->chain_der,
                              u->chain_der_len, u->ncerts, cs_fs_now_ms());
}

void cs_upstream_forget_session(cs_upstream_t *u) {
  if (u->uc != NULL && u->session_key[0] != '\0')
    cs_session_cache_forget(u->uc->sessions, u->session_key);
}

void cs_upstream_free(cs_upstream_t *u) {
  if (u->ai != NULL)
    uv_freeaddrinfo(u->ai);
  u->ai = u->ai_next = NULL;
  free(u->chain_der);
  u->chain_der = NULL;
  u->chain_der_len = 0;
  free(u->offered_der);
  u->offered_der = NULL;
  u->offered_len = u->offered_ncerts = 0;
}

int cs_upstream_busy(const cs_upstream_t *u) {
  return u->gai_active || u->connect_active || u->retry_closing;
}

void cs_upstream_cancel(cs_upstream_t *u) {
  u->cancelled = 1;
  if (u->gai_active)
    uv_cancel((uv_req_t *)&u->gai);
}

static void finish(cs_upstream_t *u, int status, const char *code, const char *fmt, ...)
    CS_PRINTF(4, 5);

static void finish(cs_upstream_t *u, int status, const char *code, const char *fmt, ...) {
  if (u->done)
    return;
  /* After cancel, only the completion of the last outstanding request is
   * reported (status CS_ESTATE), so the owner knows it may free u. */
  if (u->cancelled && (status != CS_ESTATE || cs_upstream_busy(u)))
    return;
  u->done = 1;
  if (status != 0) {
    snprintf(u->err_code, sizeof u->err_code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->err_msg, sizeof u->err_msg, fmt, ap);
    va_end(ap);
  }
  if (u->cb != NULL)
    u->cb(u, status);
}

/* getaddrinfo's sockaddr is only char-aligned as far as the compiler
 * knows: copy it into a properly typed and aligned structure. */
static void addr_text(const struct sockaddr *sa, char *buf, size_t cap) {
  char ip[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET) {
    struct sockaddr_in in;
    memcpy(&in, sa, sizeof in);
    inet_ntop(AF_INET, &in.sin_addr, ip, sizeof ip);
    snprintf(buf, cap, "%s:%d", ip, ntohs(in.sin_port));
  } else if (sa->sa_family == AF_INET6) {
    struct sockaddr_in6 in6;
    memcpy(&in6, sa, sizeof in6);
    inet_ntop(AF_INET6, &in6.sin6_addr, ip, sizeof ip);
    snprintf(buf, cap, "[%s]:%d", ip, ntohs(in6.sin6_port));
  } else {
    snprintf(buf, cap, "?");
  }
}

/* An address reduced to what decides where a connection lands: family
 * (AF_INET for IPv4-mapped IPv6 too), 16 address bytes, port. */
typedef struct norm_addr {
  int family;
  unsigned char ip[16];
  int port;
} norm_addr_t;

static int normalise(const struct sockaddr *sa, norm_addr_t *n) {
  memset(n, 0, sizeof *n);
  if (sa->sa_family == AF_INET) {
    struct sockaddr_in a;
    memcpy(&a, sa, sizeof a);
    n->family = AF_INET;
    memcpy(n->ip, &a.sin_addr, 4);
    n->port = ntohs(a.sin_port);
    return 0;
  }
  if (sa->sa_family != AF_INET6)
    return CS_EINVAL;
  struct sockaddr_in6 a;
  memcpy(&a, sa, sizeof a);
  n->port = ntohs(a.sin6_port);
  if (IN6_IS_ADDR_V4MAPPED(&a.sin6_addr) || IN6_IS_ADDR_V4COMPAT(&a.sin6_addr)) {
    /* ::ffff:a.b.c.d lands on a.b.c.d (and ::a.b.c.d, deprecated, may). */
    n->family = AF_INET;
    memcpy(n->ip, a.sin6_addr.s6_addr + 12, 4);
    return 0;
  }
  n->family = AF_INET6;
  memcpy(n->ip, a.sin6_addr.s6_addr, 16);
  return 0;
}

/* Addresses that reach this host whatever the interfaces: 0.0.0.0/8 (0.0.0.0
 * connects to the local host on Linux), 127/8, ::, ::1. */
static int is_local_any(const norm_addr_t *n) {
  if (n->family == AF_INET)
    return n->ip[0] == 0 || n->ip[0] == 127;
  static const unsigned char zero[16], lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                                  0, 0, 0, 0, 0, 0, 0, 1};
  return memcmp(n->ip, zero, 16) == 0 || memcmp(n->ip, lo6, 16) == 0;
}

int cs_upstream_conf_set_self(cs_upstream_conf_t *uc, const struct sockaddr *listen_addr) {
  size_t alen = listen_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                   : sizeof(struct sockaddr_in);
  memset(&uc->self, 0, sizeof uc->self);
  memcpy(&uc->self, listen_addr, alen);
  norm_addr_t n;
  if (normalise(listen_addr, &n) != 0)
    return CS_EINVAL;
  uc->self_port = n.port;
  uc->has_self = 1;
  free(uc->local_addrs);
  uc->local_addrs = NULL;
  uc->nlocal = 0;
  uv_interface_address_t *ifs = NULL;
  int count = 0;
  if (uv_interface_addresses(&ifs, &count) != 0)
    return CS_ENET; /* loopback, unspecified and the listening address still count */
  uc->local_addrs = calloc(count > 0 ? (size_t)count : 1, sizeof *uc->local_addrs); /* owned by uc */
  if (uc->local_addrs == NULL) {
    uv_free_interface_addresses(ifs, count);
    return CS_ENOMEM;
  }
  for (int i = 0; i < count; i++) {
    const struct sockaddr *a = (const struct sockaddr *)&ifs[i].address;
    if (a->sa_family != AF_INET && a->sa_family != AF_INET6)
      continue;
    memcpy(&uc->local_addrs[uc->nlocal++], a,
           a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
  }
  uv_free_interface_addresses(ifs, count);
  return 0;
}

int cs_upstream_reaches_self(const cs_upstream_conf_t *uc, const struct sockaddr *sa) {
  norm_addr_t a, b;
  if (!uc->has_self || normalise(sa, &a) != 0 || a.port != uc->self_port)
    return 0;
  if (is_local_any(&a))
    return 1;
  if (normalise((const struct sockaddr *)&uc->self, &b) == 0 && b.family == a.family &&
      memcmp(a.ip, b.ip, 16) == 0)
    return 1;
  for (size_t i = 0; i < uc->nlocal; i++)
    if (normalise((const struct sockaddr *)&uc->local_addrs[i], &b) == 0 &&
        b.family == a.family && memcmp(a.ip, b.ip, 16) == 0)
      return 1;
  return 0;
}

static int is_self(const cs_upstream_conf_t *uc, const struct sockaddr *sa) {
  return cs_upstream_reaches_self(uc, sa);
}

static void try_next(cs_upstream_t *u);

static int tls_alert_is_protocol_version(const cs_tls_bio_t *b) {
  /* A TLS 1.3-only server answers our TLS 1.2 ClientHello with a plaintext
   * alert record: 15 03 0x 00 02 <level> 46 (protocol_version). */
  return b->nfirst >= 7 && b->first[0] == 0x15 && b->first[1] == 0x03 && b->first[3] == 0x00 &&
         b->first[4] == 0x02 && b->first[6] == 70;
}

static void collect_served(cs_upstream_t *u) {
  const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&u->ep->ssl);
  size_t total = 0;
  for (const mbedtls_x509_crt *c = peer; c != NULL && c->raw.p != NULL; c = c->next)
    total += c->raw.len;
  u->chain_der = malloc(total ? total : 1); /* owned by u */
  if (u->chain_der != NULL) {
    for (const mbedtls_x509_crt *c = peer; c != NULL && c->raw.p != NULL; c = c->next) {
      memcpy(u->chain_der + u->chain_der_len, c->raw.p, c->raw.len);
      u->chain_der_len += c->raw.len;
      u->ncerts++;
    }
  }
}

static void collect(cs_upstream_t *u) {
  if (u->resumed) {
    /* No certificate was served in this abbreviated handshake: the chain
     * is the one served in the full handshake that made the session. */
    u->chain_der = u->offered_der;
    u->chain_der_len = u->offered_len;
    u->ncerts = u->offered_ncerts;
    u->offered_der = NULL;
    u->offered_len = u->offered_ncerts = 0;
  } else {
    collect_served(u);
  }
  snprintf(u->tls_version, sizeof u->tls_version, "%s", mbedtls_ssl_get_version(&u->ep->ssl));
  u->tls_version_id = 0x0300 + u->ep->ssl.minor_ver;
  const char *cs = mbedtls_ssl_get_ciphersuite(&u->ep->ssl);
  snprintf(u->cipher, sizeof u->cipher, "%s", cs != NULL ? cs : "");
  const char *alpn = mbedtls_ssl_get_alpn_protocol(&u->ep->ssl);
  snprintf(u->alpn_chosen, sizeof u->alpn_chosen, "%s", alpn != NULL ? alpn : "");
}

/* mbedtls_ssl_handshake, one step at a time, to see whether the server
 * accepted the offered session (the flag lives only until the end). */
static int handshake_run(cs_upstream_t *u) {
  mbedtls_ssl_context *ssl = &u->ep->ssl;
  int ret = 0;
  while (ssl->state != MBEDTLS_SSL_HANDSHAKE_OVER) {
    if (ssl->handshake != NULL)
      u->resumed = ssl->handshake->resume;
    stepping = u->ep;
    ret = mbedtls_ssl_handshake_step(ssl);
    stepping = NULL;
    if (ret != 0)
      break;
  }
  return ret;
}

static void handshake_step(cs_upstream_t *u) {
  int ret = handshake_run(u);
  if (cs_endpoint_flush(u->ep) != 0) {
    finish(u, CS_ENET, "UPSTREAM_RESET", "cannot write to %s", u->addr);
    return;
  }
  if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
    return;
  if (ret == 0) {
    cs_endpoint_read_stop(u->ep);
    collect(u);
    if (u->chain_der == NULL || u->ncerts == 0) {
      finish(u, CS_EEMPTY, "UPSTREAM_TLS_FAILED", "%s served no certificate", u->addr);
      return;
    }
    finish(u, 0, "", "%s", "");
    return;
  }
  if (tls_alert_is_protocol_version(&u->ep->bio)) {
    finish(u, CS_EUNSUPPORTED, "UPSTREAM_TLS13_ONLY",
           "%s (%s:%d) refused TLS 1.2: the server speaks only TLS 1.3, which this build's "
           "mbedTLS 2.28 client cannot negotiate",
           u->addr, u->host, u->port);
    return;
  }
  char why[160];
  mbedtls_strerror(ret, why, sizeof why);
  u->tls_ret = ret;
  finish(u, CS_ECRYPTO, "UPSTREAM_TLS_FAILED", "TLS handshake with %s (%s:%d) failed: %s",
         u->addr, u->host, u->port, why);
}

int cs_upstream_cannot_intercept(const cs_upstream_t *u) {
  if (!u->tls || u->ep == NULL)
    return 0;
  if (strcmp(u->err_code, "UPSTREAM_TLS13_ONLY") == 0)
    return 1;
  if (strcmp(u->err_code, "UPSTREAM_TLS_FAILED") != 0 || u->tls_ret == 0)
    return 0;
  /* The server spoke TLS: its first record is a handshake (22) or alert
   * (21) record of version 3.x. */
  const cs_tls_bio_t *b = &u->ep->bio;
  return b->nfirst >= 5 && (b->first[0] == 0x16 || b->first[0] == 0x15) && b->first[1] == 0x03;
}

static void on_tls_read(cs_endpoint_t *ep, uint8_t *buf, ssize_t nread) {
  cs_upstream_t *u = ep->aux;
  if (nread < 0) {
    free(buf);
    if (tls_alert_is_protocol_version(&ep->bio)) {
      handshake_step(u);
      return;
    }
    finish(u, CS_ENET, "UPSTREAM_RESET",
           "%s (%s:%d) closed the connection during the TLS handshake (%s)", u->addr, u->host,
           u->port, nread == UV_EOF ? "end of stream" : uv_strerror((int)nread));
    return;
  }
  int rc = cs_tls_bio_push(&ep->bio, buf, (size_t)nread);
  free(buf);
  if (rc != 0) {
    finish(u, rc, "UPSTREAM_TLS_FAILED", "out of memory");
    return;
  }
  handshake_step(u);
}

static void start_tls(cs_upstream_t *u) {
  if (cs_endpoint_tls_setup(u->ep, &u->uc->conf) != 0) {
    finish(u, CS_ENOMEM, "UPSTREAM_TLS_FAILED", "cannot set up TLS for %s", u->addr);
    return;
  }
  if (mbedtls_ssl_set_hostname(&u->ep->ssl, u->sni[0] ? u->sni : NULL) != 0) {
    finish(u, CS_EINVAL, "UPSTREAM_TLS_FAILED", "invalid server name %s", u->sni);
    return;
  }
  snprintf(u->session_key, sizeof u->session_key, "%s:%d/%s", u->host, u->port, u->sni);
  /* A refused offer only costs the resumption: the handshake is full. */
  (void)cs_session_cache_offer(u->uc->sessions, u->session_key, &u->ep->ssl, cs_fs_now_ms(),
                               &u->offered_der, &u->offered_len, &u->offered_ncerts);
  u->ep->on_read = on_tls_read;
  if (cs_endpoint_read_start(u->ep) != 0) {
    finish(u, CS_ENET, "UPSTREAM_RESET", "cannot read from %s", u->addr);
    return;
  }
  handshake_step(u);
}

static void try_next(cs_upstream_t *u);

/* A failed attempt's handle is closed before the next address is tried
 * with a fresh one (libuv handles cannot be reused before their close). */
static void retry_after_close(cs_endpoint_t *ep) {
  cs_upstream_t *u = ep->aux;
  u->retry_closing = 0;
  ep->on_closed = u->saved_on_closed;
  ep->closing = 0;
  if (u->cancelled) {
    finish(u, CS_ESTATE, "CANCELLED", "%s", "cancelled");
    return;
  }
  try_next(u);
}

static void connect_cb(uv_connect_t *req, int status) {
  cs_upstream_t *u = req->data;
  u->connect_active = 0;
  if (u->cancelled) {
    finish(u, CS_ESTATE, "CANCELLED", "%s", "cancelled");
    return;
  }
  if (status == 0)
    uv_tcp_nodelay(&u->ep->tcp, 1);
  if (status != 0) {
    u->last_connect_error = status;
    u->saved_on_closed = u->ep->on_closed;
    u->ep->on_closed = retry_after_close;
    u->retry_closing = 1;
    cs_endpoint_close(u->ep);
    return;
  }
  if (!u->tls) {
    finish(u, 0, "", "%s", "");
    return;
  }
  start_tls(u);
}

static void try_next(cs_upstream_t *u) {
  while (u->ai_next != NULL) {
    struct addrinfo *ai = u->ai_next;
    u->ai_next = ai->ai_next;
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
      continue;
    addr_text(ai->ai_addr, u->addr, sizeof u->addr);
    if (is_self(u->uc, ai->ai_addr)) {
      finish(u, CS_EINVAL, "UPSTREAM_LOOP",
             "%s:%d resolves to %s, the proxy itself: refusing to loop", u->host, u->port,
             u->addr);
      return;
    }
    if (cs_endpoint_open(u->ep, u->loop) != 0)
      break;
    u->connect_req.data = u;
    int rc = uv_tcp_connect(&u->connect_req, &u->ep->tcp, ai->ai_addr, connect_cb);
    if (rc != 0) {
      u->last_connect_error = rc;
      u->saved_on_closed = u->ep->on_closed;
      u->ep->on_closed = retry_after_close;
      u->retry_closing = 1;
      cs_endpoint_close(u->ep);
      return;
    }
    u->connect_active = 1;
    return;
  }
  int e = u->last_connect_error;
  if (e == UV_ECONNREFUSED)
    finish(u, CS_ENET, "UPSTREAM_REFUSED", "%s:%d (%s) refused the connection", u->host,
           u->port, u->addr);
  else
    finish(u, CS_ENET, "UPSTREAM_UNREACHABLE", "cannot connect to %s:%d (%s): %s", u->host,
           u->port, u->addr[0] ? u->addr : "no address",
           e != 0 ? uv_strerror(e) : "no usable address");
}

static void gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  cs_upstream_t *u = req->data;
  u->gai_active = 0;
  u->ai = res;
  u->ai_next = res;
  if (u->cancelled) {
    finish(u, CS_ESTATE, "CANCELLED", "%s", "cancelled");
    return;
  }
  if (status != 0) {
    finish(u, CS_ENET, "UPSTREAM_DNS_FAILED", "cannot resolve %s: %s", u->host,
           uv_strerror(status));
    return;
  }
  try_next(u);
}

int cs_upstream_start(cs_upstream_t *u, uv_loop_t *loop, const cs_upstream_conf_t *uc,
                      cs_endpoint_t *ep, const char *host, int port, const char *sni, int tls,
                      cs_upstream_cb cb) {
  u->ep = ep;
  u->uc = uc;
  u->loop = loop;
  u->port = port;
  u->tls = tls;
  u->cb = cb;
  ep->aux = u;
  snprintf(u->host, sizeof u->host, "%s", host);
  snprintf(u->sni, sizeof u->sni, "%s", sni != NULL ? sni : "");
  char service[8];
  snprintf(service, sizeof service, "%d", port);
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  u->gai.data = u;
  /* Strip the brackets of an IPv6 literal for getaddrinfo. */
  char name[256];
  size_t n = strlen(host);
  if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
    snprintf(name, sizeof name, "%.*s", (int)(n - 2), host + 1);
  else
    snprintf(name, sizeof name, "%s", host);
  /* An IP literal needs no resolver (whose thread pool round trip costs
   * more than a resumed handshake); the proxy's own address still goes the
   * resolver's way, so a loop is reported from its callback as before. */
  memset(&u->lit_ss, 0, sizeof u->lit_ss);
  int lit = uv_ip4_addr(name, port, (struct sockaddr_in *)&u->lit_ss) == 0 ||
            uv_ip6_addr(name, port, (struct sockaddr_in6 *)&u->lit_ss) == 0;
  if (lit && !is_self(uc, (const struct sockaddr *)&u->lit_ss)) {
    memset(&u->lit_ai, 0, sizeof u->lit_ai);
    u->lit_ai.ai_family = u->lit_ss.ss_family;
    u->lit_ai.ai_socktype = SOCK_STREAM;
    u->lit_ai.ai_addr = (struct sockaddr *)&u->lit_ss;
    u->lit_ai.ai_addrlen = u->lit_ss.ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                                          : sizeof(struct sockaddr_in6);
    u->ai_next = &u->lit_ai;
    try_next(u); /* connecting is asynchronous: cb runs later */
    return 0;
  }
  if (uv_getaddrinfo(loop, &u->gai, gai_cb, name, service, &hints) != 0)
    return CS_ENET;
  u->gai_active = 1;
  return 0;
}
