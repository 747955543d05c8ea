/*
 * Strict reader of SignedCertificateTimestampList (RFC 6962 §3.3):
 *
 *   opaque SerializedSCT<1..2^16-1>;
 *   struct { SerializedSCT sct_list<1..2^16-1>; } SignedCertificateTimestampList;
 *
 *   struct {                                    (§3.2, v1)
 *     Version sct_version;                      1 byte, v1 = 0
 *     LogID id;                                 32 bytes
 *     uint64 timestamp;                         ms since epoch
 *     CtExtensions extensions;                  opaque<0..2^16-1>
 *     digitally-signed struct { ... };          hash 1, sig 1, opaque<0..2^16-1>
 *   } SignedCertificateTimestamp;
 */
#include "certskew/core/sct.h"

#include <inttypes.h>
#include <string.h>

#include <mbedtls/asn1.h>

typedef struct reader {
  const uint8_t *p;
  const uint8_t *end;
} reader_t;

static int rd_u8(reader_t *r, uint8_t *v) {
  if (r->end - r->p < 1)
    return CS_ETRUNC;
  *v = *r->p++;
  return 0;
}

static int rd_u16(reader_t *r, size_t *v) {
  if (r->end - r->p < 2)
    return CS_ETRUNC;
  *v = ((size_t)r->p[0] << 8) | r->p[1];
  r->p += 2;
  return 0;
}

static int rd_u64(reader_t *r, uint64_t *v) {
  if (r->end - r->p < 8)
    return CS_ETRUNC;
  uint64_t x = 0;
  for (int i = 0; i < 8; i++)
    x = (x << 8) | r->p[i];
  r->p += 8;
  *v = x;
  return 0;
}

static int rd_bytes(reader_t *r, size_t n, const uint8_t **out) {
  if ((size_t)(r->end - r->p) < n)
    return CS_ETRUNC;
  *out = r->p;
  r->p += n;
  return 0;
}

static int parse_v1_body(reader_t *r, cs_sct_t *sct, size_t idx, cs_errbuf_t *eb) {
  const uint8_t *id;
  uint64_t ts;
  size_t n;
  int err;
  if ((err = rd_bytes(r, 32, &id)) != 0 || (err = rd_u64(r, &ts)) != 0)
    return cs_errbuf_set(eb, err, "SCT #%zu: truncated log id or timestamp", idx);
  memcpy(sct->log_id, id, 32);
  if (ts > (uint64_t)INT64_MAX)
    return cs_errbuf_set(eb, CS_ERANGE, "SCT #%zu: timestamp %" PRIu64 " does not fit int64 ms",
                         idx, ts);
  sct->timestamp_ms = (int64_t)ts;
  if ((err = rd_u16(r, &n)) != 0 || (err = rd_bytes(r, n, &sct->extensions)) != 0)
    return cs_errbuf_set(eb, CS_ETRUNC, "SCT #%zu: truncated extensions", idx);
  sct->extensions_len = n;
  if ((err = rd_u8(r, &sct->hash_alg)) != 0 || (err = rd_u8(r, &sct->sig_alg)) != 0)
    return cs_errbuf_set(eb, err, "SCT #%zu: truncated signature algorithm", idx);
  if ((err = rd_u16(r, &n)) != 0 || (err = rd_bytes(r, n, &sct->signature)) != 0)
    return cs_errbuf_set(eb, CS_ETRUNC, "SCT #%zu: truncated signature", idx);
  sct->signature_len = n;
  if (r->p != r->end)
    return cs_errbuf_set(eb, CS_EPARSE, "SCT #%zu: %zu bytes after the signature", idx,
                         (size_t)(r->end - r->p));
  if (n == 0)
    return cs_errbuf_set(eb, CS_EPARSE, "SCT #%zu: empty signature", idx);
  if (sct->hash_alg != CS_SCT_HASH_SHA256)
    return cs_errbuf_set(eb, CS_EUNSUPPORTED, "SCT #%zu: hash algorithm %u is not SHA-256", idx,
                         sct->hash_alg);
  if (sct->sig_alg != CS_SCT_SIG_ECDSA && sct->sig_alg != CS_SCT_SIG_RSA)
    return cs_errbuf_set(eb, CS_EUNSUPPORTED, "SCT #%zu: signature algorithm %u is not ECDSA/RSA",
                         idx, sct->sig_alg);
  sct->supported = 1;
  return 0;
}

int cs_sct_list_parse(const uint8_t *buf, size_t len, cs_sct_source_t source, cs_sct_t *out,
                      size_t max, size_t *count, cs_errbuf_t *eb) {
  reader_t r = {buf, buf + len};
  size_t total, n = 0;
  int err;
  *count = 0;
  if (buf == NULL && len != 0)
    return cs_errbuf_set(eb, CS_EINVAL, "SCT list: no buffer");
  if ((err = rd_u16(&r, &total)) != 0)
    return cs_errbuf_set(eb, err, "SCT list: shorter than its length field");
  if (total != len - 2)
    return cs_errbuf_set(eb, total > len - 2 ? CS_ETRUNC : CS_EPARSE,
                         "SCT list: length field says %zu bytes, %zu follow", total, len - 2);
  if (total == 0)
    return cs_errbuf_set(eb, CS_EPARSE, "SCT list: empty (RFC 6962 requires at least one)");
  while (r.p < r.end) {
    size_t sct_len;
    const uint8_t *body;
    if ((err = rd_u16(&r, &sct_len)) != 0)
      return cs_errbuf_set(eb, err, "SCT #%zu: truncated length", n);
    if (sct_len == 0)
      return cs_errbuf_set(eb, CS_EPARSE, "SCT #%zu: empty", n);
    if ((err = rd_bytes(&r, sct_len, &body)) != 0)
      return cs_errbuf_set(eb, err, "SCT #%zu: says %zu bytes, %zu remain", n, sct_len,
                           (size_t)(r.end - r.p));
    if (n >= max)
      return cs_errbuf_set(eb, CS_ETOOBIG, "SCT list: more than %zu SCTs", max);
    cs_sct_t *sct = &out[n];
    memset(sct, 0, sizeof(*sct));
    sct->source = source;
    sct->raw = body;
    sct->raw_len = sct_len;
    reader_t sr = {body, body + sct_len};
    if ((err = rd_u8(&sr, &sct->version)) != 0)
      return cs_errbuf_set(eb, err, "SCT #%zu: no version", n);
    if (sct->version == 0) {
      err = parse_v1_body(&sr, sct, n, eb);
      /* An unsupported algorithm is a property of that SCT (reported), not a
       * malformed list; structural errors fail the whole list. */
      if (err != 0 && err != CS_EUNSUPPORTED)
        return err;
    }
    n++;
  }
  *count = n;
  return 0;
}

int cs_sct_list_parse_der(const uint8_t *buf, size_t len, cs_sct_source_t source, cs_sct_t *out,
                          size_t max, size_t *count, cs_errbuf_t *eb) {
  unsigned char *p = (unsigned char *)buf;
  const unsigned char *end = buf + len;
  size_t inner;
  *count = 0;
  if (buf == NULL || len == 0)
    return cs_errbuf_set(eb, CS_EPARSE, "SCT extension: empty");
  int ret = mbedtls_asn1_get_tag(&p, end, &inner, MBEDTLS_ASN1_OCTET_STRING);
  if (ret != 0)
    return cs_errbuf_set(eb, ret == MBEDTLS_ERR_ASN1_OUT_OF_DATA ? CS_ETRUNC : CS_EPARSE,
                         "SCT extension: not a DER OCTET STRING");
  if (p + inner != end)
    return cs_errbuf_set(eb, CS_EPARSE, "SCT extension: %zu bytes after the OCTET STRING",
                         (size_t)(end - (p + inner)));
  return cs_sct_list_parse(p, inner, source, out, max, count, eb);
}

const char *cs_sct_source_name(cs_sct_source_t source) {
  switch (source) {
  case CS_SCT_SOURCE_EMBEDDED:
    return "embedded";
  case CS_SCT_SOURCE_TLS:
    return "tls_extension";
  case CS_SCT_SOURCE_OCSP:
    return "ocsp";
  default:
    return "unknown";
  }
}

const char *cs_sct_sig_alg_name(uint8_t sig_alg) {
  switch (sig_alg) {
  case CS_SCT_SIG_ECDSA:
    return "ecdsa";
  case CS_SCT_SIG_RSA:
    return "rsa";
  default:
    return "unknown";
  }
}
