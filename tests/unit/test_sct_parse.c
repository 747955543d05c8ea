/* Strict SCT list parsing: every length, version and algorithm rule. */
#include "certskew/core/sct.h"
#include "cs_test.h"

/* Builds one serialized v1 SCT into p; returns its length. */
static size_t build_sct(uint8_t *p, uint8_t version, uint64_t ts, uint8_t hash, uint8_t sig,
                        size_t ext_len, size_t sig_len) {
  size_t n = 0;
  p[n++] = version;
  memset(p + n, 0xAB, 32);
  n += 32;
  for (int b = 7; b >= 0; b--)
    p[n++] = (uint8_t)(ts >> (8 * b));
  p[n++] = (uint8_t)(ext_len >> 8);
  p[n++] = (uint8_t)ext_len;
  memset(p + n, 0xEE, ext_len);
  n += ext_len;
  p[n++] = hash;
  p[n++] = sig;
  p[n++] = (uint8_t)(sig_len >> 8);
  p[n++] = (uint8_t)sig_len;
  memset(p + n, 0x30, sig_len);
  n += sig_len;
  return n;
}

/* Wraps serialized SCTs into a TLS list. */
static size_t build_list(uint8_t *out, const uint8_t *const *scts, const size_t *lens, size_t n) {
  size_t total = 0, p = 2;
  for (size_t i = 0; i < n; i++) {
    out[p++] = (uint8_t)(lens[i] >> 8);
    out[p++] = (uint8_t)lens[i];
    memcpy(out + p, scts[i], lens[i]);
    p += lens[i];
    total += 2 + lens[i];
  }
  out[0] = (uint8_t)(total >> 8);
  out[1] = (uint8_t)total;
  return p;
}

static void test_valid_list(void) {
  uint8_t a[256], b[256], list[600];
  size_t la = build_sct(a, 0, 1795467783095u, 4, 3, 0, 70);
  size_t lb = build_sct(b, 0, 1795467783157u, 4, 1, 5, 256 - 60);
  const uint8_t *s[] = {a, b};
  size_t lens[] = {la, lb};
  size_t n = build_list(list, s, lens, 2), count = 0;
  cs_sct_t out[4];
  CS_REQUIRE(cs_sct_list_parse(list, n, CS_SCT_SOURCE_TLS, out, 4, &count, NULL) == 0);
  CS_CHECK_EQ_I64(count, 2);
  CS_CHECK_EQ_I64(out[0].timestamp_ms, 1795467783095);
  CS_CHECK_EQ_I64(out[1].timestamp_ms, 1795467783157);
  CS_CHECK(out[0].supported && out[1].supported);
  CS_CHECK_EQ_I64(out[1].extensions_len, 5);
  CS_CHECK_EQ_I64(out[0].signature_len, 70);
  CS_CHECK_EQ_I64(out[0].log_id[31], 0xAB);
  CS_CHECK_EQ_I64(out[1].source, CS_SCT_SOURCE_TLS);
  /* The DER-wrapped form of the same list. */
  uint8_t der[700];
  der[0] = 0x04;
  der[1] = 0x82;
  der[2] = (uint8_t)(n >> 8);
  der[3] = (uint8_t)n;
  memcpy(der + 4, list, n);
  CS_REQUIRE(cs_sct_list_parse_der(der, n + 4, CS_SCT_SOURCE_EMBEDDED, out, 4, &count, NULL) == 0);
  CS_CHECK_EQ_I64(count, 2);
  /* DER with trailing garbage is rejected. */
  der[n + 4] = 0;
  CS_CHECK(cs_sct_list_parse_der(der, n + 5, CS_SCT_SOURCE_EMBEDDED, out, 4, &count, NULL) == CS_EPARSE);
}

static void test_malformed_lists(void) {
  uint8_t a[128], list[300];
  size_t la = build_sct(a, 0, 1000, 4, 3, 0, 8);
  const uint8_t *s[] = {a};
  size_t lens[] = {la};
  size_t n = build_list(list, s, lens, 1);
  cs_sct_t out[2];
  size_t count;
  cs_errbuf_t eb;
  static const struct {
    const char *what;
    int mutate; /* which mutation */
    int want;
  } rows[] = {
      {"total length too large", 1, CS_ETRUNC}, {"total length too small", 2, CS_EPARSE},
      {"SCT length overruns", 3, CS_ETRUNC},    {"empty list", 4, CS_EPARSE},
      {"truncated mid-signature", 5, CS_ETRUNC}, {"one byte", 6, CS_ETRUNC},
      {"SCT length zero", 7, CS_EPARSE},         {"bytes after signature", 8, CS_EPARSE},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    uint8_t m[300];
    size_t mlen = n;
    memcpy(m, list, n);
    switch (rows[i].mutate) {
    case 1: m[1]++; break;
    case 2: m[1]--; break;
    case 3: m[3]++; break;
    case 4: m[0] = 0; m[1] = 0; mlen = 2; break;
    case 5: mlen -= 3; m[1] -= 3; m[3] -= 3; break;
    case 6: mlen = 1; break;
    case 7: m[0] = 0; m[1] = 2; m[2] = 0; m[3] = 0; mlen = 4; break;
    case 8: m[mlen++] = 0x00; m[1]++; m[3]++; break;
    default: break;
    }
    cs_errbuf_init(&eb);
    int err = cs_sct_list_parse(m, mlen, CS_SCT_SOURCE_TLS, out, 2, &count, &eb);
    if (err != rows[i].want)
      CS_FAIL_AT("%s: got %s (%s), want %s", rows[i].what, cs_errname(err), eb.msg,
                 cs_errname(rows[i].want));
    else if (eb.msg[0] == '\0')
      CS_FAIL_AT("%s: no detail", rows[i].what);
  }
}

static void test_versions_and_algorithms(void) {
  uint8_t a[128], b[128], c[128], list[600];
  size_t la = build_sct(a, 1, 1000, 4, 3, 0, 8);  /* unknown version: kept, unsupported */
  size_t lb = build_sct(b, 0, 1000, 2, 3, 0, 8);  /* SHA-1: unsupported */
  size_t lc = build_sct(c, 0, 1000, 4, 7, 0, 8);  /* unknown signature algorithm */
  const uint8_t *s[] = {a, b, c};
  size_t lens[] = {la, lb, lc};
  size_t n = build_list(list, s, lens, 3), count;
  cs_sct_t out[4];
  CS_REQUIRE(cs_sct_list_parse(list, n, CS_SCT_SOURCE_EMBEDDED, out, 4, &count, NULL) == 0);
  CS_CHECK_EQ_I64(count, 3);
  CS_CHECK(!out[0].supported && out[0].version == 1);
  CS_CHECK(!out[1].supported && out[1].hash_alg == 2);
  CS_CHECK(!out[2].supported && out[2].sig_alg == 7);
  /* More SCTs than the caller's room: a clear error, not an overflow. */
  CS_CHECK(cs_sct_list_parse(list, n, CS_SCT_SOURCE_EMBEDDED, out, 2, &count, NULL) == CS_ETOOBIG);
}

static void test_timestamp_range(void) {
  uint8_t a[128], list[300];
  size_t la = build_sct(a, 0, UINT64_C(0x8000000000000000), 4, 3, 0, 8);
  const uint8_t *s[] = {a};
  size_t lens[] = {la};
  size_t n = build_list(list, s, lens, 1), count;
  cs_sct_t out[1];
  CS_CHECK(cs_sct_list_parse(list, n, CS_SCT_SOURCE_TLS, out, 1, &count, NULL) == CS_ERANGE);
  la = build_sct(a, 0, UINT64_C(0x7fffffffffffffff), 4, 3, 0, 8);
  n = build_list(list, s, lens, 1);
  CS_CHECK(cs_sct_list_parse(list, n, CS_SCT_SOURCE_TLS, out, 1, &count, NULL) == 0);
  CS_CHECK_EQ_I64(out[0].timestamp_ms, INT64_MAX);
}

CS_TEST_MAIN(CS_TEST(test_valid_list), CS_TEST(test_malformed_lists), CS_TEST(test_versions_and_algorithms),
             CS_TEST(test_timestamp_range))
