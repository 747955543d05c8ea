/*
 * Strict parser of a server's first flight (include/certskew/tls/tls_probe.h):
 * the dispatcher. TLS 1.2 messages are read here; once a client-mode parser
 * sees a TLS 1.3 ServerHello, records are opened and messages judged by
 * tls13_client.c, with the same framing.
 *
 * Two layers, each reassembling across arbitrary splits: records (5-byte
 * header, at most 2^14 + 2048 bytes of fragment) carry handshake bytes;
 * handshake messages (4-byte header) may span records or share one. The
 * messages we report on are copied out whole, so the reassembly buffer can
 * move while the result's pointers stay valid.
 */
#include "certskew/tls/tls_probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls13_internal.h"

#define REC_HDR 5
#define REC_MAX (16384 + 2048) /* TLSCiphertext bound (RFC 5246 §6.2.3) */

enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPLICATION_DATA = 23 };
enum { HS_SERVER_HELLO = 2, HS_CERTIFICATE = 11, HS_SKE = 12, HS_CERT_REQUEST = 13,
       HS_SERVER_HELLO_DONE = 14, HS_CERT_STATUS = 22 };
enum { EXT_STATUS_REQUEST = 5, EXT_ALPN = 16, EXT_SCT = 18, EXT_SUPPORTED_VERSIONS = 43 };
enum { ALERT_PROTOCOL_VERSION = 70 };

/* SHA-256("HelloRetryRequest"): a ServerHello with this random is an HRR (RFC 8446 §4.1.3). */
static const uint8_t HRR_RANDOM[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

struct cs_tls_probe_parser {
  uint8_t rec[REC_HDR + REC_MAX]; /* current record being assembled */
  size_t rec_len;
  uint8_t *hs;        /* owned: handshake bytes not yet consumed */
  size_t hs_len, hs_cap;
  uint8_t *sh;        /* owned copies of the messages the result borrows from */
  uint8_t *cert;
  uint8_t *status;
  int seen_sh;
  int failed;         /* a protocol error happened: ignore further input */
  cs_tls13_client_t *t13; /* owned; client mode only (NULL: passive) */
  uint8_t *plain;     /* owned; client mode: one opened TLS 1.3 record */
  int protected_rx;   /* TLS 1.3 handshake keys in use for the server's records */
  int key_change;     /* the message just handled must end its record (RFC 8446 §5.1) */
  cs_tls_probe_result_t res;
};

cs_tls_probe_parser_t *cs_tls_probe_parser_new(void) {
  cs_tls_probe_parser_t *p = calloc(1, sizeof(*p)); /* owned by caller */
  if (p != NULL)
    p->res.alert = -1;
  return p;
}

void cs_tls_probe_parser_free(cs_tls_probe_parser_t *p) {
  if (p == NULL)
    return;
  free(p->hs);
  free(p->sh);
  free(p->cert);
  free(p->status);
  cs_tls13_client_free(p->t13);
  free(p->plain);
  free(p);
}

int cs_tls_probe_client_new(const char *sni, cs_tls_probe_rng_fn f_rng, void *p_rng,
                            cs_tls_probe_parser_t **out, cs_errbuf_t *eb) {
  if (out == NULL || f_rng == NULL)
    return cs_errbuf_set(eb, CS_EINVAL, "no output or RNG");
  cs_tls_probe_parser_t *p = cs_tls_probe_parser_new(); /* owned by the caller via *out */
  if (p == NULL || (p->plain = malloc(CS_TLS13_REC_MAX)) == NULL) { /* owned by p */
    cs_tls_probe_parser_free(p);
    return cs_errbuf_set(eb, CS_ENOMEM, "out of memory");
  }
  int ret = cs_tls13_client_new(sni, f_rng, p_rng, &p->t13, eb);
  if (ret != 0) {
    cs_tls_probe_parser_free(p);
    return ret;
  }
  *out = p;
  return 0;
}

void cs_tls_probe_parser_take_output(cs_tls_probe_parser_t *p, const uint8_t **out,
                                     size_t *len) {
  *out = NULL;
  *len = 0;
  if (p != NULL && p->t13 != NULL)
    cs_tls13_client_take_output(p->t13, out, len);
}

const cs_tls_probe_result_t *cs_tls_probe_parser_result(const cs_tls_probe_parser_t *p) {
  return p == NULL ? NULL : &p->res;
}

static uint32_t be16(const uint8_t *b) { return (uint32_t)b[0] << 8 | b[1]; }
static uint32_t be24(const uint8_t *b) { return (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2]; }

static void finish(cs_tls_probe_parser_t *p, cs_tls_probe_outcome_t o, const char *detail) {
  p->res.outcome = o;
  snprintf(p->res.detail, sizeof(p->res.detail), "%s", detail);
}

static int parse_sh_exts(cs_tls_probe_parser_t *p, const uint8_t *b, size_t n, cs_errbuf_t *eb) {
  uint32_t seen = 0; /* bit per extension we care about: duplicates are fatal */
  while (n > 0) {
    if (n < 4 || be16(b + 2) > n - 4)
      return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: truncated extension");
    uint32_t type = be16(b), len = be16(b + 2);
    const uint8_t *data = b + 4;
    int bit = type == EXT_STATUS_REQUEST ? 1 : type == EXT_SCT ? 2
              : type == EXT_SUPPORTED_VERSIONS ? 4 : 0;
    if (bit != 0 && (seen & (uint32_t)bit))
      return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: duplicate extension %u", type);
    seen |= (uint32_t)bit;
    switch (type) {
    case EXT_STATUS_REQUEST:
      if (len != 0)
        return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: status_request must be empty");
      p->res.status_request_acked = 1;
      break;
    case EXT_SCT:
      if (len < 2 || be16(data) != len - 2)
        return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: malformed SCT list length");
      p->res.sct_ext_present = 1;
      p->res.sct_list = data;
      p->res.sct_list_len = len;
      break;
    case EXT_SUPPORTED_VERSIONS:
      if (len != 2)
        return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: malformed supported_versions");
      p->res.version = (uint16_t)be16(data);
      break;
    case EXT_ALPN: /* TLS 1.2 answers ALPN here; one protocol name (RFC 7301 §3.1) */
      if (len < 3 || be16(data) != len - 2 || data[2] != len - 3 || data[2] == 0)
        return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: malformed ALPN");
      memcpy(p->res.alpn, data + 3, data[2]);
      p->res.alpn[data[2]] = '\0';
      break;
    default:
      break; /* renegotiation_info, extended_master_secret, ...: not ours */
    }
    b += 4 + len;
    n -= 4 + len;
  }
  return 0;
}

static int on_server_hello(cs_tls_probe_parser_t *p, const uint8_t *b, size_t n,
                           cs_errbuf_t *eb) {
  if (n < 2 + 32 + 1)
    return cs_errbuf_set(eb, CS_ETRUNC, "ServerHello: too short");
  size_t sid = b[34];
  if (sid > 32 || n < 35 + sid + 3)
    return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: bad session id");
  p->res.version = (uint16_t)be16(b);
  if (b[0] != 3 || b[1] > 3 || b[1] == 0)
    return cs_errbuf_set(eb, CS_EUNSUPPORTED, "ServerHello: version 0x%04x",
                         (unsigned)p->res.version);
  const uint8_t *q = b + 35 + sid;
  p->res.cipher_suite = (uint16_t)be16(q);
  if (q[2] != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: compression method %u", q[2]);
  size_t rest = n - (35 + sid + 3);
  q += 3;
  if (rest > 0) {
    if (rest < 2 || be16(q) != rest - 2)
      return cs_errbuf_set(eb, CS_EPARSE, "ServerHello: extensions length mismatch");
    int ret = parse_sh_exts(p, q + 2, rest - 2, eb);
    if (ret != 0)
      return ret;
  }
  if (memcmp(b + 2, HRR_RANDOM, 32) == 0) {
    if (p->t13 != NULL) {
      int ret = cs_tls13_client_hrr(p->t13, b, n, &p->res, eb);
      free(p->sh); /* the real ServerHello comes next */
      p->sh = NULL;
      p->seen_sh = 0;
      p->key_change = 1; /* the second ClientHello follows: nothing may trail the HRR */
      return ret;
    }
    finish(p, CS_TLS_PROBE_NOT_OBSERVABLE, "server sent a TLS 1.3 HelloRetryRequest");
    return 0;
  }
  if (p->res.hrr && p->res.version < 0x0304)
    return cs_errbuf_set(eb, CS_EPARSE, "TLS 1.2 ServerHello after a HelloRetryRequest");
  if (p->res.version >= 0x0304 && p->t13 != NULL) {
    int ret = cs_tls13_client_server_hello(p->t13, b, n, &p->res, eb);
    p->protected_rx = ret == 0;
    p->key_change = 1;
    return ret;
  }
  if (p->res.version >= 0x0304) {
    finish(p, CS_TLS_PROBE_NOT_OBSERVABLE,
           "server negotiated TLS 1.3: Certificate and CertificateStatus are encrypted");
    return 0;
  }
  return 0;
}

static int on_certificate(cs_tls_probe_parser_t *p, const uint8_t *b, size_t n,
                          cs_errbuf_t *eb) {
  if (n < 3 || be24(b) != n - 3)
    return cs_errbuf_set(eb, CS_EPARSE, "Certificate: list length mismatch");
  b += 3;
  n -= 3;
  while (n > 0) {
    if (n < 3 || be24(b) > n - 3 || be24(b) == 0)
      return cs_errbuf_set(eb, CS_EPARSE, "Certificate: bad entry length");
    if (p->res.ncerts == CS_TLS_PROBE_MAX_CERTS)
      return cs_errbuf_set(eb, CS_ETOOBIG, "Certificate: more than %d certificates",
                           CS_TLS_PROBE_MAX_CERTS);
    size_t len = be24(b);
    p->res.certs[p->res.ncerts] = b + 3;
    p->res.cert_lens[p->res.ncerts++] = len;
    b += 3 + len;
    n -= 3 + len;
  }
  return 0;
}

static int on_cert_status(cs_tls_probe_parser_t *p, const uint8_t *b, size_t n,
                          cs_errbuf_t *eb) {
  if (n < 4 || b[0] != 1 /* ocsp */ || be24(b + 1) != n - 4 || n == 4)
    return cs_errbuf_set(eb, CS_EPARSE, "CertificateStatus: malformed");
  p->res.ocsp = b + 4;
  p->res.ocsp_len = n - 4;
  return 0;
}

/* Copies a message body so the result may borrow it after hs moves. */
static int keep(uint8_t **slot, const uint8_t *b, size_t n, const uint8_t **body) {
  if (*slot != NULL)
    return CS_EPARSE; /* a second ServerHello/Certificate/CertificateStatus */
  *slot = malloc(n > 0 ? n : 1); /* owned by the parser */
  if (*slot == NULL)
    return CS_ENOMEM;
  memcpy(*slot, b, n);
  *body = *slot;
  return 0;
}

/* TLS 1.3 messages after ServerHello; the Certificate is kept for the result. */
static int on_message13(cs_tls_probe_parser_t *p, uint8_t type, const uint8_t *b, size_t n,
                        cs_errbuf_t *eb) {
  const uint8_t *body = b;
  int ret;
  if (type == HS_CERTIFICATE && (ret = keep(&p->cert, b, n, &body)) != 0)
    return cs_errbuf_set(eb, ret, "unexpected second Certificate");
  return cs_tls13_client_message(p->t13, type, body, n, &p->res, eb);
}

static int on_message(cs_tls_probe_parser_t *p, uint8_t type, const uint8_t *b, size_t n,
                      cs_errbuf_t *eb) {
  if (p->protected_rx)
    return on_message13(p, type, b, n, eb);
  if (!p->seen_sh && type != HS_SERVER_HELLO)
    return cs_errbuf_set(eb, CS_EPARSE, "handshake type %u before ServerHello", type);
  const uint8_t *body;
  int ret;
  switch (type) {
  case HS_SERVER_HELLO:
    if ((ret = keep(&p->sh, b, n, &body)) != 0)
      return cs_errbuf_set(eb, ret, "unexpected second ServerHello");
    p->seen_sh = 1;
    return on_server_hello(p, body, n, eb);
  case HS_CERTIFICATE:
    if ((ret = keep(&p->cert, b, n, &body)) != 0)
      return cs_errbuf_set(eb, ret, "unexpected second Certificate");
    return on_certificate(p, body, n, eb);
  case HS_CERT_STATUS:
    if ((ret = keep(&p->status, b, n, &body)) != 0)
      return cs_errbuf_set(eb, ret, "unexpected second CertificateStatus");
    return on_cert_status(p, body, n, eb);
  case HS_SKE:
  case HS_CERT_REQUEST:
    return 0;
  case HS_SERVER_HELLO_DONE:
    if (n != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "ServerHelloDone with a body");
    finish(p, CS_TLS_PROBE_DONE, "");
    return 0;
  default:
    return cs_errbuf_set(eb, CS_EPARSE, "unexpected handshake type %u", type);
  }
}

static int on_handshake_bytes(cs_tls_probe_parser_t *p, const uint8_t *b, size_t n,
                              cs_errbuf_t *eb) {
  if (p->hs_len + n > p->hs_cap) {
    size_t cap = p->hs_len + n + 4096;
    if (cap > CS_TLS_PROBE_MAX_MSG + 4 + REC_MAX)
      return cs_errbuf_set(eb, CS_ETOOBIG, "handshake message exceeds %u bytes",
                           CS_TLS_PROBE_MAX_MSG);
    uint8_t *nb = realloc(p->hs, cap); /* owned by the parser */
    if (nb == NULL)
      return cs_errbuf_set(eb, CS_ENOMEM, "out of memory");
    p->hs = nb;
    p->hs_cap = cap;
  }
  memcpy(p->hs + p->hs_len, b, n);
  p->hs_len += n;
  size_t off = 0;
  int ret = 0;
  while (p->res.outcome == CS_TLS_PROBE_INCOMPLETE && p->hs_len - off >= 4) {
    size_t len = be24(p->hs + off + 1);
    if (len > CS_TLS_PROBE_MAX_MSG)
      return cs_errbuf_set(eb, CS_ETOOBIG, "handshake message of %zu bytes", len);
    if (p->hs_len - off - 4 < len)
      break;
    if ((ret = on_message(p, p->hs[off], p->hs + off + 4, len, eb)) != 0)
      return ret;
    off += 4 + len;
    if (p->key_change) {
      p->key_change = 0;
      if (off != p->hs_len)
        return cs_errbuf_set(eb, CS_EPARSE, "handshake bytes after ServerHello in its record");
    }
  }
  memmove(p->hs, p->hs + off, p->hs_len - off);
  p->hs_len -= off;
  return 0;
}

static int on_alert(cs_tls_probe_parser_t *p, const uint8_t *b, size_t n, cs_errbuf_t *eb) {
  if (n != 2 || p->hs_len != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "malformed alert record");
  p->res.alert = b[1];
  if (b[1] == ALERT_PROTOCOL_VERSION && p->t13 == NULL)
    finish(p, CS_TLS_PROBE_NOT_OBSERVABLE,
           "server refused TLS 1.2 (alert protocol_version): it speaks TLS 1.3 only");
  else if (b[1] == ALERT_PROTOCOL_VERSION)
    finish(p, CS_TLS_PROBE_ALERT, "server refused both TLS 1.3 and 1.2 (alert protocol_version)");
  else
    finish(p, CS_TLS_PROBE_ALERT, "server sent a fatal alert");
  return 0;
}

/* A record once the server's handshake keys are in use (RFC 8446 §5). */
static int on_record13(cs_tls_probe_parser_t *p, const uint8_t *rec, size_t n, cs_errbuf_t *eb) {
  uint8_t type = rec[0], inner;
  size_t len;
  int ret;
  switch (type) {
  case CT_APPLICATION_DATA:
    if ((ret = cs_tls13_client_open(p->t13, rec, rec + REC_HDR, n, p->plain, &len, &inner,
                                    eb)) != 0)
      return ret;
    if (inner == CT_HANDSHAKE)
      return on_handshake_bytes(p, p->plain, len, eb);
    if (inner == CT_ALERT)
      return on_alert(p, p->plain, len, eb);
    return cs_errbuf_set(eb, CS_EPARSE, "unexpected protected content type %u", inner);
  case CT_CCS: /* middlebox-compatibility ChangeCipherSpec: ignored (§5) */
    if (n != 1 || rec[REC_HDR] != 1)
      return cs_errbuf_set(eb, CS_EPARSE, "malformed ChangeCipherSpec");
    return 0;
  case CT_ALERT:
    return on_alert(p, rec + REC_HDR, n, eb);
  default:
    return cs_errbuf_set(eb, CS_EPARSE, "unprotected record type %u after ServerHello", type);
  }
}

static int on_record(cs_tls_probe_parser_t *p, uint8_t type, const uint8_t *b, size_t n,
                     cs_errbuf_t *eb) {
  if (p->protected_rx)
    return on_record13(p, b - REC_HDR, n, eb);
  switch (type) {
  case CT_HANDSHAKE:
    return on_handshake_bytes(p, b, n, eb);
  case CT_ALERT:
    return on_alert(p, b, n, eb);
  case CT_CCS:
    /* After a HelloRetryRequest a compatibility-mode server may send one. */
    if (p->t13 != NULL && p->res.hrr && n == 1 && b[0] == 1)
      return 0;
    return cs_errbuf_set(eb, CS_EPARSE, "unexpected record type %u", type);
  default:
    return cs_errbuf_set(eb, CS_EPARSE, "unexpected record type %u", type);
  }
}

int cs_tls_probe_parser_feed(cs_tls_probe_parser_t *p, const uint8_t *data, size_t len,
                             cs_errbuf_t *eb) {
  if (p == NULL || (data == NULL && len > 0))
    return cs_errbuf_set(eb, CS_EINVAL, "no parser or data");
  while (len > 0 && !p->failed && p->res.outcome == CS_TLS_PROBE_INCOMPLETE) {
    size_t want = REC_HDR;
    if (p->rec_len >= REC_HDR)
      want += be16(p->rec + 3);
    size_t take = want - p->rec_len < len ? want - p->rec_len : len;
    memcpy(p->rec + p->rec_len, data, take);
    p->rec_len += take;
    data += take;
    len -= take;
    if (p->rec_len == REC_HDR) {
      uint8_t t = p->rec[0];
      size_t rl = be16(p->rec + 3);
      int ret = 0;
      if (t < CT_CCS || t > 23 || p->rec[1] != 3)
        ret = cs_errbuf_set(eb, CS_EPARSE, "not a TLS record (first bytes %02x %02x)", t,
                            p->rec[1]);
      else if (rl == 0 || rl > REC_MAX)
        ret = cs_errbuf_set(eb, CS_EPARSE, "record length %zu", rl);
      if (ret != 0) {
        p->failed = 1;
        return ret;
      }
      continue;
    }
    if (p->rec_len < REC_HDR || p->rec_len < want)
      continue;
    int ret = on_record(p, p->rec[0], p->rec + REC_HDR, p->rec_len - REC_HDR, eb);
    p->rec_len = 0;
    if (ret != 0) {
      p->failed = 1;
      return ret;
    }
  }
  return p->failed ? CS_ESTATE : 0;
}
