/*
 * CRL history over CRLs made by real `openssl ca -gencrl` (tests/lib/mkcrls.sh):
 * revoke, regenerate with a shrunk index, shards from separate indexes with
 * IDP extensions. `openssl crl -text` is the independent reading of every
 * serial list, CRL number and IDP; each finding fires on its case and on no
 * other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/core/time.h"
#include "certskew/revocation/crl.h"
#include "certskew/revocation/crl_history.h"
#include "cs_test.h"
#include "fixture.h"
#include "revocation_fixtures.h"

static char dir[256];

#define NCERTS 6
static mbedtls_x509_crt crts[NCERTS], ca, other_ca;
static cs_crl_cert_t certs[NCERTS];
static const char *const CERT_NAMES[NCERTS] = {"c1", "c2", "c3", "c4", "c5", "c6"};

static const char *const CRLS[] = {"full-1.crl",   "full-2.crl",   "full-3.crl",   "back.crl",
                                   "old-tu.crl",   "exp.crl",      "short.crl",    "noidp.crl",
                                   "before/1.crl", "before/2.crl", "after/1.crl", "after/2.crl",
                                   "other/full.crl"};
#define NCRLS (sizeof(CRLS) / sizeof(CRLS[0]))
static cs_crl_list_t crls[NCRLS];

static const cs_crl_list_t *crl(const char *name) {
  for (size_t i = 0; i < NCRLS; i++)
    if (strcmp(CRLS[i], name) == 0)
      return &crls[i];
  fprintf(stderr, "no CRL %s\n", name);
  abort();
}

/* Runs cmd in dir and returns its first line of output (static buffer). */
static const char *sh_out(const char *cmd, char *out, size_t cap) {
  char full[1024];
  snprintf(full, sizeof(full), "cd '%s' && %s", dir, cmd);
  FILE *p = popen(full, "r");
  out[0] = '\0';
  if (p == NULL)
    return out;
  size_t n = fread(out, 1, cap - 1, p);
  out[n] = '\0';
  pclose(p);
  return out;
}

/* Our serial list, sorted hex joined by spaces, against openssl's reading. */
static void test_openssl_reading(void) {
  for (size_t i = 0; i < NCRLS; i++) {
    char cmd[512], theirs[4096], ours[4096] = "";
    snprintf(cmd, sizeof(cmd), "openssl crl -inform DER -in '%s' -noout -text | "
             "awk '/Serial Number:/ {print $3}' | sort | tr '\\n' ' '", CRLS[i]);
    sh_out(cmd, theirs, sizeof(theirs));
    /* ours, sorted the same way (sort(1) on hex strings of equal length) */
    char tmp[64][72];
    size_t n = crls[i].nserials;
    CS_REQUIRE(n < 64);
    for (size_t k = 0; k < n; k++)
      cs_crl_hex(crls[i].serials[k].p, crls[i].serials[k].len, tmp[k], sizeof(tmp[k]));
    qsort(tmp, n, sizeof(tmp[0]), (int (*)(const void *, const void *))strcmp);
    for (size_t k = 0; k < n; k++) {
      strcat(ours, tmp[k]);
      strcat(ours, " ");
    }
    CS_CHECK_MSG(strcmp(ours, theirs) == 0, "%s: ours '%s' openssl '%s'", CRLS[i], ours, theirs);
    /* CRL number: openssl prints crlNumber=0x0N */
    snprintf(cmd, sizeof(cmd), "openssl crl -inform DER -in '%s' -noout -crlnumber", CRLS[i]);
    sh_out(cmd, theirs, sizeof(theirs));
    char num[48], want[600];
    cs_crl_hex(crls[i].number, crls[i].number_len, num, sizeof(num));
    snprintf(want, sizeof(want), "crlNumber=0x%s\n", num);
    CS_CHECK_MSG(crls[i].has_number && strcmp(want, theirs) == 0, "%s: %s vs %s", CRLS[i], want,
                 theirs);
    /* IDP: openssl's text names the URI */
    snprintf(cmd, sizeof(cmd), "openssl crl -inform DER -in '%s' -noout -text | "
             "grep -A3 'Issuing Distribution Point' | grep -o 'URI:[^ ]*' | cut -c5-", CRLS[i]);
    sh_out(cmd, theirs, sizeof(theirs));
    snprintf(want, sizeof(want), "%s%s", crls[i].nidp_uris ? crls[i].idp_uris[0] : "",
             crls[i].nidp_uris ? "\n" : "");
    CS_CHECK_MSG(strcmp(want, theirs) == 0, "%s: IDP '%s' vs openssl '%s'", CRLS[i], want, theirs);
    CS_CHECK_EQ_I64(crls[i].idp_critical, crls[i].has_idp);
  }
  CS_CHECK_EQ_I64(crl("full-1.crl")->this_update_ms, 1793491200000); /* 2026-11-01T00Z */
  CS_CHECK_EQ_I64(crl("full-1.crl")->next_update_ms, 1793491200000 + 7 * CS_MS_PER_DAY);
  CS_CHECK_EQ_I64(crl("old-tu.crl")->this_update_ms, 1793491200000 - CS_MS_PER_HOUR);
}

static void test_verify(void) {
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  for (size_t i = 0; i + 1 < NCRLS; i++) {
    CS_CHECK_EQ_I64(cs_crl_list_verify(&crls[i], &ca, NULL), 0);
    CS_CHECK_EQ_I64(cs_crl_list_verify(&crls[i], &other_ca, NULL), CS_ENOTFOUND);
  }
  CS_CHECK_EQ_I64(cs_crl_list_verify(crl("other/full.crl"), &other_ca, NULL), 0);
  /* A flipped bit in the signature: openssl and we both refuse it. */
  cs_crl_list_t bad;
  cs_crl_list_init(&bad);
  const cs_crl_list_t *g = crl("full-1.crl");
  uint8_t *copy = malloc(g->der_len);
  CS_REQUIRE(copy != NULL);
  memcpy(copy, g->der, g->der_len);
  copy[g->der_len - 3] ^= 0x01;
  CS_CHECK_EQ_I64(cs_crl_list_parse(&bad, copy, g->der_len, NULL), 0);
  CS_CHECK_EQ_I64(cs_crl_list_verify(&bad, &ca, &eb), CS_ECRYPTO);
  CS_CHECK_EQ_I64(cs_fx_write(dir, "bad.crl", copy, g->der_len, NULL), 0);
  char out[512];
  sh_out("openssl crl -inform DER -in bad.crl -CAfile ca.pem -noout 2>&1", out, sizeof(out));
  CS_CHECK_MSG(strstr(out, "verify failure") != NULL, "openssl: %s", out);
  cs_crl_list_free(&bad);
  cs_crl_list_free(&bad);
  free(copy);
  /* The mbedTLS-free parse also backs cs_crl_parse: a sharded CRL reads. */
  cs_crl_info_t info;
  cs_crl_info_init(&info);
  const cs_crl_list_t *s = crl("after/2.crl");
  CS_CHECK_EQ_I64(cs_crl_parse(&info, s->der, s->der_len, NULL), 0);
  CS_CHECK_EQ_I64(info.nentries, 3);
  CS_CHECK_EQ_I64(cs_crl_find_serial(&info, crts[0].serial.p, crts[0].serial.len, NULL), 1);
  CS_CHECK_EQ_I64(cs_crl_find_serial(&info, crts[1].serial.p, crts[1].serial.len, NULL), 0);
  CS_CHECK_EQ_I64(cs_crl_verify(&info, &ca, NULL), 0);
  cs_crl_info_free(&info);
}

/* The codes of f, sorted, comma-joined (info included). */
static void codes(cs_findings_t *f, char *out, size_t cap) {
  out[0] = '\0';
  for (size_t i = 0; i < cs_findings_count(f); i++) {
    const cs_finding_t *x = cs_findings_get(f, i);
    size_t n = strlen(out);
    snprintf(out + n, cap - n, "%s%s", n ? "," : "", x->code);
  }
}

static void test_diff(void) {
  static const struct {
    const char *old_crl, *new_crl;
    int with_certs;
    size_t nadded, nremoved;
    const char *codes; /* in report order: severity, then rank */
  } t[] = {
      /* c1 c2 valid; c5 expires at the new thisUpdate (still valid then); c6 1 s before */
      {"full-1.crl", "full-2.crl", 1, 0, 4, "CRL_ENTRY_DROPPED,CRL_ENTRY_DROPPED,CRL_ENTRY_DROPPED"},
      {"full-1.crl", "full-2.crl", 0, 0, 4, "CRL_ENTRIES_REMOVED"},
      {"full-2.crl", "full-3.crl", 1, 4, 0, ""},
      {"full-1.crl", "full-3.crl", 1, 0, 0, ""},
      {"full-3.crl", "back.crl", 1, 0, 0, "CRL_NUMBER_WENT_BACK"},
      {"full-1.crl", "back.crl", 1, 0, 0, "CRL_NUMBER_REUSED"},
      {"full-1.crl", "full-1.crl", 1, 0, 0, ""},
      {"full-3.crl", "old-tu.crl", 1, 0, 0, "CRL_THIS_UPDATE_WENT_BACK"},
      {"full-3.crl", "exp.crl", 1, 0, 3, ""}, /* c4 c5 c6 expired: removal allowed */
      {"full-3.crl", "short.crl", 1, 0, 0, "CRL_NEXT_UPDATE_WENT_BACK"},
      {"before/1.crl", "after/1.crl", 1, 0, 1, "CRL_ENTRY_DROPPED"},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    cs_findings_t *f = cs_findings_new();
    cs_crl_diff_t d;
    cs_crl_diff_init(&d);
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    CS_REQUIRE(f != NULL);
    int ret = cs_crl_diff_run(crl(t[i].old_crl), crl(t[i].new_crl), certs,
                              t[i].with_certs ? NCERTS : 0, &d, f, &eb);
    char got[512];
    codes(f, got, sizeof(got));
    CS_CHECK_MSG(ret == 0 && d.nadded == t[i].nadded && d.nremoved == t[i].nremoved &&
                     strcmp(got, t[i].codes) == 0,
                 "case %zu %s -> %s: ret %d (%s), +%zu -%zu, codes '%s', want +%zu -%zu '%s'", i,
                 t[i].old_crl, t[i].new_crl, ret, eb.msg, d.nadded, d.nremoved, got, t[i].nadded,
                 t[i].nremoved, t[i].codes);
    if (i == 0) { /* the dropped ones are c1, c2 and c5, never c6 */
      for (size_t k = 0; k < cs_findings_count(f); k++) {
        const cs_finding_t *x = cs_findings_get(f, k);
        CS_CHECK(strstr(x->summary, "c6") == NULL);
        CS_CHECK(strstr(x->summary, "c1") || strstr(x->summary, "c2") || strstr(x->summary, "c5"));
      }
    }
    cs_crl_diff_free(&d);
    cs_crl_diff_free(&d);
    cs_findings_free(f);
  }
  /* Not two versions of one CRL: a clear error, nothing compared. */
  static const char *const mismatched[][3] = {
      {"full-1.crl", "other/full.crl", "different issuers"},
      {"full-1.crl", "before/1.crl", "different scopes"},
      {"before/1.crl", "before/2.crl", "different scopes"},
  };
  for (size_t i = 0; i < 3; i++) {
    cs_findings_t *f = cs_findings_new();
    cs_crl_diff_t d;
    cs_crl_diff_init(&d);
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    CS_CHECK_EQ_I64(cs_crl_diff_run(crl(mismatched[i][0]), crl(mismatched[i][1]), NULL, 0, &d, f,
                                    &eb),
                    CS_EINVAL);
    CS_CHECK_MSG(strstr(eb.msg, mismatched[i][2]) != NULL, "%s", eb.msg);
    CS_CHECK_EQ_I64(cs_findings_count(f), 0);
    cs_crl_diff_free(&d);
    cs_findings_free(f);
  }
}

typedef struct shard_case {
  const char *names[3];
  const char *urls[3];
  int with_certs;
  int64_t at_ms;
  const char *codes;
} shard_case_t;

static int run_shards(const shard_case_t *c, cs_findings_t *f, cs_errbuf_t *eb) {
  cs_crl_shard_t s[3];
  size_t n = 0;
  for (; n < 3 && c->names[n] != NULL; n++) {
    s[n].crl = crl(c->names[n]);
    s[n].url = c->urls[n];
    s[n].label = c->names[n];
  }
  return cs_crl_shards_check(s, n, certs, c->with_certs ? NCERTS : 0, c->at_ms, f, eb);
}

static void test_shards(void) {
  const int64_t nov = 1793491200000, jan27 = 1798761600000; /* 2026-11-01, 2027-01-01 */
#define U1 "http://crl.test/1.crl"
#define U2 "http://crl.test/2.crl"
  static const char *const idp_mismatch = "CRL_SHARD_IDP_MISMATCH,CRL_SHARD_IDP_MISMATCH";
  const shard_case_t t[] = {
      {{"before/1.crl", "before/2.crl", NULL}, {U1, U2, NULL}, 1, nov, ""},
      {{"after/1.crl", "after/2.crl", NULL}, {U1, U2, NULL}, 1, nov, "CRL_SHARD_MISMATCH"},
      {{"after/1.crl", "after/2.crl", NULL}, {U1, U2, NULL}, 0, nov, ""},
      /* c1 expires 2027-01-01T00Z: checked at its last instant, not a second after */
      {{"after/1.crl", "after/2.crl", NULL}, {U1, U2, NULL}, 1, jan27, "CRL_SHARD_MISMATCH"},
      {{"after/1.crl", "after/2.crl", NULL}, {U1, U2, NULL}, 1, jan27 + 1000, ""},
      {{"before/1.crl", "after/2.crl", NULL}, {U1, U2, NULL}, 1, nov, "CRL_SERIAL_IN_TWO_SHARDS"},
      {{"before/1.crl", "before/2.crl", NULL}, {U2, U1, NULL}, 0, nov, idp_mismatch},
      {{"before/1.crl", "before/2.crl", NULL}, {NULL, NULL, NULL}, 1, nov, ""},
      {{"noidp.crl", "before/2.crl", NULL}, {U1, U2, NULL}, 0, nov, "CRL_SHARD_IDP_MISSING"},
      {{"noidp.crl", NULL, NULL}, {U1, NULL, NULL}, 1, nov, ""},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    cs_findings_t *f = cs_findings_new();
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    CS_REQUIRE(f != NULL);
    int ret = run_shards(&t[i], f, &eb);
    char got[512];
    codes(f, got, sizeof(got));
    CS_CHECK_MSG(ret == 0 && strcmp(got, t[i].codes) == 0, "shard case %zu: ret %d (%s) '%s' want '%s'",
                 i, ret, eb.msg, got, t[i].codes);
    if (i == 1) { /* names c1 and where it is */
      const cs_finding_t *x = cs_findings_get(f, 0);
      CS_CHECK(x != NULL && strstr(x->summary, "c1") && strstr(x->summary, U2));
    }
    cs_findings_free(f);
  }
  /* Bad sets: a clear error. */
  const shard_case_t bad[] = {
      {{"before/1.crl", "after/1.crl", NULL}, {NULL, NULL, NULL}, 0, nov, "same shard"},
      {{"before/1.crl", "other/full.crl", NULL}, {NULL, NULL, NULL}, 0, nov, "different issuers"},
  };
  for (size_t i = 0; i < 2; i++) {
    cs_findings_t *f = cs_findings_new();
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    CS_CHECK_EQ_I64(run_shards(&bad[i], f, &eb), CS_EINVAL);
    CS_CHECK_MSG(strstr(eb.msg, bad[i].codes) != NULL, "%s", eb.msg);
    cs_findings_free(f);
  }
}

static void test_drift(void) {
  cs_crl_shard_t before[2] = {{crl("before/1.crl"), NULL, "b1"}, {crl("before/2.crl"), NULL, "b2"}};
  cs_crl_shard_t after[2] = {{crl("after/1.crl"), NULL, "a1"}, {crl("after/2.crl"), NULL, "a2"}};
  cs_findings_t *f = cs_findings_new();
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  CS_REQUIRE(f != NULL);
  CS_CHECK_EQ_I64(cs_crl_shards_drift(before, 2, after, 2, f, &eb), 0);
  char got[256], hex[16];
  codes(f, got, sizeof(got));
  CS_CHECK_EQ_STR(got, "CRL_SHARD_DRIFT");
  cs_crl_hex(crts[0].serial.p, crts[0].serial.len, hex, sizeof(hex));
  const cs_finding_t *x = cs_findings_get(f, 0);
  CS_CHECK(x != NULL && strstr(x->summary, hex) && strstr(x->summary, "from shard " U1) &&
           strstr(x->summary, "to shard " U2));
  cs_findings_free(f);
  /* No move: nothing. Reversed: the same serial drifts back. */
  f = cs_findings_new();
  CS_CHECK_EQ_I64(cs_crl_shards_drift(before, 2, before, 2, f, &eb), 0);
  CS_CHECK_EQ_I64(cs_findings_count(f), 0);
  CS_CHECK_EQ_I64(cs_crl_shards_drift(after, 2, before, 2, f, &eb), 0);
  codes(f, got, sizeof(got));
  CS_CHECK_EQ_STR(got, "CRL_SHARD_DRIFT");
  cs_findings_free(f);
  /* Another issuer in --after: an error. */
  cs_crl_shard_t other[1] = {{crl("other/full.crl"), NULL, "o"}};
  f = cs_findings_new();
  CS_CHECK_EQ_I64(cs_crl_shards_drift(before, 2, other, 1, f, &eb), CS_EINVAL);
  CS_CHECK(strstr(eb.msg, "different issuers") != NULL);
  cs_findings_free(f);
}

/* Strictness: what openssl would call broken is an error, with a message. */
static void test_malformed(void) {
  const cs_crl_list_t *g = crl("before/1.crl");
  static const struct {
    const char *what;
    size_t cut; /* bytes dropped from the end */
  } cuts[] = {{"truncated by one byte", 1}, {"truncated into the signature", 20}};
  for (size_t i = 0; i < 2; i++) {
    cs_crl_list_t l;
    cs_crl_list_init(&l);
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    CS_CHECK_MSG(cs_crl_list_parse(&l, g->der, g->der_len - cuts[i].cut, &eb) == CS_EPARSE,
                 "%s", cuts[i].what);
    CS_CHECK(eb.msg[0] != '\0');
  }
  uint8_t *extra = malloc(g->der_len + 1);
  CS_REQUIRE(extra != NULL);
  memcpy(extra, g->der, g->der_len);
  extra[g->der_len] = 0;
  cs_crl_list_t l;
  cs_crl_list_init(&l);
  CS_CHECK_EQ_I64(cs_crl_list_parse(&l, extra, g->der_len + 1, NULL), CS_EPARSE);
  CS_CHECK_EQ_I64(cs_crl_list_parse(&l, extra, 0, NULL), CS_EEMPTY);
  free(extra);
  CS_CHECK_EQ_I64(cs_crl_list_parse(&l, g->der, g->der_len, NULL), 0);
  CS_CHECK_EQ_I64(cs_crl_list_parse(&l, g->der, g->der_len, NULL), CS_ESTATE);
  cs_crl_list_free(&l);
  /* PEM reads the same; two PEM CRLs are refused. */
  char out[16];
  sh_out("openssl crl -inform DER -in before/1.crl -out b1.pem && cat b1.pem b1.pem > two.pem && "
         "echo ok", out, sizeof(out));
  uint8_t *buf;
  size_t len;
  CS_REQUIRE(rv_read(dir, "b1.pem", &buf, &len) == 0);
  CS_CHECK_EQ_I64(cs_crl_list_parse(&l, buf, len, NULL), 0);
  CS_CHECK_EQ_I64(l.nserials, g->nserials);
  CS_CHECK(l.der_len == g->der_len && memcmp(l.der, g->der, g->der_len) == 0);
  cs_crl_list_free(&l);
  free(buf);
  CS_REQUIRE(rv_read(dir, "two.pem", &buf, &len) == 0);
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  CS_CHECK_EQ_I64(cs_crl_list_parse(&l, buf, len, &eb), CS_EPARSE);
  CS_CHECK(strstr(eb.msg, "more than one") != NULL);
  free(buf);
}

int main(void) {
  const char *src = getenv("CS_SRC");
  if (cs_fx_tempdir(dir, sizeof(dir)) != 0 ||
      cs_fx_run("bash '%s/tests/lib/mkcrls.sh' '%s'", src ? src : ".", dir) != 0) {
    fprintf(stderr, "cannot make the CRLs in %s\n", dir);
    return 1;
  }
  CS_CHECK_EQ_I64(rv_load_crt(dir, "ca.pem", &ca), 0);
  CS_CHECK_EQ_I64(rv_load_crt(dir, "other/ca.pem", &other_ca), 0);
  char name[16];
  for (size_t i = 0; i < NCERTS; i++) {
    snprintf(name, sizeof(name), "%s.pem", CERT_NAMES[i]);
    CS_CHECK_EQ_I64(rv_load_crt(dir, name, &crts[i]), 0);
    certs[i].crt = &crts[i];
    certs[i].label = CERT_NAMES[i];
  }
  for (size_t i = 0; i < NCRLS; i++) {
    uint8_t *buf;
    size_t len;
    cs_crl_list_init(&crls[i]);
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    if (rv_read(dir, CRLS[i], &buf, &len) != 0 || cs_crl_list_parse(&crls[i], buf, len, &eb) != 0) {
      fprintf(stderr, "cannot read %s: %s\n", CRLS[i], eb.msg);
      return 1;
    }
    free(buf);
  }
  test_openssl_reading();
  test_verify();
  test_diff();
  test_shards();
  test_drift();
  test_malformed();
  for (size_t i = 0; i < NCRLS; i++)
    cs_crl_list_free(&crls[i]);
  for (size_t i = 0; i < NCERTS; i++)
    mbedtls_x509_crt_free(&crts[i]);
  mbedtls_x509_crt_free(&ca);
  mbedtls_x509_crt_free(&other_ca);
  if (cs_test_failures == 0)
    cs_fx_rmdir(dir);
  else
    fprintf(stderr, "kept %s for inspection\n", dir);
  return cs_test_done(__FILE__);
}
