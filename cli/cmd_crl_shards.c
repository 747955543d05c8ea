/*
 * `certskew crl-shards [--at TIME] [--url URL] CRL... [--cert FILE]... [--issuer FILE]`
 * `certskew crl-shards --before DIR --after DIR [--cert FILE]...`
 *
 * All CRL shards of one issuer: shards without an issuing distribution point
 * or published at another URL than it names, serials listed in two shards,
 * and CRL_SHARD_MISMATCH when a given certificate's revocation sits in a
 * shard other than the one its CRL distribution point names. With two sets,
 * CRL_SHARD_DRIFT for each serial that changed shard.
 *
 * Exit status: 0 nothing wrong, 1 an error finding, 2 usage error, 3 an input
 * unreadable or malformed, or shards not of one issuer.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/core/time.h"
#include "cli_commands.h"
#include "cmd_args.h"
#include "crl_cli.h"

enum { EXIT_OK = 0, EXIT_WRONG = 1, EXIT_USAGE = 2, EXIT_INPUT = 3 };
#define MAX_SHARDS 256
#define NAME_MAX_LEN 1024

static void usage(FILE *out) {
  fprintf(out,
          "usage: certskew crl-shards [--at TIME] [--url URL] CRL... [--cert FILE]... [--json]\n"
          "       certskew crl-shards --before DIR --after DIR [--cert FILE]... [--json]\n"
          "\n"
          "Checks all CRL shards (DER or PEM) of one issuer: a shard without an issuing\n"
          "distribution point (CRL_SHARD_IDP_MISSING), one published at a URL its IDP does\n"
          "not name (CRL_SHARD_IDP_MISMATCH), a serial in two shards\n"
          "(CRL_SERIAL_IN_TWO_SHARDS), and a given certificate whose revocation is listed\n"
          "in a shard other than the one its CRL distribution point names\n"
          "(CRL_SHARD_MISMATCH). With --before/--after (directories of one run's shards\n"
          "each), CRL_SHARD_DRIFT for each serial that changed shard.\n"
          "\n"
          "options:\n"
          "  --url URL       the URL the next CRL was published at (checked against its IDP)\n"
          "  --at TIME       certificates expired then are not checked (default: the\n"
          "                  latest thisUpdate of the shards)\n"
          "  --cert FILE     certificates (PEM, several per file, or DER)\n"
          "  --issuer FILE   the CA certificate: every shard must verify with it\n"
          "  --json          print JSON    --compact  with --json: one line\n"
          "\n"
          "exit status: 0 nothing wrong, 1 something wrong, 2 usage error, 3 unreadable,\n"
          "malformed or mismatched CRLs\n");
}

typedef struct shard_set {
  cs_crl_list_t crls[MAX_SHARDS];
  cs_crl_shard_t shards[MAX_SHARDS];
  char names[MAX_SHARDS][NAME_MAX_LEN];
  size_t n;
} shard_set_t;

typedef struct state {
  shard_set_t sets[2]; /* operands (or --before), --after */
  crl_cli_certs_t certs;
} state_t;

static void set_free(shard_set_t *s) {
  for (size_t i = 0; i < MAX_SHARDS; i++)
    cs_crl_list_free(&s->crls[i]);
}

static int set_add(shard_set_t *s, const char *path, const char *url) {
  if (s->n == MAX_SHARDS) {
    fprintf(stderr, "certskew crl-shards: at most %d shards per set\n", MAX_SHARDS);
    return -1;
  }
  size_t i = s->n;
  snprintf(s->names[i], sizeof(s->names[i]), "%s", path);
  if (crl_cli_load("crl-shards", path, &s->crls[i]) != 0)
    return -1;
  s->shards[i].crl = &s->crls[i];
  s->shards[i].url = url;
  s->shards[i].label = s->names[i];
  s->n++;
  return 0;
}

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular-looking entry of dir (not starting with '.'), sorted. */
static int set_load_dir(shard_set_t *s, const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    fprintf(stderr, "certskew crl-shards: %s: cannot open the directory\n", dir);
    return -1;
  }
  char *names[MAX_SHARDS + 1];
  size_t n = 0;
  int ret = 0;
  struct dirent *e;
  while (ret == 0 && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    if (n == MAX_SHARDS) {
      fprintf(stderr, "certskew crl-shards: %s: more than %d files\n", dir, MAX_SHARDS);
      ret = -1;
    } else if ((names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2)) == NULL) {
      ret = -1;
    } else {
      sprintf(names[n++], "%s/%s", dir, e->d_name);
    }
  }
  closedir(d);
  if (ret == 0 && n == 0) {
    fprintf(stderr, "certskew crl-shards: %s: no CRL in the directory\n", dir);
    ret = -1;
  }
  qsort(names, n, sizeof(names[0]), name_cmp);
  for (size_t i = 0; i < n; i++) {
    if (ret == 0)
      ret = set_add(s, names[i], NULL);
    free(names[i]);
  }
  return ret;
}

static int verify_all(const shard_set_t *s, const mbedtls_x509_crt *issuer) {
  for (size_t i = 0; i < s->n; i++) {
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    if (cs_crl_list_verify(&s->crls[i], issuer, &eb) != 0) {
      fprintf(stderr, "certskew crl-shards: %s: %s\n", s->names[i], eb.msg);
      return -1;
    }
  }
  return 0;
}

static cJSON *set_json(const shard_set_t *s) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a != NULL && i < s->n; i++) {
    cJSON *o = crl_cli_crl_json(&s->crls[i], s->names[i]);
    if (o != NULL && s->shards[i].url != NULL)
      cJSON_AddStringToObject(o, "url", s->shards[i].url);
    if (o == NULL || !cJSON_AddItemToArray(a, o)) {
      cJSON_Delete(o);
      cJSON_Delete(a);
      return NULL;
    }
  }
  return a;
}

static int print_json(const state_t *st, int drift, cs_findings_t *f, int compact) {
  cJSON *root = cJSON_CreateObject();
  cJSON *a = set_json(&st->sets[0]), *b = drift ? set_json(&st->sets[1]) : NULL;
  cJSON *jf = cs_crl_findings_json(f);
  int ok = root && a && (!drift || b) && jf;
  if (ok) {
    cJSON_AddItemToObject(root, drift ? "before" : "shards", a);
    if (drift)
      cJSON_AddItemToObject(root, "after", b);
    cJSON_AddItemToObject(root, "findings", jf);
    ok = cJSON_AddBoolToObject(root, "ok", cs_findings_worst(f) != CS_SEV_ERROR) != NULL;
  } else {
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(jf);
  }
  if (!ok) {
    cJSON_Delete(root);
    root = NULL;
  }
  return crl_cli_print_json(root, compact);
}

static int64_t latest_this_update(const shard_set_t *s) {
  int64_t t = INT64_MIN;
  for (size_t i = 0; i < s->n; i++)
    if (s->crls[i].this_update_ms > t)
      t = s->crls[i].this_update_ms;
  return t;
}

int cs_cmd_crl_shards(int argc, char **argv) {
  state_t *st = calloc(1, sizeof(*st)); /* freed below: far too big for the stack */
  if (st == NULL)
    return EXIT_INPUT;
  crl_cli_certs_init(&st->certs);
  const char *operands[MAX_SHARDS], *urls[MAX_SHARDS], *before = NULL, *after = NULL;
  const char *issuer_path = NULL, *pending_url = NULL;
  size_t nops = 0;
  int json = 0, compact = 0, has_at = 0, status = EXIT_OK;
  int64_t at_ms = 0;
  cs_findings_t *f = NULL;
  for (int i = 1; i < argc && status == EXIT_OK; i++) {
    const char *a = argv[i], *v = NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      goto done;
    } else if (strcmp(a, "--json") == 0) {
      json = 1;
    } else if (strcmp(a, "--compact") == 0) {
      compact = 1;
    } else if (strcmp(a, "--cert") == 0 || strcmp(a, "--issuer") == 0 ||
               strcmp(a, "--url") == 0 || strcmp(a, "--before") == 0 ||
               strcmp(a, "--after") == 0 || strcmp(a, "--at") == 0) {
      if ((v = cs_cmd_value(argc, argv, &i, "crl-shards")) == NULL) {
        status = EXIT_USAGE;
      } else if (strcmp(a, "--cert") == 0) {
        if (crl_cli_certs_add_path(&st->certs, "crl-shards", v) != 0)
          status = EXIT_USAGE;
      } else if (strcmp(a, "--issuer") == 0) {
        issuer_path = v;
      } else if (strcmp(a, "--url") == 0) {
        pending_url = v;
      } else if (strcmp(a, "--before") == 0) {
        before = v;
      } else if (strcmp(a, "--after") == 0) {
        after = v;
      } else if (cs_time_parse(v, &at_ms) != 0) {
        fprintf(stderr, "certskew crl-shards: --at: not a time: '%s'\n", v);
        status = EXIT_USAGE;
      } else {
        has_at = 1;
      }
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "certskew crl-shards: unknown option '%s' (see --help)\n", a);
      status = EXIT_USAGE;
    } else if (nops == MAX_SHARDS) {
      fprintf(stderr, "certskew crl-shards: at most %d CRLs\n", MAX_SHARDS);
      status = EXIT_USAGE;
    } else {
      urls[nops] = pending_url;
      operands[nops++] = a;
      pending_url = NULL;
    }
  }
  if (status == EXIT_OK && pending_url != NULL) {
    fprintf(stderr, "certskew crl-shards: --url %s names no CRL after it\n", pending_url);
    status = EXIT_USAGE;
  }
  int drift = before != NULL || after != NULL;
  if (status == EXIT_OK && drift && (before == NULL || after == NULL || nops > 0)) {
    fprintf(stderr, "certskew crl-shards: --before DIR and --after DIR go together, without CRL "
            "operands\n");
    status = EXIT_USAGE;
  }
  if (status == EXIT_OK && !drift && nops == 0) {
    usage(stderr);
    status = EXIT_USAGE;
  }
  if (status != EXIT_OK)
    goto done;
  status = EXIT_INPUT;
  if (drift) {
    if (set_load_dir(&st->sets[0], before) != 0 || set_load_dir(&st->sets[1], after) != 0)
      goto done;
  } else {
    for (size_t i = 0; i < nops; i++)
      if (set_add(&st->sets[0], operands[i], urls[i]) != 0)
        goto done;
  }
  if (crl_cli_certs_load(&st->certs, "crl-shards") != 0)
    goto done;
  if (issuer_path != NULL) {
    crl_cli_certs_t *one = malloc(sizeof(*one));
    int ok = one != NULL;
    if (ok) {
      crl_cli_certs_init(one);
      ok = crl_cli_certs_add_path(one, "crl-shards", issuer_path) == 0 &&
           crl_cli_certs_load(one, "crl-shards") == 0 &&
           verify_all(&st->sets[0], &one->crts[0]) == 0 &&
           verify_all(&st->sets[1], &one->crts[0]) == 0;
      crl_cli_certs_free(one);
      free(one);
    }
    if (!ok)
      goto done;
  }
  if ((f = cs_findings_new()) == NULL)
    goto done;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  const shard_set_t *now = drift ? &st->sets[1] : &st->sets[0];
  if (!has_at)
    at_ms = latest_this_update(now);
  int err = cs_crl_shards_check(now->shards, now->n, st->certs.certs, st->certs.ncerts, at_ms, f,
                                &eb);
  if (err == 0 && drift)
    err = cs_crl_shards_drift(st->sets[0].shards, st->sets[0].n, st->sets[1].shards,
                              st->sets[1].n, f, &eb);
  if (err != 0) {
    fprintf(stderr, "certskew crl-shards: %s\n", eb.msg[0] ? eb.msg : cs_strerror(eb.code));
    goto done;
  }
  if (json) {
    if (print_json(st, drift, f, compact) != 0)
      goto done;
  } else {
    for (size_t k = 0; k < (drift ? 2u : 1u); k++) {
      if (drift)
        printf("%s:\n", k == 0 ? "before" : "after");
      for (size_t i = 0; i < st->sets[k].n; i++)
        crl_cli_print_crl(stdout, st->sets[k].names[i], &st->sets[k].crls[i]);
    }
    crl_cli_print_findings(stdout, f);
  }
  status = cs_findings_worst(f) == CS_SEV_ERROR ? EXIT_WRONG : EXIT_OK;
done:
  cs_findings_free(f);
  set_free(&st->sets[0]);
  set_free(&st->sets[1]);
  crl_cli_certs_free(&st->certs);
  free(st);
  return status;
}
