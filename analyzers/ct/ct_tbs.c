/*
 * Rebuilding a precertificate's TBSCertificate from the final certificate
 * (RFC 6962 §3.2): the log signed the TBS without the poison extension; the
 * CA then added the SCT list extension. Removing that one extension and
 * re-encoding the three enclosing lengths gives back what was signed, if the
 * CA changed nothing else.
 *
 *   TBSCertificate ::= SEQUENCE { ..., extensions [3] EXPLICIT Extensions OPTIONAL }
 *   Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
 *   Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 */
#include "certskew/ct/ct.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>

const uint8_t CS_CT_OID_SCT_LIST[10] = {0x2B, 0x06, 0x01, 0x04, 0x01, 0xD6, 0x79, 0x02, 0x04, 0x02};
const uint8_t CS_CT_OID_POISON[10] = {0x2B, 0x06, 0x01, 0x04, 0x01, 0xD6, 0x79, 0x02, 0x04, 0x03};

#define TAG_SEQ (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)
#define TAG_EXTS (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3)

/* One DER element: [start, end) with its content at [body, end). */
typedef struct span {
  const uint8_t *start, *body, *end;
  int tag;
} span_t;

/* Reads the next element at *p (single-byte tags only, as in X.509). */
static int next_elem(const uint8_t **p, const uint8_t *end, span_t *s) {
  unsigned char *q = (unsigned char *)*p;
  size_t len;
  if (end - *p < 2)
    return CS_EPARSE;
  s->start = *p;
  s->tag = *q++;
  if ((s->tag & 0x1F) == 0x1F)
    return CS_EPARSE;
  if (mbedtls_asn1_get_len(&q, end, &len) != 0)
    return CS_EPARSE;
  s->body = q;
  s->end = q + len;
  *p = s->end;
  return 0;
}

static size_t der_len_size(size_t n) {
  size_t k = 1;
  if (n < 0x80)
    return 1;
  while (n > 0) {
    k++;
    n >>= 8;
  }
  return k;
}

static uint8_t *put_hdr(uint8_t *o, int tag, size_t n) {
  *o++ = (uint8_t)tag;
  if (n < 0x80) {
    *o++ = (uint8_t)n;
    return o;
  }
  size_t k = der_len_size(n) - 1;
  *o++ = (uint8_t)(0x80 | k);
  for (size_t i = k; i > 0; i--)
    *o++ = (uint8_t)(n >> (8 * (i - 1)));
  return o;
}

/* Finds the extension with oid in the Extensions SEQUENCE content [p, end). */
static int find_ext(const uint8_t *p, const uint8_t *end, const uint8_t *oid, size_t oid_len,
                    span_t *hit, int *nhits) {
  *nhits = 0;
  while (p < end) {
    span_t ext, id;
    if (next_elem(&p, end, &ext) != 0 || ext.tag != TAG_SEQ)
      return CS_EPARSE;
    const uint8_t *q = ext.body;
    if (next_elem(&q, ext.end, &id) != 0 || id.tag != MBEDTLS_ASN1_OID)
      return CS_EPARSE;
    if ((size_t)(id.end - id.body) == oid_len && memcmp(id.body, oid, oid_len) == 0) {
      *hit = ext;
      (*nhits)++;
    }
  }
  return p == end ? 0 : CS_EPARSE;
}

int cs_ct_tbs_remove_ext(const uint8_t *tbs, size_t tbs_len, const uint8_t *oid, size_t oid_len,
                         uint8_t **out, size_t *out_len, int *found) {
  const uint8_t *p = tbs, *end = tbs + tbs_len;
  span_t whole, exts = {0}, seq = {0}, hit = {0};
  int nhits = 0;
  *out = NULL;
  *out_len = 0;
  if (found != NULL)
    *found = 0;
  if (tbs == NULL || oid == NULL || next_elem(&p, end, &whole) != 0 || whole.tag != TAG_SEQ ||
      whole.end != end)
    return CS_EPARSE;
  for (const uint8_t *q = whole.body; q < whole.end;) {
    span_t el;
    if (next_elem(&q, whole.end, &el) != 0)
      return CS_EPARSE;
    if (el.tag != TAG_EXTS)
      continue;
    if (exts.start != NULL)
      return CS_EPARSE; /* two [3] fields */
    exts = el;
    const uint8_t *r = el.body;
    if (next_elem(&r, el.end, &seq) != 0 || seq.tag != TAG_SEQ || seq.end != el.end)
      return CS_EPARSE;
    if (find_ext(seq.body, seq.end, oid, oid_len, &hit, &nhits) != 0)
      return CS_EPARSE;
  }
  if (nhits > 1)
    return CS_EPARSE; /* RFC 5280 §4.2: an extension appears at most once */
  if (nhits == 0) {
    if ((*out = malloc(tbs_len)) == NULL) /* owned by caller */
      return CS_ENOMEM;
    memcpy(*out, tbs, tbs_len);
    *out_len = tbs_len;
    return 0;
  }
  size_t removed = (size_t)(hit.end - hit.start);
  size_t seq_body = (size_t)(seq.end - seq.body) - removed;
  size_t exts_elem = 0; /* the new [3] element, 0 if it disappears */
  if (seq_body > 0) {
    size_t seq_elem = 1 + der_len_size(seq_body) + seq_body;
    exts_elem = 1 + der_len_size(seq_elem) + seq_elem;
  }
  size_t before = (size_t)(exts.start - whole.body), after = (size_t)(whole.end - exts.end);
  size_t body = before + exts_elem + after;
  size_t total = 1 + der_len_size(body) + body;
  uint8_t *buf = malloc(total); /* owned by caller */
  if (buf == NULL)
    return CS_ENOMEM;
  uint8_t *o = put_hdr(buf, TAG_SEQ, body);
  memcpy(o, whole.body, before);
  o += before;
  if (exts_elem > 0) {
    size_t seq_elem = 1 + der_len_size(seq_body) + seq_body;
    o = put_hdr(o, TAG_EXTS, seq_elem);
    o = put_hdr(o, TAG_SEQ, seq_body);
    memcpy(o, seq.body, (size_t)(hit.start - seq.body));
    o += hit.start - seq.body;
    memcpy(o, hit.end, (size_t)(seq.end - hit.end));
    o += seq.end - hit.end;
  }
  memcpy(o, exts.end, after);
  o += after;
  *out = buf;
  *out_len = (size_t)(o - buf);
  if (found != NULL)
    *found = 1;
  return 0;
}
