/*
 * Path building, per-hop checks and verdicts (include/certskew/trust/trust.h).
 *
 * Every candidate issuer is tried (depth-first, stores before served
 * certificates, like OpenSSL's trusted-first lookup), so a cross-signed
 * intermediate and the self-signed root of the same name each give a path
 * and the report can say which one a client would take at each clock.
 */
#include "trust_internal.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>

#include "certskew/core/time.h"

/* A certificate that may issue another: from a store or from the chain. */
typedef struct node {
  const cs_cert_info_t *cert;
  int served_index; /* -1 if from a store */
  int store_index;  /* -1 if served */
} node_t;

typedef struct builder {
  cs_trust_result_t *r;
  node_t *nodes; /* owned */
  size_t nnodes;
  size_t cap_paths;
  node_t stack[CS_TRUST_MAX_DEPTH];
  size_t depth;
} builder_t;

int cs_trust__in(cs_interval_t iv, int64_t t_ms) { return t_ms >= iv.from_ms && t_ms < iv.to_ms; }

static int same_raw(const mbedtls_x509_buf *a, const mbedtls_x509_buf *b) {
  return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

int cs_trust__same_cert(const cs_cert_info_t *a, const cs_cert_info_t *b) {
  return a->der_len == b->der_len && memcmp(a->der, b->der, a->der_len) == 0;
}

static int in_any_store(const cs_trust_result_t *r, const cs_cert_info_t *c) {
  for (size_t s = 0; s < r->nstores; s++)
    for (size_t i = 0; i < cs_trust_store_count(r->stores[s]); i++)
      if (cs_trust__same_cert(cs_trust_store_cert(r->stores[s], i), c))
        return 1;
  return 0;
}

/* Stores first (trusted-first), then served certificates other than the
 * leaf that are not also in a store (those are represented by the store's
 * copy, so one certificate never yields two identical paths). */
static int collect_nodes(builder_t *b) {
  const cs_trust_result_t *r = b->r;
  size_t total = cs_chain_count(r->chain);
  for (size_t s = 0; s < r->nstores; s++)
    total += cs_trust_store_count(r->stores[s]);
  b->nodes = calloc(total, sizeof(*b->nodes)); /* owned by the builder */
  if (b->nodes == NULL)
    return CS_ENOMEM;
  for (size_t s = 0; s < r->nstores; s++)
    for (size_t i = 0; i < cs_trust_store_count(r->stores[s]); i++)
      b->nodes[b->nnodes++] = (node_t){cs_trust_store_cert(r->stores[s], i), -1, (int)s};
  for (size_t i = 1; i < cs_chain_count(r->chain); i++) {
    const cs_cert_info_t *c = cs_chain_cert(r->chain, i);
    if (!in_any_store(r, c))
      b->nodes[b->nnodes++] = (node_t){c, (int)i, -1};
  }
  return 0;
}

static int emit(builder_t *b, cs_trust_end_t end) {
  cs_trust_result_t *r = b->r;
  if (r->npaths == CS_TRUST_MAX_PATHS) {
    r->truncated = 1;
    return 0;
  }
  if (r->npaths == b->cap_paths) {
    size_t cap = b->cap_paths ? b->cap_paths * 2 : 4;
    cs_trust_path_t *grown = realloc(r->paths, cap * sizeof(*grown));
    if (grown == NULL)
      return CS_ENOMEM;
    r->paths = grown;
    b->cap_paths = cap;
  }
  cs_trust_path_t *p = &r->paths[r->npaths++];
  memset(p, 0, sizeof(*p));
  p->nhops = b->depth;
  p->end = end;
  p->anchor_store = end == CS_TRUST_END_ANCHOR ? b->stack[b->depth - 1].store_index : -1;
  for (size_t h = 0; h < b->depth; h++) {
    p->hops[h].cert = b->stack[h].cert;
    p->hops[h].served_index = b->stack[h].served_index;
    p->hops[h].store_index = b->stack[h].store_index;
  }
  return 0;
}

static int on_path(const builder_t *b, const cs_cert_info_t *c) {
  for (size_t h = 0; h < b->depth; h++)
    if (same_raw(&b->stack[h].cert->crt->subject_raw, &c->crt->subject_raw))
      return 1; /* the same name twice is a loop (A cross-signs B cross-signs A) */
  return 0;
}

static int build(builder_t *b) {
  const node_t *cur = &b->stack[b->depth - 1];
  if (cur->cert->self_issued) {
    int trusted = cur->store_index >= 0 || in_any_store(b->r, cur->cert);
    return emit(b, trusted ? CS_TRUST_END_ANCHOR : CS_TRUST_END_UNTRUSTED_ROOT);
  }
  if (b->depth == CS_TRUST_MAX_DEPTH)
    return emit(b, CS_TRUST_END_TOO_LONG);
  int found = 0;
  for (size_t i = 0; i < b->nnodes && !b->r->truncated; i++) {
    const node_t *cand = &b->nodes[i];
    if (!same_raw(&cand->cert->crt->subject_raw, &cur->cert->crt->issuer_raw) ||
        on_path(b, cand->cert))
      continue;
    found = 1;
    b->stack[b->depth++] = *cand;
    int err = build(b);
    b->depth--;
    if (err != 0)
      return err;
  }
  return found ? 0 : emit(b, CS_TRUST_END_INCOMPLETE);
}

/* Signature of child checked with parent's key, without mbedTLS's clock. */
static cs_trust_sig_t verify_sig(const mbedtls_x509_crt *child, const mbedtls_x509_crt *parent) {
  const mbedtls_md_info_t *md = mbedtls_md_info_from_type(child->sig_md);
  unsigned char hash[MBEDTLS_MD_MAX_SIZE];
  if (md == NULL || mbedtls_md(md, child->tbs.p, child->tbs.len, hash) != 0)
    return CS_TRUST_SIG_UNSUPPORTED;
  if (!mbedtls_pk_can_do(&parent->pk, child->sig_pk))
    return CS_TRUST_SIG_BAD; /* e.g. an RSA signature "by" an EC key */
  /* mbedtls_pk_verify_ext takes a non-const context but only reads it. */
  int ret = mbedtls_pk_verify_ext(child->sig_pk, child->sig_opts, (mbedtls_pk_context *)&parent->pk,
                                  child->sig_md, hash, mbedtls_md_get_size(md), child->sig.p,
                                  child->sig.len);
  if (ret == 0)
    return CS_TRUST_SIG_OK;
  if (ret == MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE || ret == MBEDTLS_ERR_PK_TYPE_MISMATCH)
    return CS_TRUST_SIG_UNSUPPORTED;
  return CS_TRUST_SIG_BAD;
}

/* OpenSSL's sslserver purpose accepts serverAuth, and for CAs also the two
 * old Server Gated Crypto OIDs; anyExtendedKeyUsage alone is not enough. */
static int eku_allows_server(const mbedtls_x509_crt *crt, int is_ca) {
  static const char NS_SGC[] = "\x60\x86\x48\x01\x86\xF8\x42\x04\x01"; /* 2.16.840.1.113730.4.1 */
  static const char MS_SGC[] = "\x2B\x06\x01\x04\x01\x82\x37\x0A\x03\x03"; /* 1.3.6.1.4.1.311.10.3.3 */
  if ((crt->ext_types & MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE) == 0)
    return 1;
  for (const mbedtls_x509_sequence *s = &crt->ext_key_usage; s != NULL; s = s->next) {
    const mbedtls_x509_buf *oid = &s->buf;
    if (MBEDTLS_OID_CMP(MBEDTLS_OID_SERVER_AUTH, oid) == 0)
      return 1;
    if (is_ca && ((oid->len == sizeof(NS_SGC) - 1 && memcmp(oid->p, NS_SGC, oid->len) == 0) ||
                  (oid->len == sizeof(MS_SGC) - 1 && memcmp(oid->p, MS_SGC, oid->len) == 0)))
      return 1;
  }
  return 0;
}

static unsigned issuer_problems(const cs_trust_path_t *p, size_t h) {
  const mbedtls_x509_crt *crt = p->hops[h].cert->crt;
  unsigned problems = 0;
  int anchor = h == p->nhops - 1 && p->end == CS_TRUST_END_ANCHOR;
  /* OpenSSL accepts a v1 self-signed anchor as a CA (X509_check_ca == 3). */
  int v1_root = crt->version == 1 && p->hops[h].cert->self_issued && anchor;
  if (!crt->ca_istrue && !v1_root)
    problems |= CS_TRUST_P_NOT_A_CA;
  if (crt->max_pathlen > 0) {
    /* RFC 5280 §4.2.1.9: non-self-issued intermediates below this CA. */
    int below = 0;
    for (size_t j = 1; j < h; j++)
      below += !p->hops[j].cert->self_issued;
    if (below > crt->max_pathlen - 1) /* mbedTLS stores pathLen + 1 */
      problems |= CS_TRUST_P_PATHLEN;
  }
  if ((crt->ext_types & MBEDTLS_X509_EXT_KEY_USAGE) &&
      (crt->key_usage & MBEDTLS_X509_KU_KEY_CERT_SIGN) == 0)
    problems |= CS_TRUST_P_CA_KEY_USAGE;
  if (!eku_allows_server(crt, 1))
    problems |= CS_TRUST_P_EKU;
  problems |= cs_trust__name_constraints(crt, p->hops[0].cert->crt);
  return problems;
}

static unsigned leaf_problems(const mbedtls_x509_crt *crt) {
  unsigned problems = 0;
  const unsigned tls = MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_KEY_ENCIPHERMENT |
                       MBEDTLS_X509_KU_KEY_AGREEMENT;
  if ((crt->ext_types & MBEDTLS_X509_EXT_KEY_USAGE) && (crt->key_usage & tls) == 0)
    problems |= CS_TRUST_P_LEAF_KEY_USAGE;
  if (!eku_allows_server(crt, 0))
    problems |= CS_TRUST_P_EKU;
  return problems;
}

/* A CA whose name is also the name of a self-issued root we know of: the
 * cross-signed twin of that root (ISRG Root X1 signed by DST Root CA X3). */
static int is_cross_sign(const builder_t *b, const cs_cert_info_t *c) {
  if (c->self_issued || !c->is_ca)
    return 0;
  for (size_t i = 0; i < b->nnodes; i++)
    if (b->nodes[i].cert->self_issued &&
        same_raw(&b->nodes[i].cert->crt->subject_raw, &c->crt->subject_raw))
      return 1;
  return 0;
}

/* True times at which clock believes c valid: [first reaching notBefore,
 * first reaching the ms after the inclusive notAfter). */
static cs_interval_t cert_window(const cs_cert_info_t *c, const cs_clock_t *clock) {
  cs_interval_t iv;
  iv.from_ms = cs_clock_first_reaching(clock, c->not_before_ms);
  iv.to_ms = c->valid_until_ms == CS_TIME_POS_INF
                 ? CS_TIME_POS_INF
                 : cs_clock_first_reaching(clock, c->valid_until_ms + 1);
  return iv;
}

static void check_path(builder_t *b, cs_trust_path_t *p, cs_interval_t *rows) {
  const cs_trust_result_t *r = b->r;
  cs_interval_t *path_row = rows + (size_t)CS_TRUST_MAX_DEPTH * r->nclocks;
  for (size_t c = 0; c < r->nclocks; c++)
    path_row[c] = (cs_interval_t){CS_TIME_NEG_INF, CS_TIME_POS_INF};
  p->windows = path_row;
  for (size_t h = 0; h < p->nhops; h++) {
    cs_trust_hop_t *hop = &p->hops[h];
    const mbedtls_x509_crt *crt = hop->cert->crt;
    hop->in_store = hop->store_index >= 0 || in_any_store(r, hop->cert);
    if (mbedtls_x509_sig_alg_gets(hop->sig_alg, sizeof(hop->sig_alg), &crt->sig_oid, crt->sig_pk,
                                  crt->sig_md, crt->sig_opts) < 0)
      hop->sig_alg[0] = '\0';
    if (h + 1 < p->nhops) {
      hop->sig = verify_sig(crt, p->hops[h + 1].cert->crt);
      if (hop->sig == CS_TRUST_SIG_BAD)
        hop->problems |= CS_TRUST_P_BAD_SIGNATURE;
      if (hop->sig == CS_TRUST_SIG_UNSUPPORTED)
        hop->problems |= CS_TRUST_P_SIG_UNSUPPORTED;
    } else {
      hop->sig = CS_TRUST_SIG_NOT_CHECKED;
    }
    hop->problems |= h == 0 ? leaf_problems(crt) : issuer_problems(p, h);
    hop->is_cross_sign = h > 0 && is_cross_sign(b, hop->cert);
    p->problems |= hop->problems;
    cs_interval_t *row = rows + h * r->nclocks;
    for (size_t c = 0; c < r->nclocks; c++) {
      row[c] = cert_window(hop->cert, &r->clocks[c]);
      if (row[c].from_ms > path_row[c].from_ms)
        path_row[c].from_ms = row[c].from_ms;
      if (row[c].to_ms < path_row[c].to_ms)
        path_row[c].to_ms = row[c].to_ms;
    }
    hop->windows = row;
  }
}

/* Client preference: anchored, then free of static problems, then
 * shortest, then the newest anchor (latest notBefore). */
static int path_cmp(const void *pa, const void *pb) {
  const cs_trust_path_t *a = pa, *b = pb;
  int ua = a->end == CS_TRUST_END_ANCHOR, ub = b->end == CS_TRUST_END_ANCHOR;
  if (ua != ub)
    return ub - ua;
  int ca = (a->problems & CS_TRUST_FATAL_PROBLEMS) == 0;
  int cb = (b->problems & CS_TRUST_FATAL_PROBLEMS) == 0;
  if (ca != cb)
    return cb - ca;
  if (a->nhops != b->nhops)
    return a->nhops < b->nhops ? -1 : 1;
  int64_t na = a->hops[a->nhops - 1].cert->not_before_ms;
  int64_t nb = b->hops[b->nhops - 1].cert->not_before_ms;
  return na == nb ? 0 : (na > nb ? -1 : 1);
}

static int copy_inputs(cs_trust_result_t *r, const cs_trust_store_t *const *stores,
                       size_t nstores, const cs_clock_t *clocks, size_t nclocks) {
  r->clocks = calloc(nclocks, sizeof(*r->clocks)); /* owned by r */
  r->stores = calloc(nstores ? nstores : 1, sizeof(*r->stores)); /* owned by r */
  if (r->clocks == NULL || r->stores == NULL)
    return CS_ENOMEM;
  memcpy(r->clocks, clocks, nclocks * sizeof(*clocks));
  r->nclocks = nclocks;
  for (size_t s = 0; s < nstores; s++) {
    if (stores[s] == NULL)
      return CS_EINVAL;
    r->stores[s] = stores[s];
  }
  r->nstores = nstores;
  return 0;
}

static int analyze_paths(cs_trust_result_t *r) {
  builder_t b;
  memset(&b, 0, sizeof(b));
  b.r = r;
  int err = collect_nodes(&b);
  if (err != 0)
    goto out;
  b.stack[0] = (node_t){cs_chain_cert(r->chain, 0), 0, -1};
  b.depth = 1;
  err = build(&b);
  if (err != 0)
    goto out;
  size_t rows = (size_t)(CS_TRUST_MAX_DEPTH + 1) * r->nclocks;
  r->windows = calloc(r->npaths * rows, sizeof(*r->windows)); /* owned by r */
  if (r->windows == NULL) {
    err = CS_ENOMEM;
    goto out;
  }
  for (size_t i = 0; i < r->npaths; i++)
    check_path(&b, &r->paths[i], r->windows + i * rows);
  /* Sorting moves the path structs; their window pointers move with them. */
  qsort(r->paths, r->npaths, sizeof(*r->paths), path_cmp);
out:
  free(b.nodes);
  return err;
}

int cs_trust_analyze(cs_trust_result_t **out, const cs_chain_t *chain,
                     const cs_trust_store_t *const *stores, size_t nstores, const char *hostname,
                     const cs_clock_t *clocks, size_t nclocks, int has_at, int64_t at_ms,
                     cs_findings_t *findings) {
  if (out == NULL)
    return CS_EINVAL;
  *out = NULL;
  if (chain == NULL || cs_chain_count(chain) == 0 || clocks == NULL || nclocks == 0 ||
      nclocks > CS_REPLAY_MAX_CLOCKS || (nstores > 0 && stores == NULL))
    return CS_EINVAL;
  cs_trust_result_t *r = calloc(1, sizeof(*r)); /* owned by the caller: cs_trust_result_free */
  if (r == NULL)
    return CS_ENOMEM;
  r->chain = chain;
  r->has_at = has_at;
  r->at_ms = at_ms;
  int err = copy_inputs(r, stores, nstores, clocks, nclocks);
  if (err == 0 && hostname != NULL) {
    r->has_host = 1;
    size_t n = strlen(hostname);
    memcpy(r->host, hostname, n < sizeof(r->host) - 1 ? n : sizeof(r->host) - 1);
    int m = cs_trust_hostname_matches(cs_chain_cert(chain, 0)->crt, hostname, r->host_matched,
                                      sizeof(r->host_matched));
    if (m == CS_EINVAL)
      err = CS_EINVAL;
    r->host_ok = m == 1;
  }
  if (err == 0)
    err = analyze_paths(r);
  if (err == 0 && findings != NULL)
    err = cs_trust__diagnose(r, findings);
  if (err != 0) {
    cs_trust_result_free(r);
    return err;
  }
  *out = r;
  return 0;
}

void cs_trust_result_free(cs_trust_result_t *r) {
  if (r == NULL)
    return;
  free(r->paths);
  free(r->windows);
  free(r->clocks);
  free(r->stores);
  free(r);
}

size_t cs_trust_npaths(const cs_trust_result_t *r) { return r->npaths; }

const cs_trust_path_t *cs_trust_path(const cs_trust_result_t *r, size_t i) {
  return i < r->npaths ? &r->paths[i] : NULL;
}

int cs_trust_truncated(const cs_trust_result_t *r) { return r->truncated; }
size_t cs_trust_nclocks(const cs_trust_result_t *r) { return r->nclocks; }

const cs_clock_t *cs_trust_clock(const cs_trust_result_t *r, size_t c) {
  return c < r->nclocks ? &r->clocks[c] : NULL;
}

int cs_trust_hostname_ok(const cs_trust_result_t *r) { return r->has_host ? r->host_ok : -1; }

int cs_trust_path_usable(const cs_trust_result_t *r, size_t i) {
  if (i >= r->npaths)
    return 0;
  const cs_trust_path_t *p = &r->paths[i];
  return p->end == CS_TRUST_END_ANCHOR && (p->problems & CS_TRUST_FATAL_PROBLEMS) == 0 &&
         (!r->has_host || r->host_ok);
}

/* A path's window for clock c when notAfter itself is already expired. */
static cs_interval_t openssl_window(const cs_trust_path_t *p, const cs_clock_t *clock) {
  cs_interval_t w = {CS_TIME_NEG_INF, CS_TIME_POS_INF};
  for (size_t h = 0; h < p->nhops; h++) {
    const cs_cert_info_t *c = p->hops[h].cert;
    int64_t from = cs_clock_first_reaching(clock, c->not_before_ms);
    int64_t to = cs_clock_first_reaching(clock, c->not_after_ms);
    if (from > w.from_ms)
      w.from_ms = from;
    if (to < w.to_ms)
      w.to_ms = to;
  }
  return w;
}

int cs_trust_verdict_at(const cs_trust_result_t *r, size_t c, int64_t t_ms, cs_trust_rule_t rule,
                        int *path_index) {
  if (path_index != NULL)
    *path_index = -1;
  if (r == NULL || c >= r->nclocks)
    return CS_EINVAL;
  for (size_t i = 0; i < r->npaths; i++) {
    if (!cs_trust_path_usable(r, i))
      continue;
    cs_interval_t w = rule == CS_TRUST_RULE_OPENSSL ? openssl_window(&r->paths[i], &r->clocks[c])
                                                    : r->paths[i].windows[c];
    if (cs_trust__in(w, t_ms)) {
      if (path_index != NULL)
        *path_index = (int)i;
      return 1;
    }
  }
  return 0;
}

const char *cs_trust_problem_code(unsigned problem_bit) {
  switch (problem_bit) {
  case CS_TRUST_P_BAD_SIGNATURE:
    return "BAD_SIGNATURE";
  case CS_TRUST_P_SIG_UNSUPPORTED:
    return "SIGNATURE_UNSUPPORTED";
  case CS_TRUST_P_NOT_A_CA:
    return "NOT_A_CA";
  case CS_TRUST_P_PATHLEN:
    return "PATH_LENGTH_EXCEEDED";
  case CS_TRUST_P_CA_KEY_USAGE:
  case CS_TRUST_P_LEAF_KEY_USAGE:
    return "KEY_USAGE_INVALID";
  case CS_TRUST_P_EKU:
    return "EKU_INVALID";
  case CS_TRUST_P_NAME_CONSTRAINTS:
    return "NAME_CONSTRAINTS_UNCHECKED";
  case CS_TRUST_P_NAME_CONSTRAINTS_VIOLATED:
    return "NAME_CONSTRAINTS_VIOLATION";
  default:
    return "UNKNOWN";
  }
}
