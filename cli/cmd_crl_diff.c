/*
 * `certskew crl-diff OLD NEW [--cert FILE]... [--issuer FILE] [--json]`
 *
 * Two CRLs of one issuer and scope: serials added and removed, whether the
 * CRL number, thisUpdate and nextUpdate go forward, and CRL_ENTRY_DROPPED for
 * each removed serial whose certificate (given) had not expired.
 *
 * Exit status: 0 nothing wrong, 1 an error finding, 2 usage error, 3 an input
 * unreadable or malformed, or the two CRLs not of one issuer and scope.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/core/time.h"
#include "cli_commands.h"
#include "cmd_args.h"
#include "crl_cli.h"

enum { EXIT_OK = 0, EXIT_WRONG = 1, EXIT_USAGE = 2, EXIT_INPUT = 3 };

static void usage(FILE *out) {
  fprintf(out,
          "usage: certskew crl-diff OLD.crl NEW.crl [--cert FILE]... [--issuer FILE] [--json]\n"
          "\n"
          "Compares two CRLs (DER or PEM) of one issuer and one scope (the same issuing\n"
          "distribution point): serials added and removed, and whether the CRL number,\n"
          "thisUpdate and nextUpdate go forward. A removed serial whose certificate is\n"
          "given and not expired at NEW's thisUpdate is CRL_ENTRY_DROPPED (BR 4.10.1).\n"
          "\n"
          "options:\n"
          "  --cert FILE     certificates (PEM, several per file, or DER) to check removals\n"
          "  --issuer FILE   the CA certificate: both CRLs must verify with it\n"
          "  --json          print JSON    --compact  with --json: one line\n"
          "\n"
          "exit status: 0 nothing wrong, 1 something wrong, 2 usage error, 3 unreadable,\n"
          "malformed or mismatched CRLs\n");
}

static int verify(const char *path, const char *label, const cs_crl_list_t *l,
                  const mbedtls_x509_crt *issuer) {
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_crl_list_verify(l, issuer, &eb) == 0)
    return 0;
  fprintf(stderr, "certskew crl-diff: %s (%s): %s\n", label, path, eb.msg);
  return -1;
}

static int print_json(const cs_crl_list_t *o, const cs_crl_list_t *n, const char *op,
                      const char *np, const cs_crl_diff_t *d, cs_findings_t *f, int compact) {
  cJSON *root = cJSON_CreateObject(), *added = cJSON_CreateArray(), *removed = cJSON_CreateArray();
  int ok = root && added && removed;
  if (ok) {
    cJSON_AddItemToObject(root, "added", added);
    cJSON_AddItemToObject(root, "removed", removed);
  } else {
    cJSON_Delete(added);
    cJSON_Delete(removed);
  }
  char hex[2 * 32 + 1];
  for (size_t i = 0; ok && i < d->nadded; i++) {
    cs_crl_hex(n->serials[d->added[i]].p, n->serials[d->added[i]].len, hex, sizeof(hex));
    ok = cJSON_AddItemToArray(added, cJSON_CreateString(hex));
  }
  for (size_t i = 0; ok && i < d->nremoved; i++) {
    cs_crl_hex(o->serials[d->removed[i]].p, o->serials[d->removed[i]].len, hex, sizeof(hex));
    ok = cJSON_AddItemToArray(removed, cJSON_CreateString(hex));
  }
  cJSON *jo = ok ? crl_cli_crl_json(o, op) : NULL, *jn = ok ? crl_cli_crl_json(n, np) : NULL;
  cJSON *jf = ok ? cs_crl_findings_json(f) : NULL;
  ok = ok && jo && jn && jf;
  if (ok) {
    cJSON_AddItemToObject(root, "old", jo);
    cJSON_AddItemToObject(root, "new", jn);
    cJSON_AddItemToObject(root, "findings", jf);
    ok = cJSON_AddBoolToObject(root, "ok", cs_findings_worst(f) != CS_SEV_ERROR) != NULL;
  } else {
    cJSON_Delete(jo);
    cJSON_Delete(jn);
    cJSON_Delete(jf);
  }
  if (!ok) {
    cJSON_Delete(root);
    root = NULL;
  }
  return crl_cli_print_json(root, compact);
}

static void print_text(const cs_crl_list_t *o, const cs_crl_list_t *n, const char *op,
                       const char *np, const cs_crl_diff_t *d, cs_findings_t *f) {
  char hex[2 * 32 + 1], t[CS_TIME_STRLEN];
  crl_cli_print_crl(stdout, op, o);
  crl_cli_print_crl(stdout, np, n);
  printf("added: %zu\n", d->nadded);
  for (size_t i = 0; i < d->nadded; i++) {
    const cs_crl_serial_t *s = &n->serials[d->added[i]];
    cs_crl_hex(s->p, s->len, hex, sizeof(hex));
    cs_time_format(s->revoked_ms, t);
    printf("  + %s  revoked %s\n", hex, t);
  }
  printf("removed: %zu\n", d->nremoved);
  for (size_t i = 0; i < d->nremoved; i++) {
    const cs_crl_serial_t *s = &o->serials[d->removed[i]];
    cs_crl_hex(s->p, s->len, hex, sizeof(hex));
    cs_time_format(s->revoked_ms, t);
    printf("  - %s  revoked %s\n", hex, t);
  }
  crl_cli_print_findings(stdout, f);
}

int cs_cmd_crl_diff(int argc, char **argv) {
  const char *paths[2] = {NULL, NULL}, *issuer_path = NULL;
  size_t npaths = 0;
  int json = 0, compact = 0, status = EXIT_OK;
  crl_cli_certs_t *certs = malloc(sizeof(*certs)); /* freed below: too big for the stack */
  if (certs == NULL)
    return EXIT_INPUT;
  crl_cli_certs_init(certs);
  cs_crl_list_t crl[2];
  cs_crl_list_init(&crl[0]);
  cs_crl_list_init(&crl[1]);
  cs_crl_diff_t diff;
  cs_crl_diff_init(&diff);
  cs_findings_t *f = NULL;
  for (int i = 1; i < argc && status == EXIT_OK; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      goto done;
    } else if (strcmp(a, "--json") == 0) {
      json = 1;
    } else if (strcmp(a, "--compact") == 0) {
      compact = 1;
    } else if (strcmp(a, "--cert") == 0 || strcmp(a, "--issuer") == 0) {
      const char *v = cs_cmd_value(argc, argv, &i, "crl-diff");
      if (v == NULL)
        status = EXIT_USAGE;
      else if (a[2] == 'i')
        issuer_path = v;
      else if (crl_cli_certs_add_path(certs, "crl-diff", v) != 0)
        status = EXIT_USAGE;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "certskew crl-diff: unknown option '%s' (see --help)\n", a);
      status = EXIT_USAGE;
    } else if (npaths < 2) {
      paths[npaths++] = a;
    } else {
      fprintf(stderr, "certskew crl-diff: two CRLs, OLD and NEW ('%s' is extra)\n", a);
      status = EXIT_USAGE;
    }
  }
  if (status == EXIT_OK && npaths != 2) {
    usage(stderr);
    status = EXIT_USAGE;
  }
  if (status != EXIT_OK)
    goto done;
  status = EXIT_INPUT;
  if (crl_cli_load("crl-diff", paths[0], &crl[0]) != 0 ||
      crl_cli_load("crl-diff", paths[1], &crl[1]) != 0 ||
      crl_cli_certs_load(certs, "crl-diff") != 0)
    goto done;
  if (issuer_path != NULL) {
    crl_cli_certs_t *one = malloc(sizeof(*one));
    int ok = one != NULL;
    if (ok) {
      crl_cli_certs_init(one);
      ok = crl_cli_certs_add_path(one, "crl-diff", issuer_path) == 0 &&
           crl_cli_certs_load(one, "crl-diff") == 0 &&
           verify(paths[0], "OLD", &crl[0], &one->crts[0]) == 0 &&
           verify(paths[1], "NEW", &crl[1], &one->crts[0]) == 0;
      crl_cli_certs_free(one);
      free(one);
    }
    if (!ok)
      goto done;
  }
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if ((f = cs_findings_new()) == NULL)
    goto done;
  if (cs_crl_diff_run(&crl[0], &crl[1], certs->certs, certs->ncerts, &diff, f, &eb) != 0) {
    fprintf(stderr, "certskew crl-diff: %s\n", eb.msg[0] ? eb.msg : cs_strerror(eb.code));
    goto done;
  }
  if (json) {
    if (print_json(&crl[0], &crl[1], paths[0], paths[1], &diff, f, compact) != 0)
      goto done;
  } else {
    print_text(&crl[0], &crl[1], paths[0], paths[1], &diff, f);
  }
  status = cs_findings_worst(f) == CS_SEV_ERROR ? EXIT_WRONG : EXIT_OK;
done:
  cs_findings_free(f);
  cs_crl_diff_free(&diff);
  cs_crl_list_free(&crl[0]);
  cs_crl_list_free(&crl[1]);
  crl_cli_certs_free(certs);
  free(certs);
  return status;
}
