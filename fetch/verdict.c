/* Judging a served chain (see verdict.h). */
#include "certskew/fetch/verdict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>
#include <mbedtls/x509.h>

#include "certskew/analysis/analysis.h"
#include "certskew/clients/profile.h"
#include "certskew/core/chain.h"
#include "certskew/core/findings.h"

/* Time is the analyzers' business; mbedTLS's view of it is ignored. */

void cs_judge_init(cs_judge_t *j, const cs_analysis_opts_t *base, cs_capture_store_t *store) {
  memset(j, 0, sizeof *j);
  j->base = *base;
  j->store = store;
  snprintf(j->browser, sizeof j->browser, "chrome");
}

int cs_verdict_client_fails(const cs_verdict_t *v, const char *profile) {
  char key[64];
  snprintf(key, sizeof key, ",%s,", profile);
  return strstr(v->failing, key) != NULL;
}

void cs_verdict_key(const cs_analysis_t *a, const char *extra, char *out, size_t cap) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < cs_analysis_nclients(a) && used < cap; i++) {
    const cs_client_verdict_t *cv = cs_analysis_client(a, i);
    int n = cv->fails_at ? snprintf(out + used, cap - used, ",%s:fail:%s>%s", cv->name,
                                    cv->cause ? cv->cause : "FAILS",
                                    cv->consequence ? cv->consequence : "")
                         : snprintf(out + used, cap - used, ",%s:pass", cv->name);
    if (n < 0)
      break;
    used += (size_t)n;
  }
  if (used < cap)
    snprintf(out + used, cap - used, "|%s", extra != NULL ? extra : "");
}

int cs_verdict_key_fails(const char *key, const char *profile) {
  char want[64];
  snprintf(want, sizeof want, ",%s:fail", profile);
  return strstr(key, want) != NULL;
}

const char *cs_judge_profile_for(const cs_judge_t *j, const char *ua, int *from_ua) {
  const cs_client_profile_t *p = ua != NULL && ua[0] != '\0' ? cs_client_from_user_agent(ua) : NULL;
  if (from_ua != NULL)
    *from_ua = p != NULL;
  return p != NULL ? p->name : j->browser;
}

void cs_judge_sighting(cs_judge_t *j, const cs_verdict_t *v, int64_t at_ms,
                       const char *client_addr, const char *ua, const char *mode,
                       const char *action) {
  if (j->store == NULL || v->capture_id[0] == '\0')
    return;
  const char *profile = cs_judge_profile_for(j, ua, NULL);
  int fails = cs_verdict_client_fails(v, profile) || (v->invalid && v->failing[0] == '\0');
  cs_sighting_t sg = {.at_ms = at_ms,
                      .client_addr = client_addr,
                      .user_agent = ua != NULL ? ua : "",
                      .mode = mode,
                      .profile = profile,
                      .verdict = fails ? "fail" : "pass",
                      .action = action};
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_capture_store_add_sighting(j->store, v->capture_id, &sg, &eb) != 0 && eb.msg[0] != '\0')
    fprintf(stderr, "certskew: capture store: %s (still serving)\n", eb.msg);
}

void cs_judge_free(cs_judge_t *j) {
  for (size_t i = 0; i < CS_JUDGE_ENRICHED_MAX; i++) {
    cs_enrich_result_free(j->enriched[i].res);
    j->enriched[i].res = NULL;
  }
}

void cs_judge_keep_enrichment(cs_judge_t *j, const char *host, int port, const uint8_t *chain,
                              size_t len, int64_t now_ms, cs_enrich_result_t *res) {
  uint8_t fp[32];
  mbedtls_sha256_ret(chain, len, fp, 0);
  cs_judge_enriched_t *slot = NULL;
  for (size_t i = 0; i < CS_JUDGE_ENRICHED_MAX && slot == NULL; i++) {
    cs_judge_enriched_t *e = &j->enriched[i];
    if (e->res != NULL && e->port == port && strcmp(e->host, host) == 0 && memcmp(e->fp, fp, 32) == 0)
      slot = e; /* newer material for the same chain replaces the older */
  }
  if (slot == NULL) {
    slot = &j->enriched[j->enriched_next];
    j->enriched_next = (j->enriched_next + 1) % CS_JUDGE_ENRICHED_MAX;
  }
  cs_enrich_result_free(slot->res);
  snprintf(slot->host, sizeof slot->host, "%s", host);
  slot->port = port;
  memcpy(slot->fp, fp, 32);
  slot->kept_ms = now_ms;
  slot->res = res;
  /* A verdict cached before the material arrived must not outlive it. */
  for (size_t i = 0; i < CS_JUDGE_CACHE; i++)
    if (j->cache[i].port == port && memcmp(j->cache[i].fp, fp, 32) == 0 &&
        strcmp(j->cache[i].host, host) == 0)
      memset(&j->cache[i], 0, sizeof j->cache[i]); /* port 0 matches nothing */
}

/* The kept material for u's chain, or NULL (none, or expired: freed). */
static const cs_enrich_result_t *kept_enrichment(cs_judge_t *j, const cs_upstream_t *u,
                                                 const uint8_t fp[32], int64_t now_ms) {
  return cs_judge_kept_enrichment(j, u->host, u->port, fp, now_ms);
}

const cs_enrich_result_t *cs_judge_kept_enrichment(cs_judge_t *j, const char *host, int port,
                                                   const uint8_t fp[32], int64_t now_ms) {
  for (size_t i = 0; i < CS_JUDGE_ENRICHED_MAX; i++) {
    cs_judge_enriched_t *e = &j->enriched[i];
    if (e->res == NULL || e->port != port || memcmp(e->fp, fp, 32) != 0 || strcmp(e->host, host) != 0)
      continue;
    if (now_ms - e->kept_ms > CS_JUDGE_ENRICHED_TTL_MS || now_ms < e->kept_ms) {
      cs_enrich_result_free(e->res);
      e->res = NULL;
      return NULL;
    }
    return e->res;
  }
  return NULL;
}

void cs_verdict_free(cs_verdict_t *v) {
  free(v->report_json);
  free(v->chain_pem);
  v->report_json = v->chain_pem = NULL;
}

static cs_judge_cache_entry_t *cache_find(cs_judge_t *j, const cs_upstream_t *u,
                                          const uint8_t fp[32], int64_t now_ms) {
  for (size_t i = 0; i < CS_JUDGE_CACHE; i++) {
    cs_judge_cache_entry_t *e = &j->cache[i];
    if (e->port == u->port && memcmp(e->fp, fp, 32) == 0 && strcmp(e->host, u->host) == 0 &&
        now_ms >= e->at_ms && now_ms - e->at_ms < 1000)
      return e;
  }
  return NULL;
}

static void add_reason(cs_verdict_t *v, const char *code, const char *summary) {
  size_t used = strlen(v->reasons);
  snprintf(v->reasons + used, sizeof v->reasons - used, "%s: %s\n", code, summary);
}

/* The clients' verdicts: invalid is the browser's; every failing profile is
 * listed (the proxy picks the one in front from the User-Agent). */
static void client_verdicts(const cs_judge_t *j, const cs_analysis_t *a, cs_verdict_t *v) {
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < cs_analysis_nclients(a); i++) {
      const cs_client_verdict_t *cv = cs_analysis_client(a, i);
      int is_browser = strcmp(cv->profile->name, j->browser) == 0;
      if (!cv->fails_at || is_browser != (pass == 0))
        continue;
      if (is_browser)
        v->invalid = 1;
      size_t used = strlen(v->failing);
      snprintf(v->failing + used, sizeof v->failing - used, ",%s,", cv->profile->name);
      used = strlen(v->reasons);
      snprintf(v->reasons + used, sizeof v->reasons - used, "%s: %s%s%s: %s\n", cv->name,
               cv->cause ? cv->cause : "FAILS", cv->consequence ? " -> " : "",
               cv->consequence ? cv->consequence : "", cv->detail);
      used = strlen(v->fixes);
      snprintf(v->fixes + used, sizeof v->fixes - used, "%s: %s\n", cv->profile->name, cv->fix);
    }
  }
}

/* Returns 1 when the chain was stored for the first time, 0 when it was seen
 * before (or there is no store), or a negative CS_E* code. A sighting
 * without a chain (pem NULL) of a capture evicted since is refused with
 * CS_EINVAL: the caller then judges the chain anew and stores it whole. */
static int store_put(cs_judge_t *j, const cs_upstream_t *u, const uint8_t fp[32],
                     const char *pem, const char *report, int64_t now_ms, int worst,
                     char id[CS_CAPTURE_ID_MAX]) {
  if (j->store == NULL)
    return 0;
  cs_capture_meta_t meta = {.host = u->host,
                            .port = u->port,
                            .sni = u->sni,
                            .upstream = u->addr,
                            .tls_version = u->tls_version,
                            .cipher = u->cipher,
                            .worst = worst};
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  int is_new = 0;
  int err = cs_capture_store_put(j->store, &meta, fp, pem != NULL ? pem : "", report, now_ms, id,
                                 &is_new, &eb);
  if (err == CS_EINVAL && pem == NULL)
    return err;
  if (err != 0) {
    fprintf(stderr, "certskew: capture store: %s (still serving)\n", eb.msg);
    return err;
  }
  return is_new;
}

/* A chain seen before, judged again: its stored report is rewritten when
 * the clients' verdicts or causes changed since it was written (or are not
 * known since the store opened, e.g. after a restart with other --trust). */
static void rejudge(cs_judge_t *j, const cs_verdict_t *v, int64_t now_ms) {
  if (j->store == NULL || v->capture_id[0] == '\0' || v->report_json == NULL)
    return;
  const char *was = cs_capture_store_verdict_key(j->store, v->capture_id);
  if (was == NULL || strcmp(was, v->key) == 0)
    return;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_capture_store_update_report(j->store, v->capture_id, v->report_json, v->worst, now_ms,
                                     &eb) != 0) {
    fprintf(stderr, "certskew: capture store: %s (still serving)\n", eb.msg);
    return;
  }
  cs_capture_store_set_verdict_key(j->store, v->capture_id, v->key);
}

/* Runs cs_analyze and fills v: reasons, worst, the report (with the
 * enrichment section when extra is given) and the chain's PEM. */
static int analyze(cs_judge_t *j, const char *source, const char *hostname, const uint8_t *chain,
                   size_t len, int64_t at_ms, const cs_enrich_result_t *extra, int tls_version,
                   cs_verdict_t *v) {
  j->analyses++;
  cs_analysis_opts_t opts = j->base;
  opts.server_tls_version = tls_version;
  opts.source = source;
  opts.has_at = 1;
  opts.at_ms = at_ms;
  if (opts.hostname == NULL)
    opts.hostname = hostname;
  if (extra != NULL)
    cs_enrich_apply(extra, &opts);
  cs_analysis_t *a = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  int rc = cs_analyze(&a, chain, len, &opts, &eb);
  if (rc == CS_ENOMEM)
    return rc;
  if (rc != 0) {
    v->invalid = 1;
    v->worst = 2;
    add_reason(v, "CHAIN_UNREADABLE", eb.msg[0] ? eb.msg : cs_strerror(rc));
    return 0;
  }
  cs_findings_t *f = cs_analysis_findings(a);
  v->worst = cs_findings_worst(f);
  v->missing_intermediate = cs_findings_has(f, "MISSING_INTERMEDIATE");
  client_verdicts(j, a, v);
  cs_verdict_key(a, NULL, v->key, sizeof v->key);
  v->judged_ms = at_ms;
  char *report = cs_analysis_report_json(a, 1); /* owned here until moved to v */
  v->chain_pem = cs_chain_to_pem(cs_analysis_chain(a));
  v->report_json = report != NULL && extra != NULL ? cs_enrich_report_merge(report, extra) : report;
  if (v->report_json != report)
    free(report);
  rc = v->report_json == NULL || v->chain_pem == NULL ? CS_ENOMEM : 0;
  cs_analysis_free(a);
  return rc;
}

int cs_judge_enriched(cs_judge_t *j, const char *source, const char *hostname,
                      const uint8_t *chain, size_t len, int64_t at_ms,
                      const cs_enrich_result_t *extra, cs_verdict_t *v) {
  memset(v, 0, sizeof *v);
  v->worst = -1;
  return analyze(j, source, hostname, chain, len, at_ms, extra, 0, v);
}

void cs_judge_record(cs_judge_t *j, const cs_upstream_t *u, int64_t now_ms, cs_verdict_t *v) {
  if (j->store == NULL || v->chain_pem == NULL)
    return;
  uint8_t fp[32];
  mbedtls_sha256_ret(u->chain_der, u->chain_der_len, fp, 0);
  if (store_put(j, u, fp, v->chain_pem, v->report_json, now_ms, v->worst, v->capture_id) > 0 &&
      v->key[0] != '\0')
    cs_capture_store_set_verdict_key(j->store, v->capture_id, v->key);
}

int cs_judge_chain(cs_judge_t *j, const cs_upstream_t *u, int64_t now_ms, int want_report,
                   cs_verdict_t *v) {
  memset(v, 0, sizeof *v);
  v->worst = -1;
  uint8_t fp[32];
  mbedtls_sha256_ret(u->chain_der, u->chain_der_len, fp, 0);
  cs_judge_cache_entry_t *hit = want_report ? NULL : cache_find(j, u, fp, now_ms);
  if (hit != NULL) {
    v->worst = hit->worst;
    v->invalid = hit->invalid;
    memcpy(v->failing, hit->failing, sizeof v->failing);
    memcpy(v->reasons, hit->reasons, sizeof v->reasons);
    memcpy(v->fixes, hit->fixes, sizeof v->fixes);
    v->judged_ms = hit->at_ms;
    if (store_put(j, u, fp, NULL, NULL, now_ms, hit->worst, v->capture_id) != CS_EINVAL)
      return 0;
    /* Evicted since it was judged: judge it again and store it whole. */
    memset(v, 0, sizeof *v);
    v->worst = -1;
  }
  char source[300];
  snprintf(source, sizeof source, "%s:%d", u->host, u->port);
  /* The report and PEM are needed for a store (first sighting) or the caller. */
  int rc = analyze(j, source, u->sni[0] ? u->sni : u->host, u->chain_der, u->chain_der_len, now_ms,
                   kept_enrichment(j, u, fp, now_ms), u->tls_version_id, v);
  if (rc != 0) {
    cs_verdict_free(v);
    return rc;
  }
  int is_new = store_put(j, u, fp, v->chain_pem, v->report_json, now_ms, v->worst, v->capture_id);
  if (is_new > 0)
    cs_capture_store_set_verdict_key(j->store, v->capture_id, v->key);
  else if (is_new == 0)
    rejudge(j, v, now_ms);
  if (is_new > 0 && j->on_new != NULL)
    j->on_new(j->on_new_ud, u, v->capture_id, v);
  cs_judge_cache_entry_t *e = &j->cache[j->cache_next];
  j->cache_next = (j->cache_next + 1) % CS_JUDGE_CACHE;
  snprintf(e->host, sizeof e->host, "%s", u->host);
  e->port = u->port;
  memcpy(e->fp, fp, 32);
  e->at_ms = now_ms;
  e->worst = v->worst;
  e->invalid = v->invalid;
  memcpy(e->failing, v->failing, sizeof e->failing);
  memcpy(e->capture_id, v->capture_id, sizeof e->capture_id);
  memcpy(e->reasons, v->reasons, sizeof e->reasons);
  memcpy(e->fixes, v->fixes, sizeof e->fixes);
  if (!want_report) {
    free(v->report_json);
    v->report_json = NULL;
  }
  free(v->chain_pem);
  v->chain_pem = NULL;
  return 0;
}
