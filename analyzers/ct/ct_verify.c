/*
 * SCT signature verification (RFC 6962 §3.2) and its cache
 * (include/certskew/ct/ct.h).
 */
#include "certskew/ct/ct.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

/* ---- what was signed ---------------------------------------------------- */

void cs_ct_entry_init(cs_ct_entry_t *entry) { memset(entry, 0, sizeof(*entry)); }

void cs_ct_entry_free(cs_ct_entry_t *entry) {
  if (entry == NULL)
    return;
  free(entry->precert_tbs);
  entry->precert_tbs = NULL;
  entry->precert_tbs_len = 0;
}

int cs_ct_entry_prepare(cs_ct_entry_t *entry, const mbedtls_x509_crt *leaf,
                        const mbedtls_x509_crt *issuer) {
  uint8_t *no_sct = NULL;
  size_t no_sct_len = 0;
  if (entry == NULL || leaf == NULL)
    return CS_EINVAL;
  cs_ct_entry_free(entry);
  cs_ct_entry_init(entry);
  entry->leaf_der = leaf->raw.p;
  entry->leaf_der_len = leaf->raw.len;
  if (issuer != NULL && issuer->pk_raw.p != NULL) {
    (void)mbedtls_sha256_ret(issuer->pk_raw.p, issuer->pk_raw.len, entry->issuer_key_hash, 0);
    entry->has_issuer = 1;
  }
  /* The log signed the TBS without the poison; the final certificate has the
   * SCT list instead. Removing both also makes a served precertificate check. */
  int err = cs_ct_tbs_remove_ext(leaf->tbs.p, leaf->tbs.len, CS_CT_OID_SCT_LIST,
                                 sizeof(CS_CT_OID_SCT_LIST), &no_sct, &no_sct_len, NULL);
  if (err == 0)
    err = cs_ct_tbs_remove_ext(no_sct, no_sct_len, CS_CT_OID_POISON, sizeof(CS_CT_OID_POISON),
                               &entry->precert_tbs, &entry->precert_tbs_len, NULL);
  free(no_sct);
  if (err == CS_ENOMEM)
    return err;
  entry->precert_error = err;
  return 0;
}

static uint8_t *put_be(uint8_t *o, uint64_t v, int nbytes) {
  for (int i = nbytes - 1; i >= 0; i--)
    *o++ = (uint8_t)(v >> (8 * i));
  return o;
}

int cs_ct_signed_data(cs_ct_entry_type_t type, int64_t timestamp_ms,
                      const uint8_t issuer_key_hash[32], const uint8_t *entry, size_t entry_len,
                      const uint8_t *ext, size_t ext_len, uint8_t **out, size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  if (timestamp_ms < 0 || entry == NULL || entry_len == 0 ||
      (type == CS_CT_ENTRY_PRECERT && issuer_key_hash == NULL) ||
      (type != CS_CT_ENTRY_PRECERT && type != CS_CT_ENTRY_X509) || (ext == NULL && ext_len != 0))
    return CS_EINVAL;
  if (entry_len > 0xFFFFFF || ext_len > 0xFFFF)
    return CS_ETOOBIG;
  size_t total = 1 + 1 + 8 + 2 + (type == CS_CT_ENTRY_PRECERT ? 32 : 0) + 3 + entry_len + 2 + ext_len;
  uint8_t *buf = malloc(total); /* owned by caller */
  if (buf == NULL)
    return CS_ENOMEM;
  uint8_t *o = buf;
  *o++ = 0; /* sct_version v1 */
  *o++ = 0; /* signature_type certificate_timestamp */
  o = put_be(o, (uint64_t)timestamp_ms, 8);
  o = put_be(o, (uint64_t)type, 2);
  if (type == CS_CT_ENTRY_PRECERT) {
    memcpy(o, issuer_key_hash, 32);
    o += 32;
  }
  o = put_be(o, entry_len, 3);
  memcpy(o, entry, entry_len);
  o += entry_len;
  o = put_be(o, ext_len, 2);
  if (ext_len > 0)
    memcpy(o, ext, ext_len);
  *out = buf;
  *out_len = total;
  return 0;
}

/* ---- cache -------------------------------------------------------------- */

typedef struct cache_slot {
  int used;
  int valid;          /* the remembered verdict */
  uint8_t log_id[32];
  uint8_t data_hash[32];
  uint8_t sig_hash[32];
} cache_slot_t;

struct cs_ct_cache {
  cache_slot_t *slots; /* owned */
  size_t capacity;
  uint64_t hits, misses;
};

cs_ct_cache_t *cs_ct_cache_new(size_t capacity) {
  if (capacity == 0)
    return NULL;
  cs_ct_cache_t *c = calloc(1, sizeof(*c)); /* owned by caller */
  if (c == NULL)
    return NULL;
  c->slots = calloc(capacity, sizeof(*c->slots));
  if (c->slots == NULL) {
    free(c);
    return NULL;
  }
  c->capacity = capacity;
  return c;
}

void cs_ct_cache_free(cs_ct_cache_t *c) {
  if (c == NULL)
    return;
  free(c->slots);
  free(c);
}

void cs_ct_cache_stats(const cs_ct_cache_t *c, uint64_t *hits, uint64_t *misses) {
  *hits = c ? c->hits : 0;
  *misses = c ? c->misses : 0;
}

static cache_slot_t *cache_slot(cs_ct_cache_t *c, const uint8_t log_id[32],
                                const uint8_t data_hash[32]) {
  uint64_t h = 0;
  for (int i = 0; i < 8; i++)
    h = (h << 8) | (uint64_t)(data_hash[i] ^ log_id[i]);
  return &c->slots[h % c->capacity];
}

/* ---- verification ------------------------------------------------------- */

int cs_ct_verify_signature(const cs_ct_log_t *log, uint8_t sig_alg, const uint8_t *data,
                           size_t data_len, const uint8_t *sig, size_t sig_len,
                           cs_ct_cache_t *cache) {
  uint8_t hash[32], sig_hash[32];
  cache_slot_t *slot = NULL;
  if (log == NULL || data == NULL || sig == NULL)
    return CS_EINVAL;
  if (sig_alg != log->sig_alg)
    return CS_EUNSUPPORTED;
  (void)mbedtls_sha256_ret(data, data_len, hash, 0);
  if (cache != NULL) {
    (void)mbedtls_sha256_ret(sig, sig_len, sig_hash, 0);
    slot = cache_slot(cache, log->log_id, hash);
    if (slot->used && memcmp(slot->log_id, log->log_id, 32) == 0 &&
        memcmp(slot->data_hash, hash, 32) == 0 && memcmp(slot->sig_hash, sig_hash, 32) == 0) {
      cache->hits++;
      return slot->valid ? 0 : CS_ECRYPTO;
    }
    cache->misses++;
  }
  /* mbedtls_pk_verify takes a non-const context: RSA caches a Montgomery
   * constant in it on first use, so a list is not shared across threads. */
  int ret = mbedtls_pk_verify((mbedtls_pk_context *)&log->pk, MBEDTLS_MD_SHA256, hash,
                              sizeof(hash), sig, sig_len);
  /* Strict: an ECDSA signature with trailing bytes
   * (MBEDTLS_ERR_PK_SIG_LEN_MISMATCH) is not a valid signature. */
  int valid = ret == 0;
  if (slot != NULL) {
    slot->used = 1;
    slot->valid = valid;
    memcpy(slot->log_id, log->log_id, 32);
    memcpy(slot->data_hash, hash, 32);
    memcpy(slot->sig_hash, sig_hash, 32);
  }
  return valid ? 0 : CS_ECRYPTO;
}

const char *cs_ct_sig_verdict_name(cs_ct_sig_verdict_t v) {
  switch (v) {
  case CS_CT_SIG_VALID:
    return "valid";
  case CS_CT_SIG_INVALID:
    return "invalid";
  case CS_CT_SIG_UNKNOWN_LOG:
    return "unknown_log";
  case CS_CT_SIG_NO_ISSUER:
    return "no_issuer";
  case CS_CT_SIG_UNSUPPORTED:
    return "unsupported";
  case CS_CT_SIG_ALG_MISMATCH:
    return "algorithm_mismatch";
  case CS_CT_SIG_ERROR:
    return "precertificate_unrecoverable";
  default:
    return "unknown";
  }
}

cs_ct_sig_verdict_t cs_ct_sct_verify(const cs_ct_entry_t *entry, const cs_sct_t *sct,
                                     const cs_ct_log_t *log, cs_ct_cache_t *cache) {
  uint8_t *data = NULL;
  size_t data_len = 0;
  int err;
  if (entry == NULL || sct == NULL || !sct->supported || sct->version != 0)
    return CS_CT_SIG_UNSUPPORTED;
  if (log == NULL)
    return CS_CT_SIG_UNKNOWN_LOG;
  if (sct->sig_alg != log->sig_alg)
    return CS_CT_SIG_ALG_MISMATCH;
  if (sct->source == CS_SCT_SOURCE_EMBEDDED) {
    if (!entry->has_issuer)
      return CS_CT_SIG_NO_ISSUER;
    if (entry->precert_tbs == NULL)
      return CS_CT_SIG_ERROR;
    err = cs_ct_signed_data(CS_CT_ENTRY_PRECERT, sct->timestamp_ms, entry->issuer_key_hash,
                            entry->precert_tbs, entry->precert_tbs_len, sct->extensions,
                            sct->extensions_len, &data, &data_len);
  } else {
    err = cs_ct_signed_data(CS_CT_ENTRY_X509, sct->timestamp_ms, NULL, entry->leaf_der,
                            entry->leaf_der_len, sct->extensions, sct->extensions_len, &data,
                            &data_len);
  }
  if (err != 0)
    return CS_CT_SIG_ERROR;
  err = cs_ct_verify_signature(log, sct->sig_alg, data, data_len, sct->signature,
                               sct->signature_len, cache);
  free(data);
  return err == 0 ? CS_CT_SIG_VALID : CS_CT_SIG_INVALID;
}
