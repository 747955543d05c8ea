/*
 * A strict, complete reading of a CertificateList
 * (include/certskew/revocation/crl_history.h), RFC 5280 §5.1:
 *
 *   CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
 *   TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL (v2), signature AlgorithmIdentifier,
 *       issuer Name, thisUpdate Time, nextUpdate Time OPTIONAL,
 *       revokedCertificates SEQUENCE OF SEQUENCE { userCertificate INTEGER,
 *           revocationDate Time, crlEntryExtensions Extensions OPTIONAL } OPTIONAL,
 *       crlExtensions [0] EXPLICIT Extensions OPTIONAL }
 *
 * mbedTLS 2.28 refuses any critical CRL extension, and the issuing
 * distribution point of a sharded CRL is critical (RFC 5280 §5.2.5), so the
 * CRLs this file exists for cannot go through mbedtls_x509_crl_parse.
 */
#include "certskew/revocation/crl_history.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509.h>

#include "certskew/core/time.h"

#define CON_SEQ (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)

/* 2.5.29.20 cRLNumber, 2.5.29.28 issuingDistributionPoint. */
static const uint8_t OID_CRL_NUMBER[] = {0x55, 0x1D, 0x14};
static const uint8_t OID_IDP[] = {0x55, 0x1D, 0x1C};

void cs_crl_list_init(cs_crl_list_t *l) { memset(l, 0, sizeof(*l)); }

void cs_crl_list_free(cs_crl_list_t *l) {
  if (l == NULL)
    return;
  free(l->der);
  free(l->serials);
  cs_crl_list_init(l);
}

void cs_crl_hex(const uint8_t *p, size_t len, char *out, size_t cap) {
  static const char H[] = "0123456789ABCDEF";
  size_t o = 0;
  if (cap == 0)
    return;
  for (size_t i = 0; i < len && o + 3 <= cap; i++) {
    out[o++] = H[p[i] >> 4];
    out[o++] = H[p[i] & 15];
  }
  if (len == 0 && cap >= 2)
    out[o++] = '0';
  out[o] = '\0';
}

static int two_digits(const uint8_t *p, int *out) {
  if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
    return -1;
  *out = (p[0] - '0') * 10 + (p[1] - '0');
  return 0;
}

/* UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280 §4.1.2.5). */
static int get_time(unsigned char **p, const unsigned char *end, int64_t *out) {
  if (end - *p < 2)
    return -1;
  int tag = **p;
  size_t n;
  if (tag != MBEDTLS_ASN1_UTC_TIME && tag != MBEDTLS_ASN1_GENERALIZED_TIME)
    return -1;
  if (mbedtls_asn1_get_tag(p, end, &n, tag) != 0)
    return -1;
  const uint8_t *s = *p;
  size_t want = tag == MBEDTLS_ASN1_UTC_TIME ? 13 : 15;
  if (n != want || s[n - 1] != 'Z')
    return -1;
  int f[7], k = 0, year;
  if (tag == MBEDTLS_ASN1_UTC_TIME) {
    if (two_digits(s, &year) != 0)
      return -1;
    year += year >= 50 ? 1900 : 2000;
    s += 2;
  } else {
    int hi, lo;
    if (two_digits(s, &hi) != 0 || two_digits(s + 2, &lo) != 0)
      return -1;
    year = hi * 100 + lo;
    s += 4;
  }
  for (k = 0; k < 5; k++)
    if (two_digits(s + 2 * k, &f[k]) != 0)
      return -1;
  if (f[0] < 1 || f[0] > 12 || f[1] < 1 || f[1] > 31 || f[2] > 23 || f[3] > 59 || f[4] > 59)
    return -1;
  cs_civil_t c = {year, f[0], f[1], f[2], f[3], f[4], 0};
  *p += n;
  return cs_time_from_civil(&c, out) == 0 ? 0 : -1;
}

/* An INTEGER's content octets (non-empty, minimally encoded). */
static int get_integer(unsigned char **p, const unsigned char *end, const uint8_t **v,
                       size_t *len) {
  size_t n;
  if (mbedtls_asn1_get_tag(p, end, &n, MBEDTLS_ASN1_INTEGER) != 0 || n == 0)
    return -1;
  if (n > 1 && (((*p)[0] == 0x00 && !((*p)[1] & 0x80)) || ((*p)[0] == 0xFF && ((*p)[1] & 0x80))))
    return -1;
  *v = *p;
  *len = n;
  *p += n;
  return 0;
}

static int serial_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  if (alen != blen)
    return alen < blen ? -1 : 1;
  return memcmp(a, b, alen);
}

static int entry_cmp(const void *x, const void *y) {
  const cs_crl_serial_t *a = x, *b = y;
  return serial_cmp(a->p, a->len, b->p, b->len);
}

long cs_crl_list_find(const cs_crl_list_t *l, const uint8_t *serial, size_t serial_len) {
  if (l == NULL || serial == NULL)
    return -1;
  size_t lo = 0, hi = l->nserials;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = serial_cmp(l->serials[mid].p, l->serials[mid].len, serial, serial_len);
    if (c == 0)
      return (long)mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

int cs_crl_number_cmp(const cs_crl_list_t *a, const cs_crl_list_t *b) {
  int c = serial_cmp(a->number, a->number_len, b->number, b->number_len);
  return c < 0 ? -1 : c > 0;
}

static int parse_entries(cs_crl_list_t *l, unsigned char *p, const unsigned char *end,
                         cs_errbuf_t *eb) {
  size_t cap = 0;
  while (p < end) {
    size_t n;
    if (mbedtls_asn1_get_tag(&p, end, &n, CON_SEQ) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "CRL: revoked entry #%zu is not a SEQUENCE", l->nserials);
    const unsigned char *e_end = p + n;
    cs_crl_serial_t s;
    if (get_integer(&p, e_end, &s.p, &s.len) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "CRL: revoked entry #%zu: bad serial", l->nserials);
    if (get_time(&p, e_end, &s.revoked_ms) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "CRL: revoked entry #%zu: bad revocationDate",
                           l->nserials);
    if (p < e_end) { /* crlEntryExtensions: one SEQUENCE filling the rest */
      if (mbedtls_asn1_get_tag(&p, e_end, &n, CON_SEQ) != 0 || p + n != e_end)
        return cs_errbuf_set(eb, CS_EPARSE, "CRL: revoked entry #%zu: bad extensions",
                             l->nserials);
      p += n;
    }
    if (l->nserials == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      cs_crl_serial_t *grown = realloc(l->serials, ncap * sizeof(*grown));
      if (grown == NULL)
        return cs_errbuf_set(eb, CS_ENOMEM, "CRL: out of memory");
      l->serials = grown;
      cap = ncap;
    }
    l->serials[l->nserials++] = s;
  }
  if (l->nserials == 0)
    return 0; /* RFC 5280 wants it absent when empty; mbedTLS and OpenSSL accept it */
  qsort(l->serials, l->nserials, sizeof(*l->serials), entry_cmp);
  for (size_t i = 1; i < l->nserials; i++)
    if (entry_cmp(&l->serials[i - 1], &l->serials[i]) == 0) {
      char hex[2 * 32 + 1];
      cs_crl_hex(l->serials[i].p, l->serials[i].len, hex, sizeof(hex));
      return cs_errbuf_set(eb, CS_EPARSE, "CRL: serial %s listed twice", hex);
    }
  return 0;
}

/* GeneralNames: keeps the URIs ([6] IA5String), skips other names. */
static int parse_general_names(cs_crl_list_t *l, unsigned char *p, const unsigned char *end) {
  while (p < end) {
    int tag = *p;
    size_t n;
    p++;
    if (mbedtls_asn1_get_len(&p, end, &n) != 0)
      return -1;
    if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 6)) {
      if (n == 0 || n >= CS_CRL_URI_MAX)
        return -1;
      for (size_t i = 0; i < n; i++)
        if (p[i] < 0x21 || p[i] > 0x7E)
          return -1;
      if (l->nidp_uris < CS_CRL_IDP_MAX_URIS) {
        memcpy(l->idp_uris[l->nidp_uris], p, n);
        l->idp_uris[l->nidp_uris++][n] = '\0';
      }
    }
    p += n;
  }
  return 0;
}

/* IssuingDistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName
 *   OPTIONAL, onlyContainsUserCerts [1], onlyContainsCACerts [2], onlySomeReasons [3],
 *   indirectCRL [4], onlyContainsAttributeCerts [5] }; fullName is [0] GeneralNames. */
static int parse_idp(cs_crl_list_t *l, unsigned char *p, const unsigned char *end) {
  size_t n;
  if (mbedtls_asn1_get_tag(&p, end, &n, CON_SEQ) != 0 || p + n != end)
    return -1;
  if (p < end && *p == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)) {
    p++;
    if (mbedtls_asn1_get_len(&p, end, &n) != 0)
      return -1;
    unsigned char *dp = p, *dp_end = p + n;
    p += n;
    if (dp < dp_end && *dp == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)) {
      dp++;
      if (mbedtls_asn1_get_len(&dp, dp_end, &n) != 0 || dp + n != dp_end ||
          parse_general_names(l, dp, dp_end) != 0)
        return -1;
    } else if (dp < dp_end &&
               *dp == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 1)) {
      l->idp_partial = 1; /* nameRelativeToCRLIssuer: no URI to compare */
    } else {
      return -1;
    }
  }
  int last = 0;
  while (p < end) { /* [1]..[5], in order, each at most once */
    int num = *p & 0x1F;
    if ((*p & 0xC0) != MBEDTLS_ASN1_CONTEXT_SPECIFIC || num < 1 || num > 5 || num <= last)
      return -1;
    last = num;
    p++;
    if (mbedtls_asn1_get_len(&p, end, &n) != 0)
      return -1;
    p += n;
    l->idp_partial = 1;
  }
  l->has_idp = 1;
  return 0;
}

static int parse_number(cs_crl_list_t *l, unsigned char *p, const unsigned char *end) {
  const uint8_t *v;
  size_t n;
  if (get_integer(&p, end, &v, &n) != 0 || p != end || (v[0] & 0x80))
    return -1;
  while (n > 0 && v[0] == 0) {
    v++;
    n--;
  }
  if (n > CS_CRL_NUMBER_MAX)
    return -1;
  memcpy(l->number, v, n);
  l->number_len = n;
  l->has_number = 1;
  return 0;
}

static int parse_extensions(cs_crl_list_t *l, unsigned char *p, const unsigned char *end,
                            cs_errbuf_t *eb) {
  size_t n;
  if (mbedtls_asn1_get_tag(&p, end, &n, CON_SEQ) != 0 || p + n != end || n == 0)
    return cs_errbuf_set(eb, CS_EPARSE, "CRL: bad crlExtensions");
  while (p < end) {
    if (mbedtls_asn1_get_tag(&p, end, &n, CON_SEQ) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "CRL: bad extension");
    const unsigned char *x_end = p + n;
    size_t oid_len;
    if (mbedtls_asn1_get_tag(&p, x_end, &oid_len, MBEDTLS_ASN1_OID) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "CRL: extension without an OID");
    const uint8_t *oid = p;
    p += oid_len;
    int critical = 0;
    if (p < x_end && *p == MBEDTLS_ASN1_BOOLEAN &&
        mbedtls_asn1_get_bool(&p, x_end, &critical) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "CRL: bad extension critical flag");
    if (mbedtls_asn1_get_tag(&p, x_end, &n, MBEDTLS_ASN1_OCTET_STRING) != 0 || p + n != x_end)
      return cs_errbuf_set(eb, CS_EPARSE, "CRL: bad extension value");
    int is_number = oid_len == sizeof(OID_CRL_NUMBER) && memcmp(oid, OID_CRL_NUMBER, oid_len) == 0;
    int is_idp = oid_len == sizeof(OID_IDP) && memcmp(oid, OID_IDP, oid_len) == 0;
    if ((is_number && l->has_number) || (is_idp && l->has_idp))
      return cs_errbuf_set(eb, CS_EPARSE, "CRL: an extension appears twice");
    if (is_number && parse_number(l, p, x_end) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "CRL: bad cRLNumber (a non-negative INTEGER of at "
                                          "most 20 octets)");
    if (is_idp) {
      if (parse_idp(l, p, x_end) != 0)
        return cs_errbuf_set(eb, CS_EPARSE, "CRL: bad issuingDistributionPoint");
      l->idp_critical = critical;
    }
    p = (unsigned char *)(uintptr_t)x_end;
  }
  return 0;
}

static int parse_tbs(cs_crl_list_t *l, unsigned char *p, const unsigned char *end,
                     cs_errbuf_t *eb) {
  size_t n;
  int version = 0;
  if (p < end && *p == MBEDTLS_ASN1_INTEGER &&
      (mbedtls_asn1_get_int(&p, end, &version) != 0 || version != 1))
    return cs_errbuf_set(eb, CS_EPARSE, "CRL: version is not v2");
  if (mbedtls_asn1_get_tag(&p, end, &n, CON_SEQ) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "CRL: bad signature AlgorithmIdentifier");
  p += n;
  l->issuer_raw = p;
  if (mbedtls_asn1_get_tag(&p, end, &n, CON_SEQ) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "CRL: bad issuer Name");
  p += n;
  l->issuer_raw_len = (size_t)(p - l->issuer_raw);
  if (get_time(&p, end, &l->this_update_ms) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "CRL: bad thisUpdate");
  if (p < end && (*p == MBEDTLS_ASN1_UTC_TIME || *p == MBEDTLS_ASN1_GENERALIZED_TIME)) {
    if (get_time(&p, end, &l->next_update_ms) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "CRL: bad nextUpdate");
    l->has_next_update = 1;
  }
  if (p < end && *p == CON_SEQ) {
    if (mbedtls_asn1_get_tag(&p, end, &n, CON_SEQ) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "CRL: bad revokedCertificates");
    int err = parse_entries(l, p, p + n, eb);
    if (err != 0)
      return err;
    p += n;
  }
  if (p < end) {
    if (version != 1)
      return cs_errbuf_set(eb, CS_EPARSE, "CRL: extensions in a v1 CRL");
    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONTEXT_SPECIFIC |
                                              MBEDTLS_ASN1_CONSTRUCTED | 0) != 0 ||
        p + n != end)
      return cs_errbuf_set(eb, CS_EPARSE, "CRL: unexpected data after revokedCertificates");
    return parse_extensions(l, p, end, eb);
  }
  return 0;
}

static int parse_der(cs_crl_list_t *l, cs_errbuf_t *eb) {
  unsigned char *p = l->der, *end = l->der + l->der_len;
  size_t n;
  if (mbedtls_asn1_get_tag(&p, end, &n, CON_SEQ) != 0 || p + n != end)
    return cs_errbuf_set(eb, CS_EPARSE, "CRL: not one DER SEQUENCE (trailing or missing bytes)");
  l->tbs = p;
  if (mbedtls_asn1_get_tag(&p, end, &n, CON_SEQ) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "CRL: bad tbsCertList");
  int err = parse_tbs(l, p, p + n, eb);
  if (err != 0)
    return err;
  p += n;
  l->tbs_len = (size_t)(p - l->tbs);
  if (mbedtls_asn1_get_tag(&p, end, &n, CON_SEQ) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "CRL: bad signatureAlgorithm");
  unsigned char *alg_end = p + n;
  if (mbedtls_asn1_get_tag(&p, alg_end, &l->sig_alg_len, MBEDTLS_ASN1_OID) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "CRL: bad signatureAlgorithm OID");
  l->sig_alg = p;
  p += l->sig_alg_len;
  if (p < alg_end) {
    l->sig_params = p;
    l->sig_params_len = (size_t)(alg_end - p);
  }
  p = alg_end;
  if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_BIT_STRING) != 0 || n < 2 || p[0] != 0 ||
      p + n != end)
    return cs_errbuf_set(eb, CS_EPARSE, "CRL: bad signatureValue");
  l->sig = p + 1;
  l->sig_len = n - 1;
  /* The issuer as text, for messages. */
  mbedtls_x509_name name;
  memset(&name, 0, sizeof(name));
  unsigned char *q = (unsigned char *)(uintptr_t)l->issuer_raw;
  if (mbedtls_asn1_get_tag(&q, q + l->issuer_raw_len, &n, CON_SEQ) == 0 &&
      mbedtls_x509_get_name(&q, q + n, &name) == 0 &&
      mbedtls_x509_dn_gets(l->issuer, sizeof(l->issuer), &name) >= 0) {
    /* done */
  } else {
    l->issuer[0] = '\0';
  }
  for (mbedtls_x509_name *x = name.next; x != NULL;) {
    mbedtls_x509_name *next = x->next;
    free(x);
    x = next;
  }
  return 0;
}

int cs_crl_list_parse(cs_crl_list_t *l, const uint8_t *buf, size_t len, cs_errbuf_t *eb) {
  if (l == NULL || (buf == NULL && len > 0))
    return cs_errbuf_set(eb, CS_EINVAL, "CRL: no input");
  if (l->der != NULL)
    return cs_errbuf_set(eb, CS_ESTATE, "CRL: already holds a CRL");
  if (len == 0)
    return cs_errbuf_set(eb, CS_EEMPTY, "CRL: empty input");
  if (len > CS_CRL_LIST_MAX_INPUT)
    return cs_errbuf_set(eb, CS_ETOOBIG, "CRL: %zu bytes (limit %u)", len, CS_CRL_LIST_MAX_INPUT);
  if (len > 10 && memcmp(buf, "-----BEGIN", 10) == 0) {
    char *text = malloc(len + 1); /* mbedTLS's PEM reader wants a C string */
    if (text == NULL)
      return cs_errbuf_set(eb, CS_ENOMEM, "CRL: out of memory");
    memcpy(text, buf, len);
    text[len] = '\0';
    mbedtls_pem_context pem;
    mbedtls_pem_init(&pem);
    size_t used = 0;
    int ret = mbedtls_pem_read_buffer(&pem, "-----BEGIN X509 CRL-----", "-----END X509 CRL-----",
                                      (const unsigned char *)text, NULL, 0, &used);
    int more = ret == 0 && strstr(text + used, "-----BEGIN") != NULL;
    free(text);
    if (more) {
      mbedtls_pem_free(&pem);
      return cs_errbuf_set(eb, CS_EPARSE, "CRL: more than one PEM block in the input");
    }
    if (ret != 0 || pem.buflen == 0) {
      mbedtls_pem_free(&pem);
      return cs_errbuf_set(eb, CS_EPARSE, "CRL: not a PEM \"X509 CRL\" block");
    }
    l->der = malloc(pem.buflen);
    if (l->der != NULL) {
      memcpy(l->der, pem.buf, pem.buflen);
      l->der_len = pem.buflen;
    }
    mbedtls_pem_free(&pem);
  } else {
    l->der = malloc(len);
    if (l->der != NULL) {
      memcpy(l->der, buf, len);
      l->der_len = len;
    }
  }
  if (l->der == NULL)
    return cs_errbuf_set(eb, CS_ENOMEM, "CRL: out of memory");
  int err = parse_der(l, eb);
  if (err != 0)
    cs_crl_list_free(l);
  return err;
}

int cs_crl_list_verify(const cs_crl_list_t *l, const mbedtls_x509_crt *issuer, cs_errbuf_t *eb) {
  if (l == NULL || l->der == NULL || issuer == NULL)
    return cs_errbuf_set(eb, CS_EINVAL, "CRL: nothing to verify");
  if (l->issuer_raw_len != issuer->subject_raw.len ||
      memcmp(l->issuer_raw, issuer->subject_raw.p, l->issuer_raw_len) != 0)
    return cs_errbuf_set(eb, CS_ENOTFOUND, "CRL: issued by another name than the certificate");
  mbedtls_x509_buf oid = {MBEDTLS_ASN1_OID, l->sig_alg_len, (unsigned char *)(uintptr_t)l->sig_alg};
  mbedtls_x509_buf params = {0, 0, NULL};
  if (l->sig_params != NULL) {
    params.tag = l->sig_params[0];
    params.len = l->sig_params_len;
    params.p = (unsigned char *)(uintptr_t)l->sig_params;
  }
  mbedtls_md_type_t md = MBEDTLS_MD_NONE;
  mbedtls_pk_type_t pk = MBEDTLS_PK_NONE;
  void *opts = NULL;
  if (mbedtls_x509_get_sig_alg(&oid, &params, &md, &pk, &opts) != 0)
    return cs_errbuf_set(eb, CS_EUNSUPPORTED, "CRL: unsupported signature algorithm");
  const mbedtls_md_info_t *mi = mbedtls_md_info_from_type(md);
  uint8_t hash[MBEDTLS_MD_MAX_SIZE];
  int ok = mi != NULL && mbedtls_md(mi, l->tbs, l->tbs_len, hash) == 0 &&
           mbedtls_pk_verify_ext(pk, opts, (mbedtls_pk_context *)(uintptr_t)&issuer->pk, md, hash,
                                 mbedtls_md_get_size(mi), l->sig, l->sig_len) == 0;
  free(opts);
  if (!ok)
    return cs_errbuf_set(eb, CS_ECRYPTO, "CRL: signature does not verify with the issuer key");
  return 0;
}
