/*
 * Comparing CRLs over time and across shards
 * (include/certskew/revocation/crl_history.h).
 *
 * The 2022 Let's Encrypt incidents: a CRL updater that took 216 h as the
 * certificate lifetime dropped ~90% of the revoked, unexpired serials for
 * six days (BR 4.10.1: "the CA SHALL NOT remove a revoked Certificate's entry
 * from a CRL until after the expiry of the revoked Certificate"), and a shard
 * computation that saturated Go's duration moved serials between shards on
 * each run.
 */
#include "certskew/revocation/crl_history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/core/time.h"
#include "certskew/revocation/revocation.h"

#define HEX_MAX (2 * 32 + 1)

void cs_crl_diff_init(cs_crl_diff_t *d) { memset(d, 0, sizeof(*d)); }

void cs_crl_diff_free(cs_crl_diff_t *d) {
  if (d == NULL)
    return;
  free(d->added);
  free(d->removed);
  cs_crl_diff_init(d);
}

static int ev_time(cs_findings_t *f, const char *key, int64_t t_ms) {
  char b[CS_TIME_STRLEN];
  cs_time_format(t_ms, b);
  return cs_findings_evidence(f, key, "%s", b);
}

static int same_issuer(const cs_crl_list_t *a, const cs_crl_list_t *b) {
  return a->issuer_raw_len == b->issuer_raw_len &&
         memcmp(a->issuer_raw, b->issuer_raw, a->issuer_raw_len) == 0;
}

static int idp_has(const cs_crl_list_t *l, const char *uri) {
  for (size_t i = 0; i < l->nidp_uris; i++)
    if (strcmp(l->idp_uris[i], uri) == 0)
      return 1;
  return 0;
}

static int same_scope(const cs_crl_list_t *a, const cs_crl_list_t *b) {
  if (a->has_idp != b->has_idp || a->nidp_uris != b->nidp_uris || a->idp_partial != b->idp_partial)
    return 0;
  for (size_t i = 0; i < a->nidp_uris; i++)
    if (!idp_has(b, a->idp_uris[i]))
      return 0;
  return 1;
}

static int crt_time_ms(const mbedtls_x509_time *t, int64_t *out) {
  cs_civil_t c = {t->year, t->mon, t->day, t->hour, t->min, t->sec, 0};
  return cs_time_from_civil(&c, out);
}

/* The given certificate with this serial from this CRL's issuer, or NULL. */
static const cs_crl_cert_t *find_cert(const cs_crl_list_t *l, const uint8_t *serial, size_t len,
                                      const cs_crl_cert_t *certs, size_t ncerts) {
  for (size_t i = 0; i < ncerts; i++) {
    const mbedtls_x509_crt *c = certs[i].crt;
    if (c != NULL && c->serial.len == len && memcmp(c->serial.p, serial, len) == 0 &&
        c->issuer_raw.len == l->issuer_raw_len &&
        memcmp(c->issuer_raw.p, l->issuer_raw, l->issuer_raw_len) == 0)
      return &certs[i];
  }
  return NULL;
}

/* Indexes of a's serials missing from b (newly allocated into *out). */
static int missing(const cs_crl_list_t *a, const cs_crl_list_t *b, size_t **out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (a->nserials == 0)
    return 0;
  *out = malloc(a->nserials * sizeof(**out));
  if (*out == NULL)
    return CS_ENOMEM;
  for (size_t i = 0; i < a->nserials; i++)
    if (cs_crl_list_find(b, a->serials[i].p, a->serials[i].len) < 0)
      (*out)[(*n)++] = i;
  return 0;
}

static int dropped(const cs_crl_list_t *old_crl, const cs_crl_list_t *new_crl, size_t idx,
                   const cs_crl_cert_t *cert, cs_findings_t *f) {
  const cs_crl_serial_t *s = &old_crl->serials[idx];
  int64_t not_after;
  if (crt_time_ms(&cert->crt->valid_to, &not_after) != 0)
    return 0;
  if (new_crl->this_update_ms > not_after)
    return 0; /* expired: removing the entry is allowed */
  char hex[HEX_MAX], sum[256], expl[640];
  cs_crl_hex(s->p, s->len, hex, sizeof(hex));
  snprintf(sum, sizeof(sum), "Serial %s (%s) was removed from the CRL before the certificate "
           "expired: it looks good again.", hex, cert->label ? cert->label : "certificate");
  snprintf(expl, sizeof(expl), "The previous CRL listed it as revoked; the new one, issued "
           "while the certificate is still valid, does not. BR 4.10.1: \"Revocation entries "
           "on a CRL or OCSP Response MUST NOT be removed until after the Expiry Date of the "
           "revoked Certificate.\" Clients that read the new CRL accept a revoked "
           "certificate (Let's Encrypt, 2022: CRLs carried ~10%% of the revoked, unexpired "
           "serials for six days).");
  int ret = cs_findings_add(f, "CRL_ENTRY_DROPPED", CS_SEV_ERROR, 10, 0, (int)idx, sum, expl,
                            "Restore the entry and keep every revoked serial on the CRL until "
                            "its certificate expires; check the CRL generator's notion of "
                            "certificate lifetime.",
                            NULL);
  if (ret == 0)
    ret = cs_findings_evidence(f, "serial", "%s", hex);
  if (ret == 0)
    ret = ev_time(f, "revocation_date", s->revoked_ms);
  if (ret == 0)
    ret = ev_time(f, "not_after", not_after);
  if (ret == 0)
    ret = ev_time(f, "new_this_update", new_crl->this_update_ms);
  return ret;
}

static int order_findings(const cs_crl_list_t *o, const cs_crl_list_t *n, cs_findings_t *f) {
  int ret = 0;
  char a[HEX_MAX], b[HEX_MAX], sum[256];
  if (!o->has_number || !n->has_number) {
    ret = cs_findings_add(f, "CRL_NUMBER_MISSING", CS_SEV_WARNING, 40, -1, -1,
                          !n->has_number ? "The new CRL has no CRL number."
                                         : "The old CRL has no CRL number.",
                          "RFC 5280 §5.2.3: conforming CRL issuers MUST include the CRL number; "
                          "without it the order of two CRLs cannot be told.",
                          "Include a monotonically increasing cRLNumber.", NULL);
  } else {
    int c = cs_crl_number_cmp(n, o);
    cs_crl_hex(o->number, o->number_len, a, sizeof(a));
    cs_crl_hex(n->number, n->number_len, b, sizeof(b));
    int differ = o->der_len != n->der_len || memcmp(o->der, n->der, o->der_len) != 0;
    if (c < 0 || (c == 0 && differ)) {
      snprintf(sum, sizeof(sum), c < 0 ? "The CRL number went back: %s after %s."
                                       : "Two different CRLs carry the same CRL number %s%.0s.",
               b, a);
      ret = cs_findings_add(f, c < 0 ? "CRL_NUMBER_WENT_BACK" : "CRL_NUMBER_REUSED",
                            CS_SEV_ERROR, 20, -1, -1, sum,
                            "RFC 5280 §5.2.3: the CRL number is monotonically increasing for a "
                            "given scope; clients that cache CRLs keep the higher number and "
                            "ignore the newer list.",
                            "Derive CRL numbers from a monotonic source (e.g. the thisUpdate "
                            "in ns) and never reuse one.",
                            NULL);
      if (ret == 0)
        ret = cs_findings_evidence(f, "old_number", "%s", a);
      if (ret == 0)
        ret = cs_findings_evidence(f, "new_number", "%s", b);
    }
  }
  if (ret == 0 && n->this_update_ms < o->this_update_ms) {
    ret = cs_findings_add(f, "CRL_THIS_UPDATE_WENT_BACK", CS_SEV_ERROR, 20, -1, -1,
                          "The new CRL's thisUpdate is earlier than the old one's.",
                          "A CRL issued later must not claim an earlier issuance: clients that "
                          "keep the most recent CRL keep the old one, and a clock that went "
                          "back on the CA is suspect.",
                          "Check the CRL signer's clock and the order of publication.", NULL);
    if (ret == 0)
      ret = ev_time(f, "old_this_update", o->this_update_ms);
    if (ret == 0)
      ret = ev_time(f, "new_this_update", n->this_update_ms);
  }
  if (ret == 0 && o->has_next_update && n->has_next_update &&
      n->next_update_ms < o->next_update_ms) {
    ret = cs_findings_add(f, "CRL_NEXT_UPDATE_WENT_BACK", CS_SEV_WARNING, 30, -1, -1,
                          "The new CRL's nextUpdate is earlier than the old one's.",
                          "A client holding the old CRL may keep using it until the old "
                          "nextUpdate and miss revocations listed in the new one.",
                          "Keep nextUpdate non-decreasing across CRLs of one scope.", NULL);
    if (ret == 0)
      ret = ev_time(f, "old_next_update", o->next_update_ms);
    if (ret == 0)
      ret = ev_time(f, "new_next_update", n->next_update_ms);
  }
  return ret;
}

int cs_crl_diff_run(const cs_crl_list_t *old_crl, const cs_crl_list_t *new_crl,
                    const cs_crl_cert_t *certs, size_t ncerts, cs_crl_diff_t *d,
                    cs_findings_t *f, cs_errbuf_t *eb) {
  if (old_crl == NULL || new_crl == NULL || old_crl->der == NULL || new_crl->der == NULL ||
      d == NULL || f == NULL || (ncerts > 0 && certs == NULL))
    return cs_errbuf_set(eb, CS_EINVAL, "crl-diff: nothing to compare");
  if (!same_issuer(old_crl, new_crl))
    return cs_errbuf_set(eb, CS_EINVAL, "the CRLs have different issuers (%s / %s): not two "
                         "versions of one CRL", old_crl->issuer, new_crl->issuer);
  if (!same_scope(old_crl, new_crl))
    return cs_errbuf_set(eb, CS_EINVAL, "the CRLs have different scopes (issuing distribution "
                         "points %s / %s): not two versions of one CRL",
                         old_crl->nidp_uris ? old_crl->idp_uris[0] : "none",
                         new_crl->nidp_uris ? new_crl->idp_uris[0] : "none");
  cs_crl_diff_free(d);
  int ret = missing(new_crl, old_crl, &d->added, &d->nadded);
  if (ret == 0)
    ret = missing(old_crl, new_crl, &d->removed, &d->nremoved);
  if (ret == 0)
    ret = order_findings(old_crl, new_crl, f);
  size_t unknown = 0;
  for (size_t i = 0; ret == 0 && i < d->nremoved; i++) {
    const cs_crl_serial_t *s = &old_crl->serials[d->removed[i]];
    const cs_crl_cert_t *c = find_cert(old_crl, s->p, s->len, certs, ncerts);
    if (c == NULL)
      unknown++;
    else
      ret = dropped(old_crl, new_crl, d->removed[i], c, f);
  }
  if (ret == 0 && unknown > 0) {
    char sum[200];
    snprintf(sum, sizeof(sum), "%zu serial(s) left the CRL; their certificates were not given, "
             "so whether they had expired is unknown.", unknown);
    ret = cs_findings_add(f, "CRL_ENTRIES_REMOVED", CS_SEV_INFO, 60, -1, -1, sum,
                          "Removing an entry is allowed only after the certificate expires "
                          "(BR 4.10.1).",
                          "Pass the certificates (--cert FILE) to check each removal.", NULL);
  }
  return ret;
}

/* ---- Shards ---- */

static const char *shard_name(const cs_crl_shard_t *s) {
  if (s->crl->nidp_uris > 0)
    return s->crl->idp_uris[0];
  if (s->url != NULL && s->url[0] != '\0')
    return s->url;
  return s->label != NULL ? s->label : "?";
}

static int check_set(const cs_crl_shard_t *shards, size_t n, const char *what, cs_errbuf_t *eb) {
  if (n == 0)
    return cs_errbuf_set(eb, CS_EINVAL, "no %sCRL given", what);
  for (size_t i = 0; i < n; i++) {
    if (shards[i].crl == NULL || shards[i].crl->der == NULL)
      return cs_errbuf_set(eb, CS_EINVAL, "%sshard %zu not parsed", what, i);
    if (!same_issuer(shards[0].crl, shards[i].crl))
      return cs_errbuf_set(eb, CS_EINVAL, "%s and %s have different issuers (%s / %s): shards "
                           "must be of one issuer", shards[0].label, shards[i].label,
                           shards[0].crl->issuer, shards[i].crl->issuer);
    for (size_t j = 0; j < i; j++)
      if (shards[j].crl->has_idp && same_scope(shards[j].crl, shards[i].crl))
        return cs_errbuf_set(eb, CS_EINVAL, "%s and %s are the same shard (%s): give one CRL per "
                             "shard%s", shards[j].label, shards[i].label, shard_name(&shards[i]),
                             what[0] ? "" : " (use --before/--after for two versions)");
  }
  return 0;
}

static int shard_idp(const cs_crl_shard_t *s, size_t i, size_t n, cs_findings_t *f) {
  char sum[700];
  const cs_crl_list_t *l = s->crl;
  if (!l->has_idp || (l->nidp_uris == 0 && !l->idp_partial)) {
    if (n < 2)
      return 0; /* one full CRL needs no IDP */
    snprintf(sum, sizeof(sum), "Shard %s has no issuing distribution point.", s->label);
    return cs_findings_add(f, "CRL_SHARD_IDP_MISSING", CS_SEV_ERROR, 20, -1, (int)i, sum,
                           "RFC 5280 §5.2.5: a CRL that covers only part of an issuer's "
                           "certificates must say which, with a critical issuingDistributionPoint; "
                           "without it a client takes the shard for the full CRL and believes "
                           "every certificate not listed is good.",
                           "Add a critical issuingDistributionPoint naming the shard's URL.",
                           NULL);
  }
  if (s->url == NULL || s->url[0] == '\0' || l->nidp_uris == 0 || idp_has(l, s->url))
    return 0;
  snprintf(sum, sizeof(sum), "Shard %s is published at %s but its issuing distribution point "
           "names %s.", s->label, s->url, l->idp_uris[0]);
  int ret = cs_findings_add(f, "CRL_SHARD_IDP_MISMATCH", CS_SEV_ERROR, 20, -1, (int)i, sum,
                            "RFC 5280 §6.3.3 (b)(2)(i): a client checks that the IDP names the "
                            "distribution point it fetched; on a mismatch the CRL is not usable "
                            "for the certificate.",
                            "Publish each shard at the URL its IDP names.", NULL);
  if (ret == 0)
    ret = cs_findings_evidence(f, "url", "%s", s->url);
  if (ret == 0)
    ret = cs_findings_evidence(f, "idp", "%s", l->idp_uris[0]);
  return ret;
}

static int two_shards(const cs_crl_shard_t *shards, size_t n, cs_findings_t *f) {
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < shards[i].crl->nserials; k++) {
      const cs_crl_serial_t *s = &shards[i].crl->serials[k];
      for (size_t j = i + 1; j < n; j++) {
        if (cs_crl_list_find(shards[j].crl, s->p, s->len) < 0)
          continue;
        char hex[HEX_MAX], sum[2048];
        cs_crl_hex(s->p, s->len, hex, sizeof(hex));
        snprintf(sum, sizeof(sum), "Serial %s is listed in two shards: %s and %s.", hex,
                 shard_name(&shards[i]), shard_name(&shards[j]));
        int ret = cs_findings_add(f, "CRL_SERIAL_IN_TWO_SHARDS", CS_SEV_ERROR, 30, -1, (int)j, sum,
                                  "Shards partition an issuer's certificates: each serial "
                                  "belongs to exactly one. A serial in two shards means the "
                                  "partition is not a function of the certificate, and the "
                                  "shard its CRLDP names may be the one that lacks it.",
                                  "Compute a certificate's shard once, at issuance, from "
                                  "stable inputs, and store it.",
                                  NULL);
        if (ret == 0)
          ret = cs_findings_evidence(f, "serial", "%s", hex);
        if (ret != 0)
          return ret;
      }
    }
  return 0;
}

static int cert_shard(const cs_crl_shard_t *shards, size_t n, const cs_crl_cert_t *cert,
                      cs_findings_t *f) {
  cs_revocation_urls_t urls;
  if (cs_revocation_urls_get(cert->crt, &urls) != 0 || urls.crl[0] == '\0')
    return 0;
  const mbedtls_x509_buf *sn = &cert->crt->serial;
  const cs_crl_shard_t *named = NULL, *listed = NULL;
  int listed_in_named = 0;
  for (size_t i = 0; i < n; i++) {
    const cs_crl_list_t *l = shards[i].crl;
    if (l->issuer_raw_len != cert->crt->issuer_raw.len ||
        memcmp(l->issuer_raw, cert->crt->issuer_raw.p, l->issuer_raw_len) != 0)
      continue;
    int is_named = idp_has(l, urls.crl) ||
                   (l->nidp_uris == 0 && shards[i].url && strcmp(shards[i].url, urls.crl) == 0);
    int has = cs_crl_list_find(l, sn->p, sn->len) >= 0;
    if (is_named) {
      named = &shards[i];
      listed_in_named |= has;
    } else if (has && listed == NULL) {
      listed = &shards[i];
    }
  }
  if (listed == NULL || listed_in_named)
    return 0;
  char hex[HEX_MAX], sum[2048];
  cs_crl_hex(sn->p, sn->len, hex, sizeof(hex));
  snprintf(sum, sizeof(sum), "%s (serial %s) is revoked in shard %s, but its CRL distribution "
           "point names %s%s.", cert->label ? cert->label : "The certificate", hex,
           shard_name(listed), urls.crl, named ? ", which does not list it" : " (not given)");
  int ret = cs_findings_add(f, "CRL_SHARD_MISMATCH", CS_SEV_ERROR, 10, 0, -1, sum,
                            "A client fetches only the shard the certificate's CRLDP names and "
                            "finds no entry there: the revoked certificate looks good (Let's "
                            "Encrypt, 2022: serials moved between shards from run to run).",
                            "List each revoked serial in the shard its certificate's CRLDP "
                            "names; compute the shard from stable inputs at issuance.",
                            NULL);
  if (ret == 0)
    ret = cs_findings_evidence(f, "serial", "%s", hex);
  if (ret == 0)
    ret = cs_findings_evidence(f, "crldp", "%s", urls.crl);
  if (ret == 0)
    ret = cs_findings_evidence(f, "listed_in", "%s", shard_name(listed));
  return ret;
}

int cs_crl_shards_check(const cs_crl_shard_t *shards, size_t n, const cs_crl_cert_t *certs,
                        size_t ncerts, int64_t at_ms, cs_findings_t *f, cs_errbuf_t *eb) {
  if (f == NULL || (n > 0 && shards == NULL) || (ncerts > 0 && certs == NULL))
    return cs_errbuf_set(eb, CS_EINVAL, "crl-shards: bad arguments");
  int ret = check_set(shards, n, "", eb);
  for (size_t i = 0; ret == 0 && i < n; i++)
    ret = shard_idp(&shards[i], i, n, f);
  if (ret == 0)
    ret = two_shards(shards, n, f);
  for (size_t i = 0; ret == 0 && i < ncerts; i++) {
    int64_t not_after;
    if (certs[i].crt != NULL && crt_time_ms(&certs[i].crt->valid_to, &not_after) == 0 &&
        at_ms <= not_after)
      ret = cert_shard(shards, n, &certs[i], f);
  }
  return ret;
}

int cs_crl_shards_drift(const cs_crl_shard_t *before, size_t nbefore, const cs_crl_shard_t *after,
                        size_t nafter, cs_findings_t *f, cs_errbuf_t *eb) {
  if (f == NULL || (nbefore > 0 && before == NULL) || (nafter > 0 && after == NULL))
    return cs_errbuf_set(eb, CS_EINVAL, "crl-shards: bad arguments");
  int ret = check_set(before, nbefore, "--before ", eb);
  if (ret == 0)
    ret = check_set(after, nafter, "--after ", eb);
  if (ret == 0 && !same_issuer(before[0].crl, after[0].crl))
    return cs_errbuf_set(eb, CS_EINVAL, "--before and --after hold different issuers (%s / %s)",
                         before[0].crl->issuer, after[0].crl->issuer);
  for (size_t i = 0; ret == 0 && i < nbefore; i++)
    for (size_t k = 0; ret == 0 && k < before[i].crl->nserials; k++) {
      const cs_crl_serial_t *s = &before[i].crl->serials[k];
      const char *was = shard_name(&before[i]);
      const cs_crl_shard_t *now = NULL;
      for (size_t j = 0; j < nafter && now == NULL; j++)
        if (cs_crl_list_find(after[j].crl, s->p, s->len) >= 0)
          now = &after[j];
      if (now == NULL || strcmp(shard_name(now), was) == 0)
        continue;
      int still = 0; /* also still listed in a shard of the same name: not a move */
      for (size_t j = 0; j < nafter; j++)
        if (strcmp(shard_name(&after[j]), was) == 0 &&
            cs_crl_list_find(after[j].crl, s->p, s->len) >= 0)
          still = 1;
      if (still)
        continue;
      char hex[HEX_MAX], sum[2048];
      cs_crl_hex(s->p, s->len, hex, sizeof(hex));
      snprintf(sum, sizeof(sum), "Serial %s moved from shard %s to shard %s.", hex, was,
               shard_name(now));
      ret = cs_findings_add(f, "CRL_SHARD_DRIFT", CS_SEV_ERROR, 10, -1, -1, sum,
                            "A certificate's shard is fixed by its CRL distribution point at "
                            "issuance; a revoked serial that moves leaves that shard, and "
                            "clients reading it see the certificate as good (Let's Encrypt, "
                            "2022: the shard index was computed from a duration since year 0 "
                            "that saturated at ~290 years, so it no longer changed with time "
                            "as designed and serials moved between runs).",
                            "Store each certificate's shard at issuance and always list its "
                            "revocation there.",
                            NULL);
      if (ret == 0)
        ret = cs_findings_evidence(f, "serial", "%s", hex);
      if (ret == 0)
        ret = cs_findings_evidence(f, "before", "%s", was);
      if (ret == 0)
        ret = cs_findings_evidence(f, "after", "%s", shard_name(now));
    }
  return ret;
}

cJSON *cs_crl_findings_json(cs_findings_t *f) {
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; arr != NULL && i < cs_findings_count(f); i++) {
    const cs_finding_t *x = cs_findings_get(f, i);
    cJSON *o = cJSON_CreateObject(), *ev = cJSON_CreateObject();
    if (o == NULL || ev == NULL || !cJSON_AddItemToArray(arr, o)) {
      cJSON_Delete(o);
      cJSON_Delete(ev);
      cJSON_Delete(arr);
      return NULL;
    }
    int ok = cJSON_AddStringToObject(o, "code", x->code) != NULL &&
             cJSON_AddStringToObject(o, "severity", cs_severity_name(x->severity)) != NULL &&
             cJSON_AddStringToObject(o, "summary", x->summary) != NULL &&
             cJSON_AddStringToObject(o, "explanation", x->explanation) != NULL &&
             (x->fix == NULL || cJSON_AddStringToObject(o, "fix", x->fix) != NULL);
    for (size_t k = 0; ok && k < x->nevidence; k++)
      ok = cJSON_AddStringToObject(ev, x->evidence[k].key, x->evidence[k].value) != NULL;
    if (!ok || !cJSON_AddItemToObject(o, "evidence", ev)) {
      cJSON_Delete(ev);
      cJSON_Delete(arr);
      return NULL;
    }
  }
  return arr;
}
