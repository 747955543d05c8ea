/*
 * Plaintext parsers of the TLS 1.3 server messages the probe reads
 * (analyzers/tls/tls13_internal.h). Each takes one message body (after the
 * 4-byte handshake header), checks every length against what encloses it,
 * and fills borrowed pointers: the caller keeps the body alive. Fuzzed
 * directly by fuzz/fuzz_tls13_messages.c, since the real flights are
 * encrypted with ephemeral keys.
 */
#include "tls13_internal.h"

#include <stdio.h>
#include <string.h>

enum { EXT_STATUS_REQUEST = 5, EXT_ALPN = 16, EXT_SCT = 18, EXT_SUPPORTED_VERSIONS = 43,
       EXT_COOKIE = 44, EXT_KEY_SHARE = 51 };

/* SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3). */
static const uint8_t HRR_RANDOM[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

static uint32_t be16(const uint8_t *b) { return (uint32_t)b[0] << 8 | b[1]; }
static uint32_t be24(const uint8_t *b) { return (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2]; }

/* Walks an extensions block: calls on_ext for each, rejects duplicates of
 * the types below 64 (all we interpret). */
typedef int (*ext_fn)(void *ctx, uint32_t type, const uint8_t *d, size_t n, cs_errbuf_t *eb);

static int walk_exts(const char *msg, const uint8_t *b, size_t n, ext_fn fn, void *ctx,
                     cs_errbuf_t *eb) {
  uint64_t seen = 0;
  while (n > 0) {
    if (n < 4 || be16(b + 2) > n - 4)
      return cs_errbuf_set(eb, CS_EPARSE, "%s: truncated extension", msg);
    uint32_t type = be16(b), len = be16(b + 2);
    if (type < 64) {
      if (seen & ((uint64_t)1 << type))
        return cs_errbuf_set(eb, CS_EPARSE, "%s: duplicate extension %u", msg, type);
      seen |= (uint64_t)1 << type;
    }
    int ret = fn(ctx, type, b + 4, len, eb);
    if (ret != 0)
      return ret;
    b += 4 + len;
    n -= 4 + len;
  }
  return 0;
}

/* ---- ServerHello / HelloRetryRequest ---- */

static int sh_ext(void *ctx, uint32_t type, const uint8_t *d, size_t n, cs_errbuf_t *eb) {
  cs_tls13_server_hello_t *sh = ctx;
  switch (type) {
  case EXT_SUPPORTED_VERSIONS:
    if (n != 2)
      return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: malformed supported_versions");
    sh->version = (uint16_t)be16(d);
    return 0;
  case EXT_KEY_SHARE:
    if (sh->hrr) {
      if (n != 2)
        return cs_errbuf_set(eb, CS_EPARSE, "HelloRetryRequest: malformed key_share");
      sh->group = (uint16_t)be16(d);
      return 0;
    }
    if (n < 4 || be16(d + 2) != n - 4 || n - 4 == 0)
      return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: malformed key_share");
    sh->group = (uint16_t)be16(d);
    sh->share = d + 4;
    sh->share_len = n - 4;
    return 0;
  case EXT_COOKIE:
    if (!sh->hrr || n < 3 || be16(d) != n - 2)
      return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: malformed or misplaced cookie");
    sh->cookie = d + 2;
    sh->cookie_len = n - 2;
    return 0;
  default:
    /* We offered no PSK, early data or anything else a ServerHello may carry. */
    return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: unsolicited extension %u", type);
  }
}

int cs_tls13_server_hello_parse(const uint8_t *b, size_t n, cs_tls13_server_hello_t *sh,
                                cs_errbuf_t *eb) {
  memset(sh, 0, sizeof(*sh));
  if (n < 2 + 32 + 1)
    return cs_errbuf_set(eb, CS_ETRUNC, "ServerHello: too short");
  size_t sid = b[34];
  if (sid != 0) /* we sent an empty legacy_session_id: it must be echoed */
    return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: session id not echoed");
  if (n < 35 + 3 + 2)
    return cs_errbuf_set(eb, CS_ETRUNC, "ServerHello: too short");
  if (be16(b) != 0x0303)
    return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: legacy_version 0x%04x", be16(b));
  sh->hrr = memcmp(b + 2, HRR_RANDOM, 32) == 0;
  sh->suite = (uint16_t)be16(b + 35);
  if (b[37] != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: compression method %u", b[37]);
  if (be16(b + 38) != n - 40)
    return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: extensions length mismatch");
  int ret = walk_exts("ServerHello", b + 40, n - 40, sh_ext, sh, eb);
  if (ret != 0)
    return ret;
  if (sh->version != 0x0304)
    return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: supported_versions 0x%04x, not TLS 1.3",
                         sh->version);
  if (sh->group == 0)
    return cs_errbuf_set(eb, CS_EPARSE, "%s without key_share",
                         sh->hrr ? "HelloRetryRequest" : "ServerHello");
  return 0;
}

/* ---- EncryptedExtensions ---- */

static int ee_ext(void *ctx, uint32_t type, const uint8_t *d, size_t n, cs_errbuf_t *eb) {
  cs_tls_probe_result_t *res = ctx;
  if (type != EXT_ALPN)
    return 0; /* server_name ack, supported_groups, max_fragment_length...: not ours */
  /* Exactly one protocol name (RFC 7301 §3.1). */
  if (n < 3 || be16(d) != n - 2 || d[2] != n - 3 || d[2] == 0)
    return cs_errbuf_set(eb, CS_EPARSE, "EncryptedExtensions: malformed ALPN");
  memcpy(res->alpn, d + 3, d[2]);
  res->alpn[d[2]] = '\0';
  return 0;
}

int cs_tls13_ee_parse(const uint8_t *b, size_t n, cs_tls_probe_result_t *res, cs_errbuf_t *eb) {
  if (n < 2 || be16(b) != n - 2)
    return cs_errbuf_set(eb, CS_EPARSE, "EncryptedExtensions: length mismatch");
  return walk_exts("EncryptedExtensions", b + 2, n - 2, ee_ext, res, eb);
}

/* ---- Certificate ---- */

typedef struct entry_ctx {
  cs_tls_probe_result_t *res;
  int leaf;
} entry_ctx_t;

static int entry_ext(void *ctx, uint32_t type, const uint8_t *d, size_t n, cs_errbuf_t *eb) {
  entry_ctx_t *e = ctx;
  switch (type) {
  case EXT_STATUS_REQUEST: /* a CertificateStatus: ocsp(1), OCSPResponse<1..2^24-1> */
    if (n < 5 || d[0] != 1 || be24(d + 1) != n - 4)
      return cs_errbuf_set(eb, CS_EPARSE, "Certificate: malformed status_request entry");
    if (e->leaf) {
      e->res->status_request_acked = 1;
      e->res->ocsp = d + 4;
      e->res->ocsp_len = n - 4;
    }
    return 0;
  case EXT_SCT:
    if (n < 2 || be16(d) != n - 2)
      return cs_errbuf_set(eb, CS_EPARSE, "Certificate: malformed SCT list length");
    if (e->leaf) {
      e->res->sct_ext_present = 1;
      e->res->sct_list = d;
      e->res->sct_list_len = n;
    }
    return 0;
  default:
    return 0;
  }
}

int cs_tls13_certificate_parse(const uint8_t *b, size_t n, cs_tls_probe_result_t *res,
                               cs_errbuf_t *eb) {
  if (n < 1 || b[0] != 0) /* a server's certificate_request_context is empty */
    return cs_errbuf_set(eb, CS_EPARSE, "Certificate: non-empty request context");
  if (n < 4 || be24(b + 1) != n - 4)
    return cs_errbuf_set(eb, CS_EPARSE, "Certificate: list length mismatch");
  b += 4;
  n -= 4;
  if (n == 0)
    return cs_errbuf_set(eb, CS_EPARSE, "Certificate: empty list");
  res->ncerts = 0;
  while (n > 0) {
    if (n < 3 || be24(b) == 0 || be24(b) > n - 3)
      return cs_errbuf_set(eb, CS_EPARSE, "Certificate: bad entry length");
    if (res->ncerts == CS_TLS_PROBE_MAX_CERTS)
      return cs_errbuf_set(eb, CS_ETOOBIG, "Certificate: more than %d certificates",
                           CS_TLS_PROBE_MAX_CERTS);
    size_t len = be24(b);
    res->certs[res->ncerts] = b + 3;
    res->cert_lens[res->ncerts] = len;
    b += 3 + len;
    n -= 3 + len;
    if (n < 2 || be16(b) > n - 2)
      return cs_errbuf_set(eb, CS_EPARSE, "Certificate: bad entry extensions length");
    size_t elen = be16(b);
    entry_ctx_t e = {res, res->ncerts == 0};
    int ret = walk_exts("Certificate", b + 2, elen, entry_ext, &e, eb);
    if (ret != 0)
      return ret;
    res->ncerts++;
    b += 2 + elen;
    n -= 2 + elen;
  }
  return 0;
}

/* ---- CertificateVerify ---- */

int cs_tls13_cert_verify_parse(const uint8_t *b, size_t n, uint16_t *alg, const uint8_t **sig,
                               size_t *sig_len, cs_errbuf_t *eb) {
  if (n < 4 || be16(b + 2) != n - 4 || n == 4)
    return cs_errbuf_set(eb, CS_EPARSE, "CertificateVerify: length mismatch");
  *alg = (uint16_t)be16(b);
  *sig = b + 4;
  *sig_len = n - 4;
  return 0;
}
