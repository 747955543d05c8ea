/*
 * Loading a served chain (include/certskew/core/chain.h).
 *
 * mbedTLS parses each certificate; its unknown-extension callback hands us
 * the two CT extensions it does not know: the SCT list (non-critical) and the
 * precertificate poison (critical, so without the callback mbedTLS would
 * reject every precertificate).
 */
#include "certskew/core/chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/base64.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/sha256.h>

#include "certskew/core/time.h"
#include "grow.h"

struct cs_chain {
  mbedtls_x509_crt crts;   /* mbedTLS's own list: owns the DER copies */
  cs_cert_info_t *certs;   /* owned array, ncerts used of certs_cap */
  size_t ncerts, certs_cap;
};

/* 1.3.6.1.4.1.11129.2.4.2 and .3, as DER OID content bytes. */
static const uint8_t OID_SCT_LIST[] = {0x2B, 0x06, 0x01, 0x04, 0x01, 0xD6, 0x79, 0x02, 0x04, 0x02};
static const uint8_t OID_CT_POISON[] = {0x2B, 0x06, 0x01, 0x04, 0x01, 0xD6, 0x79, 0x02, 0x04, 0x03};
/* 2.5.29.30 nameConstraints: mbedTLS 2.28 does not implement it, but the
 * trust analyzer evaluates it (analyzers/trust/trust_nc.c) from the raw DER. */
static const uint8_t OID_NAME_CONSTRAINTS[] = {0x55, 0x1D, 0x1E};

typedef struct ext_capture {
  const uint8_t *sct_ext;
  size_t sct_ext_len;
  int poison;
  int unknown_critical;
  char unknown_oid[64];
} ext_capture_t;

/* Critical extensions mbedTLS 2.28 leaves to this callback but OpenSSL
 * implements (X509_supported_extension): policyMappings, policyConstraints,
 * inhibitAnyPolicy, TLS feature, RFC 3779 blocks, proxyCertInfo. A
 * critical one of these is not "unknown" to clients. */
static const uint8_t OID_KNOWN_ELSEWHERE[][8] = {
    {0x55, 0x1D, 0x21}, {0x55, 0x1D, 0x24}, {0x55, 0x1D, 0x36},
    {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x18}, {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x07},
    {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x08}, {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x0E},
};
static const size_t OID_KNOWN_ELSEWHERE_LEN[] = {3, 3, 3, 8, 8, 8, 8};

static int oid_is(const mbedtls_x509_buf *oid, const uint8_t *want, size_t want_len) {
  return oid->len == want_len && memcmp(oid->p, want, want_len) == 0;
}

/* mbedTLS calls this for every extension it does not implement. Returning
 * non-zero for an unknown critical extension keeps mbedTLS's safe default. */
static int on_unknown_ext(void *ctx, mbedtls_x509_crt const *crt, mbedtls_x509_buf const *oid,
                          int critical, const unsigned char *p, const unsigned char *end) {
  ext_capture_t *cap = ctx;
  (void)crt;
  if (oid_is(oid, OID_SCT_LIST, sizeof(OID_SCT_LIST))) {
    cap->sct_ext = p;
    cap->sct_ext_len = (size_t)(end - p);
    return 0;
  }
  if (oid_is(oid, OID_CT_POISON, sizeof(OID_CT_POISON))) {
    cap->poison = 1;
    return 0;
  }
  /* Critical on every name-constrained CA (RFC 5280 §4.2.1.10); rejecting
   * it would make such chains impossible to load and diagnose. */
  if (oid_is(oid, OID_NAME_CONSTRAINTS, sizeof(OID_NAME_CONSTRAINTS)))
    return 0;
  for (size_t i = 0; i < sizeof(OID_KNOWN_ELSEWHERE_LEN) / sizeof(OID_KNOWN_ELSEWHERE_LEN[0]); i++)
    if (oid_is(oid, OID_KNOWN_ELSEWHERE[i], OID_KNOWN_ELSEWHERE_LEN[i]))
      return 0;
  /* An unknown critical extension is a finding (every client rejects the
   * certificate), not an unreadable chain: keep it and say so. */
  if (critical && !cap->unknown_critical) {
    cap->unknown_critical = 1;
    if (mbedtls_oid_get_numeric_string(cap->unknown_oid, sizeof(cap->unknown_oid), oid) < 0)
      snprintf(cap->unknown_oid, sizeof(cap->unknown_oid), "(unprintable OID)");
  }
  return 0;
}

static int x509_time_to_ms(const mbedtls_x509_time *t, int64_t *out) {
  cs_civil_t c = {t->year, t->mon, t->day, t->hour, t->min, t->sec, 0};
  return cs_time_from_civil(&c, out);
}

static void fill_info(cs_cert_info_t *info, const mbedtls_x509_crt *crt, size_t index,
                      const ext_capture_t *cap) {
  info->index = index;
  info->crt = crt;
  info->der = crt->raw.p;
  info->der_len = crt->raw.len;
  if (mbedtls_x509_dn_gets(info->subject, sizeof(info->subject), &crt->subject) < 0)
    info->subject[0] = '\0';
  if (mbedtls_x509_dn_gets(info->issuer, sizeof(info->issuer), &crt->issuer) < 0)
    info->issuer[0] = '\0';
  if (mbedtls_x509_serial_gets(info->serial_hex, sizeof(info->serial_hex), &crt->serial) < 0)
    info->serial_hex[0] = '\0';
  info->is_ca = crt->ca_istrue;
  info->self_issued = crt->issuer_raw.len == crt->subject_raw.len &&
                      memcmp(crt->issuer_raw.p, crt->subject_raw.p, crt->issuer_raw.len) == 0;
  info->is_precert = cap->poison;
  info->unknown_critical = cap->unknown_critical;
  memcpy(info->unknown_critical_oid, cap->unknown_oid, sizeof(info->unknown_critical_oid));
  info->sct_ext = cap->sct_ext;
  info->sct_ext_len = cap->sct_ext_len;
  if (cap->sct_ext != NULL) {
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    int err = cs_sct_list_parse_der(cap->sct_ext, cap->sct_ext_len, CS_SCT_SOURCE_EMBEDDED,
                                    info->scts, CS_SCT_LIST_MAX, &info->nscts, &eb);
    if (err != 0) {
      info->nscts = 0;
      info->sct_parse_error = err;
      memcpy(info->sct_parse_detail, eb.msg, sizeof(info->sct_parse_detail) - 1);
      info->sct_parse_detail[sizeof(info->sct_parse_detail) - 1] = '\0';
    }
  }
}

/* Parses one DER certificate and appends it. */
static int add_der(cs_chain_t *chain, const uint8_t *der, size_t len, cs_errbuf_t *eb) {
  if (chain->ncerts >= CS_CHAIN_MAX_CERTS)
    return cs_errbuf_set(eb, CS_ETOOBIG, "more than %d certificates in one chain",
                         CS_CHAIN_MAX_CERTS);
  ext_capture_t cap;
  memset(&cap, 0, sizeof(cap));
  int ret = mbedtls_x509_crt_parse_der_with_ext_cb(&chain->crts, der, len, 1, on_unknown_ext, &cap);
  if (ret != 0) {
    char msg[128];
    mbedtls_strerror(ret, msg, sizeof(msg));
    return cs_errbuf_set(eb, CS_EPARSE, "certificate #%zu: %s", chain->ncerts, msg);
  }
  /* mbedTLS appends: the new certificate is the last of its list. */
  mbedtls_x509_crt *crt = &chain->crts;
  while (crt->next != NULL)
    crt = crt->next;
  /* Grown on demand: a cs_cert_info_t is ~7 KB, and zeroing room for the
   * maximum up front cost more than parsing a typical chain. */
  if (cs_grow((void **)&chain->certs, &chain->certs_cap, chain->ncerts + 1, sizeof(*chain->certs), 4) != 0)
    return CS_ENOMEM;
  cs_cert_info_t *info = &chain->certs[chain->ncerts];
  memset(info, 0, sizeof(*info));
  fill_info(info, crt, chain->ncerts, &cap);
  int err = x509_time_to_ms(&crt->valid_from, &info->not_before_ms);
  if (err == 0)
    err = x509_time_to_ms(&crt->valid_to, &info->not_after_ms);
  if (err == 0)
    err = cs_time_add(info->not_after_ms, 999, &info->valid_until_ms);
  if (err != 0)
    return cs_errbuf_set(eb, err, "certificate #%zu: validity out of range", chain->ncerts);
  chain->ncerts++;
  return 0;
}

static int load_der_sequence(cs_chain_t *chain, const uint8_t *buf, size_t len, cs_errbuf_t *eb) {
  const uint8_t *p = buf, *end = buf + len;
  while (p < end) {
    unsigned char *q = (unsigned char *)p;
    size_t body;
    int ret = mbedtls_asn1_get_tag(&q, end, &body, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
    if (ret != 0)
      return cs_errbuf_set(eb, ret == MBEDTLS_ERR_ASN1_OUT_OF_DATA ? CS_ETRUNC : CS_EPARSE,
                           "certificate #%zu: %s at byte %zu", chain->ncerts,
                           ret == MBEDTLS_ERR_ASN1_OUT_OF_DATA ? "DER truncated"
                                                              : "not a DER SEQUENCE",
                           (size_t)(p - buf));
    size_t total = (size_t)(q - p) + body;
    int err = add_der(chain, p, total, eb);
    if (err != 0)
      return err;
    p += total;
  }
  return 0;
}

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

static int load_pem(cs_chain_t *chain, const char *text, cs_errbuf_t *eb) {
  const char *p = text;
  while ((p = strstr(p, PEM_BEGIN)) != NULL) {
    mbedtls_pem_context pem;
    size_t used = 0;
    mbedtls_pem_init(&pem);
    int ret = mbedtls_pem_read_buffer(&pem, PEM_BEGIN, PEM_END, (const unsigned char *)p, NULL, 0,
                                      &used);
    if (ret != 0) {
      mbedtls_pem_free(&pem);
      return cs_errbuf_set(eb, CS_EPARSE, "certificate #%zu: bad PEM block (%s)", chain->ncerts,
                           ret == MBEDTLS_ERR_PEM_INVALID_DATA ? "bad base64" : "no END line");
    }
    int err = add_der(chain, pem.buf, pem.buflen, eb);
    mbedtls_pem_free(&pem);
    if (err != 0)
      return err;
    p += used;
  }
  return 0;
}

static int looks_like_pem(const uint8_t *buf, size_t len) {
  size_t scan = len < 65536 ? len : 65536;
  for (size_t i = 0; i + 10 <= scan; i++)
    if (memcmp(buf + i, "-----BEGIN", 10) == 0)
      return 1;
  return 0;
}

int cs_chain_load(cs_chain_t **out, const uint8_t *buf, size_t len, cs_errbuf_t *eb) {
  *out = NULL;
  if (buf == NULL || len == 0)
    return cs_errbuf_set(eb, CS_EEMPTY, "input is empty");
  if (len > CS_CHAIN_MAX_INPUT)
    return cs_errbuf_set(eb, CS_ETOOBIG, "input is %zu bytes; the limit is %u", len,
                         CS_CHAIN_MAX_INPUT);
  cs_chain_t *chain = calloc(1, sizeof(*chain)); /* owned: freed by cs_chain_free */
  if (chain == NULL)
    return CS_ENOMEM;
  mbedtls_x509_crt_init(&chain->crts);
  int err = CS_ENOMEM;
  if (looks_like_pem(buf, len)) {
    if (memchr(buf, '\0', len) != NULL) {
      err = cs_errbuf_set(eb, CS_EPARSE, "PEM input contains NUL bytes");
      goto fail;
    }
    char *text = malloc(len + 1); /* NUL-terminated copy for mbedTLS's PEM reader */
    if (text == NULL)
      goto fail;
    memcpy(text, buf, len);
    text[len] = '\0';
    err = load_pem(chain, text, eb);
    free(text);
  } else if (buf[0] == 0x30) {
    err = load_der_sequence(chain, buf, len, eb);
  } else {
    err = cs_errbuf_set(eb, CS_EPARSE, "input is neither PEM (no BEGIN line) nor DER");
  }
  if (err != 0)
    goto fail;
  if (chain->ncerts == 0) {
    err = cs_errbuf_set(eb, CS_EEMPTY, "no CERTIFICATE block in the input");
    goto fail;
  }
  *out = chain;
  return 0;
fail:
  cs_chain_free(chain);
  return err;
}

void cs_chain_free(cs_chain_t *chain) {
  if (chain == NULL)
    return;
  mbedtls_x509_crt_free(&chain->crts);
  free(chain->certs);
  free(chain);
}

size_t cs_chain_count(const cs_chain_t *chain) { return chain ? chain->ncerts : 0; }

const cs_cert_info_t *cs_chain_cert(const cs_chain_t *chain, size_t i) {
  return chain && i < chain->ncerts ? &chain->certs[i] : NULL;
}

char *cs_chain_to_pem(const cs_chain_t *chain) {
  size_t cap = 1;
  for (size_t i = 0; i < chain->ncerts; i++)
    cap += chain->certs[i].der_len * 4 / 3 + chain->certs[i].der_len / 48 + 128;
  char *out = malloc(cap); /* caller frees */
  if (out == NULL)
    return NULL;
  size_t used = 0;
  for (size_t i = 0; i < chain->ncerts; i++) {
    size_t n = 0;
    int ret = mbedtls_pem_write_buffer(PEM_BEGIN "\n", PEM_END "\n", chain->certs[i].der,
                                       chain->certs[i].der_len, (unsigned char *)out + used,
                                       cap - used, &n);
    if (ret != 0) {
      free(out);
      return NULL;
    }
    used += n - 1; /* n counts the NUL */
  }
  out[used] = '\0';
  return out;
}

void cs_cert_fingerprint(const cs_cert_info_t *cert, uint8_t out[32]) {
  (void)mbedtls_sha256_ret(cert->der, cert->der_len, out, 0);
}

void cs_chain_fingerprint(const cs_chain_t *chain, uint8_t out[32]) {
  mbedtls_sha256_context ctx;
  mbedtls_sha256_init(&ctx);
  (void)mbedtls_sha256_starts_ret(&ctx, 0);
  for (size_t i = 0; i < chain->ncerts; i++)
    (void)mbedtls_sha256_update_ret(&ctx, chain->certs[i].der, chain->certs[i].der_len);
  (void)mbedtls_sha256_finish_ret(&ctx, out);
  mbedtls_sha256_free(&ctx);
}
