/*
 * The proxy's enrichment queue (proxy/enrich_queue.h): a FIFO of captures
 * waiting, a count in flight, and the completion that judges again and
 * rewrites the report.
 *
 * Threads: the queue belongs to one loop (the proxy's worker 0), where its
 * enrichments run. Every field is guarded by conf.lock, the proxy's state
 * lock, which its callers already hold: cs_enrich_queue_on_new is called by
 * the judge, under that lock, from any worker. From another worker's thread
 * it only queues and wakes the owning loop (a uv_async); the owner pumps
 * under the lock. Completions run on the owner and take the lock around the
 * judge and the store.
 */
#include "enrich_queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/fetch/enrich.h"
#include "certskew/store/fs.h"

typedef struct item {
  struct item *next;
  struct cs_enrich_queue *q;
  char id[CS_CAPTURE_ID_MAX];
  char host[256];
  int port;
  char sni[256];
  char addr[80];
  uint8_t *chain; /* owned */
  size_t chain_len;
  int tls_version;                /* the capturing handshake's (cs_upstream_t.tls_version_id) */
  int want_issuer;
} item_t;

struct cs_enrich_queue {
  cs_enrich_queue_conf_t conf;
  uv_thread_t owner;   /* the thread running conf.loop */
  uv_async_t wake;     /* another worker queued something */
  int wake_open;
  item_t *head, *tail; /* waiting, oldest first */
  size_t npending, ninflight;
  int stopping;
  uint64_t done, dropped;
};

static void lock(cs_enrich_queue_t *q) {
  if (q->conf.lock != NULL)
    uv_mutex_lock(q->conf.lock);
}

static void unlock(cs_enrich_queue_t *q) {
  if (q->conf.lock != NULL)
    uv_mutex_unlock(q->conf.lock);
}

static void pump(cs_enrich_queue_t *q);

static void on_wake(uv_async_t *a) {
  cs_enrich_queue_t *q = a->data;
  lock(q);
  pump(q);
  unlock(q);
}

int cs_enrich_queue_new(cs_enrich_queue_t **out, const cs_enrich_queue_conf_t *conf) {
  *out = NULL;
  if (conf == NULL || conf->loop == NULL || conf->judge == NULL || conf->store == NULL)
    return CS_EINVAL;
  cs_enrich_queue_t *q = calloc(1, sizeof *q); /* owned by the caller */
  if (q == NULL)
    return CS_ENOMEM;
  q->conf = *conf;
  q->owner = uv_thread_self();
  if (uv_async_init(conf->loop, &q->wake, on_wake) != 0) {
    free(q);
    return CS_ENOMEM;
  }
  q->wake.data = q;
  q->wake_open = 1;
  uv_unref((uv_handle_t *)&q->wake); /* waiting items never keep the loop alive */
  if (q->conf.max_inflight == 0)
    q->conf.max_inflight = CS_ENRICH_QUEUE_DEFAULT_INFLIGHT;
  if (q->conf.max_pending == 0)
    q->conf.max_pending = CS_ENRICH_QUEUE_DEFAULT_PENDING;
  *out = q;
  return 0;
}

static void item_free(item_t *it) {
  if (it == NULL)
    return;
  free(it->chain);
  free(it);
}

static void note(cs_enrich_queue_t *q, const item_t *it, const char *code, const char *msg) {
  cs_capture_store_note_error(q->conf.store, it->host, it->port, code, msg, cs_fs_now_ms());
  if (q->conf.verbose)
    fprintf(stderr, "certskew: enrich %s: %s: %s\n", it->id, code, msg);
}

/* Judges the capture again with what the enrichment found and rewrites its
 * report; every failed step goes to the API's error list too. */
static void complete(cs_enrich_queue_t *q, item_t *it, const cs_enrich_result_t *res) {
  int64_t now_ms = cs_fs_now_ms();
  char source[300], msg[600];
  snprintf(source, sizeof source, "%s:%d", it->host, it->port);
  for (size_t i = 0; i < cs_enrich_error_count(res); i++) {
    const char *code;
    if (cs_enrich_error_get(res, i, &code, msg, sizeof msg) == 0)
      note(q, it, code, msg);
  }
  /* Judged at the instant the material arrived: a responder's thisUpdate
   * is "now" for it, later than the capture. */
  cs_verdict_t v;
  int rc = cs_judge_enriched(q->conf.judge, source, it->sni[0] ? it->sni : it->host, it->chain,
                             it->chain_len, now_ms, res, &v);
  if (rc == 0 && v.report_json != NULL) {
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    if (cs_capture_store_update_report(q->conf.store, it->id, v.report_json, v.worst, now_ms,
                                       &eb) != 0)
      note(q, it, "ENRICH_STORE_FAILED", eb.msg[0] ? eb.msg : "cannot rewrite the report");
    else if (q->conf.verbose)
      fprintf(stderr, "certskew: enrich %s: report rewritten\n", it->id);
  } else {
    note(q, it, "ENRICH_ANALYSIS_FAILED", rc != 0 ? cs_strerror(rc) : v.reasons);
  }
  cs_verdict_free(&v);
}

static void on_enriched(cs_enrich_result_t *res, void *ud) {
  item_t *it = ud;
  cs_enrich_queue_t *q = it->q;
  lock(q);
  q->ninflight--;
  if (!q->stopping) {
    res->capture_tls_version = it->tls_version;
    complete(q, it, res);
    q->done++;
    /* Later connections serving this chain are judged with it too. */
    cs_judge_keep_enrichment(q->conf.judge, it->host, it->port, it->chain, it->chain_len,
                             cs_fs_now_ms(), res);
    res = NULL;
  }
  pump(q);
  unlock(q);
  cs_enrich_result_free(res);
  item_free(it);
}

static void pump(cs_enrich_queue_t *q) {
  while (!q->stopping && q->head != NULL && q->ninflight < q->conf.max_inflight) {
    item_t *it = q->head;
    q->head = it->next;
    if (q->head == NULL)
      q->tail = NULL;
    q->npending--;
    it->next = NULL;
    cs_enrich_opts_t eo = {it->chain,        it->chain_len,   it->addr,
                           it->sni,          q->conf.fetch,   it->want_issuer,
                           q->conf.timeout_ms, q->conf.crl_history_dir};
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    int rc = cs_enrich_start(q->conf.loop, &eo, on_enriched, it, &eb);
    if (rc != 0) {
      note(q, it, "ENRICH_FAILED", eb.msg[0] ? eb.msg : cs_strerror(rc));
      item_free(it);
      continue;
    }
    q->ninflight++;
  }
}

void cs_enrich_queue_on_new(void *ud, const cs_upstream_t *u, const char *capture_id,
                            const cs_verdict_t *v) {
  cs_enrich_queue_t *q = ud;
  if (q == NULL || q->stopping || capture_id == NULL || capture_id[0] == '\0')
    return;
  item_t *it = calloc(1, sizeof *it); /* owned by the queue, then by its enrichment */
  if (it == NULL)
    return;
  it->q = q;
  snprintf(it->id, sizeof it->id, "%s", capture_id);
  snprintf(it->host, sizeof it->host, "%s", u->host);
  snprintf(it->sni, sizeof it->sni, "%s", u->sni);
  snprintf(it->addr, sizeof it->addr, "%s", u->addr);
  it->port = u->port;
  it->tls_version = u->tls_version_id;
  it->want_issuer = v != NULL && v->missing_intermediate;
  if (q->npending >= q->conf.max_pending) {
    q->dropped++;
    note(q, it, "ENRICH_QUEUE_FULL",
         "too many captures waiting for enrichment; this one keeps its first report");
    item_free(it);
    return;
  }
  it->chain = malloc(u->chain_der_len ? u->chain_der_len : 1);
  if (it->chain == NULL) {
    item_free(it);
    return;
  }
  memcpy(it->chain, u->chain_der, u->chain_der_len);
  it->chain_len = u->chain_der_len;
  if (q->tail != NULL)
    q->tail->next = it;
  else
    q->head = it;
  q->tail = it;
  q->npending++;
  if (uv_thread_equal(&q->owner, &(uv_thread_t){uv_thread_self()}))
    pump(q);
  else
    uv_async_send(&q->wake);
}

void cs_enrich_queue_stop(cs_enrich_queue_t *q) {
  if (q == NULL)
    return;
  lock(q);
  q->stopping = 1;
  while (q->head != NULL) {
    item_t *it = q->head;
    q->head = it->next;
    item_free(it);
  }
  q->tail = NULL;
  q->npending = 0;
  unlock(q);
}

static void on_wake_closed(uv_handle_t *h) {
  cs_enrich_queue_t *q = h->data;
  q->wake_open = 0;
}

void cs_enrich_queue_close(cs_enrich_queue_t *q) {
  if (q != NULL && q->wake_open && !uv_is_closing((uv_handle_t *)&q->wake))
    uv_close((uv_handle_t *)&q->wake, on_wake_closed);
}

size_t cs_enrich_queue_inflight(const cs_enrich_queue_t *q) { return q != NULL ? q->ninflight : 0; }

int cs_enrich_queue_free(cs_enrich_queue_t *q) {
  if (q == NULL)
    return 0;
  if (q->ninflight > 0)
    return CS_ESTATE;
  cs_enrich_queue_stop(q);
  if (q->wake_open && !uv_is_closing((uv_handle_t *)&q->wake))
    return CS_ESTATE; /* cs_enrich_queue_close first, and run the loop */
  free(q);
  return 0;
}
