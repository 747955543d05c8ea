/*
 * The enrichment job (include/certskew/fetch/enrich.h): the probe and the fetches run at
 * once; the OCSP request waits for caIssuers only when the leaf's issuer was
 * not served (the request's CertID hashes the issuer's name and key).
 *
 * Lifetime: one heap job per enrichment, holding one reference per step in
 * flight plus one for cs_enrich_start itself. When the last reference goes,
 * the job closes its timer handle; the close callback (always from the
 * loop) hands the result over and frees the job.
 */
#include "certskew/fetch/enrich.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/core/chain.h"
#include "certskew/revocation/crl.h"
#include "certskew/fetch/crl_history_store.h"
#include "certskew/fetch/ocsp_fetch.h"
#include "certskew/fetch/stapling_probe.h"

typedef struct job {
  uv_loop_t *loop;
  uv_timer_t done_handle;        /* never started: its close callback defers the report */
  cs_enrich_result_t *res;       /* owned until handed to cb */
  cs_chain_t *chain;             /* owned */
  mbedtls_x509_crt *aia_certs;   /* owned (from cs_aia_fetch), may be NULL */
  const mbedtls_x509_crt *issuer; /* the leaf's issuer: borrowed from chain or aia_certs */
  const mbedtls_x509_crt *aia_for; /* the served certificate whose issuer caIssuers fetches */
  cs_revocation_urls_t urls;
  uint64_t timeout_ms;
  char *crl_history_dir;         /* owned, NULL without history */
  int ocsp_waits_for_aia;
  int refs;
  uint64_t probe_t0, ocsp_t0, crl_t0, aia_t0;
  cs_enrich_cb cb;
  void *ud;
} job_t;

/* detail = what followed by why (why may be NULL). */
static void step_set(cs_enrich_step_t *s, cs_enrich_state_t state, int err, const char *what,
                     const char *why) {
  s->state = state;
  s->err = err;
  snprintf(s->detail, sizeof s->detail, "%s%s", what, why != NULL ? why : "");
}

static void note(cs_enrich_result_t *res, const char *what, const char *why) {
  if (res->nnotes >= CS_ENRICH_MAX_NOTES)
    return;
  /* A note is for people: the step name and the reason are cut to fit. */
  snprintf(res->notes[res->nnotes++], sizeof res->notes[0], "%.40s: %.*s", what,
           (int)(sizeof res->notes[0] - 43), why);
}

/* SCTs delivered outside the certificate: the TLS extension's, then those in
 * the staple's single response about this leaf. A malformed list is a note
 * (the SCTs are ignored, as clients ignore them). */
static void collect_scts(job_t *j) {
  cs_enrich_result_t *res = j->res;
  const cs_cert_info_t *leaf = cs_chain_cert(j->chain, 0);
  size_t room = CS_CT_MAX_SCTS > leaf->nscts ? CS_CT_MAX_SCTS - leaf->nscts : 0;
  if (room > sizeof res->scts / sizeof res->scts[0])
    room = sizeof res->scts / sizeof res->scts[0];
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (res->tls_sct_list != NULL &&
      cs_sct_list_parse(res->tls_sct_list, res->tls_sct_list_len, CS_SCT_SOURCE_TLS, res->scts,
                        room, &res->ntls_scts, &eb) != 0) {
    res->ntls_scts = 0;
    note(res, "the TLS extension's SCT list is ignored", eb.msg);
  }
  if (res->staple == NULL)
    return;
  cs_errbuf_init(&eb);
  if (cs_ocsp_parse(&res->staple_parsed, res->staple, res->staple_len, &eb) != 0)
    return; /* cs_analyze reports the malformed staple itself */
  const cs_ocsp_single_t *s = j->issuer != NULL
                                  ? cs_ocsp_response_find(res->staple_parsed, leaf->crt, j->issuer)
                                  : cs_ocsp_response_single(res->staple_parsed, 0);
  if (s == NULL || s->sct_list == NULL)
    return;
  cs_errbuf_init(&eb);
  if (cs_sct_list_parse(s->sct_list, s->sct_list_len, CS_SCT_SOURCE_OCSP,
                        res->scts + res->ntls_scts, room - res->ntls_scts, &res->nocsp_scts,
                        &eb) != 0) {
    res->nocsp_scts = 0;
    note(res, "the stapled OCSP response's SCT list is ignored", eb.msg);
  }
}

static void on_done_closed(uv_handle_t *h) {
  job_t *j = h->data;
  cs_enrich_result_t *res = j->res;
  collect_scts(j);
  j->res = NULL;
  if (j->aia_certs != NULL) {
    mbedtls_x509_crt_free(j->aia_certs);
    free(j->aia_certs);
  }
  cs_chain_free(j->chain);
  free(j->crl_history_dir);
  cs_enrich_cb cb = j->cb;
  void *ud = j->ud;
  free(j);
  cb(res, ud);
}

static void unref(job_t *j) {
  if (--j->refs == 0)
    uv_close((uv_handle_t *)&j->done_handle, on_done_closed);
}

static int64_t since(const job_t *j, uint64_t t0) { return (int64_t)(uv_now(j->loop) - t0); }

static uint8_t *dup_bytes(const uint8_t *p, size_t n) {
  uint8_t *d = malloc(n ? n : 1); /* owned by the result */
  if (d != NULL && n)
    memcpy(d, p, n);
  return d;
}

/* ---- the stapling probe ---- */

static void on_probe(int err, const cs_tls_probe_result_t *pr, const char *detail, void *ud) {
  job_t *j = ud;
  cs_enrich_result_t *res = j->res;
  res->probe.elapsed_ms = since(j, j->probe_t0);
  if (err != 0) {
    res->probe.state = CS_ENRICH_FAILED;
    res->probe.err = err;
    snprintf(res->probe.detail, sizeof res->probe.detail, "%s (%s)",
             detail != NULL && detail[0] ? detail : "probe failed", cs_strerror(err));
  } else if (pr->outcome == CS_TLS_PROBE_BAD_CERT_VERIFY) {
    /* TLS 1.3: the server did not prove it holds the leaf's key, so nothing
     * it sent (chain, staple, SCTs) is taken as this server's. */
    res->probe.state = CS_ENRICH_FAILED;
    res->probe.err = CS_ECRYPTO;
    res->tls_version = pr->version;
    snprintf(res->probe.detail, sizeof res->probe.detail,
             "TLS 1.3 capture not proven: %s", pr->detail);
  } else if (pr->outcome == CS_TLS_PROBE_ALERT) {
    /* A refused ClientHello shows nothing about stapling. */
    res->probe.state = CS_ENRICH_FAILED;
    res->probe.err = CS_ENET;
    snprintf(res->probe.detail, sizeof res->probe.detail, "the server answered with alert %d%s%s",
             pr->alert, pr->detail[0] ? ": " : "", pr->detail);
  } else {
    res->probe.state = CS_ENRICH_OK;
    res->stapling_observable = pr->outcome == CS_TLS_PROBE_DONE;
    res->tls_version = pr->version;
    res->status_request_acked = pr->status_request_acked;
    res->probe_ncerts = pr->ncerts;
    res->cert_verified = pr->cert_verify == CS_TLS_PROBE_CV_VERIFIED;
    snprintf(res->probe.detail, sizeof res->probe.detail, "%s", pr->detail);
    const cs_cert_info_t *leaf = cs_chain_cert(j->chain, 0);
    res->probe_same_leaf = pr->ncerts > 0 && pr->cert_lens[0] == leaf->der_len &&
                           memcmp(pr->certs[0], leaf->der, leaf->der_len) == 0;
    if (pr->ocsp != NULL && pr->ocsp_len > 0) {
      if ((res->staple = dup_bytes(pr->ocsp, pr->ocsp_len)) != NULL)
        res->staple_len = pr->ocsp_len;
    }
    if (pr->sct_ext_present && pr->sct_list != NULL) {
      if ((res->tls_sct_list = dup_bytes(pr->sct_list, pr->sct_list_len)) != NULL)
        res->tls_sct_list_len = pr->sct_list_len;
    }
  }
  unref(j);
}

static int parse_addr(const char *text, struct sockaddr_storage *ss) {
  char ip[64];
  const char *colon;
  if (text[0] == '[') {
    const char *end = strchr(text, ']');
    if (end == NULL || end[1] != ':' || (size_t)(end - text - 1) >= sizeof ip)
      return -1;
    memcpy(ip, text + 1, (size_t)(end - text - 1));
    ip[end - text - 1] = '\0';
    colon = end + 1;
  } else {
    colon = strrchr(text, ':');
    if (colon == NULL || (size_t)(colon - text) >= sizeof ip)
      return -1;
    memcpy(ip, text, (size_t)(colon - text));
    ip[colon - text] = '\0';
  }
  char *e;
  long port = strtol(colon + 1, &e, 10);
  if (*e != '\0' || port <= 0 || port > 65535)
    return -1;
  memset(ss, 0, sizeof *ss);
  if (uv_ip4_addr(ip, (int)port, (struct sockaddr_in *)ss) == 0)
    return 0;
  return uv_ip6_addr(ip, (int)port, (struct sockaddr_in6 *)ss) == 0 ? 0 : -1;
}

static void start_probe(job_t *j, const cs_enrich_opts_t *opts) {
  cs_enrich_result_t *res = j->res;
  struct sockaddr_storage ss;
  if (opts->addr == NULL || parse_addr(opts->addr, &ss) != 0) {
    step_set(&res->probe, CS_ENRICH_SKIPPED, 0, "no server address to probe: ", opts->addr);
    return;
  }
  cs_stapling_probe_opts_t po = {(const struct sockaddr *)&ss,
                                 opts->sni != NULL && opts->sni[0] ? opts->sni : NULL,
                                 j->timeout_ms, j->timeout_ms, NULL, NULL};
  j->probe_t0 = uv_now(j->loop);
  j->refs++;
  int err = cs_stapling_probe_start(j->loop, &po, on_probe, j);
  if (err != 0) {
    j->refs--;
    step_set(&res->probe, CS_ENRICH_FAILED, err, "cannot start the probe: ", cs_strerror(err));
  }
}

/* ---- fetches ---- */

static void on_ocsp(int err, cs_ocsp_response_t *resp, int http_status, const char *detail,
                    void *ud) {
  job_t *j = ud;
  cs_enrich_result_t *res = j->res;
  res->ocsp.elapsed_ms = since(j, j->ocsp_t0);
  res->ocsp.http_status = http_status;
  if (err != 0) {
    res->ocsp.state = CS_ENRICH_FAILED;
    res->ocsp.err = err;
    snprintf(res->ocsp.detail, sizeof res->ocsp.detail, "%s (%s)",
             detail != NULL && detail[0] ? detail : "fetch failed", cs_strerror(err));
  } else {
    size_t len = 0;
    const uint8_t *der = cs_ocsp_response_der(resp, &len);
    res->ocsp.state = CS_ENRICH_OK;
    if ((res->ocsp_der = dup_bytes(der, len)) != NULL)
      res->ocsp_der_len = len;
    else
      step_set(&res->ocsp, CS_ENRICH_FAILED, CS_ENOMEM, "out of memory", NULL);
  }
  cs_ocsp_response_free(resp);
  unref(j);
}

static void start_ocsp(job_t *j) {
  cs_enrich_result_t *res = j->res;
  const mbedtls_x509_crt *leaf = cs_chain_cert(j->chain, 0)->crt;
  if (j->issuer == NULL) {
    step_set(&res->ocsp, CS_ENRICH_SKIPPED, 0,
             "no issuer certificate to build the request with (not served, not fetched)", NULL);
    return;
  }
  j->ocsp_t0 = uv_now(j->loop);
  j->refs++;
  int err = cs_ocsp_fetch(j->loop, res->ocsp.url, leaf, j->issuer, j->timeout_ms, on_ocsp, j);
  if (err != 0) {
    j->refs--;
    step_set(&res->ocsp, CS_ENRICH_FAILED, err, "cannot fetch: ",
             err == CS_EINVAL ? "only http:// responder URLs are fetched" : cs_strerror(err));
  }
}

static void on_crl(int err, cs_crl_info_t *crl, const char *detail, void *ud) {
  job_t *j = ud;
  cs_enrich_result_t *res = j->res;
  res->crl.elapsed_ms = since(j, j->crl_t0);
  if (err != 0) {
    res->crl.state = CS_ENRICH_FAILED;
    res->crl.err = err;
    snprintf(res->crl.detail, sizeof res->crl.detail, "%s (%s)",
             detail != NULL && detail[0] ? detail : "fetch failed", cs_strerror(err));
  } else {
    /* The parsed CRL keeps the DER (decoded from PEM if need be). */
    res->crl.state = CS_ENRICH_OK;
    if ((res->crl_der = dup_bytes(crl->list.der, crl->list.der_len)) != NULL)
      res->crl_der_len = crl->list.der_len;
    else
      step_set(&res->crl, CS_ENRICH_FAILED, CS_ENOMEM, "out of memory", NULL);
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    if (res->crl_der != NULL && j->crl_history_dir != NULL &&
        cs_crl_history_record(j->crl_history_dir, j->urls.crl, res->crl_der, res->crl_der_len,
                              &res->crl_prev_der, &res->crl_prev_der_len, &eb) != 0)
      note(res, "CRL history", eb.msg);
  }
  if (crl != NULL) {
    cs_crl_info_free(crl);
    free(crl);
  }
  unref(j);
}

static int same_name(const mbedtls_x509_buf *a, const mbedtls_x509_buf *b) {
  return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

static void on_aia(int err, mbedtls_x509_crt *certs, const char *detail, void *ud) {
  job_t *j = ud;
  cs_enrich_result_t *res = j->res;
  res->aia.elapsed_ms = since(j, j->aia_t0);
  if (err != 0) {
    res->aia.state = CS_ENRICH_FAILED;
    res->aia.err = err;
    snprintf(res->aia.detail, sizeof res->aia.detail, "%s (%s)",
             detail != NULL && detail[0] ? detail : "fetch failed", cs_strerror(err));
  } else {
    j->aia_certs = certs;
    res->aia.state = CS_ENRICH_OK;
    const mbedtls_x509_crt *match = NULL;
    for (const mbedtls_x509_crt *c = certs; c != NULL && c->raw.len > 0; c = c->next)
      if (same_name(&c->subject_raw, &j->aia_for->issuer_raw)) {
        match = c;
        break;
      }
    if (match == NULL) {
      snprintf(res->aia.detail, sizeof res->aia.detail, "%s",
               "no fetched certificate is named as the issuer it was fetched for");
    } else {
      mbedtls_x509_dn_gets(res->issuer_subject, sizeof res->issuer_subject, &match->subject);
      if ((res->issuer_der = dup_bytes(match->raw.p, match->raw.len)) != NULL)
        res->issuer_der_len = match->raw.len;
      if (j->issuer == NULL && j->aia_for == cs_chain_cert(j->chain, 0)->crt)
        j->issuer = match;
    }
  }
  if (j->ocsp_waits_for_aia)
    start_ocsp(j);
  unref(j);
}

/* The served certificate that issued cert (by name), or NULL. */
static const mbedtls_x509_crt *served_issuer_of(const cs_chain_t *chain,
                                                const mbedtls_x509_crt *cert) {
  for (size_t i = 0; i < cs_chain_count(chain); i++) {
    const mbedtls_x509_crt *c = cs_chain_cert(chain, i)->crt;
    if (c != cert && same_name(&c->subject_raw, &cert->issuer_raw))
      return c;
  }
  return NULL;
}

/* The caIssuers URL worth fetching: the leaf's when its issuer is missing;
 * with want_issuer, that of the first served certificate whose issuer is
 * neither served nor itself (the gap the trust analysis found). */
static void aia_url(job_t *j, int want_issuer, char url[CS_REVOCATION_URL_MAX]) {
  url[0] = '\0';
  if (j->issuer == NULL) {
    j->aia_for = cs_chain_cert(j->chain, 0)->crt;
    snprintf(url, CS_REVOCATION_URL_MAX, "%s", j->urls.ca_issuers);
    return;
  }
  if (!want_issuer)
    return;
  for (size_t i = 1; i < cs_chain_count(j->chain); i++) {
    const cs_cert_info_t *ci = cs_chain_cert(j->chain, i);
    cs_revocation_urls_t u;
    if (ci->self_issued || served_issuer_of(j->chain, ci->crt) != NULL ||
        cs_revocation_urls_get(ci->crt, &u) != 0)
      continue;
    j->aia_for = ci->crt;
    snprintf(url, CS_REVOCATION_URL_MAX, "%s", u.ca_issuers);
    return;
  }
}

static void start_fetches(job_t *j, int want_issuer) {
  cs_enrich_result_t *res = j->res;
  const mbedtls_x509_crt *leaf = cs_chain_cert(j->chain, 0)->crt;
  if (cs_revocation_urls_get(leaf, &j->urls) != 0) {
    step_set(&res->ocsp, CS_ENRICH_FAILED, CS_EPARSE,
             "the leaf's AIA or CRL distribution point extension is malformed", NULL);
    res->crl = res->aia = res->ocsp;
    return;
  }
  j->issuer = served_issuer_of(j->chain, leaf);
  snprintf(res->ocsp.url, sizeof res->ocsp.url, "%s", j->urls.ocsp);
  snprintf(res->crl.url, sizeof res->crl.url, "%s", j->urls.crl);
  aia_url(j, want_issuer, res->aia.url);
  int err;
  /* caIssuers first: the OCSP request may need its answer. */
  if (res->aia.url[0] == '\0') {
    step_set(&res->aia, CS_ENRICH_SKIPPED, 0,
             j->issuer != NULL ? "the issuer was served" : "the leaf names no caIssuers URL",
             NULL);
  } else {
    j->aia_t0 = uv_now(j->loop);
    j->refs++;
    j->ocsp_waits_for_aia = j->issuer == NULL && j->urls.ocsp[0] != '\0';
    if ((err = cs_aia_fetch(j->loop, res->aia.url, j->timeout_ms, on_aia, j)) != 0) {
      j->refs--;
      j->ocsp_waits_for_aia = 0;
      step_set(&res->aia, CS_ENRICH_FAILED, err, "cannot fetch: ",
               err == CS_EINVAL ? "only http:// caIssuers URLs are fetched" : cs_strerror(err));
    }
  }
  if (j->urls.ocsp[0] == '\0')
    step_set(&res->ocsp, CS_ENRICH_SKIPPED, 0, "the leaf names no OCSP responder", NULL);
  else if (!j->ocsp_waits_for_aia)
    start_ocsp(j);
  if (j->urls.crl[0] == '\0') {
    step_set(&res->crl, CS_ENRICH_SKIPPED, 0, "the leaf names no CRL distribution point", NULL);
  } else {
    j->crl_t0 = uv_now(j->loop);
    j->refs++;
    if ((err = cs_crl_fetch(j->loop, j->urls.crl, j->timeout_ms, on_crl, j)) != 0) {
      j->refs--;
      step_set(&res->crl, CS_ENRICH_FAILED, err, "cannot fetch: ",
               err == CS_EINVAL ? "only http:// CRL URLs are fetched" : cs_strerror(err));
    }
  }
}

int cs_enrich_start(uv_loop_t *loop, const cs_enrich_opts_t *opts, cs_enrich_cb cb, void *ud,
                    cs_errbuf_t *eb) {
  if (loop == NULL || opts == NULL || cb == NULL || opts->chain == NULL)
    return cs_errbuf_set(eb, CS_EINVAL, "enrichment needs a loop, a chain and a callback");
  job_t *j = calloc(1, sizeof *j);              /* freed in on_done_closed */
  cs_enrich_result_t *res = calloc(1, sizeof *res); /* handed to cb */
  if (j == NULL || res == NULL) {
    free(j);
    free(res);
    return CS_ENOMEM;
  }
  int err = cs_chain_load(&j->chain, opts->chain, opts->chain_len, eb);
  if (err != 0) {
    free(res);
    free(j);
    return err;
  }
  j->loop = loop;
  j->res = res;
  j->cb = cb;
  j->ud = ud;
  j->timeout_ms = opts->timeout_ms ? opts->timeout_ms : CS_ENRICH_DEFAULT_TIMEOUT_MS;
  if (opts->crl_history_dir != NULL && (j->crl_history_dir = strdup(opts->crl_history_dir)) == NULL) {
    cs_chain_free(j->chain);
    free(res);
    free(j);
    return CS_ENOMEM;
  }
  res->fetch = opts->fetch != 0;
  snprintf(res->addr, sizeof res->addr, "%s", opts->addr != NULL ? opts->addr : "");
  uv_timer_init(loop, &j->done_handle); /* cannot fail for a valid loop */
  j->done_handle.data = j;
  j->refs = 1; /* this function's own reference */
  start_probe(j, opts);
  if (opts->fetch)
    start_fetches(j, opts->want_issuer);
  unref(j);
  return 0;
}
