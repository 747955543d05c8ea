/*
 * Leaf certificates for intercepted hosts (see certskew/proxy/ca.h): one ECDSA
 * P-256 key for every leaf (key generation is the slow part; the browser
 * only checks the signature chain and the name), a certificate per host
 * signed by the local CA, kept in a small LRU cache with reference counts so
 * an evicted leaf stays alive while a handshake still uses it.
 *
 * Threads: every worker of the proxy mints from this one cache (a host's
 * leaf is minted once, not once per worker). One mutex guards the cache,
 * the reference counts, the mint's RNG and the CA key: a lookup holds it for
 * a string compare per entry; a miss holds it while the leaf is signed
 * (one ECDSA signature, about a millisecond), so another worker's miss
 * waits that long. The shared leaf key is only read under the lock (workers
 * sign handshakes with their own copy, cs_mint_key_copy).
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/oid.h>
#include <uv.h>

#include "certskew/proxy/ca.h"
#include "certskew/core/time.h"
#include "certskew/net/rng.h"
#include "certskew/net/x509_write.h"

#define LEAF_VALIDITY_MS (90 * CS_MS_PER_DAY)
#define HOST_MAX 253

struct cs_leaf {
  int refs;             /* under the mint's lock */
  struct cs_mint *mint; /* borrowed: the cache it came from */
  char host[HOST_MAX + 1];
  uint64_t last_used;
  mbedtls_x509_crt chain; /* leaf, then the CA certificate */
};

struct cs_mint {
  cs_ca_t *ca; /* borrowed */
  cs_rng_t rng;
  mbedtls_pk_context key;
  cs_leaf_t **cache; /* owned array of cache_max references */
  size_t cache_max;
  uint64_t tick;
  size_t minted;
  uv_mutex_t lock; /* everything above, and every leaf's refs */
  int lock_ok;
};

/* Under m->lock. */
static void leaf_unref(cs_leaf_t *leaf) {
  if (leaf == NULL || --leaf->refs > 0)
    return;
  mbedtls_x509_crt_free(&leaf->chain);
  free(leaf);
}

int cs_mint_new(cs_mint_t **out, cs_ca_t *ca, size_t cache_max, cs_errbuf_t *eb) {
  *out = NULL;
  if (cache_max == 0)
    return cs_errbuf_set(eb, CS_EINVAL, "leaf cache size must be >= 1");
  cs_mint_t *m = calloc(1, sizeof *m); /* owned by the caller on success */
  if (m == NULL)
    return CS_ENOMEM;
  m->ca = ca;
  m->cache_max = cache_max;
  mbedtls_pk_init(&m->key);
  int rc = uv_mutex_init(&m->lock) == 0 ? 0 : CS_ENOMEM;
  m->lock_ok = rc == 0;
  if (rc == 0)
    rc = cs_rng_init(&m->rng, "certskew-mint");
  if (rc != 0)
    goto out;
  m->cache = calloc(cache_max, sizeof *m->cache);
  if (m->cache == NULL) {
    rc = CS_ENOMEM;
    goto out;
  }
  if (mbedtls_pk_setup(&m->key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
      mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(m->key), cs_rng_fill,
                          &m->rng) != 0)
    rc = cs_errbuf_set(eb, CS_ECRYPTO, "cannot generate the leaf key");
out:
  if (rc != 0) {
    cs_mint_free(m);
    return rc;
  }
  *out = m;
  return 0;
}

void cs_mint_free(cs_mint_t *m) {
  if (m == NULL)
    return;
  if (m->cache != NULL)
    for (size_t i = 0; i < m->cache_max; i++)
      leaf_unref(m->cache[i]);
  free(m->cache);
  mbedtls_pk_free(&m->key);
  cs_rng_free(&m->rng);
  if (m->lock_ok)
    uv_mutex_destroy(&m->lock);
  free(m);
}

/* subjectAltName: SEQUENCE { [2] dNSName | [7] iPAddress }. */
static size_t encode_san(const char *host, unsigned char *buf, size_t buflen) {
  unsigned char ip[16];
  size_t iplen = cs_x509_parse_ip(host, ip);
  const unsigned char *val = iplen > 0 ? ip : (const unsigned char *)host;
  size_t vlen = iplen > 0 ? iplen : strlen(host);
  unsigned char tag = iplen > 0 ? 0x87 : 0x82;
  /* Lengths up to 253 + headers: short or one-byte long form. */
  size_t inner_hdr = vlen < 128 ? 2 : 3;
  size_t inner = inner_hdr + vlen;
  size_t outer_hdr = inner < 128 ? 2 : 3;
  if (outer_hdr + inner > buflen)
    return 0;
  size_t i = 0;
  buf[i++] = 0x30;
  if (inner >= 128)
    buf[i++] = 0x81;
  buf[i++] = (unsigned char)inner;
  buf[i++] = tag;
  if (vlen >= 128)
    buf[i++] = 0x81;
  buf[i++] = (unsigned char)vlen;
  memcpy(buf + i, val, vlen);
  return i + vlen;
}

static int host_ok(const char *host) {
  size_t n = strlen(host);
  if (n == 0 || n > HOST_MAX)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = host[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']' || c == '*';
    if (!ok)
      return 0;
  }
  return 1;
}

static int mint(cs_mint_t *m, const char *host, int64_t now_ms, cs_leaf_t **out,
                cs_errbuf_t *eb) {
  static const unsigned char eku_server_auth[] = {0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01,
                                                  0x05, 0x05, 0x07, 0x03, 0x01};
  mbedtls_x509write_cert w;
  mbedtls_x509write_crt_init(&w);
  cs_leaf_t *leaf = calloc(1, sizeof *leaf); /* one reference, handed to *out */
  int rc = CS_ECRYPTO;
  if (leaf == NULL) {
    rc = CS_ENOMEM;
    goto out;
  }
  leaf->refs = 1;
  mbedtls_x509_crt_init(&leaf->chain);
  snprintf(leaf->host, sizeof leaf->host, "%s", host);
  char subject[128];
  unsigned char ip[16];
  int is_ip = cs_x509_parse_ip(host, ip) > 0;
  /* CN is informative only (browsers use the SAN); it must stay <= 64. */
  snprintf(subject, sizeof subject, "CN=%.64s,O=certskew interception",
           (is_ip || strlen(host) > 64) ? "certskew leaf" : host);
  int64_t nb = cs_x509_backdated_not_before(now_ms), na = 0;
  if (cs_time_add(nb, LEAF_VALIDITY_MS, &na) != 0)
    goto out;
  char nbs[16], nas[16];
  cs_x509_time_string(nb, nbs);
  cs_x509_time_string(na, nas);
  unsigned char san[300];
  size_t san_len = encode_san(host, san, sizeof san);
  if (san_len == 0)
    goto out;
  mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&w, &m->key);
  mbedtls_x509write_crt_set_issuer_key(&w, cs_ca_key(m->ca));
  char issuer[512];
  if (mbedtls_x509_dn_gets(issuer, sizeof issuer, &cs_ca_cert(m->ca)->subject) < 0)
    goto out;
  if (mbedtls_x509write_crt_set_subject_name(&w, subject) != 0 ||
      mbedtls_x509write_crt_set_issuer_name(&w, issuer) != 0 ||
      mbedtls_x509write_crt_set_validity(&w, nbs, nas) != 0 ||
      cs_x509_random_serial(&w, &m->rng) != 0 ||
      mbedtls_x509write_crt_set_basic_constraints(&w, 0, -1) != 0 ||
      mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0 ||
      mbedtls_x509write_crt_set_extension(&w, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                          MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0,
                                          eku_server_auth, sizeof eku_server_auth) != 0 ||
      mbedtls_x509write_crt_set_extension(&w, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                          MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, san,
                                          san_len) != 0 ||
      mbedtls_x509write_crt_set_authority_key_identifier(&w) != 0)
    goto out;
  unsigned char buf[2048];
  const unsigned char *der = NULL;
  size_t der_len = 0;
  if (cs_x509_write_der(&w, &m->rng, buf, sizeof buf, &der, &der_len) != 0)
    goto out;
  mbedtls_x509_crt *ca = cs_ca_cert(m->ca);
  if (mbedtls_x509_crt_parse_der(&leaf->chain, der, der_len) != 0 ||
      mbedtls_x509_crt_parse_der(&leaf->chain, ca->raw.p, ca->raw.len) != 0)
    goto out;
  rc = 0;
out:
  mbedtls_x509write_crt_free(&w);
  if (rc != 0) {
    leaf_unref(leaf);
    return cs_errbuf_set(eb, rc, "cannot mint a leaf for %s", host);
  }
  m->minted++;
  *out = leaf;
  return 0;
}

static int mint_get(cs_mint_t *m, const char *host, int64_t now_ms, cs_leaf_t **out,
                    cs_errbuf_t *eb) {
  size_t victim = 0;
  for (size_t i = 0; i < m->cache_max; i++) {
    cs_leaf_t *e = m->cache[i];
    if (e != NULL && strcmp(e->host, host) == 0) {
      e->last_used = ++m->tick;
      e->refs++;
      *out = e;
      return 0;
    }
    /* Remember an empty slot, else the least recently used one. */
    if (m->cache[victim] != NULL && (e == NULL || e->last_used < m->cache[victim]->last_used))
      victim = i;
  }
  cs_leaf_t *leaf = NULL;
  int rc = mint(m, host, now_ms, &leaf, eb);
  if (rc != 0)
    return rc;
  leaf_unref(m->cache[victim]);
  leaf->mint = m; /* set once, before any other thread can see the leaf */
  leaf->refs++; /* one for the cache, one for the caller */
  leaf->last_used = ++m->tick;
  m->cache[victim] = leaf;
  *out = leaf;
  return 0;
}

int cs_mint_get(cs_mint_t *m, const char *host, int64_t now_ms, cs_leaf_t **out,
                cs_errbuf_t *eb) {
  *out = NULL;
  if (!host_ok(host))
    return cs_errbuf_set(eb, CS_EINVAL, "cannot mint a leaf for this host name");
  uv_mutex_lock(&m->lock);
  int rc = mint_get(m, host, now_ms, out, eb);
  uv_mutex_unlock(&m->lock);
  return rc;
}

int cs_mint_key_copy(cs_mint_t *m, mbedtls_pk_context *out) {
  unsigned char der[512];
  uv_mutex_lock(&m->lock);
  int n = mbedtls_pk_write_key_der(&m->key, der, sizeof der);
  uv_mutex_unlock(&m->lock);
  int rc = CS_ECRYPTO;
  /* mbedtls_pk_write_key_der writes at the end of the buffer. */
  if (n > 0 && mbedtls_pk_parse_key(out, der + sizeof der - n, (size_t)n, NULL, 0) == 0)
    rc = 0;
  mbedtls_platform_zeroize(der, sizeof der);
  return rc;
}

size_t cs_mint_count(cs_mint_t *m) {
  uv_mutex_lock(&m->lock);
  size_t n = m->minted;
  uv_mutex_unlock(&m->lock);
  return n;
}
mbedtls_x509_crt *cs_leaf_chain(cs_leaf_t *leaf) { return &leaf->chain; }
mbedtls_pk_context *cs_mint_key(cs_mint_t *m) { return &m->key; }
void cs_leaf_release(cs_leaf_t *leaf) {
  if (leaf == NULL)
    return;
  cs_mint_t *m = leaf->mint;
  uv_mutex_lock(&m->lock);
  leaf_unref(leaf);
  uv_mutex_unlock(&m->lock);
}
