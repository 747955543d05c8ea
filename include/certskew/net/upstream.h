/*
 * Connecting to the real server: DNS (uv_getaddrinfo), TCP (trying each
 * address), and for TLS an mbedTLS client handshake over the memory BIO
 * (SNI, ALPN http/1.1, no verification during the handshake so it completes
 * and the served chain is kept exactly as sent; verdict.c verifies it
 * against the trust anchors and certskew's analyzers judge its dates).
 *
 * Failures carry a stable code (UPSTREAM_DNS_FAILED, UPSTREAM_REFUSED,
 * UPSTREAM_UNREACHABLE, UPSTREAM_RESET, UPSTREAM_TLS13_ONLY,
 * UPSTREAM_TLS_FAILED, UPSTREAM_LOOP) and a sentence for people.
 */
#ifndef CERTSKEW_NET_UPSTREAM_H
#define CERTSKEW_NET_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <uv.h>

#include "certskew/core/error.h"
#include "certskew/trust/trust.h"
#include "certskew/net/endpoint.h"
#include "certskew/net/rng.h"
#include "certskew/net/session_cache.h"

#include <mbedtls/ssl_ticket.h>

/* Upstream sessions are resumed for this long after their full handshake
 * (then a full handshake captures the chain afresh), for this many servers. */
#define CS_UPSTREAM_SESSION_MAX_AGE_MS (5 * 60 * 1000)
#define CS_UPSTREAM_SESSION_MAX 512
/* Lifetime of the session tickets the proxy issues to its clients. */
#define CS_CLIENT_TICKET_LIFETIME_S (60 * 60)

/* Shared client configuration (one per process). */
typedef struct cs_upstream_conf {
  cs_rng_t rng;
  cs_trust_store_t *trust;   /* owned: the upstream anchors, judged by the trust analyzer */
  mbedtls_ssl_config conf;
  const char *alpn[2];
  /* Resumable upstream sessions (owned). */
  cs_session_cache_t *sessions;
  /* Session ticket keys for the proxy's client-facing (server) side, so
   * browsers resume their TLS sessions with the proxy. */
  mbedtls_ssl_ticket_context tickets;
  /* The proxy's own listening address, port and every local interface
   * address, to refuse connecting to itself (cs_upstream_conf_set_self). */
  struct sockaddr_storage self;
  int has_self;
  int self_port;
  struct sockaddr_storage *local_addrs; /* owned */
  size_t nlocal;
} cs_upstream_conf_t;

/* trust_file NULL: the system store (/etc/ssl/certs/ca-certificates.crt,
 * or $SSL_CERT_FILE). A trust store that loads no certificate is an error.
 * On error the conf is still safe to free. */
int cs_upstream_conf_init(cs_upstream_conf_t *uc, const char *trust_file, cs_errbuf_t *eb)
    CS_MUST_CHECK;
/* Safe twice. */
void cs_upstream_conf_free(cs_upstream_conf_t *uc);
/* Records the proxy's listening address and enumerates the local interface
 * addresses (uv_interface_addresses), so cs_upstream_reaches_self knows
 * what reaches the proxy. On error (CS_ENET, CS_ENOMEM) the listening
 * address, loopback and unspecified addresses are still refused. */
int cs_upstream_conf_set_self(cs_upstream_conf_t *uc, const struct sockaddr *listen_addr)
    CS_MUST_CHECK;
/* 1 if a connection to sa would reach the proxy itself: sa's port is the
 * listening port and its address (IPv4-mapped IPv6 reduced to IPv4) is
 * unspecified (0.0.0.0/8, ::), loopback (127/8, ::1), the listening address
 * or any local interface's address. */
int cs_upstream_reaches_self(const cs_upstream_conf_t *uc, const struct sockaddr *sa);
/* ECDHE curves in browsers' preference order (NONE-terminated, static). */
const mbedtls_ecp_group_id *cs_upstream_curves(void);
/* Cipher suites, fastest relay first (0-terminated, static). */
const int *cs_upstream_ciphersuites(void);

typedef struct cs_upstream cs_upstream_t;
/* status 0: connected (and for TLS, handshake done, reading stopped);
 * otherwise a CS_E* code with u->err_code / u->err_msg set. */
typedef void (*cs_upstream_cb)(cs_upstream_t *u, int status);

struct cs_upstream {
  cs_endpoint_t *ep;            /* borrowed: initialised, not opened */
  const cs_upstream_conf_t *uc; /* borrowed */
  uv_loop_t *loop;
  char host[256];
  int port;
  char sni[256];                /* "" for none (IP literal hosts) */
  int tls;
  void *data;                   /* for the caller */
  cs_upstream_cb cb;
  uv_getaddrinfo_t gai;
  int gai_active;
  uv_connect_t connect_req;
  int connect_active;
  struct addrinfo *ai;          /* owned list from getaddrinfo */
  struct addrinfo lit_ai;       /* an IP literal host: its one address, no DNS */
  struct sockaddr_storage lit_ss;
  struct addrinfo *ai_next;
  int last_connect_error;
  int cancelled;
  int done;
  int retry_closing;            /* a failed attempt's handle is closing */
  cs_ep_cb saved_on_closed;
  char addr[80];                /* "ip:port" connected */
  char err_code[48];
  char err_msg[300];
  int tls_ret;                  /* the mbedTLS error of a failed handshake, else 0 */
  /* Results after a TLS handshake. */
  uint8_t *chain_der;           /* owned: the served certificates, DER, concatenated */
  size_t chain_der_len;
  size_t ncerts;
  char tls_version[32];
  int tls_version_id;           /* 0x0301 (TLS 1.0) ... 0x0303 (TLS 1.2) negotiated */
  char cipher[100];
  char alpn_chosen[32];
  int resumed;                  /* the handshake resumed a cached session */
  uint8_t *offered_der;         /* owned: the chain saved with the offered session */
  size_t offered_len, offered_ncerts;
  char session_key[600];        /* "host:port/sni" in uc->sessions */
};

/* Prepares u. Cannot fail. */
void cs_upstream_init(cs_upstream_t *u);
/* Starts; cb runs exactly once. After cs_upstream_cancel it runs only if a
 * request was outstanding, with status CS_ESTATE, when that request has
 * completed (then u may be freed). host must be a name or IP literal
 * (brackets allowed); sni may be NULL or "". */
int cs_upstream_start(cs_upstream_t *u, uv_loop_t *loop, const cs_upstream_conf_t *uc,
                      cs_endpoint_t *ep, const char *host, int port, const char *sni, int tls,
                      cs_upstream_cb cb) CS_MUST_CHECK;
/* Cancels DNS; results are no longer reported. The caller still closes ep
 * (unless a retry is closing it) and waits while cs_upstream_busy(u). */
void cs_upstream_cancel(cs_upstream_t *u);
/* 1 while a libuv request that points at u is outstanding (u must not be
 * freed before it completes). */
int cs_upstream_busy(const cs_upstream_t *u);
/* After the served chain was judged usable: keeps the session of a full
 * handshake for resumption (a resumed one keeps its original age). */
void cs_upstream_keep_session(cs_upstream_t *u);
/* After a judgement failed: never resume this server's session. */
void cs_upstream_forget_session(cs_upstream_t *u);
/* Frees results. Safe twice. */
void cs_upstream_free(cs_upstream_t *u);

/* After a failed TLS start (cb's status != 0): 1 when the server answered
 * in TLS and only this build's mbedTLS 2.28 client refused the handshake,
 * so a real client may well succeed: UPSTREAM_TLS13_ONLY, or
 * UPSTREAM_TLS_FAILED once the server's first bytes were a TLS handshake
 * or alert record (a handshake message split over records or beyond one
 * record, a certificate mbedTLS cannot parse, no cipher suite or group in
 * common, a fatal alert to our hello...). 0 for failures a real client
 * meets too: DNS, refused, unreachable, reset or close before any TLS
 * record, a non-TLS answer, the proxy's own address, timeouts. The proxy
 * relays the former (proxy/README.md, "fallback"). */
int cs_upstream_cannot_intercept(const cs_upstream_t *u);

#endif
