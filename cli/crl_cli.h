/* Loading and printing shared by the crl-diff and crl-shards commands. */
#ifndef CERTSKEW_CLI_CRL_CLI_H
#define CERTSKEW_CLI_CRL_CLI_H

#include <stdio.h>

#include <cjson/cJSON.h>
#include <mbedtls/x509_crt.h>

#include "certskew/revocation/crl_history.h"

#define CS_CRL_CLI_MAX_CERTS 64

/* Certificates given with --cert: parsed (PEM, several per file, or DER). */
typedef struct crl_cli_certs {
  mbedtls_x509_crt crts[CS_CRL_CLI_MAX_CERTS]; /* one per file (a file may hold a chain) */
  cs_crl_cert_t certs[CS_CRL_CLI_MAX_CERTS * 4];
  size_t nfiles, ncerts;
  const char *paths[CS_CRL_CLI_MAX_CERTS];
} crl_cli_certs_t;

void crl_cli_certs_init(crl_cli_certs_t *c);
void crl_cli_certs_free(crl_cli_certs_t *c);
/* Remembers a --cert path; prints and returns -1 when there are too many. */
int crl_cli_certs_add_path(crl_cli_certs_t *c, const char *cmd, const char *path);
/* Reads every remembered path; prints the reason and returns -1 on failure. */
int crl_cli_certs_load(crl_cli_certs_t *c, const char *cmd);

/* Reads and parses one CRL file ('-' is standard input); prints and returns
 * -1 on failure. */
int crl_cli_load(const char *cmd, const char *path, cs_crl_list_t *l);

/* One line about a CRL: issuer, number, times, IDP, serial count. */
void crl_cli_print_crl(FILE *out, const char *label, const cs_crl_list_t *l);
/* The findings, one block each; returns the number of errors. */
size_t crl_cli_print_findings(FILE *out, cs_findings_t *f);
/* {"issuer", "number", "this_update", "next_update", "idp", "serials"} or NULL on ENOMEM. */
cJSON *crl_cli_crl_json(const cs_crl_list_t *l, const char *label);
/* Prints j (pretty unless compact) and deletes it; -1 on ENOMEM. */
int crl_cli_print_json(cJSON *j, int compact);

#endif
