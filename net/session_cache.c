/* Upstream TLS session cache (see session_cache.h).
 *
 * Threads: the proxy's workers share one cache, so a connection resumes the
 * session another worker's full handshake saved (the kernel spreads clients
 * over the workers). One mutex, held for a scan of the entries and a copy
 * of one session: short next to the handshake it saves. */
#include "certskew/net/session_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#define KEY_MAX 600

typedef struct entry {
  int used;
  char key[KEY_MAX];
  int64_t saved_ms;  /* the full handshake's time */
  uint64_t order;    /* save order, for eviction */
  mbedtls_ssl_session sess;
  uint8_t *chain;    /* owned: the chain of the full handshake */
  size_t chain_len, ncerts;
} entry_t;

struct cs_session_cache {
  entry_t *e;        /* owned array of max entries */
  size_t max, count;
  int64_t max_age_ms;
  uint64_t tick;
  uv_mutex_t lock;   /* everything above */
};

int cs_session_cache_new(cs_session_cache_t **out, size_t max_entries, int64_t max_age_ms) {
  *out = NULL;
  if (max_entries == 0 || max_age_ms <= 0)
    return CS_EINVAL;
  cs_session_cache_t *c = calloc(1, sizeof *c); /* owned by the caller */
  if (c == NULL)
    return CS_ENOMEM;
  c->e = calloc(max_entries, sizeof *c->e);
  if (c->e == NULL || uv_mutex_init(&c->lock) != 0) {
    free(c->e);
    free(c);
    return CS_ENOMEM;
  }
  for (size_t i = 0; i < max_entries; i++)
    mbedtls_ssl_session_init(&c->e[i].sess);
  c->max = max_entries;
  c->max_age_ms = max_age_ms;
  *out = c;
  return 0;
}

static void drop(cs_session_cache_t *c, entry_t *e) {
  if (!e->used)
    return;
  mbedtls_ssl_session_free(&e->sess); /* zeroes it: init state again */
  free(e->chain);
  e->chain = NULL;
  e->chain_len = e->ncerts = 0;
  e->used = 0;
  c->count--;
}

void cs_session_cache_free(cs_session_cache_t *c) {
  if (c == NULL)
    return;
  for (size_t i = 0; i < c->max; i++)
    drop(c, &c->e[i]);
  free(c->e);
  uv_mutex_destroy(&c->lock);
  free(c);
}

static entry_t *find(cs_session_cache_t *c, const char *key) {
  for (size_t i = 0; i < c->max; i++)
    if (c->e[i].used && strcmp(c->e[i].key, key) == 0)
      return &c->e[i];
  return NULL;
}

static int offer(cs_session_cache_t *c, const char *key, mbedtls_ssl_context *ssl,
                 int64_t now_ms, uint8_t **chain_der, size_t *chain_len, size_t *ncerts);
static int save(cs_session_cache_t *c, const char *key, const mbedtls_ssl_context *ssl,
                uint8_t *chain, size_t chain_len, size_t ncerts, int64_t now_ms);

int cs_session_cache_offer(cs_session_cache_t *c, const char *key, mbedtls_ssl_context *ssl,
                           int64_t now_ms, uint8_t **chain_der, size_t *chain_len,
                           size_t *ncerts) {
  *chain_der = NULL;
  *chain_len = *ncerts = 0;
  if (c == NULL)
    return 0;
  uv_mutex_lock(&c->lock);
  int rc = offer(c, key, ssl, now_ms, chain_der, chain_len, ncerts);
  uv_mutex_unlock(&c->lock);
  return rc;
}

static int offer(cs_session_cache_t *c, const char *key, mbedtls_ssl_context *ssl,
                 int64_t now_ms, uint8_t **chain_der, size_t *chain_len, size_t *ncerts) {
  entry_t *e = find(c, key);
  if (e == NULL)
    return 0;
  /* Expired (or the clock went back): a full handshake captures afresh. */
  if (now_ms < e->saved_ms || now_ms - e->saved_ms >= c->max_age_ms) {
    drop(c, e);
    return 0;
  }
  /* A copy: a later save may replace the entry before this handshake
   * completes, and the resumed session must keep its own chain. */
  uint8_t *copy = malloc(e->chain_len);
  if (copy == NULL)
    return CS_ENOMEM;
  if (mbedtls_ssl_set_session(ssl, &e->sess) != 0) {
    free(copy);
    return CS_ECRYPTO;
  }
  memcpy(copy, e->chain, e->chain_len);
  *chain_der = copy;
  *chain_len = e->chain_len;
  *ncerts = e->ncerts;
  return 1;
}

int cs_session_cache_save(cs_session_cache_t *c, const char *key, const mbedtls_ssl_context *ssl,
                          const uint8_t *chain_der, size_t chain_len, size_t ncerts,
                          int64_t now_ms) {
  if (c == NULL)
    return 0;
  if (strlen(key) >= KEY_MAX || chain_der == NULL || chain_len == 0 || ncerts == 0)
    return CS_EINVAL;
  uint8_t *chain = malloc(chain_len); /* owned by the entry */
  if (chain == NULL)
    return CS_ENOMEM;
  memcpy(chain, chain_der, chain_len);
  uv_mutex_lock(&c->lock);
  int rc = save(c, key, ssl, chain, chain_len, ncerts, now_ms);
  uv_mutex_unlock(&c->lock);
  return rc;
}

static int save(cs_session_cache_t *c, const char *key, const mbedtls_ssl_context *ssl,
                uint8_t *chain, size_t chain_len, size_t ncerts, int64_t now_ms) {
  entry_t *e = find(c, key);
  if (e == NULL) {
    /* A free slot, else the oldest save. */
    for (size_t i = 0; i < c->max; i++) {
      entry_t *x = &c->e[i];
      if (!x->used) {
        e = x;
        break;
      }
      if (e == NULL || x->order < e->order)
        e = x;
    }
  }
  drop(c, e);
  if (mbedtls_ssl_get_session(ssl, &e->sess) != 0) {
    mbedtls_ssl_session_free(&e->sess);
    free(chain);
    return CS_ECRYPTO;
  }
  e->chain = chain;
  e->chain_len = chain_len;
  e->ncerts = ncerts;
  snprintf(e->key, sizeof e->key, "%s", key);
  e->saved_ms = now_ms;
  e->order = ++c->tick;
  e->used = 1;
  c->count++;
  return 0;
}

void cs_session_cache_forget(cs_session_cache_t *c, const char *key) {
  if (c == NULL)
    return;
  uv_mutex_lock(&c->lock);
  entry_t *e = find(c, key);
  if (e != NULL)
    drop(c, e);
  uv_mutex_unlock(&c->lock);
}

size_t cs_session_cache_count(const cs_session_cache_t *c) {
  if (c == NULL)
    return 0;
  uv_mutex_t *lock = (uv_mutex_t *)&c->lock; /* the count is read, never changed */
  uv_mutex_lock(lock);
  size_t n = c->count;
  uv_mutex_unlock(lock);
  return n;
}
