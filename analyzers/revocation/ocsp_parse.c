/*
 * Strict DER parser for OCSPResponse / BasicOCSPResponse (RFC 6960 §4.2.1).
 *
 * Every length is checked against its enclosing structure and every
 * structure must end exactly where its length says: a responder bug that
 * appends garbage is reported, not silently accepted, because clients
 * (NSS, Go) reject such responses and that is part of the diagnosis.
 */
#include "certskew/revocation/ocsp.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform.h>
#include <mbedtls/x509.h>

#include "certskew/core/time.h"

struct cs_ocsp_response {
  uint8_t *der; /* owned copy; every borrowed pointer points here */
  size_t der_len;
  cs_ocsp_info_t info;
  cs_ocsp_single_t *singles; /* owned array of info.nsingles */
  const uint8_t *tbs;        /* tbsResponseData TLV */
  size_t tbs_len;
  const uint8_t *sig;
  size_t sig_len;
  void *sig_opts;            /* owned (mbedtls_free) RSASSA-PSS options or NULL */
  mbedtls_x509_crt certs;    /* owned list (empty when ncerts == 0) */
};

/* id-pkix-ocsp-basic 1.3.6.1.5.5.7.48.1.1 */
static const uint8_t OID_OCSP_BASIC[] = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};
/* Certificate Transparency SCT list in an OCSP single response extension. */
static const uint8_t OID_OCSP_SCT[] = {0x2B, 0x06, 0x01, 0x04, 0x01, 0xD6, 0x79, 0x02, 0x04, 0x05};

#define CTX_(n) (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | (n))
#define SEQ_ (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)

static int der_err(cs_errbuf_t *eb, int mbed, const char *what) {
  int code = mbed == MBEDTLS_ERR_ASN1_OUT_OF_DATA ? CS_ETRUNC : CS_EPARSE;
  return cs_errbuf_set(eb, code, "OCSP: %s", what);
}

static int get_tag(uint8_t **p, const uint8_t *end, size_t *len, int tag, cs_errbuf_t *eb,
                   const char *what) {
  int ret = mbedtls_asn1_get_tag(p, end, len, tag);
  return ret == 0 ? 0 : der_err(eb, ret, what);
}

/* GeneralizedTime only: RFC 6960 uses it for every OCSP time. */
static int get_gentime(uint8_t **p, const uint8_t *end, int64_t *out, cs_errbuf_t *eb,
                       const char *what) {
  if (*p >= end || **p != MBEDTLS_ASN1_GENERALIZED_TIME)
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: %s is not a GeneralizedTime", what);
  mbedtls_x509_time t;
  if (mbedtls_x509_get_time(p, end, &t) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: malformed %s", what);
  cs_civil_t c = {t.year, t.mon, t.day, t.hour, t.min, t.sec, 0};
  if (cs_time_from_civil(&c, out) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: %s out of range", what);
  return 0;
}

static int get_octets(uint8_t **p, const uint8_t *end, uint8_t *dst, size_t cap, size_t *n,
                      cs_errbuf_t *eb, const char *what) {
  size_t len;
  int ret = get_tag(p, end, &len, MBEDTLS_ASN1_OCTET_STRING, eb, what);
  if (ret != 0)
    return ret;
  if (len > cap)
    return cs_errbuf_set(eb, CS_ETOOBIG, "OCSP: %s is %zu bytes", what, len);
  memcpy(dst, *p, len);
  *n = len;
  *p += len;
  return 0;
}

static int parse_certid(uint8_t **p, const uint8_t *end, cs_ocsp_certid_t *id, cs_errbuf_t *eb) {
  size_t len;
  int ret = get_tag(p, end, &len, SEQ_, eb, "CertID");
  if (ret != 0)
    return ret;
  const uint8_t *id_end = *p + len;
  mbedtls_x509_buf oid, params;
  if (mbedtls_x509_get_alg(p, id_end, &oid, &params) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: CertID hashAlgorithm");
  if (mbedtls_oid_get_md_alg(&oid, &id->hash_alg) != 0)
    id->hash_alg = MBEDTLS_MD_NONE; /* still parseable; it just never matches */
  if ((ret = get_octets(p, id_end, id->name_hash, sizeof(id->name_hash), &id->name_hash_len,
                        eb, "issuerNameHash")) != 0 ||
      (ret = get_octets(p, id_end, id->key_hash, sizeof(id->key_hash), &id->key_hash_len, eb,
                        "issuerKeyHash")) != 0)
    return ret;
  if ((ret = get_tag(p, id_end, &len, MBEDTLS_ASN1_INTEGER, eb, "CertID serialNumber")) != 0)
    return ret;
  if (len == 0 || len > sizeof(id->serial))
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: serialNumber of %zu bytes", len);
  memcpy(id->serial, *p, len);
  id->serial_len = len;
  *p += len;
  if (*p != id_end)
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: trailing bytes in CertID");
  return 0;
}

static int parse_cert_status(uint8_t **p, const uint8_t *end, cs_ocsp_single_t *s,
                             cs_errbuf_t *eb) {
  if (*p >= end)
    return cs_errbuf_set(eb, CS_ETRUNC, "OCSP: missing certStatus");
  uint8_t tag = **p;
  size_t len;
  int ret;
  switch (tag) {
  case MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0: /* good [0] IMPLICIT NULL */
  case MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2: /* unknown [2] IMPLICIT NULL */
    if ((ret = get_tag(p, end, &len, tag, eb, "certStatus")) != 0)
      return ret;
    if (len != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "OCSP: certStatus NULL with content");
    s->status = tag == MBEDTLS_ASN1_CONTEXT_SPECIFIC ? CS_OCSP_CERT_GOOD : CS_OCSP_CERT_UNKNOWN;
    return 0;
  case CTX_(1): { /* revoked [1] IMPLICIT RevokedInfo */
    if ((ret = get_tag(p, end, &len, tag, eb, "RevokedInfo")) != 0)
      return ret;
    const uint8_t *rend = *p + len;
    s->status = CS_OCSP_CERT_REVOKED;
    if ((ret = get_gentime(p, rend, &s->revocation_time_ms, eb, "revocationTime")) != 0)
      return ret;
    if (*p < rend) {
      if ((ret = get_tag(p, rend, &len, CTX_(0), eb, "revocationReason")) != 0)
        return ret;
      int reason;
      if (mbedtls_asn1_get_enum(p, *p + len, &reason) != 0 || reason < 0 || reason > 10)
        return cs_errbuf_set(eb, CS_EPARSE, "OCSP: malformed revocationReason");
      s->revocation_reason = reason;
    }
    if (*p != rend)
      return cs_errbuf_set(eb, CS_EPARSE, "OCSP: trailing bytes in RevokedInfo");
    return 0;
  }
  default:
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: certStatus has tag 0x%02x", tag);
  }
}

/* singleExtensions: only the SCT list is kept; the rest are skipped, as
 * RFC 6960 allows for non-critical extensions. */
static int parse_single_exts(uint8_t **p, const uint8_t *end, cs_ocsp_single_t *s,
                             cs_errbuf_t *eb) {
  size_t len;
  int ret = get_tag(p, end, &len, SEQ_, eb, "singleExtensions");
  if (ret != 0)
    return ret;
  const uint8_t *exts_end = *p + len;
  while (*p < exts_end) {
    if ((ret = get_tag(p, exts_end, &len, SEQ_, eb, "Extension")) != 0)
      return ret;
    const uint8_t *ext_end = *p + len;
    if ((ret = get_tag(p, ext_end, &len, MBEDTLS_ASN1_OID, eb, "extnID")) != 0)
      return ret;
    int is_sct = len == sizeof(OID_OCSP_SCT) && memcmp(*p, OID_OCSP_SCT, len) == 0;
    *p += len;
    int critical = 0;
    if (*p < ext_end && **p == MBEDTLS_ASN1_BOOLEAN &&
        mbedtls_asn1_get_bool(p, ext_end, &critical) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "OCSP: malformed critical flag");
    if ((ret = get_tag(p, ext_end, &len, MBEDTLS_ASN1_OCTET_STRING, eb, "extnValue")) != 0)
      return ret;
    const uint8_t *val_end = *p + len;
    if (is_sct) {
      /* extnValue wraps an OCTET STRING holding the TLS-encoded list. */
      size_t inner;
      if ((ret = get_tag(p, val_end, &inner, MBEDTLS_ASN1_OCTET_STRING, eb, "SCT list")) != 0)
        return ret;
      if (*p + inner != val_end)
        return cs_errbuf_set(eb, CS_EPARSE, "OCSP: trailing bytes after SCT list");
      s->sct_list = *p;
      s->sct_list_len = inner;
    } else if (critical) {
      return cs_errbuf_set(eb, CS_EUNSUPPORTED, "OCSP: unknown critical single extension");
    }
    *p = (uint8_t *)val_end;
    if (*p != ext_end)
      return cs_errbuf_set(eb, CS_EPARSE, "OCSP: trailing bytes in Extension");
  }
  return 0;
}

static int parse_single(uint8_t **p, const uint8_t *end, cs_ocsp_single_t *s, cs_errbuf_t *eb) {
  size_t len;
  int ret = get_tag(p, end, &len, SEQ_, eb, "SingleResponse");
  if (ret != 0)
    return ret;
  const uint8_t *s_end = *p + len;
  s->revocation_reason = -1;
  if ((ret = parse_certid(p, s_end, &s->certid, eb)) != 0 ||
      (ret = parse_cert_status(p, s_end, s, eb)) != 0 ||
      (ret = get_gentime(p, s_end, &s->this_update_ms, eb, "thisUpdate")) != 0)
    return ret;
  if (*p < s_end && **p == CTX_(0)) {
    if ((ret = get_tag(p, s_end, &len, CTX_(0), eb, "nextUpdate")) != 0 ||
        (ret = get_gentime(p, *p + len, &s->next_update_ms, eb, "nextUpdate")) != 0)
      return ret;
    s->has_next_update = 1;
  }
  if (*p < s_end && **p == CTX_(1)) {
    if ((ret = get_tag(p, s_end, &len, CTX_(1), eb, "singleExtensions")) != 0 ||
        (ret = parse_single_exts(p, *p + len, s, eb)) != 0)
      return ret;
  }
  if (*p != s_end)
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: trailing bytes in SingleResponse");
  return 0;
}

static void free_name_chain(mbedtls_x509_name *head) {
  mbedtls_x509_name *cur = head->next;
  while (cur != NULL) {
    mbedtls_x509_name *next = cur->next;
    mbedtls_free(cur); /* allocated by mbedtls_x509_get_name */
    cur = next;
  }
}

static int parse_responder_id(uint8_t **p, const uint8_t *end, cs_ocsp_info_t *info,
                              cs_errbuf_t *eb) {
  size_t len;
  int ret;
  if (*p < end && **p == CTX_(2)) { /* byKey [2] KeyHash (SHA-1 of the key bits) */
    if ((ret = get_tag(p, end, &len, CTX_(2), eb, "ResponderID byKey")) != 0)
      return ret;
    size_t n = 0; /* set by get_octets on success; initialised for -O2 analysis */
    const uint8_t *kend = *p + len;
    if ((ret = get_octets(p, kend, info->responder_key_hash, sizeof(info->responder_key_hash),
                          &n, eb, "KeyHash")) != 0)
      return ret;
    if (n != 20 || *p != kend)
      return cs_errbuf_set(eb, CS_EPARSE, "OCSP: KeyHash is not a SHA-1 hash");
    info->responder_by_key = 1;
    return 0;
  }
  if ((ret = get_tag(p, end, &len, CTX_(1), eb, "ResponderID")) != 0)
    return ret;
  const uint8_t *id_end = *p + len;
  info->responder_name_raw = *p;
  if ((ret = get_tag(p, id_end, &len, SEQ_, eb, "responder Name")) != 0)
    return ret;
  info->responder_name_raw_len = (size_t)(*p + len - info->responder_name_raw);
  mbedtls_x509_name name;
  memset(&name, 0, sizeof(name));
  int mret = mbedtls_x509_get_name(p, *p + len, &name);
  if (mret == 0 && mbedtls_x509_dn_gets(info->responder_name, sizeof(info->responder_name),
                                        &name) < 0)
    info->responder_name[0] = '\0';
  free_name_chain(&name);
  if (mret != 0 || *p != id_end)
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: malformed responder Name");
  return 0;
}

static int parse_tbs(cs_ocsp_response_t *r, uint8_t **p, const uint8_t *end, cs_errbuf_t *eb) {
  size_t len;
  r->tbs = *p;
  int ret = get_tag(p, end, &len, SEQ_, eb, "tbsResponseData");
  if (ret != 0)
    return ret;
  const uint8_t *tend = *p + len;
  r->tbs_len = (size_t)(tend - r->tbs);
  if (*p < tend && **p == CTX_(0)) {
    int version;
    if ((ret = get_tag(p, tend, &len, CTX_(0), eb, "version")) != 0)
      return ret;
    if (mbedtls_asn1_get_int(p, *p + len, &version) != 0 || version != 0)
      return cs_errbuf_set(eb, CS_EUNSUPPORTED, "OCSP: ResponseData version is not v1");
  }
  if ((ret = parse_responder_id(p, tend, &r->info, eb)) != 0 ||
      (ret = get_gentime(p, tend, &r->info.produced_at_ms, eb, "producedAt")) != 0 ||
      (ret = get_tag(p, tend, &len, SEQ_, eb, "responses")) != 0)
    return ret;
  const uint8_t *rend = *p + len;
  while (*p < rend) {
    if (r->info.nsingles == CS_OCSP_MAX_SINGLES)
      return cs_errbuf_set(eb, CS_ETOOBIG, "OCSP: more than %d single responses",
                           CS_OCSP_MAX_SINGLES);
    cs_ocsp_single_t *s = &r->singles[r->info.nsingles];
    if ((ret = parse_single(p, rend, s, eb)) != 0)
      return ret;
    r->info.nsingles++;
  }
  if (*p < tend && **p == CTX_(1)) { /* responseExtensions (nonce): not needed */
    if ((ret = get_tag(p, tend, &len, CTX_(1), eb, "responseExtensions")) != 0)
      return ret;
    *p += len;
  }
  if (*p != tend)
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: trailing bytes in tbsResponseData");
  return 0;
}

static int parse_certs(cs_ocsp_response_t *r, uint8_t **p, const uint8_t *end, cs_errbuf_t *eb) {
  size_t len;
  int ret = get_tag(p, end, &len, SEQ_, eb, "certs");
  if (ret != 0)
    return ret;
  const uint8_t *cend = *p + len;
  while (*p < cend) {
    uint8_t *start = *p;
    if ((ret = get_tag(p, cend, &len, SEQ_, eb, "certs Certificate")) != 0)
      return ret;
    *p += len;
    if (r->info.ncerts == CS_OCSP_MAX_CERTS)
      return cs_errbuf_set(eb, CS_ETOOBIG, "OCSP: more than %d certificates", CS_OCSP_MAX_CERTS);
    if (mbedtls_x509_crt_parse_der(&r->certs, start, (size_t)(*p - start)) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "OCSP: certificate #%zu does not parse",
                           r->info.ncerts);
    r->info.ncerts++;
  }
  return 0;
}

static int parse_basic(cs_ocsp_response_t *r, uint8_t **p, const uint8_t *end, cs_errbuf_t *eb) {
  size_t len;
  int ret = get_tag(p, end, &len, SEQ_, eb, "BasicOCSPResponse");
  if (ret != 0)
    return ret;
  const uint8_t *bend = *p + len;
  if ((ret = parse_tbs(r, p, bend, eb)) != 0)
    return ret;
  mbedtls_x509_buf oid, params, sig;
  if (mbedtls_x509_get_alg(p, bend, &oid, &params) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: malformed signatureAlgorithm");
  if (mbedtls_x509_get_sig_alg(&oid, &params, &r->info.sig_md, &r->info.sig_pk,
                               &r->sig_opts) != 0)
    return cs_errbuf_set(eb, CS_EUNSUPPORTED, "OCSP: unsupported signatureAlgorithm");
  if (mbedtls_x509_get_sig(p, bend, &sig) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: malformed signature");
  r->sig = sig.p;
  r->sig_len = sig.len;
  if (*p < bend) {
    if ((ret = get_tag(p, bend, &len, CTX_(0), eb, "certs")) != 0 ||
        (ret = parse_certs(r, p, *p + len, eb)) != 0)
      return ret;
  }
  if (*p != bend)
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: trailing bytes in BasicOCSPResponse");
  r->info.has_basic = 1;
  return 0;
}

static int parse_response(cs_ocsp_response_t *r, cs_errbuf_t *eb) {
  uint8_t *p = r->der;
  const uint8_t *end = r->der + r->der_len;
  size_t len;
  int ret = get_tag(&p, end, &len, SEQ_, eb, "OCSPResponse");
  if (ret != 0)
    return ret;
  if (p + len != end)
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: %zu trailing bytes after OCSPResponse",
                         (size_t)(end - (p + len)));
  int status;
  if (mbedtls_asn1_get_enum(&p, end, &status) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: malformed responseStatus");
  if (status < 0 || status > 6 || status == 4)
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: responseStatus %d is not defined", status);
  r->info.response_status = status;
  if (p == end) {
    if (status == CS_OCSP_SUCCESSFUL)
      return cs_errbuf_set(eb, CS_EPARSE, "OCSP: successful response without responseBytes");
    return 0;
  }
  if (status != CS_OCSP_SUCCESSFUL)
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: responseBytes with status %d", status);
  if ((ret = get_tag(&p, end, &len, CTX_(0), eb, "responseBytes")) != 0 ||
      (ret = get_tag(&p, end, &len, SEQ_, eb, "ResponseBytes")) != 0 ||
      (ret = get_tag(&p, end, &len, MBEDTLS_ASN1_OID, eb, "responseType")) != 0)
    return ret;
  if (len != sizeof(OID_OCSP_BASIC) || memcmp(p, OID_OCSP_BASIC, len) != 0)
    return cs_errbuf_set(eb, CS_EUNSUPPORTED, "OCSP: responseType is not id-pkix-ocsp-basic");
  p += len;
  if ((ret = get_tag(&p, end, &len, MBEDTLS_ASN1_OCTET_STRING, eb, "response")) != 0)
    return ret;
  const uint8_t *inner_end = p + len;
  if ((ret = parse_basic(r, &p, inner_end, eb)) != 0)
    return ret;
  if (p != end)
    return cs_errbuf_set(eb, CS_EPARSE, "OCSP: trailing bytes in ResponseBytes");
  return 0;
}

int cs_ocsp_parse(cs_ocsp_response_t **out, const uint8_t *der, size_t len, cs_errbuf_t *eb) {
  if (out == NULL || (der == NULL && len > 0))
    return cs_errbuf_set(eb, CS_EINVAL, "OCSP: no output or input");
  *out = NULL;
  if (len == 0)
    return cs_errbuf_set(eb, CS_EEMPTY, "OCSP: empty response");
  if (len > CS_OCSP_MAX_INPUT)
    return cs_errbuf_set(eb, CS_ETOOBIG, "OCSP: response of %zu bytes", len);
  int ret = CS_ENOMEM;
  cs_ocsp_response_t *r = calloc(1, sizeof(*r)); /* owned by caller on success */
  if (r == NULL)
    goto out;
  mbedtls_x509_crt_init(&r->certs);
  r->der = malloc(len); /* owned by r */
  r->singles = calloc(CS_OCSP_MAX_SINGLES, sizeof(*r->singles)); /* owned by r */
  if (r->der == NULL || r->singles == NULL)
    goto out;
  memcpy(r->der, der, len);
  r->der_len = len;
  ret = parse_response(r, eb);
out:
  if (ret == CS_ENOMEM)
    cs_errbuf_set(eb, ret, "OCSP: out of memory");
  if (ret != 0) {
    cs_ocsp_response_free(r);
    return ret;
  }
  *out = r;
  return 0;
}

void cs_ocsp_response_free(cs_ocsp_response_t *r) {
  if (r == NULL)
    return;
  mbedtls_x509_crt_free(&r->certs);
  mbedtls_free(r->sig_opts); /* allocated by mbedtls_x509_get_sig_alg */
  free(r->singles);
  free(r->der);
  free(r);
}

const cs_ocsp_info_t *cs_ocsp_response_info(const cs_ocsp_response_t *r) {
  return r == NULL ? NULL : &r->info;
}

const cs_ocsp_single_t *cs_ocsp_response_single(const cs_ocsp_response_t *r, size_t i) {
  return r == NULL || i >= r->info.nsingles ? NULL : &r->singles[i];
}

const uint8_t *cs_ocsp_response_der(const cs_ocsp_response_t *r, size_t *len) {
  if (len != NULL)
    *len = r == NULL ? 0 : r->der_len;
  return r == NULL ? NULL : r->der;
}

int cs_ocsp_response_signed_parts(const cs_ocsp_response_t *r, const uint8_t **tbs,
                                  size_t *tbs_len, const uint8_t **sig, size_t *sig_len,
                                  const void **sig_opts) {
  if (r == NULL || !r->info.has_basic)
    return CS_EINVAL;
  *tbs = r->tbs;
  *tbs_len = r->tbs_len;
  *sig = r->sig;
  *sig_len = r->sig_len;
  *sig_opts = r->sig_opts;
  return 0;
}

const mbedtls_x509_crt *cs_ocsp_response_certs(const cs_ocsp_response_t *r) {
  return r == NULL || r->info.ncerts == 0 ? NULL : &r->certs;
}

const char *cs_ocsp_status_name(int status) {
  switch (status) {
  case CS_OCSP_SUCCESSFUL: return "successful";
  case CS_OCSP_MALFORMED_REQUEST: return "malformedRequest";
  case CS_OCSP_INTERNAL_ERROR: return "internalError";
  case CS_OCSP_TRY_LATER: return "tryLater";
  case CS_OCSP_SIG_REQUIRED: return "sigRequired";
  case CS_OCSP_UNAUTHORIZED: return "unauthorized";
  default: return "undefined";
  }
}

const char *cs_ocsp_cert_status_name(cs_ocsp_cert_status_t s) {
  switch (s) {
  case CS_OCSP_CERT_GOOD: return "good";
  case CS_OCSP_CERT_REVOKED: return "revoked";
  case CS_OCSP_CERT_UNKNOWN: return "unknown";
  default: return "invalid";
  }
}
