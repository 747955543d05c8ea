/*
 * Lab scenarios (include/certskew/lab/lab_scenario.h): one CA hierarchy, two CT
 * logs, a leaf with embedded SCTs, and the OCSP response and CRL the CA
 * publishes, each set to reproduce one skew bug. Times are offsets from the
 * issuance instant T, so the same scenario issued at any T shows the same
 * failure windows relative to T.
 */
#include "certskew/lab/lab_scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/x509_crt.h>

#include "certskew/core/sct.h"
#include "certskew/core/time.h"
#include "lab_keys.h"
#include "lab_scenario_internal.h"

#define HOUR CS_MS_PER_HOUR
#define DAY CS_MS_PER_DAY

static const cs_lab_scenario_info_t INFOS[CS_LAB_SC_COUNT] = {
    {"fresh", "issued now, SCT timestamps now, notBefore backdated 1 h (second-truncated clients "
              "reject the SCTs for up to 1 s)",
     ""},
    {"future-notbefore", "notBefore is 1 h after issuance (the CA's clock runs fast)",
     "NOT_YET_VALID"},
    {"sct-future", "log A's clock runs 5 min ahead: its SCT is in the future for 5 min",
     "SCT_IN_FUTURE"},
    {"precert-mismatch",
     "the CA changed the SAN after logging: no SCT matches the final certificate",
     "SCT_SIGNATURE_INVALID_ALL"},
    {"ocsp-unauthorized", "the OCSP responder does not know the new serial yet (unauthorized)",
     "OCSP_UNAUTHORIZED"},
    {"ocsp-stale", "the OCSP response's nextUpdate passed 1 h before issuance", "OCSP_STALE"},
    {"missing-intermediate", "the server sends only the leaf (the intermediate is at the AIA URL)",
     "MISSING_INTERMEDIATE"},
    {"expired-intermediate", "the issuing intermediate expired a day before issuance",
     "INTERMEDIATE_EXPIRED"},
    {"expired-root-cross-sign",
     "the served chain ends in the root's cross-sign by a legacy root, expired a day ago; old "
     "clients that only trust the legacy root fail (DST Root CA X3, 2021)",
     "EXPIRED,INTERMEDIATE_EXPIRED"},
    {"crl-stale", "the CA's CRL nextUpdate passed a day before issuance", "CRL_STALE"},
    {"revoked", "the certificate is revoked (OCSP and CRL)", "REVOKED"},
    {"crl-dropped-entry",
     "the revoked leaf left the CA's next CRL long before it expires (Let's Encrypt, 2022): "
     "crl-prev.der lists it, crl.der does not (certskew crl-diff finds CRL_ENTRY_DROPPED)",
     "CRL_ENTRY_DROPPED"},
    {"crl-shard-drift",
     "the revoked leaf moved from the shard its CRLDP names to another on the next run (Let's "
     "Encrypt, 2022): /before/N.crl then /crl/N.crl (certskew crl-shards finds CRL_SHARD_DRIFT "
     "and CRL_SHARD_MISMATCH)",
     "CRL_SHARD_DRIFT,CRL_SHARD_MISMATCH"},
    {"precert-no-final",
     "a precertificate was logged but the final certificate never issued; the responder says "
     "unauthorized for it (Let's Encrypt, 2019)",
     "OCSP_PRECERT_UNAVAILABLE"},
};

const cs_lab_scenario_info_t *cs_lab_scenario_info(cs_lab_scenario_id_t id) {
  return (unsigned)id < CS_LAB_SC_COUNT ? &INFOS[id] : NULL;
}

int cs_lab_scenario_find(const char *name, cs_lab_scenario_id_t *out) {
  for (int i = 0; name != NULL && i < CS_LAB_SC_COUNT; i++)
    if (strcmp(INFOS[i].name, name) == 0) {
      *out = (cs_lab_scenario_id_t)i;
      return 0;
    }
  return CS_ENOTFOUND;
}

void cs_lab_scenario_init(cs_lab_scenario_t *s) {
  memset(s, 0, sizeof(*s));
  cs_lab_ct_log_init(&s->logs[0]);
  cs_lab_ct_log_init(&s->logs[1]);
  cs_lab_ct_ca_init(&s->root);
  cs_lab_ct_ca_init(&s->legacy_root);
  cs_lab_ct_ca_init(&s->intermediate);
  cs_lab_ct_leaf_init(&s->leaf);
}

void cs_lab_scenario_free(cs_lab_scenario_t *s) {
  if (s == NULL)
    return;
  cs_lab_ct_log_free(&s->logs[0]);
  cs_lab_ct_log_free(&s->logs[1]);
  cs_lab_ct_ca_free(&s->root);
  cs_lab_ct_ca_free(&s->legacy_root);
  cs_lab_ct_ca_free(&s->intermediate);
  cs_lab_ct_leaf_free(&s->leaf);
  free(s->cross_der);
  free(s->chain_pem);
  free(s->trust_pem);
  free(s->legacy_trust_pem);
  free(s->intermediate_pem);
  free(s->leaf_key_pem);
  free(s->ocsp_der);
  free(s->crl_der);
  for (size_t i = 0; i < CS_LAB_MAX_EXTRA_CRLS; i++)
    free(s->extra_crls[i].der);
  free(s->log_list_json);
  free(s->openssl_log_file);
  cs_lab_scenario_init(s);
}

/* Appends the PEM of der to *text (grown; owned by the caller). */
static int append_pem(char **text, const uint8_t *der, size_t der_len) {
  char *pem = NULL;
  int err = cs_lab_ct_cert_pem(der, der_len, &pem);
  if (err != 0)
    return err;
  size_t old = *text ? strlen(*text) : 0, add = strlen(pem);
  char *p = realloc(*text, old + add + 1);
  if (p == NULL) {
    free(pem);
    return CS_ENOMEM;
  }
  memcpy(p + old, pem, add + 1);
  *text = p;
  free(pem);
  return 0;
}

/* A CA into ca (key generated unless reuse_key is set: a cross-sign). */
static int make_ca(cs_lab_ct_ca_t *ca, const char *cn, const cs_lab_ct_ca_t *issuer,
                   int64_t nb_ms, int64_t na_ms, cs_lab_rng_fn f_rng, void *p_rng) {
  (void)snprintf(ca->subject, sizeof(ca->subject), "CN=%s,O=certskew lab", cn);
  int err = cs_lab_gen_p256(&ca->key, f_rng, p_rng);
  if (err != 0)
    return err;
  lab_sc_ca_spec_t spec = {ca->subject, &ca->key, issuer ? issuer->subject : ca->subject,
                           issuer ? &issuer->key : &ca->key, nb_ms, na_ms, NULL, 0};
  return lab_sc_ca_write(&spec, f_rng, p_rng, &ca->der, &ca->der_len);
}

static int make_hierarchy(cs_lab_scenario_t *s, int64_t t, cs_lab_rng_fn f_rng, void *p_rng) {
  int err = make_ca(&s->root, "certskew lab root R1", NULL, t - 365 * DAY, t + 3650 * DAY, f_rng,
                    p_rng);
  if (err == 0 && s->id == CS_LAB_SC_EXPIRED_ROOT_CROSS_SIGN) {
    err = make_ca(&s->legacy_root, "certskew lab legacy root X3", NULL, t - 7300 * DAY,
                  t + 3650 * DAY, f_rng, p_rng);
    /* The root's own key and name, vouched for by the legacy root until
     * yesterday: what old clients needed, and what a server kept serving. */
    lab_sc_ca_spec_t cross = {s->root.subject, &s->root.key, s->legacy_root.subject,
                              &s->legacy_root.key, t - 3 * 365 * DAY, t - DAY, NULL, 0};
    if (err == 0)
      err = lab_sc_ca_write(&cross, f_rng, p_rng, &s->cross_der, &s->cross_der_len);
  }
  int expired = s->id == CS_LAB_SC_EXPIRED_INTERMEDIATE;
  if (err == 0)
    err = make_ca(&s->intermediate, "certskew lab intermediate I1", &s->root,
                  expired ? t - 400 * DAY : t - 30 * DAY, expired ? t - DAY : t + 1095 * DAY,
                  f_rng, p_rng);
  return err;
}

static int make_logs(cs_lab_scenario_t *s, int64_t t, cs_lab_rng_fn f_rng, void *p_rng) {
  int err = cs_lab_ct_log_generate(&s->logs[0], CS_SCT_SIG_ECDSA, "certskew lab log A",
                                   "certskew lab operator A", t - 90 * DAY, f_rng, p_rng);
  if (err == 0)
    err = cs_lab_ct_log_generate(&s->logs[1], CS_SCT_SIG_ECDSA, "certskew lab log B",
                                 "certskew lab operator B", t - 90 * DAY, f_rng, p_rng);
  const cs_lab_ct_log_t *logs[2] = {&s->logs[0], &s->logs[1]};
  if (err == 0)
    err = cs_lab_ct_chrome_log_list(logs, 2, t, &s->log_list_json);
  if (err == 0)
    err = cs_lab_ct_openssl_log_file(logs, 2, &s->openssl_log_file);
  return err;
}

static int make_leaf(cs_lab_scenario_t *s, const char *dns, int64_t t, cs_lab_rng_fn f_rng,
                     void *p_rng) {
  uint8_t *aia = NULL, *crldp = NULL;
  size_t aia_len = 0, crldp_len = 0;
  char pre_dns[260];
  int err = lab_sc_aia_value(s->ocsp_url, s->ca_issuers_url, &aia, &aia_len);
  if (err == 0)
    err = lab_sc_crldp_value(s->crl_url, &crldp, &crldp_len);
  if (err != 0)
    goto done;
  cs_lab_ct_ext_t exts[2] = {{LAB_OID_AIA, sizeof(LAB_OID_AIA), 0, aia, aia_len},
                             {LAB_OID_CRLDP, sizeof(LAB_OID_CRLDP), 0, crldp, crldp_len}};
  const cs_lab_ct_log_t *logs[2] = {&s->logs[0], &s->logs[1]};
  /* Two logs answer a few tens of ms apart; the later one is the issuance. */
  int64_t offsets[2] = {-62, 0};
  if (s->id == CS_LAB_SC_SCT_FUTURE)
    offsets[0] = 5 * CS_MS_PER_MINUTE;
  cs_lab_ct_leaf_spec_t spec = {0};
  spec.dns_name = dns;
  static const uint8_t loopback[4] = {127, 0, 0, 1};
  spec.ipv4_san = loopback; /* the lab serves on 127.0.0.1 */
  spec.backdate_ms = s->id == CS_LAB_SC_FUTURE_NOTBEFORE ? -HOUR : HOUR;
  if (s->id == CS_LAB_SC_PRECERT_NO_FINAL)
    spec.backdate_ms = 0; /* its age (no SCTs to date it) is then the time since issuance */
  spec.lifetime_ms = 90 * DAY;
  spec.logs = logs;
  spec.nlogs = 2;
  spec.sct_offsets_ms = offsets;
  spec.exts = exts;
  spec.nexts = 2;
  if (s->id == CS_LAB_SC_PRECERT_MISMATCH) {
    (void)snprintf(pre_dns, sizeof(pre_dns), "www.%s", dns);
    spec.precert_dns_name = pre_dns;
  }
  err = cs_lab_ct_leaf_issue(&s->leaf, &s->intermediate, &spec, t, f_rng, p_rng);
done:
  free(aia);
  free(crldp);
  return err;
}

/* Builds one more CRL of the intermediate into s->extra_crls (served at path). */
static int extra_crl(cs_lab_scenario_t *s, const char *path, const cs_lab_crl_spec_t *c,
                     cs_lab_rng_fn f_rng, void *p_rng) {
  if (s->nextra_crls == CS_LAB_MAX_EXTRA_CRLS)
    return CS_ENOSPACE;
  cs_lab_crl_file_t *x = &s->extra_crls[s->nextra_crls];
  (void)snprintf(x->path, sizeof(x->path), "%s", path);
  int err = cs_lab_crl_build(s->intermediate.der, s->intermediate.der_len, &s->intermediate.key, c,
                             f_rng, p_rng, &x->der, &x->der_len);
  if (err == 0)
    s->nextra_crls++;
  return err;
}

/* Two other revoked serials that stay where they are, so that only the leaf's
 * entry changes between CRLs. */
static const uint8_t OTHER_SERIAL_1[] = {0x0C, 0x0A, 0xFE, 0x01};
static const uint8_t OTHER_SERIAL_2[] = {0x0C, 0x0A, 0xFE, 0x02};

/* crl-dropped-entry: the CRL at T lists the revoked leaf (crl-prev.der); the
 * next, an hour later, lost it (crl.der), though the leaf is valid 90 days. */
static int make_dropped(cs_lab_scenario_t *s, const mbedtls_x509_crt *leaf, int64_t t,
                        cs_lab_rng_fn f_rng, void *p_rng) {
  cs_lab_crl_entry_t prev[2] = {{leaf->serial.p, leaf->serial.len, t},
                                {OTHER_SERIAL_1, sizeof(OTHER_SERIAL_1), t - DAY}};
  cs_lab_crl_spec_t c = {t, 1, t + 7 * DAY, 1, prev, 2, NULL};
  int err = extra_crl(s, "/crl-prev.der", &c, f_rng, p_rng);
  cs_lab_crl_spec_t next = {t + HOUR, 1, t + HOUR + 7 * DAY, 2, &prev[1], 1, NULL};
  if (err == 0)
    err = cs_lab_crl_build(s->intermediate.der, s->intermediate.der_len, &s->intermediate.key,
                           &next, f_rng, p_rng, &s->crl_der, &s->crl_der_len);
  return err;
}

/* crl-shard-drift: two shards, each with a critical IDP naming its URL. At T
 * (/before/N.crl) the leaf is in shard 1, which its CRLDP names; an hour later
 * (/crl/N.crl, served at the IDP URLs) it sits in shard 2. crl.der is the
 * current shard 1, the one a client following the CRLDP reads. */
static int make_shards(cs_lab_scenario_t *s, const mbedtls_x509_crt *leaf, int64_t t,
                       const char *base, cs_lab_rng_fn f_rng, void *p_rng) {
  char url1[CS_LAB_URL_MAX], url2[CS_LAB_URL_MAX];
  (void)snprintf(url1, sizeof(url1), "%s/crl/1.crl", base);
  (void)snprintf(url2, sizeof(url2), "%s/crl/2.crl", base);
  cs_lab_crl_entry_t e1[2] = {{leaf->serial.p, leaf->serial.len, t},
                              {OTHER_SERIAL_1, sizeof(OTHER_SERIAL_1), t - DAY}};
  cs_lab_crl_entry_t e2[2] = {{leaf->serial.p, leaf->serial.len, t},
                              {OTHER_SERIAL_2, sizeof(OTHER_SERIAL_2), t - DAY}};
  cs_lab_crl_spec_t b1 = {t, 1, t + 7 * DAY, 1, e1, 2, url1};
  cs_lab_crl_spec_t b2 = {t, 1, t + 7 * DAY, 1, &e2[1], 1, url2};
  cs_lab_crl_spec_t a1 = {t + HOUR, 1, t + HOUR + 7 * DAY, 2, &e1[1], 1, url1};
  cs_lab_crl_spec_t a2 = {t + HOUR, 1, t + HOUR + 7 * DAY, 2, e2, 2, url2};
  int err = extra_crl(s, "/before/1.crl", &b1, f_rng, p_rng);
  if (err == 0)
    err = extra_crl(s, "/before/2.crl", &b2, f_rng, p_rng);
  if (err == 0)
    err = extra_crl(s, "/crl/1.crl", &a1, f_rng, p_rng);
  if (err == 0)
    err = extra_crl(s, "/crl/2.crl", &a2, f_rng, p_rng);
  if (err == 0 && (s->crl_der = malloc(s->extra_crls[2].der_len)) == NULL)
    err = CS_ENOMEM;
  if (err == 0) {
    memcpy(s->crl_der, s->extra_crls[2].der, s->extra_crls[2].der_len);
    s->crl_der_len = s->extra_crls[2].der_len;
  }
  return err;
}

/* The responder's answer and the CA's CRL for the leaf. */
static int make_revocation(cs_lab_scenario_t *s, int64_t t, const char *base, cs_lab_rng_fn f_rng,
                           void *p_rng) {
  mbedtls_x509_crt leaf;
  mbedtls_x509_crt_init(&leaf);
  int err = CS_EPARSE;
  if (mbedtls_x509_crt_parse_der(&leaf, s->leaf.der, s->leaf.der_len) != 0)
    goto done;
  /* Responses are pre-signed at issuance and backdated like notBefore. */
  cs_lab_ocsp_spec_t o = {0};
  o.response_status = CS_OCSP_SUCCESSFUL;
  o.cert_status = CS_OCSP_CERT_GOOD;
  o.revocation_reason = -1;
  o.produced_at_ms = o.this_update_ms = t - HOUR;
  o.has_next_update = 1;
  o.next_update_ms = t + 7 * DAY;
  cs_lab_crl_entry_t entry = {leaf.serial.p, leaf.serial.len, t};
  cs_lab_crl_spec_t c = {t - HOUR, 1, t + 7 * DAY, 1, NULL, 0, NULL};
  switch (s->id) {
  case CS_LAB_SC_OCSP_UNAUTHORIZED:
  case CS_LAB_SC_PRECERT_NO_FINAL:
    o.response_status = CS_OCSP_UNAUTHORIZED;
    break;
  case CS_LAB_SC_CRL_DROPPED_ENTRY:
  case CS_LAB_SC_CRL_SHARD_DRIFT: /* the truth: revoked at T; OCSP keeps saying so */
    o.cert_status = CS_OCSP_CERT_REVOKED;
    o.revocation_time_ms = t;
    o.revocation_reason = 1; /* keyCompromise */
    o.produced_at_ms = o.this_update_ms = t;
    break;
  case CS_LAB_SC_OCSP_STALE:
    o.produced_at_ms = o.this_update_ms = t - 8 * DAY;
    o.next_update_ms = t - HOUR;
    break;
  case CS_LAB_SC_CRL_STALE:
    c.this_update_ms = t - 8 * DAY;
    c.next_update_ms = t - DAY;
    break;
  case CS_LAB_SC_REVOKED:
    o.cert_status = CS_OCSP_CERT_REVOKED;
    o.revocation_time_ms = t;
    o.revocation_reason = 1; /* keyCompromise */
    o.produced_at_ms = o.this_update_ms = t;
    c.this_update_ms = t;
    c.entries = &entry;
    c.nentries = 1;
    break;
  default:
    break;
  }
  err = cs_lab_ocsp_response(s->intermediate.der, s->intermediate.der_len, &s->intermediate.key,
                             leaf.serial.p, leaf.serial.len, &o, f_rng, p_rng, &s->ocsp_der,
                             &s->ocsp_der_len);
  if (err == 0 && s->id == CS_LAB_SC_CRL_DROPPED_ENTRY)
    err = make_dropped(s, &leaf, t, f_rng, p_rng);
  else if (err == 0 && s->id == CS_LAB_SC_CRL_SHARD_DRIFT)
    err = make_shards(s, &leaf, t, base, f_rng, p_rng);
  else if (err == 0)
    err = cs_lab_crl_build(s->intermediate.der, s->intermediate.der_len, &s->intermediate.key, &c,
                           f_rng, p_rng, &s->crl_der, &s->crl_der_len);
done:
  mbedtls_x509_crt_free(&leaf);
  return err;
}

static int make_pems(cs_lab_scenario_t *s) {
  /* precert-no-final: the precertificate is all there is of the leaf. */
  int err = s->id == CS_LAB_SC_PRECERT_NO_FINAL
                ? append_pem(&s->chain_pem, s->leaf.precert_der, s->leaf.precert_der_len)
                : append_pem(&s->chain_pem, s->leaf.der, s->leaf.der_len);
  if (err == 0 && s->id != CS_LAB_SC_MISSING_INTERMEDIATE)
    err = append_pem(&s->chain_pem, s->intermediate.der, s->intermediate.der_len);
  if (err == 0 && s->cross_der != NULL)
    err = append_pem(&s->chain_pem, s->cross_der, s->cross_der_len);
  if (err == 0)
    err = append_pem(&s->trust_pem, s->root.der, s->root.der_len);
  if (err == 0 && s->legacy_root.der != NULL)
    err = append_pem(&s->legacy_trust_pem, s->legacy_root.der, s->legacy_root.der_len);
  if (err == 0)
    err = append_pem(&s->intermediate_pem, s->intermediate.der, s->intermediate.der_len);
  if (err == 0)
    err = cs_lab_ct_key_pem(&s->leaf.key, &s->leaf_key_pem);
  return err;
}

int cs_lab_scenario_build(cs_lab_scenario_t *s, cs_lab_scenario_id_t id,
                          const cs_lab_scenario_params_t *params, cs_lab_rng_fn f_rng,
                          void *p_rng) {
  if (s == NULL)
    return CS_EINVAL;
  cs_lab_scenario_init(s);
  if (params == NULL || f_rng == NULL || (unsigned)id >= CS_LAB_SC_COUNT)
    return CS_EINVAL;
  const char *dns = params->dns_name ? params->dns_name : "localhost";
  const char *base = params->base_url ? params->base_url : "http://127.0.0.1:9";
  int64_t t = params->issued_ms;
  /* Every offset used below stays within +-25 years of T. */
  if (t < INT64_C(-60000000000000) || t > INT64_C(250000000000000))
    return CS_ERANGE;
  if (strlen(dns) > 200 || strlen(base) + 20 > CS_LAB_URL_MAX)
    return CS_EINVAL;
  s->id = id;
  s->issued_ms = t;
  (void)snprintf(s->ocsp_url, sizeof(s->ocsp_url), "%s/ocsp", base);
  if (id == CS_LAB_SC_CRL_SHARD_DRIFT) /* the leaf's CRLDP names shard 1 */
    (void)snprintf(s->crl_url, sizeof(s->crl_url), "%s/crl/1.crl", base);
  else
    (void)snprintf(s->crl_url, sizeof(s->crl_url), "%s/crl.der", base);
  (void)snprintf(s->ca_issuers_url, sizeof(s->ca_issuers_url), "%s/intermediate.der", base);
  int err = make_logs(s, t, f_rng, p_rng);
  if (err == 0)
    err = make_hierarchy(s, t, f_rng, p_rng);
  if (err == 0)
    err = make_leaf(s, dns, t, f_rng, p_rng);
  if (err == 0)
    err = make_revocation(s, t, base, f_rng, p_rng);
  if (err == 0)
    err = make_pems(s);
  if (err != 0)
    cs_lab_scenario_free(s);
  return err;
}
