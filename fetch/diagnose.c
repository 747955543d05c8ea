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

typedef struct run {
  uv_loop_t loop;
  uv_timer_t timer;
  cs_endpoint_t ep;
  cs_upstream_t up;
  cs_upstream_conf_t uc;
  cs_judge_t judge;
  const cs_diagnose_opts_t *opts;
  cs_diagnose_result_t *res;
  int rc;
} run_t;

static void stop(run_t *r) {
  uv_timer_stop(&r->timer);
  cs_upstream_cancel(&r->up);
  cs_endpoint_close(&r->ep);
}

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
  r->rc = cs_judge_enriched(&r->judge, source, u->sni[0] ? u->sni : u->host, u->chain_der,
                            u->chain_der_len, judged_at(r), extra, &r->res->verdict);
  if (r->rc == 0) {
    r->judge.store = r->opts->store;
    cs_judge_record(&r->judge, u, cs_fs_now_ms(), &r->res->verdict);
  }
}

static void on_enriched(cs_enrich_result_t *er, void *ud) {
  run_t *r = ud;
  r->res->enrich = er;
  judge_final(r, er);
}

static void on_done(cs_upstream_t *u, int status) {
  run_t *r = u->data;
  if (u->cancelled)
    return;
  cs_diagnose_result_t *res = r->res;
  snprintf(res->addr, sizeof res->addr, "%s", u->addr);
  if (status != 0) {
    snprintf(res->err_code, sizeof res->err_code, "%s", u->err_code);
    snprintf(res->err_msg, sizeof res->err_msg, "%s", u->err_msg);
    stop(r);
    return;
  }
  res->connected = 1;
  snprintf(res->tls_version, sizeof res->tls_version, "%s", u->tls_version);
  snprintf(res->cipher, sizeof res->cipher, "%s", u->cipher);
  res->ncerts = u->ncerts;
  /* A first judgement says whether an intermediate is missing (then
   * caIssuers is worth fetching); the capture is stored after enrichment. */
  r->rc = cs_judge_chain(&r->judge, u, judged_at(r), 1, &res->verdict);
  stop(r);
  if (r->rc != 0)
    return;
  cs_enrich_opts_t eo = {u->chain_der,
                         u->chain_der_len,
                         u->addr,
                         u->sni,
                         r->opts->fetch,
                         res->verdict.missing_intermediate,
                         (uint64_t)r->opts->timeout_ms,
                         NULL};
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_enrich_start(&r->loop, &eo, on_enriched, r, &eb) != 0) {
    fprintf(stderr, "certskew diagnose: cannot enrich: %s\n", eb.msg);
    judge_final(r, NULL);
  }
}

static void on_timeout(uv_timer_t *t) {
  run_t *r = t->data;
  snprintf(r->res->err_code, sizeof r->res->err_code, "UPSTREAM_TIMEOUT");
  snprintf(r->res->err_msg, sizeof r->res->err_msg, "no answer from %s:%d within %lld ms",
           r->opts->host, r->opts->port, (long long)r->opts->timeout_ms);
  stop(r);
}

int cs_diagnose_run(const cs_diagnose_opts_t *opts, cs_diagnose_result_t *res,
                    cs_errbuf_t *eb) {
  memset(res, 0, sizeof *res);
  res->verdict.worst = -1;
  if (opts->analysis == NULL || opts->analysis->nclocks == 0)
    return cs_errbuf_set(eb, CS_EINVAL, "diagnose needs the analysis options");
  signal(SIGPIPE, SIG_IGN);
  run_t *r = calloc(1, sizeof *r); /* freed below */
  if (r == NULL)
    return CS_ENOMEM;
  r->opts = opts;
  r->res = res;
  int rc = cs_upstream_conf_init(&r->uc, opts->trust_file, eb);
  if (rc != 0 || uv_loop_init(&r->loop) != 0) {
    cs_upstream_conf_free(&r->uc);
    free(r);
    return rc != 0 ? rc : CS_ENOMEM;
  }
  /* No store until the enriched judgement (judge_final). */
  cs_judge_init(&r->judge, opts->analysis, NULL);
  cs_endpoint_init(&r->ep, r, "upstream");
  cs_upstream_init(&r->up);
  r->up.data = r;
  uv_timer_init(&r->loop, &r->timer);
  r->timer.data = r;
  uv_timer_start(&r->timer, on_timeout, (uint64_t)opts->timeout_ms, 0);
  unsigned char ip[16];
  const char *sni = opts->sni;
  if (sni == NULL && cs_x509_parse_ip(opts->host, ip) == 0)
    sni = opts->host;
  if (cs_upstream_start(&r->up, &r->loop, &r->uc, &r->ep, opts->host, opts->port, sni, 1,
                        on_done) != 0) {
    snprintf(res->err_code, sizeof res->err_code, "UPSTREAM_DNS_FAILED");
    snprintf(res->err_msg, sizeof res->err_msg, "cannot start resolving %s", opts->host);
    stop(r);
  }
  uv_run(&r->loop, UV_RUN_DEFAULT);
  uv_close((uv_handle_t *)&r->timer, NULL);
  uv_run(&r->loop, UV_RUN_DEFAULT);
  (void)uv_loop_close(&r->loop);
  rc = r->rc;
  cs_judge_free(&r->judge);
  cs_upstream_free(&r->up);
  cs_upstream_conf_free(&r->uc);
  free(r);
  return rc;
}

void cs_diagnose_result_free(cs_diagnose_result_t *res) {
  cs_verdict_free(&res->verdict);
  cs_enrich_result_free(res->enrich);
  res->enrich = NULL;
}
