/*
 * The capture probe's ClientHello (analyzers/tls/tls13_internal.h): one message
 * offering TLS 1.3 (with one key share) and the TLS 1.2 suites of
 * tls_probe_hello.c, so whichever the server prefers, its certificates,
 * staple and SCTs can be read. Only algorithms tls13_keys.c and
 * tls13_verify.c implement are offered for TLS 1.3: no Ed25519 (mbedTLS 2.28
 * has none), no rsa_pss_pss_* (its X.509 cannot parse such keys).
 */
#include "tls13_internal.h"

#include <string.h>

#include "tls_hello_ext.h"

static const uint16_t SUITES[] = {
    0x1301, 0x1302, 0x1303,                         /* TLS 1.3 */
    0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, /* TLS 1.2 ECDHE AEAD */
    0xC009, 0xC013, 0xC00A, 0xC014,                 /* ECDHE CBC */
    0x009C, 0x009D, 0x002F, 0x0035,                 /* RSA key exchange */
    0x00FF,                                         /* renegotiation SCSV */
};
/* Every group here must be one cs_tls13_share_generate implements: a
 * HelloRetryRequest may pick any of them. */
static const uint16_t GROUPS[] = {CS_TLS13_GROUP_X25519, CS_TLS13_GROUP_P256,
                                  CS_TLS13_GROUP_P384};
static const uint16_t VERSIONS[] = {0x0304, 0x0303};

int cs_tls13_group_offered(uint16_t group) {
  for (size_t i = 0; i < sizeof(GROUPS) / sizeof(GROUPS[0]); i++)
    if (GROUPS[i] == group)
      return 1;
  return 0;
}

static void put_alpn(cs_wbuf_t *w) {
  static const char list[] = "\x02h2\x08http/1.1";
  cs_wbuf_put16(w, 16);
  cs_wbuf_put16(w, (uint32_t)sizeof(list) - 1 + 2);
  cs_wbuf_put16(w, (uint32_t)sizeof(list) - 1);
  cs_wbuf_put(w, list, sizeof(list) - 1);
}

static void put_key_share(cs_wbuf_t *w, const cs_tls13_hello_params_t *hp) {
  cs_wbuf_put16(w, 51);
  cs_wbuf_put16(w, (uint32_t)hp->share_len + 6);
  cs_wbuf_put16(w, (uint32_t)hp->share_len + 4); /* client_shares */
  cs_wbuf_put16(w, hp->share_group);
  cs_wbuf_put16(w, (uint32_t)hp->share_len);
  cs_wbuf_put(w, hp->share, hp->share_len);
}

int cs_tls13_hello_build(const cs_tls13_hello_params_t *hp, uint8_t *buf, size_t cap,
                         size_t *len) {
  if (hp == NULL || hp->random == NULL || hp->share == NULL || buf == NULL || len == NULL)
    return CS_EINVAL;
  if ((hp->sni != NULL && strlen(hp->sni) > 255) || hp->share_len > CS_TLS13_SHARE_MAX ||
      hp->cookie_len > CS_TLS13_COOKIE_MAX)
    return CS_EINVAL;
  cs_wbuf_t w = {buf, cap, 0, 0};
  cs_wbuf_put8(&w, 1); /* client_hello */
  size_t hs_len_at = w.len;
  cs_wbuf_put8(&w, 0);
  cs_wbuf_put16(&w, 0);
  cs_wbuf_put16(&w, 0x0303); /* legacy_version: TLS 1.3 is in supported_versions */
  cs_wbuf_put(&w, hp->random, 32);
  cs_wbuf_put8(&w, 0); /* no session id: we never resume (no middlebox-compat CCS needed) */
  cs_wbuf_put_u16_list(&w, SUITES, sizeof(SUITES) / sizeof(SUITES[0]));
  cs_wbuf_put8(&w, 1);
  cs_wbuf_put8(&w, 0);
  size_t ext_at = w.len;
  cs_wbuf_put16(&w, 0);
  cs_tls_hello_put_sni(&w, hp->sni);
  cs_tls_hello_put_status_request(&w);
  cs_tls_hello_put_groups(&w, GROUPS, sizeof(GROUPS) / sizeof(GROUPS[0]));
  cs_tls_hello_put_point_formats(&w);
  cs_tls_hello_put_sigalgs(&w);
  put_alpn(&w);
  cs_tls_hello_put_sct_request(&w);
  cs_tls_hello_put_ems(&w);
  cs_wbuf_put16(&w, 43); /* supported_versions */
  cs_wbuf_put16(&w, 1 + sizeof(VERSIONS));
  cs_wbuf_put8(&w, sizeof(VERSIONS));
  for (size_t i = 0; i < sizeof(VERSIONS) / sizeof(VERSIONS[0]); i++)
    cs_wbuf_put16(&w, VERSIONS[i]);
  if (hp->cookie != NULL) {
    cs_wbuf_put16(&w, 44);
    cs_wbuf_put16(&w, (uint32_t)hp->cookie_len + 2);
    cs_wbuf_put16(&w, (uint32_t)hp->cookie_len);
    cs_wbuf_put(&w, hp->cookie, hp->cookie_len);
  }
  put_key_share(&w, hp);
  cs_wbuf_patch(&w, ext_at, 2);
  cs_wbuf_patch(&w, hs_len_at, 3);
  if (w.overflow)
    return CS_ENOSPACE;
  *len = w.len;
  return 0;
}
