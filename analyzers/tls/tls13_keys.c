/*
 * TLS 1.3 keys (analyzers/tls/tls13_internal.h): the client's ECDHE shares, the
 * RFC 8446 §7.1 key schedule up to server_handshake_traffic_secret, and the
 * opening of the server's protected records (§5.2-5.3). Only the server's
 * direction: the probe never sends a protected record.
 */
#include "tls13_internal.h"

#include <string.h>

#include <mbedtls/ecdh.h>
#include <mbedtls/hkdf.h>

static const cs_tls13_suite_t SUITES[] = {
    {0x1301, MBEDTLS_MD_SHA256, 32, 16, 0}, /* TLS_AES_128_GCM_SHA256 */
    {0x1302, MBEDTLS_MD_SHA384, 48, 32, 0}, /* TLS_AES_256_GCM_SHA384 */
    {0x1303, MBEDTLS_MD_SHA256, 32, 32, 1}, /* TLS_CHACHA20_POLY1305_SHA256 */
};

const cs_tls13_suite_t *cs_tls13_suite_find(uint16_t id) {
  for (size_t i = 0; i < sizeof(SUITES) / sizeof(SUITES[0]); i++)
    if (SUITES[i].id == id)
      return &SUITES[i];
  return NULL;
}

/* ---- ECDHE ---- */

void cs_tls13_share_init(cs_tls13_share_t *s) {
  s->group = 0;
  mbedtls_ecp_group_init(&s->grp);
  mbedtls_mpi_init(&s->d);
  mbedtls_ecp_point_init(&s->q);
}

void cs_tls13_share_free(cs_tls13_share_t *s) {
  mbedtls_ecp_group_free(&s->grp);
  mbedtls_mpi_free(&s->d);
  mbedtls_ecp_point_free(&s->q);
  cs_tls13_share_init(s); /* safe twice */
}

static mbedtls_ecp_group_id group_id(uint16_t group) {
  switch (group) {
  case CS_TLS13_GROUP_X25519:
    return MBEDTLS_ECP_DP_CURVE25519;
  case CS_TLS13_GROUP_P256:
    return MBEDTLS_ECP_DP_SECP256R1;
  case CS_TLS13_GROUP_P384:
    return MBEDTLS_ECP_DP_SECP384R1;
  default:
    return MBEDTLS_ECP_DP_NONE;
  }
}

int cs_tls13_share_generate(cs_tls13_share_t *s, uint16_t group,
                            int (*f_rng)(void *, unsigned char *, size_t), void *p_rng,
                            uint8_t *pub, size_t cap, size_t *pub_len) {
  mbedtls_ecp_group_id gid = group_id(group);
  if (gid == MBEDTLS_ECP_DP_NONE)
    return CS_EUNSUPPORTED;
  cs_tls13_share_free(s);
  if (mbedtls_ecp_group_load(&s->grp, gid) != 0)
    return CS_EUNSUPPORTED;
  if (mbedtls_ecdh_gen_public(&s->grp, &s->d, &s->q, f_rng, p_rng) != 0)
    return CS_ECRYPTO;
  /* X25519 writes its 32-byte little-endian u-coordinate (RFC 7748), the
   * NIST curves an uncompressed point: exactly RFC 8446 §4.2.8.2. */
  if (mbedtls_ecp_point_write_binary(&s->grp, &s->q, MBEDTLS_ECP_PF_UNCOMPRESSED, pub_len, pub,
                                     cap) != 0)
    return CS_ENOSPACE;
  s->group = group;
  return 0;
}

int cs_tls13_share_compute(cs_tls13_share_t *s, const uint8_t *peer, size_t peer_len,
                           int (*f_rng)(void *, unsigned char *, size_t), void *p_rng,
                           uint8_t *out, size_t *out_len) {
  mbedtls_ecp_point qp;
  mbedtls_mpi z;
  mbedtls_ecp_point_init(&qp);
  mbedtls_mpi_init(&z);
  int ret = CS_EPARSE;
  size_t flen = (s->grp.pbits + 7) / 8;
  if (s->group == 0 || flen > 48)
    goto out;
  /* The NIST curves: only an uncompressed point is legal (§4.2.8.2). */
  if (s->group != CS_TLS13_GROUP_X25519 && (peer_len != 1 + 2 * flen || peer[0] != 4))
    goto out;
  if (mbedtls_ecp_point_read_binary(&s->grp, &qp, peer, peer_len) != 0 ||
      mbedtls_ecp_check_pubkey(&s->grp, &qp) != 0)
    goto out;
  ret = CS_ECRYPTO;
  if (mbedtls_ecdh_compute_shared(&s->grp, &z, &qp, &s->d, f_rng, p_rng) != 0)
    goto out;
  if (s->group == CS_TLS13_GROUP_X25519) {
    if (mbedtls_mpi_write_binary_le(&z, out, flen) != 0)
      goto out;
    uint8_t acc = 0; /* all-zero output means a small-order point: abort (§7.4.2) */
    for (size_t i = 0; i < flen; i++)
      acc |= out[i];
    if (acc == 0)
      goto out;
  } else if (mbedtls_mpi_write_binary(&z, out, flen) != 0) {
    goto out;
  }
  *out_len = flen;
  ret = 0;
out:
  mbedtls_ecp_point_free(&qp);
  mbedtls_mpi_free(&z);
  return ret;
}

/* ---- key schedule ---- */

int cs_tls13_expand_label(const cs_tls13_suite_t *s, const uint8_t *secret, const char *label,
                          const uint8_t *ctx, size_t ctx_len, uint8_t *out, size_t out_len) {
  uint8_t info[2 + 1 + 6 + 32 + 1 + CS_TLS13_HASH_MAX];
  size_t llen = strlen(label);
  if (llen > 32 || ctx_len > CS_TLS13_HASH_MAX || out_len > 255)
    return CS_EINVAL;
  size_t n = 0;
  info[n++] = (uint8_t)(out_len >> 8);
  info[n++] = (uint8_t)out_len;
  info[n++] = (uint8_t)(6 + llen);
  memcpy(info + n, "tls13 ", 6);
  n += 6;
  memcpy(info + n, label, llen);
  n += llen;
  info[n++] = (uint8_t)ctx_len;
  if (ctx_len > 0)
    memcpy(info + n, ctx, ctx_len);
  n += ctx_len;
  const mbedtls_md_info_t *md = mbedtls_md_info_from_type(s->md);
  if (md == NULL || mbedtls_hkdf_expand(md, secret, s->hash_len, info, n, out, out_len) != 0)
    return CS_ECRYPTO;
  return 0;
}

int cs_tls13_server_hs_secret(const cs_tls13_suite_t *s, const uint8_t *ecdhe, size_t ecdhe_len,
                              const uint8_t *transcript_hash, uint8_t *out) {
  const mbedtls_md_info_t *md = mbedtls_md_info_from_type(s->md);
  uint8_t zeros[CS_TLS13_HASH_MAX] = {0}, early[CS_TLS13_HASH_MAX], derived[CS_TLS13_HASH_MAX];
  uint8_t empty_hash[CS_TLS13_HASH_MAX], hs[CS_TLS13_HASH_MAX];
  int ret = CS_ECRYPTO;
  if (md == NULL || mbedtls_md(md, NULL, 0, empty_hash) != 0)
    goto out;
  /* No PSK: early_secret = HKDF-Extract(0, 0^Hash.length). */
  if (mbedtls_hkdf_extract(md, zeros, s->hash_len, zeros, s->hash_len, early) != 0)
    goto out;
  if ((ret = cs_tls13_expand_label(s, early, "derived", empty_hash, s->hash_len, derived,
                                   s->hash_len)) != 0)
    goto out;
  ret = CS_ECRYPTO;
  if (mbedtls_hkdf_extract(md, derived, s->hash_len, ecdhe, ecdhe_len, hs) != 0)
    goto out;
  ret = cs_tls13_expand_label(s, hs, "s hs traffic", transcript_hash, s->hash_len, out,
                              s->hash_len);
out:
  memset(early, 0, sizeof(early));
  memset(derived, 0, sizeof(derived));
  memset(hs, 0, sizeof(hs));
  return ret;
}

/* ---- record protection ---- */

void cs_tls13_rx_init(cs_tls13_rx_t *rx) {
  rx->suite = NULL;
  mbedtls_gcm_init(&rx->gcm);
  mbedtls_chachapoly_init(&rx->chachapoly);
  memset(rx->iv, 0, sizeof(rx->iv));
  rx->seq = 0;
}

void cs_tls13_rx_free(cs_tls13_rx_t *rx) {
  mbedtls_gcm_free(&rx->gcm);
  mbedtls_chachapoly_free(&rx->chachapoly);
  cs_tls13_rx_init(rx);
}

int cs_tls13_rx_key(cs_tls13_rx_t *rx, const cs_tls13_suite_t *s, const uint8_t *secret) {
  uint8_t key[32];
  int ret = cs_tls13_expand_label(s, secret, "key", NULL, 0, key, s->key_len);
  if (ret == 0)
    ret = cs_tls13_expand_label(s, secret, "iv", NULL, 0, rx->iv, sizeof(rx->iv));
  if (ret == 0) {
    int r = s->chacha ? mbedtls_chachapoly_setkey(&rx->chachapoly, key)
                      : mbedtls_gcm_setkey(&rx->gcm, MBEDTLS_CIPHER_ID_AES, key,
                                           (unsigned)(s->key_len * 8));
    ret = r == 0 ? 0 : CS_ECRYPTO;
  }
  memset(key, 0, sizeof(key));
  if (ret == 0) {
    rx->suite = s;
    rx->seq = 0;
  }
  return ret;
}

int cs_tls13_rx_open(cs_tls13_rx_t *rx, const uint8_t hdr[5], const uint8_t *ct, size_t ct_len,
                     uint8_t *out, size_t *out_len, uint8_t *inner_type, cs_errbuf_t *eb) {
  if (rx->suite == NULL)
    return cs_errbuf_set(eb, CS_ESTATE, "protected record before the keys");
  if (ct_len < 16 + 1 || ct_len > CS_TLS13_REC_MAX)
    return cs_errbuf_set(eb, CS_EPARSE, "protected record of %zu bytes", ct_len);
  uint8_t nonce[12];
  memcpy(nonce, rx->iv, sizeof(nonce));
  for (int i = 0; i < 8; i++) /* per-record nonce: iv XOR 64-bit sequence (§5.3) */
    nonce[11 - i] ^= (uint8_t)(rx->seq >> (8 * i));
  size_t len = ct_len - 16;
  int r = rx->suite->chacha
              ? mbedtls_chachapoly_auth_decrypt(&rx->chachapoly, len, nonce, hdr, 5, ct + len,
                                                ct, out)
              : mbedtls_gcm_auth_decrypt(&rx->gcm, len, nonce, sizeof(nonce), hdr, 5, ct + len,
                                         16, ct, out);
  if (r != 0)
    return cs_errbuf_set(eb, CS_ECRYPTO, "record %llu does not decrypt (bad tag)",
                         (unsigned long long)rx->seq);
  rx->seq++;
  while (len > 0 && out[len - 1] == 0) /* zero padding after the type (§5.4) */
    len--;
  if (len == 0)
    return cs_errbuf_set(eb, CS_EPARSE, "protected record without a content type");
  *inner_type = out[len - 1];
  *out_len = len - 1;
  if (*out_len > 16384)
    return cs_errbuf_set(eb, CS_EPARSE, "record plaintext of %zu bytes", *out_len);
  return 0;
}
