/*
 * Chain loading from PEM and DER, and every kind of bad input: each gets a
 * clear error code and detail, never a crash.
 */
#include <stdlib.h>

#include "certskew/analysis/analysis.h"
#include "certskew/core/chain.h"
#include "cs_test.h"
#include "certskew/store/file_io.h"
#include "fixture.h"

static char g_dir[512];
static uint8_t *g_pem, *g_der;
static size_t g_pem_len, g_der_len;

static void setup(void) {
  CS_REQUIRE(cs_fx_tempdir(g_dir, sizeof(g_dir)) == 0);
  const char *settings[] = {"LEAF_SCT_HEX=040a0008000600deadbeefff", NULL}; /* lengths lie */
  CS_REQUIRE(cs_fx_mkchain(g_dir, settings) == 0);
  CS_REQUIRE(cs_fx_run("cd '%s' && openssl x509 -in leaf.pem -outform DER -out leaf.der && "
                       "openssl x509 -in int.pem -outform DER -out int.der && cat leaf.der int.der > chain.der",
                       g_dir) == 0);
  char path[600];
  snprintf(path, sizeof(path), "%s/full.pem", g_dir);
  CS_REQUIRE(cs_file_read(path, 1 << 20, &g_pem, &g_pem_len, NULL) == 0);
  snprintf(path, sizeof(path), "%s/chain.der", g_dir);
  CS_REQUIRE(cs_file_read(path, 1 << 20, &g_der, &g_der_len, NULL) == 0);
}

static int load(const void *buf, size_t len, cs_errbuf_t *eb, size_t *count) {
  cs_chain_t *c = NULL;
  cs_errbuf_init(eb);
  int err = cs_chain_load(&c, buf, len, eb);
  if (err == 0 && count)
    *count = cs_chain_count(c);
  if (err != 0 && c != NULL)
    err = -999; /* must stay NULL on error */
  cs_chain_free(c);
  return err;
}

static void test_good_inputs(void) {
  cs_errbuf_t eb;
  size_t n = 0;
  CS_REQUIRE(g_pem && g_der);
  CS_CHECK(load(g_pem, g_pem_len, &eb, &n) == 0 && n == 3);
  CS_CHECK(load(g_der, g_der_len, &eb, &n) == 0 && n == 2);
  /* Other PEM blocks around the certificates are ignored. */
  char mixed[16384];
  int m = snprintf(mixed, sizeof(mixed), "junk\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n%.*s",
                   (int)g_pem_len, (const char *)g_pem);
  CS_CHECK(load(mixed, (size_t)m, &eb, &n) == 0 && n == 3);
  /* Round trip back to PEM. */
  cs_chain_t *c = NULL;
  CS_REQUIRE(cs_chain_load(&c, g_der, g_der_len, NULL) == 0);
  char *pem = cs_chain_to_pem(c);
  CS_REQUIRE(pem != NULL);
  cs_chain_t *c2 = NULL;
  CS_CHECK(cs_chain_load(&c2, (const uint8_t *)pem, strlen(pem), NULL) == 0);
  uint8_t fa[32], fb[32];
  CS_REQUIRE(c2 && cs_chain_count(c2) == 2);
  cs_cert_fingerprint(cs_chain_cert(c2, 1), fa);
  cs_cert_fingerprint(cs_chain_cert(c, 1), fb);
  CS_CHECK(memcmp(fa, fb, 32) == 0);
  free(pem);
  cs_chain_free(c2);
  cs_chain_free(c);
}

static void test_malformed_sct_list_is_reported_not_fatal(void) {
  cs_chain_t *c = NULL;
  CS_REQUIRE(cs_chain_load(&c, g_pem, g_pem_len, NULL) == 0);
  const cs_cert_info_t *leaf = cs_chain_cert(c, 0);
  CS_CHECK(leaf->sct_ext != NULL);
  CS_CHECK_EQ_I64(leaf->nscts, 0);
  CS_CHECK(leaf->sct_parse_error != 0);
  CS_CHECK(leaf->sct_parse_detail[0] != '\0');
  cs_chain_free(c);
  /* ...and the analysis says so as an error finding. */
  cs_clock_t clock;
  cs_clock_init_exact(&clock);
  cs_analysis_opts_t o = {.source = "t", .clocks = &clock, .nclocks = 1};
  cs_analysis_t *a = NULL;
  CS_REQUIRE(cs_analyze(&a, g_pem, g_pem_len, &o, NULL) == 0);
  CS_CHECK(cs_findings_has(cs_analysis_findings(a), "SCT_LIST_MALFORMED"));
  char *json = cs_analysis_report_json(a, 0);
  CS_CHECK(json && strstr(json, "\"sct_error\":{\"code\":") != NULL);
  free(json);
  cs_analysis_free(a);
}

static void test_bad_inputs(void) {
  cs_errbuf_t eb;
  static const char not_pem[] = "hello, I am not a certificate\n";
  static const char no_blocks[] = "-----BEGIN NOTHING-----\nAAAA\n-----END NOTHING-----\n";
  static const char bad_b64[] = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
  static const char no_end[] = "-----BEGIN CERTIFICATE-----\nMIIB\n";
  static const uint8_t garbage_der[] = {0x30, 0x03, 0x02, 0x01, 0x01};
  static const uint8_t long_len[] = {0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x00};
  static const struct {
    const char *what;
    const void *buf;
    size_t len;
    int want;
  } rows[] = {
      {"empty", "", 0, CS_EEMPTY},
      {"not PEM nor DER", not_pem, sizeof(not_pem) - 1, CS_EPARSE},
      {"PEM without CERTIFICATE", no_blocks, sizeof(no_blocks) - 1, CS_EEMPTY},
      {"bad base64", bad_b64, sizeof(bad_b64) - 1, CS_EPARSE},
      {"no END line", no_end, sizeof(no_end) - 1, CS_EPARSE},
      {"DER that is no certificate", garbage_der, sizeof(garbage_der), CS_EPARSE},
      {"DER length past the end", long_len, sizeof(long_len), CS_ETRUNC},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    int err = load(rows[i].buf, rows[i].len, &eb, NULL);
    if (err != rows[i].want)
      CS_FAIL_AT("%s: %s (%s), want %s", rows[i].what, cs_errname(err), eb.msg, cs_errname(rows[i].want));
    else if (rows[i].len && eb.msg[0] == '\0')
      CS_FAIL_AT("%s: no detail", rows[i].what);
  }
  /* Truncated DER at every length: an error every time, never a crash. */
  for (size_t cut = 1; cut < g_der_len; cut += 7) {
    int err = load(g_der, cut, &eb, NULL);
    if (err == 0) {
      /* Only a cut exactly after the leaf is a valid (shorter) chain. */
      cs_chain_t *c = NULL;
      CS_REQUIRE(cs_chain_load(&c, g_der, cut, NULL) == 0);
      CS_CHECK(cs_chain_count(c) == 1 && cs_chain_cert(c, 0)->der_len == cut);
      cs_chain_free(c);
    }
  }
  /* Bit flips in a real certificate: any result but a crash or a leak. */
  uint8_t *copy = malloc(g_der_len);
  CS_REQUIRE(copy != NULL);
  for (size_t i = 0; i < g_der_len; i += 3) {
    memcpy(copy, g_der, g_der_len);
    copy[i] ^= (uint8_t)(1u << (i % 8));
    (void)load(copy, g_der_len, &eb, NULL);
  }
  free(copy);
}

static void test_limits(void) {
  cs_errbuf_t eb;
  /* 33 certificates: over the count limit, small enough for the size limit. */
  size_t one = g_pem_len;
  size_t n33 = one * 11 + 1;
  char *many = malloc(n33);
  CS_REQUIRE(many != NULL);
  for (int i = 0; i < 11; i++)
    memcpy(many + one * (size_t)i, g_pem, one);
  CS_CHECK(load(many, one * 11, &eb, NULL) == CS_ETOOBIG);
  CS_CHECK(strstr(eb.msg, "more than") != NULL);
  free(many);
  /* 10,000 certificates and 50 MB: over the size limit, refused up front. */
  size_t big = one * 10000;
  char *huge = malloc(big);
  CS_REQUIRE(huge != NULL);
  for (int i = 0; i < 10000; i++)
    memcpy(huge + one * (size_t)i, g_pem, one);
  CS_CHECK(load(huge, big, &eb, NULL) == CS_ETOOBIG);
  free(huge);
  uint8_t *fifty = calloc(50u << 20, 1);
  CS_REQUIRE(fifty != NULL);
  CS_CHECK(load(fifty, 50u << 20, &eb, NULL) == CS_ETOOBIG);
  free(fifty);
}

static void teardown(void) {
  free(g_pem);
  free(g_der);
  cs_fx_rmdir(g_dir);
}

CS_TEST_MAIN(CS_TEST(setup), CS_TEST(test_good_inputs), CS_TEST(test_malformed_sct_list_is_reported_not_fatal),
             CS_TEST(test_bad_inputs), CS_TEST(test_limits), CS_TEST(teardown))
