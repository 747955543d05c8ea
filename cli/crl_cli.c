/* Loading and printing for the CRL commands (see crl_cli.h). */
#include "crl_cli.h"

#include <stdlib.h>
#include <string.h>

#include "certskew/core/time.h"
#include "certskew/store/file_io.h"

#define CERT_FILE_MAX (1024 * 1024)

void crl_cli_certs_init(crl_cli_certs_t *c) {
  memset(c, 0, sizeof(*c));
  for (size_t i = 0; i < CS_CRL_CLI_MAX_CERTS; i++)
    mbedtls_x509_crt_init(&c->crts[i]);
}

void crl_cli_certs_free(crl_cli_certs_t *c) {
  if (c == NULL)
    return;
  for (size_t i = 0; i < CS_CRL_CLI_MAX_CERTS; i++)
    mbedtls_x509_crt_free(&c->crts[i]);
  crl_cli_certs_init(c);
}

int crl_cli_certs_add_path(crl_cli_certs_t *c, const char *cmd, const char *path) {
  if (c->nfiles == CS_CRL_CLI_MAX_CERTS) {
    fprintf(stderr, "certskew %s: at most %d --cert files\n", cmd, CS_CRL_CLI_MAX_CERTS);
    return -1;
  }
  c->paths[c->nfiles++] = path;
  return 0;
}

int crl_cli_certs_load(crl_cli_certs_t *c, const char *cmd) {
  for (size_t i = 0; i < c->nfiles; i++) {
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cs_file_read(c->paths[i], CERT_FILE_MAX, &buf, &len, &eb) != 0) {
      fprintf(stderr, "certskew %s: %s: %s\n", cmd, c->paths[i],
              eb.msg[0] ? eb.msg : cs_strerror(eb.code));
      return -1;
    }
    /* mbedTLS reads PEM from a NUL-terminated buffer whose length counts the NUL. */
    uint8_t *z = realloc(buf, len + 1);
    if (z == NULL) {
      free(buf);
      return -1;
    }
    z[len] = '\0';
    int pem = len > 10 && memcmp(z, "-----BEGIN", 10) == 0;
    int ret = mbedtls_x509_crt_parse(&c->crts[i], z, pem ? len + 1 : len);
    free(z);
    if (ret != 0) {
      fprintf(stderr, "certskew %s: %s: not a certificate (PEM or DER) mbedTLS can read "
              "(-0x%04x)\n", cmd, c->paths[i], (unsigned)-ret);
      return -1;
    }
    for (const mbedtls_x509_crt *x = &c->crts[i]; x != NULL && x->raw.len > 0; x = x->next) {
      if (c->ncerts == sizeof(c->certs) / sizeof(c->certs[0])) {
        fprintf(stderr, "certskew %s: too many certificates\n", cmd);
        return -1;
      }
      c->certs[c->ncerts].crt = x;
      c->certs[c->ncerts++].label = c->paths[i];
    }
  }
  return 0;
}

int crl_cli_load(const char *cmd, const char *path, cs_crl_list_t *l) {
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  uint8_t *buf = NULL;
  size_t len = 0;
  int ret = cs_file_read(path, CS_CRL_LIST_MAX_INPUT, &buf, &len, &eb);
  if (ret == 0)
    ret = cs_crl_list_parse(l, buf, len, &eb);
  free(buf);
  if (ret != 0) {
    fprintf(stderr, "certskew %s: %s: %s\n", cmd, path, eb.msg[0] ? eb.msg : cs_strerror(eb.code));
    return -1;
  }
  return 0;
}

void crl_cli_print_crl(FILE *out, const char *label, const cs_crl_list_t *l) {
  char tu[CS_TIME_STRLEN], nu[CS_TIME_STRLEN] = "none", num[2 * CS_CRL_NUMBER_MAX + 1] = "none";
  cs_time_format(l->this_update_ms, tu);
  if (l->has_next_update)
    cs_time_format(l->next_update_ms, nu);
  if (l->has_number)
    cs_crl_hex(l->number, l->number_len, num, sizeof(num));
  fprintf(out, "%s\n  issuer %s, CRL number %s, %zu serial(s)\n  thisUpdate %s, nextUpdate %s\n"
          "  IDP %s%s\n", label, l->issuer, num, l->nserials,
          tu, nu, l->has_idp ? (l->nidp_uris ? l->idp_uris[0] : "(no URI)") : "none",
          l->idp_partial ? " (partial scope)" : "");
}

static const char *sev(cs_severity_t s) {
  return s == CS_SEV_ERROR ? "ERROR" : s == CS_SEV_WARNING ? "WARNING" : "info";
}

size_t crl_cli_print_findings(FILE *out, cs_findings_t *f) {
  size_t errors = 0;
  if (cs_findings_count(f) == 0)
    fprintf(out, "no findings\n");
  for (size_t i = 0; i < cs_findings_count(f); i++) {
    const cs_finding_t *x = cs_findings_get(f, i);
    errors += x->severity == CS_SEV_ERROR;
    fprintf(out, "%-7s %s\n  %s\n  %s\n", sev(x->severity), x->code, x->summary, x->explanation);
    if (x->fix != NULL)
      fprintf(out, "  fix: %s\n", x->fix);
  }
  return errors;
}

cJSON *crl_cli_crl_json(const cs_crl_list_t *l, const char *label) {
  char t[CS_TIME_STRLEN], num[2 * CS_CRL_NUMBER_MAX + 1];
  cJSON *o = cJSON_CreateObject(), *idp = cJSON_CreateArray(), *serials = cJSON_CreateArray();
  int ok = o != NULL && idp != NULL && serials != NULL;
  if (ok) {
    cJSON_AddItemToObject(o, "idp", idp);
    cJSON_AddItemToObject(o, "serials", serials);
    idp = serials = NULL;
  }
  cJSON_Delete(idp);
  cJSON_Delete(serials);
  ok = ok && cJSON_AddStringToObject(o, "source", label) != NULL &&
       cJSON_AddStringToObject(o, "issuer", l->issuer) != NULL;
  if (ok && l->has_number) {
    cs_crl_hex(l->number, l->number_len, num, sizeof(num));
    ok = cJSON_AddStringToObject(o, "number", num) != NULL;
  }
  cs_time_format(l->this_update_ms, t);
  ok = ok && cJSON_AddStringToObject(o, "this_update", t) != NULL;
  if (ok && l->has_next_update) {
    cs_time_format(l->next_update_ms, t);
    ok = cJSON_AddStringToObject(o, "next_update", t) != NULL;
  }
  ok = ok && cJSON_AddBoolToObject(o, "idp_present", l->has_idp) != NULL;
  cJSON *ia = ok ? cJSON_GetObjectItem(o, "idp") : NULL, *sa = ok ? cJSON_GetObjectItem(o, "serials") : NULL;
  for (size_t i = 0; ok && i < l->nidp_uris; i++)
    ok = cJSON_AddItemToArray(ia, cJSON_CreateString(l->idp_uris[i]));
  for (size_t i = 0; ok && i < l->nserials; i++) {
    char hex[2 * 32 + 1];
    cs_crl_hex(l->serials[i].p, l->serials[i].len, hex, sizeof(hex));
    ok = cJSON_AddItemToArray(sa, cJSON_CreateString(hex));
  }
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

int crl_cli_print_json(cJSON *j, int compact) {
  char *text = j ? (compact ? cJSON_PrintUnformatted(j) : cJSON_Print(j)) : NULL;
  cJSON_Delete(j);
  if (text == NULL) {
    fprintf(stderr, "certskew: out of memory building the JSON\n");
    return -1;
  }
  puts(text);
  free(text);
  return 0;
}
