/*
 * Trust stores (include/certskew/trust/trust.h): a named set of certificates
 * filled from PEM bundles or DER buffers.
 *
 * Certificates are parsed by cs_chain_load so that store certificates and
 * served ones are described by the same cs_cert_info_t. A chain holds at most
 * CS_CHAIN_MAX_CERTS certificates, so a bundle is loaded in groups of that
 * many PEM blocks; a group that fails is retried block by block so a single
 * bad entry is skipped, not the whole bundle.
 */
#include "certskew/trust/trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cs_trust_store {
  char name[CS_TRUST_STORE_NAME_MAX];
  cs_chain_t **chains; /* owned; each owns the certificates it parsed */
  size_t nchains;
  size_t chains_cap;
  const cs_cert_info_t **certs; /* borrowed from chains; unique by SHA-256 */
  size_t ncerts;
  size_t certs_cap;
};

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

int cs_trust_store_new(cs_trust_store_t **out, const char *name) {
  *out = calloc(1, sizeof(**out)); /* owned by the caller: cs_trust_store_free */
  if (*out == NULL)
    return CS_ENOMEM;
  snprintf((*out)->name, sizeof((*out)->name), "%s", name != NULL ? name : "trust store");
  return 0;
}

void cs_trust_store_free(cs_trust_store_t *store) {
  if (store == NULL)
    return;
  for (size_t i = 0; i < store->nchains; i++)
    cs_chain_free(store->chains[i]);
  free(store->chains);
  free(store->certs);
  free(store);
}

const char *cs_trust_store_name(const cs_trust_store_t *store) { return store->name; }
size_t cs_trust_store_count(const cs_trust_store_t *store) { return store->ncerts; }

const cs_cert_info_t *cs_trust_store_cert(const cs_trust_store_t *store, size_t i) {
  return i < store->ncerts ? store->certs[i] : NULL;
}

/* Chains parsed by one add call, committed to the store only on success. */
typedef struct pending {
  cs_chain_t **chains; /* owned until committed */
  size_t n;
  size_t cap;
  size_t certs; /* total certificates in chains */
} pending_t;

static void pending_free(pending_t *p) {
  for (size_t i = 0; i < p->n; i++)
    cs_chain_free(p->chains[i]);
  free(p->chains);
}

static int pending_push(pending_t *p, cs_chain_t *chain) {
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 8;
    cs_chain_t **grown = realloc(p->chains, cap * sizeof(*grown));
    if (grown == NULL) {
      cs_chain_free(chain);
      return CS_ENOMEM;
    }
    p->chains = grown;
    p->cap = cap;
  }
  p->chains[p->n++] = chain;
  p->certs += cs_chain_count(chain);
  return 0;
}

/* Loads text[0..len) (whole PEM blocks) as one chain; on failure retries the
 * blocks one at a time, counting the ones that fail. */
static int load_group(pending_t *p, const char *text, size_t len, const size_t *starts,
                      size_t nblocks, size_t *skipped, cs_errbuf_t *eb) {
  cs_chain_t *chain = NULL;
  if (cs_chain_load(&chain, (const uint8_t *)text, len, NULL) == 0)
    return pending_push(p, chain);
  for (size_t b = 0; b < nblocks; b++) {
    size_t from = starts[b] - starts[0];
    size_t to = b + 1 < nblocks ? starts[b + 1] - starts[0] : len;
    int err = cs_chain_load(&chain, (const uint8_t *)text + from, to - from, eb);
    if (err == CS_ENOMEM)
      return err;
    if (err != 0) {
      (*skipped)++;
      continue;
    }
    err = pending_push(p, chain);
    if (err != 0)
      return err;
  }
  return 0;
}

static int load_pem_bundle(pending_t *p, const uint8_t *buf, size_t len, size_t *skipped,
                           cs_errbuf_t *eb) {
  if (memchr(buf, '\0', len) != NULL)
    return cs_errbuf_set(eb, CS_EPARSE, "PEM input contains NUL bytes");
  char *text = malloc(len + 1); /* NUL-terminated copy for strstr; freed below */
  if (text == NULL)
    return CS_ENOMEM;
  memcpy(text, buf, len);
  text[len] = '\0';
  size_t starts[CS_CHAIN_MAX_CERTS];
  size_t nblocks = 0;
  int err = 0;
  const char *cur = text;
  for (;;) {
    const char *begin = strstr(cur, PEM_BEGIN);
    const char *end = begin != NULL ? strstr(begin, PEM_END) : NULL;
    if (begin != NULL && end == NULL) {
      (*skipped)++; /* a block cut short: nothing after it can be read */
      begin = NULL;
    }
    if (begin == NULL || nblocks == CS_CHAIN_MAX_CERTS) {
      if (nblocks > 0) {
        size_t group_end = begin != NULL ? (size_t)(begin - text) : (size_t)(cur - text);
        err = load_group(p, text + starts[0], group_end - starts[0], starts, nblocks, skipped, eb);
        if (err != 0)
          break;
        nblocks = 0;
      }
      if (begin == NULL)
        break;
    }
    starts[nblocks++] = (size_t)(begin - text);
    cur = end + strlen(PEM_END);
    if (p->certs + nblocks > CS_TRUST_STORE_MAX_CERTS) {
      err = cs_errbuf_set(eb, CS_ETOOBIG, "more than %d certificates in one store",
                          CS_TRUST_STORE_MAX_CERTS);
      break;
    }
  }
  free(text);
  return err;
}

static int looks_like_pem(const uint8_t *buf, size_t len) {
  for (size_t i = 0; i + 10 <= len; i++)
    if (memcmp(buf + i, "-----BEGIN", 10) == 0)
      return 1;
  return 0;
}

static int store_has(const cs_trust_store_t *store, const cs_cert_info_t *c) {
  for (size_t i = 0; i < store->ncerts; i++)
    if (store->certs[i]->der_len == c->der_len &&
        memcmp(store->certs[i]->der, c->der, c->der_len) == 0)
      return 1;
  return 0;
}

/* Moves the pending chains into the store (cannot fail once space exists). */
static int commit(cs_trust_store_t *store, pending_t *p, size_t *added) {
  if (store->ncerts + p->certs > CS_TRUST_STORE_MAX_CERTS)
    return CS_ETOOBIG;
  if (store->nchains + p->n > store->chains_cap) {
    size_t cap = store->nchains + p->n + 8;
    cs_chain_t **grown = realloc(store->chains, cap * sizeof(*grown));
    if (grown == NULL)
      return CS_ENOMEM;
    store->chains = grown;
    store->chains_cap = cap;
  }
  if (store->ncerts + p->certs > store->certs_cap) {
    size_t cap = store->ncerts + p->certs + 16;
    const cs_cert_info_t **grown = realloc(store->certs, cap * sizeof(*grown));
    if (grown == NULL)
      return CS_ENOMEM;
    store->certs = grown;
    store->certs_cap = cap;
  }
  for (size_t i = 0; i < p->n; i++) {
    cs_chain_t *chain = p->chains[i];
    store->chains[store->nchains++] = chain;
    for (size_t k = 0; k < cs_chain_count(chain); k++) {
      const cs_cert_info_t *info = cs_chain_cert(chain, k);
      if (store_has(store, info))
        continue;
      store->certs[store->ncerts++] = info;
      (*added)++;
    }
  }
  p->n = 0; /* ownership moved */
  return 0;
}

int cs_trust_store_add(cs_trust_store_t *store, const uint8_t *buf, size_t len, size_t *added,
                       size_t *skipped, cs_errbuf_t *eb) {
  size_t n_added = 0, n_skipped = 0;
  if (added != NULL)
    *added = 0;
  if (skipped != NULL)
    *skipped = 0;
  if (store == NULL || (buf == NULL && len > 0))
    return cs_errbuf_set(eb, CS_EINVAL, "no store or no buffer");
  if (len > CS_TRUST_STORE_MAX_INPUT)
    return cs_errbuf_set(eb, CS_ETOOBIG, "trust store input is %zu bytes; the limit is %u", len,
                         CS_TRUST_STORE_MAX_INPUT);
  if (len == 0)
    return cs_errbuf_set(eb, CS_EEMPTY, "trust store input is empty");
  pending_t p = {NULL, 0, 0, 0};
  int err;
  if (looks_like_pem(buf, len)) {
    err = load_pem_bundle(&p, buf, len, &n_skipped, eb);
  } else {
    cs_chain_t *chain = NULL;
    err = cs_chain_load(&chain, buf, len, eb);
    if (err == 0)
      err = pending_push(&p, chain);
  }
  if (err == 0 && p.certs == 0)
    err = n_skipped > 0 ? CS_EEMPTY
                        : cs_errbuf_set(eb, CS_EEMPTY, "no CERTIFICATE block in the input");
  if (err == CS_EEMPTY && n_skipped > 0)
    cs_errbuf_set(eb, CS_EEMPTY, "all %zu certificate blocks failed to parse", n_skipped);
  if (err == 0)
    err = commit(store, &p, &n_added);
  if (err == CS_ETOOBIG)
    cs_errbuf_set(eb, err, "more than %d certificates in one store", CS_TRUST_STORE_MAX_CERTS);
  pending_free(&p);
  if (added != NULL)
    *added = n_added;
  if (skipped != NULL)
    *skipped = n_skipped;
  return err;
}
