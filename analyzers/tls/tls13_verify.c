/*
 * The server CertificateVerify check (analyzers/tls/tls13_internal.h): the
 * signature over 64 spaces, the context string, a zero byte and the
 * transcript hash (RFC 8446 §4.4.3), with the leaf certificate's key. This
 * is what makes a TLS 1.3 capture a proof that the server holds the key of
 * the chain it sent, which a replayed or spliced Certificate cannot fake.
 */
#include "tls13_internal.h"

#include <stdio.h>
#include <string.h>

#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>

static const char CONTEXT[] = "TLS 1.3, server CertificateVerify";

typedef struct scheme {
  uint16_t id;
  mbedtls_md_type_t md;
  int pss;                     /* 1: rsa_pss_rsae_*, 0: ECDSA */
  mbedtls_ecp_group_id curve;  /* ECDSA: the curve the key must be on */
  const char *name;
} scheme_t;

static const scheme_t SCHEMES[] = {
    {0x0403, MBEDTLS_MD_SHA256, 0, MBEDTLS_ECP_DP_SECP256R1, "ecdsa_secp256r1_sha256"},
    {0x0503, MBEDTLS_MD_SHA384, 0, MBEDTLS_ECP_DP_SECP384R1, "ecdsa_secp384r1_sha384"},
    {0x0603, MBEDTLS_MD_SHA512, 0, MBEDTLS_ECP_DP_SECP521R1, "ecdsa_secp521r1_sha512"},
    {0x0804, MBEDTLS_MD_SHA256, 1, MBEDTLS_ECP_DP_NONE, "rsa_pss_rsae_sha256"},
    {0x0805, MBEDTLS_MD_SHA384, 1, MBEDTLS_ECP_DP_NONE, "rsa_pss_rsae_sha384"},
    {0x0806, MBEDTLS_MD_SHA512, 1, MBEDTLS_ECP_DP_NONE, "rsa_pss_rsae_sha512"},
};

static const scheme_t *find_scheme(uint16_t id) {
  for (size_t i = 0; i < sizeof(SCHEMES) / sizeof(SCHEMES[0]); i++)
    if (SCHEMES[i].id == id)
      return &SCHEMES[i];
  return NULL;
}

/* Checks the leaf key fits the scheme; 0 or a reason. */
static const char *key_mismatch(const scheme_t *s, mbedtls_pk_context *pk) {
  if (s->pss)
    return mbedtls_pk_can_do(pk, MBEDTLS_PK_RSA) ? NULL : "leaf key is not RSA";
  if (!mbedtls_pk_can_do(pk, MBEDTLS_PK_ECDSA))
    return "leaf key is not ECDSA";
  /* TLS 1.3 binds the curve to the scheme (§4.2.3), unlike TLS 1.2. */
  return mbedtls_pk_ec(*pk)->grp.id == s->curve ? NULL : "leaf key is on another curve";
}

cs_tls_probe_cv_t cs_tls13_cert_verify_check(const uint8_t *leaf, size_t leaf_len, uint16_t alg,
                                             const uint8_t *transcript_hash, size_t hash_len,
                                             const uint8_t *sig, size_t sig_len, char *detail,
                                             size_t detail_cap) {
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  cs_tls_probe_cv_t v = CS_TLS_PROBE_CV_UNSUPPORTED;
  const scheme_t *s = find_scheme(alg);
  const char *why;
  uint8_t content[64 + sizeof(CONTEXT) + CS_TLS13_HASH_MAX], digest[64];
  if (s == NULL) {
    snprintf(detail, detail_cap, "CertificateVerify: unsupported signature scheme 0x%04x", alg);
    goto out;
  }
  if (hash_len > CS_TLS13_HASH_MAX || mbedtls_x509_crt_parse_der(&crt, leaf, leaf_len) != 0) {
    snprintf(detail, detail_cap, "CertificateVerify: the leaf certificate cannot be parsed");
    goto out;
  }
  if ((why = key_mismatch(s, &crt.pk)) != NULL) {
    v = CS_TLS_PROBE_CV_BAD_SIGNATURE; /* the server signed with a key of another kind */
    snprintf(detail, detail_cap, "CertificateVerify %s: %s", s->name, why);
    goto out;
  }
  memset(content, 0x20, 64);
  memcpy(content + 64, CONTEXT, sizeof(CONTEXT)); /* with its terminating zero byte */
  memcpy(content + 64 + sizeof(CONTEXT), transcript_hash, hash_len);
  const mbedtls_md_info_t *md = mbedtls_md_info_from_type(s->md);
  if (md == NULL ||
      mbedtls_md(md, content, 64 + sizeof(CONTEXT) + hash_len, digest) != 0) {
    snprintf(detail, detail_cap, "CertificateVerify %s: hash unavailable", s->name);
    goto out;
  }
  int r;
  if (s->pss) {
    mbedtls_pk_rsassa_pss_options o = {s->md, (int)mbedtls_md_get_size(md)};
    r = mbedtls_pk_verify_ext(MBEDTLS_PK_RSASSA_PSS, &o, &crt.pk, s->md, digest,
                              mbedtls_md_get_size(md), sig, sig_len);
  } else {
    r = mbedtls_pk_verify(&crt.pk, s->md, digest, mbedtls_md_get_size(md), sig, sig_len);
  }
  if (r != 0) {
    v = CS_TLS_PROBE_CV_BAD_SIGNATURE;
    snprintf(detail, detail_cap,
             "CertificateVerify %s does not verify with the leaf's key (mbedTLS -0x%04x)",
             s->name, (unsigned)-r);
    goto out;
  }
  v = CS_TLS_PROBE_CV_VERIFIED;
  snprintf(detail, detail_cap, "CertificateVerify %s verified with the leaf's key", s->name);
out:
  mbedtls_x509_crt_free(&crt);
  return v;
}
