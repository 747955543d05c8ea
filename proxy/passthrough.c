/* Passthrough capture (see passthrough.h). */
#include "passthrough.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>
#include <mbedtls/ssl_ciphersuites.h>

#include "certskew/analysis/analysis.h"
#include "certskew/tls/passthrough_report.h"
#include "certskew/core/sct.h"
#include "certskew/tls/tls_sniff.h"
#include "proxy_ctx.h"
#include "certskew/store/fs.h"
#include "certskew/fetch/stapling_probe.h"

struct cs_passthrough {
  cs_proxy_ctx_t *px;
  char host[256];
  int port;
  char addr[80];                /* upstream "ip:port" */
  struct sockaddr_storage peer; /* where a side connection goes */
  int has_peer;
  cs_tls_sniff_t *sniff;        /* owned */
  int observing;                /* 0 once the sniffer has seen enough */
  int started;                  /* the capture has begun */
  int released;                 /* conn.c let go */
  int probe_active;             /* a side connection is outstanding */
  int idle_open;                /* the analysis handle is open or closing */
  uv_idle_t idle;
  /* What was captured (owned copies). */
  uint8_t *chain_der;
  size_t chain_der_len;
  uint8_t *ocsp;
  size_t ocsp_len;
  uint8_t *sct_list;
  size_t sct_list_len;
  int stapling_asked;           /* the handshake captured asked for a staple */
  const char *method;           /* CS_CAPTURE_METHOD_* */
  char relayed_code[48];        /* "" unless interception fell back to this relay */
  char relayed_msg[300];
  char client[80];              /* the client's "ip:port", for its sighting */
};

static const cs_relay_reason_t *relay_reason(const cs_passthrough_t *pt, cs_relay_reason_t *r) {
  if (pt->relayed_code[0] == '\0')
    return NULL;
  r->code = pt->relayed_code;
  r->message = pt->relayed_msg;
  return r;
}

void cs_passthrough_set_client(cs_passthrough_t *pt, const char *addr) {
  snprintf(pt->client, sizeof pt->client, "%s", addr);
}

/* What the client did with the real chain, for its sighting. */
static const char *reaction_action(const cs_tls_sniff_info_t *info, char *buf, size_t cap) {
  switch (info->reaction) {
  case CS_SNIFF_CLIENT_ACCEPTED:
    return "loaded";
  case CS_SNIFF_CLIENT_ALERT:
    snprintf(buf, cap, "rejected (alert %s)", cs_tls_alert_name(info->alert));
    return buf;
  case CS_SNIFF_CLIENT_LIKELY_REJECTED:
    return "rejected (closed after the chain)";
  case CS_SNIFF_CLIENT_UNKNOWN:
  default:
    return "unknown";
  }
}

/* Records the connection; the verdict is the judge's browser profile's in
 * the key the capture's report was last written for. */
static void sighting(cs_passthrough_t *pt, const char *id, const char *key, int64_t now_ms) {
  const cs_tls_sniff_info_t *info = cs_tls_sniff_info(pt->sniff);
  char buf[80];
  cs_sighting_t sg = {.at_ms = now_ms,
                      .client_addr = pt->client,
                      .user_agent = "",
                      .mode = "passthrough",
                      .profile = pt->px->judge->browser,
                      .verdict = cs_verdict_key_fails(key, pt->px->judge->browser) ? "fail" : "pass",
                      .action = reaction_action(info, buf, sizeof buf)};
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_capture_store_add_sighting(pt->px->store, id, &sg, &eb) != 0 && eb.msg[0] != '\0')
    fprintf(stderr, "certskew: capture store: %s (still serving)\n", eb.msg);
}

static void logv(const cs_passthrough_t *pt, const char *fmt, ...) CS_PRINTF(2, 3);
static void logv(const cs_passthrough_t *pt, const char *fmt, ...) {
  if (!pt->px->cfg->verbose)
    return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "certskew: [%s:%d] passthrough: ", pt->host, pt->port);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

int cs_passthrough_new(cs_passthrough_t **out, cs_proxy_ctx_t *px, const char *host, int port) {
  *out = NULL;
  cs_passthrough_t *pt = calloc(1, sizeof(*pt)); /* owned by conn.c, then by itself */
  if (pt == NULL)
    return CS_ENOMEM;
  pt->sniff = cs_tls_sniff_new();
  if (pt->sniff == NULL) {
    free(pt);
    return CS_ENOMEM;
  }
  pt->px = px;
  snprintf(pt->host, sizeof(pt->host), "%s", host);
  pt->port = port;
  pt->observing = 1;
  *out = pt;
  return 0;
}

static void maybe_free(cs_passthrough_t *pt) {
  if (!pt->released || pt->probe_active || pt->idle_open)
    return;
  cs_tls_sniff_free(pt->sniff);
  free(pt->chain_der);
  free(pt->ocsp);
  free(pt->sct_list);
  free(pt);
}

static void note_error(cs_passthrough_t *pt, const char *code, const char *msg) {
  char full[800];
  if (pt->relayed_code[0] != '\0') {
    /* A fallback relay: the error also says why the tunnel was relayed. */
    snprintf(full, sizeof(full), "%s (relayed because interception failed: %s: %s)", msg,
             pt->relayed_code, pt->relayed_msg);
    msg = full;
  }
  logv(pt, "%s: %s", code, msg);
  if (pt->px->store != NULL) {
    cs_proxy_lock(pt->px);
    cs_capture_store_note_error(pt->px->store, pt->host, pt->port, code, msg, cs_fs_now_ms());
    cs_proxy_unlock(pt->px);
  }
}

void cs_passthrough_set_relayed(cs_passthrough_t *pt, const char *code, const char *msg) {
  snprintf(pt->relayed_code, sizeof(pt->relayed_code), "%s", code != NULL ? code : "");
  snprintf(pt->relayed_msg, sizeof(pt->relayed_msg), "%s", msg != NULL ? msg : "");
}

/* ---- analysis (on the loop, off the data path) ---- */

static const char *cipher_name(uint16_t id, char *buf, size_t cap) {
  switch (id) {
  case 0x1301: return "TLS_AES_128_GCM_SHA256";
  case 0x1302: return "TLS_AES_256_GCM_SHA384";
  case 0x1303: return "TLS_CHACHA20_POLY1305_SHA256";
  default: break;
  }
  const char *n = mbedtls_ssl_get_ciphersuite_name(id);
  if (n != NULL && strcmp(n, "unknown") != 0)
    return n;
  snprintf(buf, cap, "0x%04x", (unsigned)id);
  return buf;
}

/* A verdict key's client reaction (what follows its last '|'), NULL when
 * the key has none. */
static const char *key_reaction(const char *key) {
  const char *bar = key != NULL ? strrchr(key, '|') : NULL;
  return bar != NULL ? bar + 1 : NULL;
}

/* How much a verdict key's client reaction says. */
static int conclusiveness(const char *key) {
  const char *r = key_reaction(key);
  if (r == NULL)
    return 0;
  if (strcmp(r, "alert") == 0 || strcmp(r, "accepted") == 0)
    return 2;
  return strcmp(r, "likely_rejected") == 0 ? 1 : 0;
}

/* A browser opens several connections to one server at once (a preconnect
 * closed unused beside the one that alerted or loaded the page), and with
 * several workers their analyses finish in any order: a report written from
 * what the client was seen to do is not rewritten from a connection that
 * shows less ("unknown" after "alert"). A different conclusive reaction
 * (loaded since it alerted) still rewrites it. */
static int less_conclusive(const char *key, const char *was) {
  return conclusiveness(key) < conclusiveness(was);
}

static void store(cs_passthrough_t *pt, const cs_tls_sniff_info_t *info, cs_analysis_t *a,
                  int64_t now_ms) {
  cs_relay_reason_t why;
  char *report = cs_analysis_report_json(a, 1);
  char *decorated = NULL, *pem = cs_chain_to_pem(cs_analysis_chain(a));
  if (report == NULL || pem == NULL ||
      cs_passthrough_decorate_report_ex(report, info, pt->method, relay_reason(pt, &why),
                                        &decorated) != 0) {
    note_error(pt, "PASSTHROUGH_REPORT_FAILED", "out of memory while writing the report");
    goto out;
  }
  uint8_t fp[32];
  mbedtls_sha256_ret(pt->chain_der, pt->chain_der_len, fp, 0);
  char suite[16];
  cs_capture_meta_t meta = {.host = pt->host,
                            .port = pt->port,
                            .sni = info->sni,
                            .upstream = pt->addr,
                            .tls_version = cs_tls_version_name(info->version),
                            .cipher = cipher_name(info->cipher_suite, suite, sizeof(suite)),
                            .worst = cs_findings_worst(cs_analysis_findings(a))};
  char id[CS_CAPTURE_ID_MAX] = "";
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  int is_new = 0;
  char key[CS_CAPTURE_KEY_MAX];
  cs_verdict_key(a, cs_sniff_reaction_name(info->reaction), key, sizeof key);
  cs_capture_store_t *st = pt->px->store;
  cs_proxy_lock(pt->px); /* the store, shared by the workers; sighting() too */
  if (st != NULL && cs_capture_store_put(st, &meta, fp, pem, decorated, now_ms, id, &is_new, &eb) != 0)
    fprintf(stderr, "certskew: capture store: %s (still serving)\n", eb.msg);
  /* Seen before with other verdicts or another reaction: the report is
   * rewritten with this judgement. */
  const char *was = st != NULL && id[0] != '\0' ? cs_capture_store_verdict_key(st, id) : NULL;
  if (was != NULL && strcmp(was, key) != 0 && !less_conclusive(key, was)) {
    if (!is_new &&
        cs_capture_store_update_report(st, id, decorated, meta.worst, now_ms, &eb) != 0)
      fprintf(stderr, "certskew: capture store: %s (still serving)\n", eb.msg);
    else
      cs_capture_store_set_verdict_key(st, id, key);
  }
  if (was != NULL)
    sighting(pt, id, key, now_ms);
  cs_proxy_unlock(pt->px);
  logv(pt, "captured %s by %s; the client: %s (%s)", id, pt->method,
       cs_sniff_reaction_name(info->reaction), info->detail);
out:
  free(report);
  free(decorated);
  free(pem);
}

/* The id the store files this chain under, to look it up. */
static void capture_id(const cs_passthrough_t *pt, const uint8_t fp[32],
                       char id[CS_CAPTURE_ID_MAX]) {
  cs_capture_id(id, pt->host, pt->port, fp);
}

/* A chain already captured for this host:port keeps its first report (the
 * store writes it once): record the sighting without analysing again, so a
 * burst of connections to one server costs one analysis. */
static int seen_before(cs_passthrough_t *pt, int64_t now_ms) {
  cs_capture_store_t *st = pt->px->store;
  if (st == NULL)
    return 0;
  uint8_t fp[32];
  char id[CS_CAPTURE_ID_MAX], *meta = NULL;
  size_t len = 0;
  mbedtls_sha256_ret(pt->chain_der, pt->chain_der_len, fp, 0);
  capture_id(pt, fp, id);
  if (cs_capture_store_read(st, id, "meta.json", &meta, &len) != 0)
    return 0;
  free(meta);
  const cs_tls_sniff_info_t *info = cs_tls_sniff_info(pt->sniff);
  /* Judged again when its report's judgement is not known since the store
   * opened (a restart, maybe with other --trust) or the client reacted
   * otherwise than then (rejected once, loaded since). */
  const char *key = cs_capture_store_verdict_key(st, id);
  const char *reaction = key_reaction(key);
  /* A client whose reaction this connection does not show (a resumed
   * session never carries the chain) leaves the report's as it is. */
  int reaction_seen = info->reaction != CS_SNIFF_CLIENT_UNKNOWN;
  if (reaction == NULL ||
      (reaction_seen && strcmp(reaction, cs_sniff_reaction_name(info->reaction)) != 0))
    return 0;
  char suite[16];
  cs_capture_meta_t m = {.host = pt->host,
                         .port = pt->port,
                         .sni = info->sni,
                         .upstream = pt->addr,
                         .tls_version = cs_tls_version_name(info->version),
                         .cipher = cipher_name(info->cipher_suite, suite, sizeof(suite)),
                         .worst = -1};
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_capture_store_put(st, &m, fp, "", NULL, now_ms, id, NULL, &eb) != 0)
    fprintf(stderr, "certskew: capture store: %s (still serving)\n", eb.msg);
  sighting(pt, id, key, now_ms);
  logv(pt, "seen %s again; the client: %s", id, cs_sniff_reaction_name(info->reaction));
  return 1;
}

static void analyze(cs_passthrough_t *pt) {
  cs_proxy_ctx_t *px = pt->px;
  const cs_tls_sniff_info_t *info = cs_tls_sniff_info(pt->sniff);
  int64_t now_ms = cs_fs_now_ms();
  cs_proxy_lock(px); /* the store; the analysis below runs unlocked */
  int seen = seen_before(pt, now_ms);
  cs_proxy_unlock(px);
  if (seen)
    return;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  cs_sct_t scts[CS_SCT_LIST_MAX];
  size_t nscts = 0;
  if (pt->sct_list != NULL &&
      cs_sct_list_parse(pt->sct_list, pt->sct_list_len, CS_SCT_SOURCE_TLS, scts,
                        CS_SCT_LIST_MAX, &nscts, &eb) != 0) {
    logv(pt, "TLS-extension SCT list ignored: %s", eb.msg);
    nscts = 0;
  }
  char source[300];
  snprintf(source, sizeof(source), "%s:%d", pt->host, pt->port);
  /* What every analysis of this proxy shares (clocks, trust, log list), then
   * this capture's own facts. */
  cs_analysis_opts_t opts = px->judge->base;
  opts.source = source;
  opts.has_at = 1;
  opts.at_ms = now_ms;
  opts.extra_scts = nscts > 0 ? scts : NULL;
  opts.nextra_scts = nscts;
  if (opts.hostname == NULL)
    opts.hostname = info->sni[0] != '\0' ? info->sni : pt->host;
  opts.stapled_ocsp = pt->ocsp;
  opts.stapled_ocsp_len = pt->ocsp_len;
  opts.stapling_probed = pt->stapling_asked;
  opts.stapling_observable = 1;
  cs_analysis_t *a = NULL;
  int rc = cs_analyze(&a, pt->chain_der, pt->chain_der_len, &opts, &eb);
  if (rc != 0) {
    note_error(pt, "PASSTHROUGH_CHAIN_UNREADABLE", eb.msg[0] ? eb.msg : cs_strerror(rc));
    return;
  }
  cs_relay_reason_t why;
  if (cs_passthrough_add_finding(cs_analysis_findings(a), info) != 0 ||
      cs_passthrough_add_fallback_finding(cs_analysis_findings(a), relay_reason(pt, &why)) != 0)
    note_error(pt, "PASSTHROUGH_REPORT_FAILED", "out of memory while adding a finding");
  else
    store(pt, info, a, now_ms);
  cs_analysis_free(a);
}

static void on_idle_closed(uv_handle_t *h) {
  cs_passthrough_t *pt = h->data;
  pt->idle_open = 0;
  maybe_free(pt);
}

static void on_idle(uv_idle_t *h) {
  cs_passthrough_t *pt = h->data;
  uv_idle_stop(h);
  analyze(pt);
  uv_close((uv_handle_t *)h, on_idle_closed);
}

static void schedule_analysis(cs_passthrough_t *pt) {
  if (uv_idle_init(pt->px->loop, &pt->idle) != 0) {
    note_error(pt, "PASSTHROUGH_REPORT_FAILED", "cannot schedule the analysis");
    return;
  }
  pt->idle.data = pt;
  pt->idle_open = 1;
  uv_idle_start(&pt->idle, on_idle);
}

/* Copies a flight's certificates (concatenated DER, as the upstream module
 * keeps them), staple and SCT list: the flight's memory is borrowed. */
static int keep_flight(cs_passthrough_t *pt, const cs_tls_probe_result_t *r) {
  size_t total = 0;
  for (size_t i = 0; i < r->ncerts; i++)
    total += r->cert_lens[i];
  if (total == 0)
    return CS_ENOTFOUND;
  pt->chain_der = malloc(total); /* owned by pt */
  if (pt->chain_der == NULL)
    return CS_ENOMEM;
  for (size_t i = 0; i < r->ncerts; i++) {
    memcpy(pt->chain_der + pt->chain_der_len, r->certs[i], r->cert_lens[i]);
    pt->chain_der_len += r->cert_lens[i];
  }
  if (r->ocsp != NULL && r->ocsp_len > 0) {
    if ((pt->ocsp = malloc(r->ocsp_len)) == NULL) /* owned by pt */
      return CS_ENOMEM;
    memcpy(pt->ocsp, r->ocsp, r->ocsp_len);
    pt->ocsp_len = r->ocsp_len;
  }
  if (r->sct_list != NULL && r->sct_list_len > 0) {
    if ((pt->sct_list = malloc(r->sct_list_len)) == NULL) /* owned by pt */
      return CS_ENOMEM;
    memcpy(pt->sct_list, r->sct_list, r->sct_list_len);
    pt->sct_list_len = r->sct_list_len;
  }
  return 0;
}

/* ---- the side connection (TLS 1.3, resumed sessions) ---- */

static void on_probe(int err, const cs_tls_probe_result_t *res, const char *detail, void *ud) {
  cs_passthrough_t *pt = ud;
  pt->probe_active = 0;
  if (err == 0 && res->outcome == CS_TLS_PROBE_BAD_CERT_VERIFY) {
    /* The side connection's server did not prove it holds the leaf's key:
     * its chain is not captured as the tunnel's. */
    char msg[400];
    snprintf(msg, sizeof(msg), "side connection: the chain is not captured: %s", res->detail);
    note_error(pt, "PASSTHROUGH_CERT_VERIFY_FAILED", msg);
  } else if (err == 0 && res->outcome == CS_TLS_PROBE_DONE && keep_flight(pt, res) == 0) {
    pt->stapling_asked = 1; /* the probe always asks */
    if (!pt->px->stopping)
      schedule_analysis(pt);
  } else {
    char msg[400];
    snprintf(msg, sizeof(msg),
             "the tunnel's chain is encrypted (%s) and the side connection could not "
             "capture it: %s",
             cs_sniff_flight_name(cs_tls_sniff_info(pt->sniff)->flight),
             detail != NULL && detail[0] != '\0' ? detail : "no certificate");
    note_error(pt, "PASSTHROUGH_NOT_OBSERVABLE", msg);
  }
  maybe_free(pt);
}

static void start_side_connection(cs_passthrough_t *pt, const char *method) {
  const cs_tls_sniff_info_t *info = cs_tls_sniff_info(pt->sniff);
  if (!pt->has_peer) {
    note_error(pt, "PASSTHROUGH_NOT_OBSERVABLE",
               "the tunnel's chain is encrypted and the upstream's address is unknown, so no "
               "side connection could capture it");
    return;
  }
  pt->method = method;
  cs_stapling_probe_opts_t o = {.addr = (const struct sockaddr *)&pt->peer,
                                .sni = info->sni[0] != '\0' ? info->sni : NULL};
  pt->probe_active = 1;
  int rc = cs_stapling_probe_start(pt->px->loop, &o, on_probe, pt);
  if (rc != 0) {
    pt->probe_active = 0;
    note_error(pt, "PASSTHROUGH_NOT_OBSERVABLE", "cannot start the side connection");
  }
}

/* The sniffer has seen enough (or the tunnel ended): capture. */
static void start_capture(cs_passthrough_t *pt) {
  if (pt->started || pt->px->stopping)
    return;
  pt->started = 1;
  const cs_tls_sniff_info_t *info = cs_tls_sniff_info(pt->sniff);
  char msg[300];
  switch (info->flight) {
  case CS_SNIFF_FLIGHT_TLS12:
    pt->method = CS_CAPTURE_METHOD_PASSIVE;
    pt->stapling_asked = info->client_status_request;
    if (keep_flight(pt, info->server) == 0)
      schedule_analysis(pt);
    else
      note_error(pt, "PASSTHROUGH_NO_CERTIFICATE", "the server's TLS 1.2 flight had no chain");
    break;
  case CS_SNIFF_FLIGHT_TLS13:
    start_side_connection(pt, CS_CAPTURE_METHOD_SIDE_TLS13);
    break;
  case CS_SNIFF_FLIGHT_RESUMED:
    start_side_connection(pt, CS_CAPTURE_METHOD_SIDE_RESUMED);
    break;
  case CS_SNIFF_FLIGHT_SERVER_ALERT:
    snprintf(msg, sizeof(msg), "the server answered the client's hello with alert %s(%d)",
             cs_tls_alert_name(info->server_alert), info->server_alert);
    note_error(pt, "PASSTHROUGH_SERVER_ALERT", msg);
    break;
  case CS_SNIFF_FLIGHT_NOT_TLS:
    /* After a ClientHello, a server flight the parser refuses (a chain past
     * CS_TLS_PROBE_MAX_CERTS, a malformed message) is said, never silent. */
    if (info->client_hello_seen)
      note_error(pt, "PASSTHROUGH_FLIGHT_UNREADABLE", info->detail);
    else
      note_error(pt, "PASSTHROUGH_NOT_TLS", info->detail[0] != '\0'
                                                  ? info->detail
                                                  : "the tunnel did not carry a TLS handshake");
    break;
  case CS_SNIFF_FLIGHT_PENDING:
  default:
    note_error(pt, "PASSTHROUGH_NO_SERVER_FLIGHT",
               info->client_hello_seen
                   ? "the tunnel ended after the client's hello, before the server's flight"
                   : "the tunnel ended before any TLS handshake");
    break;
  }
}

/* ---- the tunnel's events ---- */

void cs_passthrough_connected(cs_passthrough_t *pt, const uv_tcp_t *upstream,
                              const char *addr_text) {
  snprintf(pt->addr, sizeof(pt->addr), "%s", addr_text != NULL ? addr_text : "");
  int len = (int)sizeof(pt->peer);
  pt->has_peer = uv_tcp_getpeername(upstream, (struct sockaddr *)&pt->peer, &len) == 0;
}

void cs_passthrough_observe(cs_passthrough_t *pt, int from_client, const uint8_t *data,
                            size_t len) {
  if (!pt->observing)
    return;
  if (cs_tls_sniff_feed(pt->sniff, from_client, data, len) != 0 || cs_tls_sniff_done(pt->sniff)) {
    pt->observing = 0;
    start_capture(pt);
  }
}

int cs_passthrough_observing(const cs_passthrough_t *pt) { return pt->observing; }

void cs_passthrough_closed(cs_passthrough_t *pt, int from_client) {
  if (!pt->observing)
    return;
  cs_tls_sniff_close(pt->sniff, from_client);
  if (cs_tls_sniff_done(pt->sniff)) {
    pt->observing = 0;
    start_capture(pt);
  }
}

void cs_passthrough_release(cs_passthrough_t *pt) {
  if (pt == NULL || pt->released)
    return;
  pt->released = 1;
  pt->observing = 0;
  start_capture(pt);
  maybe_free(pt);
}
