/* One capture without a browser (see diagnose.h). */
#include "certskew/fetch/diagnose.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/net/endpoint.h"
#include "certskew/store/fs.h"
#include "certskew/net/x509_write.h"
#include "certskew/net/upstream.h"
#include "certskew/fetch/stapling_probe.h"

/* One diagnosis in flight on the caller's loop. Released (and the
 * caller's callback run) only once every handle it opened is closed and no
 * libuv request still points at it. */
typedef struct run {
  uv_loop_t *loop;
  uv_timer_t timer;
  cs_endpoint_t ep;
  cs_upstream_t up;
  const cs_upstream_conf_t *uc; /* borrowed */
  cs_judge_t *judge;            /* borrowed (shared) or own_judge */
  cs_judge_t *own_judge;        /* owned, NULL when shared */
  const cs_diagnose_opts_t *opts;
  cs_diagnose_result_t *res;
  cs_diagnose_cb cb;
  void *ud;
  int rc;
  int result_final;             /* the result will not change any more */
  int enriching;                /* waiting for the enrichment's callback */
  int probing;                  /* waiting for the TLS 1.3 capture probe's callback */
  int timer_closed;
} run_t;

static void release_if_idle(run_t *r);

static void stop(run_t *r) {
  uv_timer_stop(&r->timer);
  cs_upstream_cancel(&r->up);
  cs_endpoint_close(&r->ep);
}

static void on_timer_closed(uv_handle_t *h) {
  run_t *r = h->data;
  r->timer_closed = 1;
  release_if_idle(r);
}

/* The result is final: close the timer, then release when idle. */
static void finalize(run_t *r) {
  r->result_final = 1;
  stop(r);
  uv_close((uv_handle_t *)&r->timer, on_timer_closed);
}

static void release_if_idle(run_t *r) {
  if (!r->result_final || !r->timer_closed || r->enriching || r->probing || r->ep.open ||
      cs_upstream_busy(&r->up))
    return;
  cs_diagnose_cb cb = r->cb;
  void *ud = r->ud;
  cs_diagnose_result_t *res = r->res;
  int rc = r->rc;
  if (r->own_judge != NULL) {
    cs_judge_free(r->own_judge);
    free(r->own_judge);
  }
  cs_upstream_free(&r->up);
  free(r);
  cb(res, rc, ud);
}

static void on_ep_closed(cs_endpoint_t *ep) { release_if_idle(ep->owner); }

/* The instant judged: the one asked for, else now (after the material
 * arrived: a responder's thisUpdate is its "now", later than the capture). */
static int64_t judged_at(const run_t *r) {
  const cs_analysis_opts_t *a = r->opts->analysis;
  return a->has_at ? a->at_ms : cs_fs_now_ms();
}

static void judge_final(run_t *r, const cs_enrich_result_t *extra) {
  cs_upstream_t *u = &r->up;
  char source[300];
  snprintf(source, sizeof source, "%s:%d", u->host, u->port);
  cs_verdict_free(&r->res->verdict);
  r->rc = cs_judge_enriched(r->judge, source, u->sni[0] ? u->sni : u->host, u->chain_der,
                            u->chain_der_len, judged_at(r), extra, &r->res->verdict);
  if (r->rc == 0) {
    r->judge->store = r->opts->store;
    cs_judge_record(r->judge, u, cs_fs_now_ms(), &r->res->verdict);
  }
}

static void on_enriched(cs_enrich_result_t *er, void *ud) {
  run_t *r = ud;
  r->res->enrich = er;
  r->enriching = 0;
  er->capture_tls_version = r->up.tls_version_id; /* PROTOCOL_TOO_OLD survives the re-judgement */
  judge_final(r, er);
  release_if_idle(r);
}

static void judge_capture(run_t *r);
static int start_tls13_capture(run_t *r);

static void on_done(cs_upstream_t *u, int status) {
  run_t *r = u->data;
  if (u->cancelled) {
    /* The last request of a cancelled connection completed. */
    release_if_idle(r);
    return;
  }
  cs_diagnose_result_t *res = r->res;
  snprintf(res->addr, sizeof res->addr, "%s", u->addr);
  if (status != 0) {
    snprintf(res->err_code, sizeof res->err_code, "%s", u->err_code);
    snprintf(res->err_msg, sizeof res->err_msg, "%s", u->err_msg);
    if (strcmp(u->err_code, "UPSTREAM_TLS13_ONLY") == 0 && start_tls13_capture(r) == 0)
      return;
    finalize(r);
    return;
  }
  judge_capture(r);
}

/* ---- TLS 1.3-only servers: the chain from the capture probe ----
 * mbedTLS 2.28 cannot negotiate TLS 1.3; the stapling probe (its own
 * ClientHello, TLS 1.3 and 1.2) can, and verifies the CertificateVerify.
 * Its chain then goes through the same judgement as a captured one. */

static const char *tls13_suite_name(uint16_t id) {
  switch (id) {
  case 0x1301: return "TLS_AES_128_GCM_SHA256";
  case 0x1302: return "TLS_AES_256_GCM_SHA384";
  case 0x1303: return "TLS_CHACHA20_POLY1305_SHA256";
  default: return "";
  }
}

static void on_tls13_capture(int err, const cs_tls_probe_result_t *pr, const char *detail,
                             void *ud) {
  run_t *r = ud;
  r->probing = 0;
  if (r->result_final) { /* timed out meanwhile */
    release_if_idle(r);
    return;
  }
  cs_upstream_t *u = &r->up;
  size_t total = 0;
  for (size_t i = 0; err == 0 && pr->outcome == CS_TLS_PROBE_DONE && i < pr->ncerts; i++)
    total += pr->cert_lens[i];
  if (total == 0 || (u->chain_der = malloc(total)) == NULL) { /* owned by u */
    size_t n = strlen(r->res->err_msg);
    snprintf(r->res->err_msg + n, sizeof r->res->err_msg - n, "; the TLS 1.3 capture failed too: %s",
             err == 0 && pr->outcome == CS_TLS_PROBE_BAD_CERT_VERIFY ? pr->detail
             : detail != NULL && detail[0] != '\0'                 ? detail
                                                                   : "no certificate");
    finalize(r);
    return;
  }
  u->chain_der_len = 0;
  for (size_t i = 0; i < pr->ncerts; i++) {
    memcpy(u->chain_der + u->chain_der_len, pr->certs[i], pr->cert_lens[i]);
    u->chain_der_len += pr->cert_lens[i];
  }
  u->ncerts = pr->ncerts;
  u->tls_version_id = pr->version;
  snprintf(u->tls_version, sizeof u->tls_version, "%s",
           pr->version == 0x0304 ? "TLSv1.3" : "TLSv1.2");
  snprintf(u->cipher, sizeof u->cipher, "%s", tls13_suite_name(pr->cipher_suite));
  r->res->err_code[0] = r->res->err_msg[0] = '\0';
  r->res->capture_method = CS_DIAGNOSE_CAPTURE_TLS13_PROBE;
  judge_capture(r);
}

static int start_tls13_capture(run_t *r) {
  struct sockaddr_storage peer;
  int len = (int)sizeof peer;
  if (!r->ep.open || uv_tcp_getpeername(&r->ep.tcp, (struct sockaddr *)&peer, &len) != 0)
    return CS_ENET;
  cs_endpoint_close(&r->ep);
  cs_stapling_probe_opts_t o = {.addr = (const struct sockaddr *)&peer,
                                .sni = r->up.sni[0] != '\0' ? r->up.sni : NULL,
                                .handshake_timeout_ms = (uint64_t)r->opts->timeout_ms};
  r->probing = 1;
  int rc = cs_stapling_probe_start(r->loop, &o, on_tls13_capture, r);
  if (rc != 0)
    r->probing = 0;
  return rc;
}

/* The chain is in r->up: judge it, then enrich it. */
static void judge_capture(run_t *r) {
  cs_upstream_t *u = &r->up;
  cs_diagnose_result_t *res = r->res;
  res->connected = 1;
  snprintf(res->tls_version, sizeof res->tls_version, "%s", u->tls_version);
  snprintf(res->cipher, sizeof res->cipher, "%s", u->cipher);
  res->ncerts = u->ncerts;
  /* A first judgement says whether an intermediate is missing (then
   * caIssuers is worth fetching); the capture is stored after enrichment. */
  r->rc = cs_judge_chain(r->judge, u, judged_at(r), 1, &res->verdict);
  finalize(r);
  if (r->rc != 0)
    return;
  cs_enrich_opts_t eo = {.chain = u->chain_der,
                         .chain_len = u->chain_der_len,
                         .addr = u->addr,
                         .sni = u->sni,
                         .fetch = r->opts->fetch,
                         .want_issuer = res->verdict.missing_intermediate,
                         .timeout_ms = (uint64_t)r->opts->timeout_ms,
                         .crl_history_dir = NULL};
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  r->enriching = 1;
  if (cs_enrich_start(r->loop, &eo, on_enriched, r, &eb) != 0) {
    r->enriching = 0;
    fprintf(stderr, "certskew diagnose: cannot enrich: %s\n", eb.msg);
    judge_final(r, NULL);
  }
}

static void on_timeout(uv_timer_t *t) {
  run_t *r = t->data;
  snprintf(r->res->err_code, sizeof r->res->err_code, "UPSTREAM_TIMEOUT");
  snprintf(r->res->err_msg, sizeof r->res->err_msg, "no answer from %s:%d within %lld ms",
           r->opts->host, r->opts->port, (long long)r->opts->timeout_ms);
  finalize(r);
}

int cs_diagnose_start(uv_loop_t *loop, const cs_upstream_conf_t *uc, cs_judge_t *judge,
                      const cs_diagnose_opts_t *opts, cs_diagnose_result_t *res,
                      cs_diagnose_cb cb, void *ud, cs_errbuf_t *eb) {
  memset(res, 0, sizeof *res);
  res->verdict.worst = -1;
  if (loop == NULL || uc == NULL || cb == NULL || opts == NULL || opts->analysis == NULL ||
      opts->analysis->nclocks == 0)
    return cs_errbuf_set(eb, CS_EINVAL, "diagnose needs a loop, a connector and the analysis options");
  run_t *r = calloc(1, sizeof *r); /* freed in release_if_idle */
  if (r == NULL)
    return CS_ENOMEM;
  if (judge == NULL) {
    /* No store until the enriched judgement (judge_final). */
    if ((r->own_judge = malloc(sizeof *r->own_judge)) == NULL) {
      free(r);
      return CS_ENOMEM;
    }
    cs_judge_init(r->own_judge, opts->analysis, NULL);
    judge = r->own_judge;
  }
  r->loop = loop;
  r->uc = uc;
  r->judge = judge;
  r->opts = opts;
  r->res = res;
  r->cb = cb;
  r->ud = ud;
  cs_endpoint_init(&r->ep, r, "upstream");
  r->ep.on_closed = on_ep_closed;
  cs_upstream_init(&r->up);
  r->up.data = r;
  uv_timer_init(loop, &r->timer);
  r->timer.data = r;
  uv_timer_start(&r->timer, on_timeout, (uint64_t)opts->timeout_ms, 0);
  unsigned char ip[16];
  const char *sni = opts->sni;
  if (sni == NULL && cs_x509_parse_ip(opts->host, ip) == 0)
    sni = opts->host;
  if (cs_upstream_start(&r->up, loop, uc, &r->ep, opts->host, opts->port, sni, 1, on_done) !=
      0) {
    snprintf(res->err_code, sizeof res->err_code, "UPSTREAM_DNS_FAILED");
    snprintf(res->err_msg, sizeof res->err_msg, "cannot start resolving %s", opts->host);
    finalize(r);
  }
  return 0;
}

typedef struct own_run {
  int done;
  int rc;
} own_run_t;

static void on_own_done(cs_diagnose_result_t *res, int rc, void *ud) {
  (void)res;
  own_run_t *o = ud;
  o->done = 1;
  o->rc = rc;
}

int cs_diagnose_run(const cs_diagnose_opts_t *opts, cs_diagnose_result_t *res,
                    cs_errbuf_t *eb) {
  memset(res, 0, sizeof *res);
  res->verdict.worst = -1;
  if (opts->analysis == NULL || opts->analysis->nclocks == 0)
    return cs_errbuf_set(eb, CS_EINVAL, "diagnose needs the analysis options");
  signal(SIGPIPE, SIG_IGN);
  cs_upstream_conf_t *uc = calloc(1, sizeof *uc); /* freed below */
  uv_loop_t *loop = calloc(1, sizeof *loop);     /* freed below */
  if (uc == NULL || loop == NULL) {
    free(uc);
    free(loop);
    return CS_ENOMEM;
  }
  int rc = cs_upstream_conf_init(uc, opts->trust_file, eb);
  if (rc != 0 || uv_loop_init(loop) != 0) {
    cs_upstream_conf_free(uc);
    free(uc);
    free(loop);
    return rc != 0 ? rc : CS_ENOMEM;
  }
  own_run_t o = {0, 0};
  rc = cs_diagnose_start(loop, uc, NULL, opts, res, on_own_done, &o, eb);
  if (rc == 0) {
    uv_run(loop, UV_RUN_DEFAULT);
    rc = o.done ? o.rc : CS_ESTATE;
  }
  (void)uv_loop_close(loop);
  cs_upstream_conf_free(uc);
  free(uc);
  free(loop);
  return rc;
}

void cs_diagnose_result_free(cs_diagnose_result_t *res) {
  cs_verdict_free(&res->verdict);
  cs_enrich_result_free(res->enrich);
  res->enrich = NULL;
}
