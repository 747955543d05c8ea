/* Material and case evaluation for `certskew repro` (see repro_run.h). */
#include "certskew/repro/repro_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/lab/lab_scenario.h"
#include "certskew/core/time.h"
#include "certskew/store/file_io.h"
#include "certskew/net/rng.h"

void cs_repro_material_init(cs_repro_material_t *m) { memset(m, 0, sizeof(*m)); }

void cs_repro_material_free(cs_repro_material_t *m) {
  free(m->chain);
  for (size_t i = 0; i < m->nstores; i++)
    cs_trust_store_free(m->stores[i]);
  cs_ct_log_list_free(m->log_list);
  free(m->ocsp);
  free(m->crl);
  cs_repro_material_init(m);
}

static uint8_t *dup_bytes(const void *p, size_t n) {
  uint8_t *d = malloc(n ? n : 1); /* owned by the caller */
  if (d != NULL && n > 0)
    memcpy(d, p, n);
  return d;
}

static int add_store(cs_repro_material_t *m, const char *name, const uint8_t *buf, size_t len,
                     cs_errbuf_t *eb) {
  cs_trust_store_t *st = NULL;
  int err = cs_trust_store_new(&st, name);
  if (err == 0)
    err = cs_trust_store_add(st, buf, len, NULL, NULL, eb);
  if (err != 0) {
    cs_trust_store_free(st);
    return err;
  }
  m->stores[m->nstores++] = st;
  return 0;
}

static int load_log_list(cs_repro_material_t *m, const uint8_t *json, size_t len,
                         cs_errbuf_t *eb) {
  return cs_ct_log_list_load(&m->log_list, json, len, eb);
}

int cs_repro_material_scenario(cs_repro_material_t *m, const cs_repro_script_t *s,
                               cs_errbuf_t *eb) {
  cs_rng_t rng;
  cs_lab_scenario_t sc;
  cs_lab_scenario_init(&sc);
  int err = cs_rng_init(&rng, "certskew repro");
  if (err != 0) {
    err = cs_errbuf_set(eb, err, "cannot seed the random generator");
    goto done;
  }
  cs_lab_scenario_params_t params = {s->host[0] ? s->host : NULL, NULL, s->issued_ms};
  if ((err = cs_lab_scenario_build(&sc, s->scenario, &params, cs_rng_fill, &rng)) != 0) {
    err = cs_errbuf_set(eb, err, "cannot issue scenario %s: %s",
                        cs_lab_scenario_info(s->scenario)->name, cs_strerror(err));
    goto done;
  }
  m->issued_ms = s->issued_ms;
  m->chain_len = strlen(sc.chain_pem);
  err = CS_ENOMEM;
  if ((m->chain = dup_bytes(sc.chain_pem, m->chain_len)) == NULL)
    goto done;
  /* The client that fails: in expired-root-cross-sign an old one that only
   * knows the legacy root (with the current root too, the short path to it
   * passes and nothing fails). */
  const char *anchors = sc.legacy_trust_pem != NULL ? sc.legacy_trust_pem : sc.trust_pem;
  if ((err = add_store(m, "lab trust", (const uint8_t *)anchors, strlen(anchors), eb)) != 0)
    goto done;
  if ((err = load_log_list(m, (const uint8_t *)sc.log_list_json,
                                              strlen(sc.log_list_json), eb)) != 0)
    goto done;
  err = CS_ENOMEM;
  if ((m->ocsp = dup_bytes(sc.ocsp_der, sc.ocsp_der_len)) == NULL)
    goto done;
  m->ocsp_len = sc.ocsp_der_len;
  if ((m->crl = dup_bytes(sc.crl_der, sc.crl_der_len)) == NULL)
    goto done;
  m->crl_len = sc.crl_der_len;
  err = 0;
done:
  if (err == CS_ENOMEM)
    (void)cs_errbuf_set(eb, err, "out of memory");
  if (err != 0)
    cs_repro_material_free(m);
  cs_lab_scenario_free(&sc);
  cs_rng_free(&rng);
  return err;
}

static int read_rel(const char *dir, const char *path, size_t max, uint8_t **out, size_t *len,
                    cs_errbuf_t *eb) {
  char full[2 * CS_REPRO_PATH_MAX + 2];
  if (path[0] == '/' || dir == NULL || dir[0] == '\0')
    (void)snprintf(full, sizeof(full), "%s", path);
  else
    (void)snprintf(full, sizeof(full), "%s/%s", dir, path);
  return cs_file_read(full, max, out, len, eb);
}

/* Latest embedded SCT of the leaf, else its notBefore: when it was issued. */
static int chain_issuance(const uint8_t *buf, size_t len, int64_t *out, cs_errbuf_t *eb) {
  cs_chain_t *chain = NULL;
  int err = cs_chain_load(&chain, buf, len, eb);
  if (err != 0)
    return err;
  const cs_cert_info_t *leaf = cs_chain_cert(chain, 0);
  *out = leaf->not_before_ms;
  for (size_t i = 0; i < leaf->nscts; i++)
    if (i == 0 || leaf->scts[i].timestamp_ms > *out)
      *out = leaf->scts[i].timestamp_ms;
  cs_chain_free(chain);
  return 0;
}

int cs_repro_material_files(cs_repro_material_t *m, const cs_repro_script_t *s, const char *dir,
                            cs_errbuf_t *eb) {
  uint8_t *buf = NULL;
  size_t len = 0;
  int err = read_rel(dir, s->chain_path, CS_CHAIN_MAX_INPUT, &m->chain, &m->chain_len, eb);
  if (err == 0)
    err = chain_issuance(m->chain, m->chain_len, &m->issued_ms, eb);
  for (size_t i = 0; err == 0 && i < s->ntrust; i++) {
    if ((err = read_rel(dir, s->trust_paths[i], CS_TRUST_STORE_MAX_INPUT, &buf, &len, eb)) == 0)
      err = add_store(m, s->trust_paths[i], buf, len, eb);
    free(buf);
    buf = NULL;
  }
  if (err == 0 && s->log_list_path[0] != '\0') {
    if ((err = read_rel(dir, s->log_list_path, CS_CT_LOGLIST_MAX_INPUT, &buf, &len, eb)) == 0)
      err = load_log_list(m, buf, len, eb);
    free(buf);
  }
  if (err == 0 && s->ocsp_path[0] != '\0') {
    err = read_rel(dir, s->ocsp_path, CS_OCSP_MAX_INPUT, &m->ocsp, &m->ocsp_len, eb);
  }
  if (err == 0 && s->crl_path[0] != '\0')
    err = read_rel(dir, s->crl_path, CS_CRL_MAX_INPUT, &m->crl, &m->crl_len, eb);
  if (err != 0)
    cs_repro_material_free(m);
  return err;
}

static int cmp_code(const void *a, const void *b) { return strcmp(a, b); }

static int has_code(const char codes[][CS_REPRO_CODE_MAX], size_t n, const char *code) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(codes[i], code) == 0)
      return 1;
  return 0;
}

/* Appends "text" to the diff (separated by "; "). */
static void diff_add(cs_repro_outcome_t *o, const char *what, const char *code) {
  size_t used = strlen(o->diff);
  (void)snprintf(o->diff + used, sizeof(o->diff) - used, "%s%s %s", used ? "; " : "", what, code);
}

static void compare(const cs_repro_case_t *c, cs_repro_outcome_t *o) {
  o->diff[0] = '\0';
  if (c->expect_pass != o->pass)
    diff_add(o, "verdict: expected", c->expect_pass ? "pass, got fail" : "fail, got pass");
  if (c->cause[0] != '\0' && strcmp(c->cause, o->cause) != 0)
    diff_add(o, "cause: expected", c->cause);
  /* A passing expectation means "no error codes": name the ones that came
   * (for a client case, only when codes are asked: other clocks' findings
   * do not decide a client's verdict). */
  if (c->has_codes || (c->expect_pass && !c->has_client)) {
    for (size_t i = 0; i < c->ncodes; i++)
      if (!has_code(o->codes, o->ncodes, c->codes[i]))
        diff_add(o, "missing", c->codes[i]);
    for (size_t i = 0; i < o->ncodes; i++)
      if (!has_code(c->codes, c->ncodes, o->codes[i]))
        diff_add(o, "unexpected", o->codes[i]);
  }
  for (size_t i = 0; i < c->ninclude; i++)
    if (!has_code(o->codes, o->ncodes, c->include[i]))
      diff_add(o, "missing", c->include[i]);
  for (size_t i = 0; i < c->nexclude; i++)
    if (has_code(o->codes, o->ncodes, c->exclude[i]))
      diff_add(o, "unexpected", c->exclude[i]);
  for (size_t i = 0; i < c->nwarnings; i++)
    if (!has_code(o->warnings, o->nwarnings, c->warnings[i]))
      diff_add(o, "missing warning", c->warnings[i]);
  o->ok = o->diff[0] == '\0';
}

int cs_repro_run_case(const cs_repro_material_t *m, const cs_repro_script_t *s,
                      const cs_repro_case_t *c, cs_repro_outcome_t *out, cs_errbuf_t *eb) {
  memset(out, 0, sizeof(*out));
  out->at_ms = c->at_ms;
  if (c->at_relative && cs_time_add(m->issued_ms, c->at_ms, &out->at_ms) != 0)
    return cs_errbuf_set(eb, CS_EOVERFLOW, "case %s: issued%s is out of range", c->name,
                         c->at_text + 6);
  if (cs_clock_apply(&c->clock, out->at_ms, &out->believed_ms) != 0)
    return cs_errbuf_set(eb, CS_EOVERFLOW, "case %s: clock %s overflows at that time", c->name,
                         c->clock_text);
  cs_analysis_opts_t opts = {0};
  opts.source = s->has_scenario ? cs_lab_scenario_info(s->scenario)->name : s->chain_path;
  opts.clocks = &c->clock;
  opts.nclocks = 1;
  opts.has_at = 1;
  opts.at_ms = out->at_ms;
  /* The case says which of the material its client has. */
  opts.log_list = c->use_log_list ? m->log_list : NULL;
  opts.trust_stores = (const cs_trust_store_t *const *)m->stores;
  opts.ntrust_stores = c->use_trust ? m->nstores : 0;
  opts.hostname = s->host[0] ? s->host : NULL;
  if (c->ocsp == CS_REPRO_OCSP_STAPLED) {
    opts.stapled_ocsp = m->ocsp;
    opts.stapled_ocsp_len = m->ocsp_len;
  } else if (c->ocsp == CS_REPRO_OCSP_FETCHED) {
    opts.fetched_ocsp = m->ocsp;
    opts.fetched_ocsp_len = m->ocsp_len;
  }
  if (c->use_crl) {
    opts.crl = m->crl;
    opts.crl_len = m->crl_len;
  }
  if (c->has_client) {
    opts.clients = &c->client;
    opts.nclients = 1;
  }
  cs_analysis_t *a = NULL;
  int err = cs_analyze(&a, m->chain, m->chain_len, &opts, eb);
  if (err != 0)
    return err;
  cs_findings_t *f = cs_analysis_findings(a);
  for (size_t i = 0; i < cs_findings_count(f); i++) {
    const cs_finding_t *fi = cs_findings_get(f, i);
    char(*set)[CS_REPRO_CODE_MAX] = fi->severity == CS_SEV_ERROR ? out->codes : out->warnings;
    size_t *n = fi->severity == CS_SEV_ERROR ? &out->ncodes : &out->nwarnings;
    if (fi->severity == CS_SEV_INFO || has_code(set, *n, fi->code) || *n == CS_REPRO_MAX_CODES)
      continue;
    (void)snprintf(set[(*n)++], CS_REPRO_CODE_MAX, "%s", fi->code);
  }
  qsort(out->codes, out->ncodes, sizeof(out->codes[0]), cmp_code);
  qsort(out->warnings, out->nwarnings, sizeof(out->warnings[0]), cmp_code);
  out->pass = out->ncodes == 0;
  if (c->has_client) {
    const cs_client_verdict_t *v = cs_analysis_client(a, 0);
    out->pass = !v->fails_at;
    (void)snprintf(out->cause, sizeof(out->cause), "%s", v->cause ? v->cause : "");
  }
  compare(c, out);
  cs_analysis_free(a);
  return 0;
}
