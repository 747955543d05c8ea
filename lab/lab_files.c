/* The lab's output directory (see lab_files.h). */
#include "certskew/lab/lab_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "certskew/core/time.h"
#include "certskew/store/file_io.h"
#include "certskew/store/fs.h"

const char cs_lab_files_help[] =
    "  chain.pem         the served chain (leaf first)    leaf.key    its private key\n"
    "  trust.pem         the trust anchor(s) for clients  intermediate.pem / .der\n"
    "  legacy-trust.pem  expired-root-cross-sign: an old client's store (the legacy root)\n"
    "  log_list.json     Chrome v3 log list of the lab CT logs (--log-list)\n"
    "  ct_logs.cnf       the same for openssl s_client -ct -ctlogfile\n"
    "  ocsp.der          the responder's answer            crl.der   the CA's CRL\n"
    "  crl-prev.der      crl-dropped-entry: the CA's previous CRL\n"
    "  before/N.crl, crl/N.crl  crl-shard-drift: the shards of the previous and current run\n"
    "  lab.env           shell variables (LAB_TLS, LAB_HTTP, LAB_OCSP_URL, ...)\n"
    "  lab.json          scenario, times, addresses, cause codes\n";

static int put(const char *dir, const char *name, const void *p, size_t n, unsigned mode,
               cs_errbuf_t *eb) {
  char path[4200];
  (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
  return cs_file_write_atomic(path, p, n, mode, eb);
}

static int put_str(const char *dir, const char *name, const char *s, cs_errbuf_t *eb) {
  return put(dir, name, s, strlen(s), 0644, eb);
}

static char *lab_json(const cs_lab_scenario_t *sc, const cs_lab_addrs_t *a) {
  const cs_lab_scenario_info_t *info = cs_lab_scenario_info(sc->id);
  char t[CS_TIME_STRLEN], addr[64];
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "scenario", info->name);
  cJSON_AddStringToObject(o, "summary", info->summary);
  cJSON *codes = cJSON_AddArrayToObject(o, "cause_codes");
  char buf[200];
  (void)snprintf(buf, sizeof(buf), "%s", info->cause_codes);
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
    cJSON_AddItemToArray(codes, cJSON_CreateString(tok));
  cs_time_format(sc->issued_ms, t);
  cJSON_AddStringToObject(o, "issued", t);
  cJSON_AddNumberToObject(o, "issued_ms", (double)sc->issued_ms);
  cJSON_AddStringToObject(o, "dns_name", a->dns_name);
  if (a->tls_port > 0) {
    (void)snprintf(addr, sizeof(addr), "127.0.0.1:%d", a->tls_port);
    cJSON_AddStringToObject(o, "tls", addr);
  }
  if (a->http_port > 0) {
    (void)snprintf(addr, sizeof(addr), "127.0.0.1:%d", a->http_port);
    cJSON_AddStringToObject(o, "http", addr);
  }
  cJSON_AddStringToObject(o, "ocsp_url", sc->ocsp_url);
  cJSON_AddStringToObject(o, "crl_url", sc->crl_url);
  cJSON_AddStringToObject(o, "ca_issuers_url", sc->ca_issuers_url);
  cJSON_AddBoolToObject(o, "stapling", 0);
  char *text = cJSON_Print(o);
  cJSON_Delete(o);
  return text;
}

int cs_lab_files_write(const char *dir, const cs_lab_scenario_t *sc, const cs_lab_addrs_t *a,
                       cs_errbuf_t *eb) {
  char env[2048], *json = NULL;
  int err = cs_fs_mkdirs(dir, 0700, eb);
  if (err == 0)
    err = put_str(dir, "chain.pem", sc->chain_pem, eb);
  if (err == 0)
    err = put(dir, "leaf.key", sc->leaf_key_pem, strlen(sc->leaf_key_pem), 0600, eb);
  if (err == 0)
    err = put_str(dir, "trust.pem", sc->trust_pem, eb);
  if (err == 0)
    err = put_str(dir, "intermediate.pem", sc->intermediate_pem, eb);
  if (err == 0 && sc->legacy_trust_pem != NULL)
    err = put_str(dir, "legacy-trust.pem", sc->legacy_trust_pem, eb);
  if (err == 0)
    err = put(dir, "intermediate.der", sc->intermediate.der, sc->intermediate.der_len, 0644, eb);
  if (err == 0)
    err = put_str(dir, "log_list.json", sc->log_list_json, eb);
  if (err == 0)
    err = put_str(dir, "ct_logs.cnf", sc->openssl_log_file, eb);
  if (err == 0)
    err = put(dir, "ocsp.der", sc->ocsp_der, sc->ocsp_der_len, 0644, eb);
  if (err == 0)
    err = put(dir, "crl.der", sc->crl_der, sc->crl_der_len, 0644, eb);
  for (size_t i = 0; err == 0 && i < sc->nextra_crls; i++) { /* "/before/1.crl": a subfolder */
    char sub[4200];
    const char *name = sc->extra_crls[i].path + 1, *slash = strrchr(name, '/');
    if (slash != NULL) {
      (void)snprintf(sub, sizeof(sub), "%s/%.*s", dir, (int)(slash - name), name);
      err = cs_fs_mkdirs(sub, 0700, eb);
    }
    if (err == 0)
      err = put(dir, name, sc->extra_crls[i].der, sc->extra_crls[i].der_len, 0644, eb);
  }
  if (err != 0)
    return err;
  if ((json = lab_json(sc, a)) == NULL)
    return cs_errbuf_set(eb, CS_ENOMEM, "out of memory");
  err = put_str(dir, "lab.json", json, eb);
  free(json);
  (void)snprintf(env, sizeof(env),
                 "LAB_SCENARIO=%s\nLAB_TLS=127.0.0.1:%d\nLAB_TLS_PORT=%d\nLAB_HTTP=127.0.0.1:%d\n"
                 "LAB_HTTP_PORT=%d\nLAB_NAME=%s\nLAB_OCSP_URL=%s\nLAB_CRL_URL=%s\n"
                 "LAB_CA_ISSUERS_URL=%s\nLAB_ISSUED_MS=%lld\n",
                 cs_lab_scenario_info(sc->id)->name, a->tls_port, a->tls_port, a->http_port,
                 a->http_port, a->dns_name, sc->ocsp_url, sc->crl_url, sc->ca_issuers_url,
                 (long long)sc->issued_ms);
  /* lab.env last: its presence tells a script that everything is written. */
  if (err == 0)
    err = put_str(dir, "lab.env", env, eb);
  return err;
}
