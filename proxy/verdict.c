/* Judging a served chain (see verdict.h). */
#include "verdict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509.h>

#include "certskew/analysis.h"
#include "certskew/chain.h"
#include "certskew/findings.h"

/* Time is the analyzers' business; mbedTLS's view of it is ignored. */
#define TIME_FLAGS                                                                         \
  (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE | MBEDTLS_X509_BADCRL_EXPIRED | \
   MBEDTLS_X509_BADCRL_FUTURE)

void cs_judge_init(cs_judge_t *j, const cs_clock_t *clocks, size_t nclocks,
                   cs_capture_store_t *store, const mbedtls_x509_crt *trust) {
  memset(j, 0, sizeof *j);
  j->trust = trust;
  j->clocks = clocks;
  j->nclocks = nclocks;
  j->store = store;
}

void cs_verdict_free(cs_verdict_t *v) {
  free(v->report_json);
  v->report_json = NULL;
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

/* Verifies the served chain (leaf first, the rest as sent) against the
 * trust anchors and the server name, as the handshake would have. */
static uint32_t verify_chain(const cs_judge_t *j, const cs_upstream_t *u) {
  mbedtls_x509_crt chain;
  mbedtls_x509_crt_init(&chain);
  uint32_t flags = 0;
  const uint8_t *p = u->chain_der, *end = u->chain_der + u->chain_der_len;
  /* Each certificate is a DER SEQUENCE; its length gives the next start. */
  while (p < end) {
    size_t len = 0;
    unsigned char *q = (unsigned char *)p + 1;
    if (p[0] != 0x30 || mbedtls_asn1_get_len(&q, (unsigned char *)end, &len) != 0 ||
        mbedtls_x509_crt_parse_der(&chain, p, (size_t)(q - p) + len) != 0) {
      flags = MBEDTLS_X509_BADCERT_OTHER;
      goto out;
    }
    p = q + len;
  }
  if (mbedtls_x509_crt_verify(&chain, (mbedtls_x509_crt *)j->trust, NULL,
                              u->sni[0] ? u->sni : NULL, &flags, NULL, NULL) != 0 &&
      flags == 0)
    flags = MBEDTLS_X509_BADCERT_OTHER;
out:
  mbedtls_x509_crt_free(&chain);
  return flags;
}

/* Folds mbedTLS's trust/name result into the findings as one error. */
static int add_verify_finding(cs_findings_t *f, const cs_upstream_t *u, uint32_t all_flags) {
  uint32_t flags = all_flags & ~(uint32_t)TIME_FLAGS;
  if (flags == 0)
    return 0;
  char info[512];
  if (mbedtls_x509_crt_verify_info(info, sizeof info, "", flags) < 0)
    snprintf(info, sizeof info, "verification flags 0x%x", (unsigned)flags);
  for (char *p = info; *p; p++)
    if (*p == '\n')
      *p = ';';
  char summary[1024];
  snprintf(summary, sizeof summary, "The served chain does not verify for %s: %s",
           u->sni[0] ? u->sni : u->host, info);
  int rc = cs_findings_add(f, "UPSTREAM_CHAIN_UNTRUSTED", CS_SEV_ERROR, 0, 0, -1, summary,
                           "mbedTLS verified the served chain against the proxy's trust "
                           "anchors (--trust or the system store) and the server name; "
                           "validity dates are judged separately by certskew's analyzers.",
                           "Serve the complete chain up to a trusted root, for this name.",
                           NULL);
  if (rc == 0)
    rc = cs_findings_evidence(f, "mbedtls_flags", "0x%08x", (unsigned)flags);
  return rc;
}

static void store_put(cs_judge_t *j, const cs_upstream_t *u, const uint8_t fp[32],
                      const char *pem, const char *report, int64_t now_ms, int worst,
                      char id[CS_CAPTURE_ID_MAX]) {
  if (j->store == NULL)
    return;
  cs_capture_meta_t meta = {.host = u->host,
                            .port = u->port,
                            .sni = u->sni,
                            .upstream = u->addr,
                            .tls_version = u->tls_version,
                            .cipher = u->cipher,
                            .worst = worst};
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_capture_store_put(j->store, &meta, fp, pem != NULL ? pem : "", report, now_ms, id, NULL,
                           &eb) != 0)
    fprintf(stderr, "certskew: capture store: %s (still serving)\n", eb.msg);
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
    memcpy(v->reasons, hit->reasons, sizeof v->reasons);
    store_put(j, u, fp, NULL, NULL, now_ms, hit->worst, v->capture_id);
    return 0;
  }
  j->analyses++;
  char source[300];
  snprintf(source, sizeof source, "%s:%d", u->host, u->port);
  cs_analysis_opts_t opts = {.source = source,
                             .clocks = j->clocks,
                             .nclocks = j->nclocks,
                             .has_at = 1,
                             .at_ms = now_ms};
  cs_analysis_t *a = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  char *report = NULL, *pem = NULL;
  int rc = cs_analyze(&a, u->chain_der, u->chain_der_len, &opts, &eb);
  if (rc != 0) {
    v->invalid = 1;
    v->worst = 2;
    add_reason(v, "CHAIN_UNREADABLE", eb.msg[0] ? eb.msg : cs_strerror(rc));
  } else {
    cs_findings_t *f = cs_analysis_findings(a);
    if (add_verify_finding(f, u, verify_chain(j, u)) != 0) {
      rc = CS_ENOMEM;
      goto out;
    }
    v->worst = cs_findings_worst(f);
    v->invalid = v->worst == CS_SEV_ERROR;
    for (size_t i = 0; i < cs_findings_count(f); i++) {
      const cs_finding_t *fi = cs_findings_get(f, i);
      if (fi != NULL && fi->severity == CS_SEV_ERROR)
        add_reason(v, fi->code, fi->summary);
    }
    report = cs_analysis_report_json(a, 1);
    pem = cs_chain_to_pem(cs_analysis_chain(a));
    if (report == NULL || pem == NULL) {
      rc = CS_ENOMEM;
      goto out;
    }
  }
  store_put(j, u, fp, pem, report, now_ms, v->worst, v->capture_id);
  cs_judge_cache_entry_t *e = &j->cache[j->cache_next];
  j->cache_next = (j->cache_next + 1) % CS_JUDGE_CACHE;
  snprintf(e->host, sizeof e->host, "%s", u->host);
  e->port = u->port;
  memcpy(e->fp, fp, 32);
  e->at_ms = now_ms;
  e->worst = v->worst;
  e->invalid = v->invalid;
  memcpy(e->capture_id, v->capture_id, sizeof e->capture_id);
  memcpy(e->reasons, v->reasons, sizeof e->reasons);
  if (want_report) {
    v->report_json = report;
    report = NULL;
  }
  rc = 0;
out:
  free(report);
  free(pem);
  cs_analysis_free(a);
  return rc;
}
