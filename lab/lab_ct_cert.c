/*
 * Lab certificates with embedded SCTs (include/certskew/lab/lab_ct.h), the way a
 * CA issues them (RFC 6962 §3.1): issue a precertificate carrying the
 * critical poison extension, have logs sign its TBS without the poison, then
 * issue the final certificate with the same fields plus the SCT list.
 */
#include "certskew/lab/lab_ct.h"
#include "lab_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include "certskew/core/time.h"

#define CERT_BUF 8192

void cs_lab_ct_ca_init(cs_lab_ct_ca_t *ca) {
  memset(ca, 0, sizeof(*ca));
  mbedtls_pk_init(&ca->key);
}

void cs_lab_ct_ca_free(cs_lab_ct_ca_t *ca) {
  if (ca == NULL)
    return;
  mbedtls_pk_free(&ca->key);
  free(ca->der);
  ca->der = NULL;
  ca->der_len = 0;
}

void cs_lab_ct_leaf_init(cs_lab_ct_leaf_t *leaf) {
  memset(leaf, 0, sizeof(*leaf));
  mbedtls_pk_init(&leaf->key);
}

void cs_lab_ct_leaf_free(cs_lab_ct_leaf_t *leaf) {
  if (leaf == NULL)
    return;
  mbedtls_pk_free(&leaf->key);
  free(leaf->der);
  free(leaf->precert_der);
  free(leaf->sct_list);
  leaf->der = leaf->precert_der = leaf->sct_list = NULL;
  leaf->der_len = leaf->precert_der_len = leaf->sct_list_len = 0;
}



/* Fields shared by every certificate we issue. */
typedef struct cert_fields {
  const char *subject;
  const char *issuer;
  mbedtls_pk_context *subject_key;
  mbedtls_pk_context *issuer_key;
  const uint8_t *serial; /* 16 bytes */
  int64_t not_before_ms, not_after_ms;
  int is_ca;
} cert_fields_t;

/* An extension to add after the common ones. */
typedef struct extra_ext {
  const char *oid;
  size_t oid_len;
  int critical;
  const uint8_t *value;
  size_t value_len;
} extra_ext_t;

/* Writes one certificate; *der newly allocated (caller frees). */
static int write_cert(const cert_fields_t *f, const extra_ext_t *exts, size_t nexts, uint8_t **der,
                      size_t *der_len, cs_lab_rng_fn f_rng, void *p_rng) {
  mbedtls_x509write_cert w;
  mbedtls_mpi serial;
  char nb[16], na[16];
  uint8_t *buf = NULL;
  int err = CS_ECRYPTO;
  *der = NULL;
  mbedtls_x509write_crt_init(&w);
  mbedtls_mpi_init(&serial);
  if ((err = cs_lab_x509write_time(f->not_before_ms, nb)) != 0 || (err = cs_lab_x509write_time(f->not_after_ms, na)) != 0)
    goto done;
  err = CS_ECRYPTO;
  mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&w, f->subject_key);
  mbedtls_x509write_crt_set_issuer_key(&w, f->issuer_key);
  if (mbedtls_mpi_read_binary(&serial, f->serial, 16) != 0 ||
      mbedtls_x509write_crt_set_serial(&w, &serial) != 0 ||
      mbedtls_x509write_crt_set_validity(&w, nb, na) != 0 ||
      mbedtls_x509write_crt_set_subject_name(&w, f->subject) != 0 ||
      mbedtls_x509write_crt_set_issuer_name(&w, f->issuer) != 0 ||
      mbedtls_x509write_crt_set_basic_constraints(&w, f->is_ca, -1) != 0 ||
      mbedtls_x509write_crt_set_subject_key_identifier(&w) != 0 ||
      mbedtls_x509write_crt_set_authority_key_identifier(&w) != 0 ||
      mbedtls_x509write_crt_set_key_usage(
          &w, f->is_ca ? (MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN)
                       : MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0)
    goto done;
  for (size_t i = 0; i < nexts; i++)
    if (mbedtls_x509write_crt_set_extension(&w, exts[i].oid, exts[i].oid_len, exts[i].critical,
                                            exts[i].value, exts[i].value_len) != 0)
      goto done;
  err = CS_ENOMEM;
  if ((buf = malloc(CERT_BUF)) == NULL)
    goto done;
  /* Writes at the end of buf; returns the length. */
  int n = mbedtls_x509write_crt_der(&w, buf, CERT_BUF, f_rng, p_rng);
  if (n <= 0) {
    err = CS_ECRYPTO;
    goto done;
  }
  if ((*der = malloc((size_t)n)) == NULL) /* owned by caller */
    goto done;
  memcpy(*der, buf + CERT_BUF - n, (size_t)n);
  *der_len = (size_t)n;
  err = 0;
done:
  free(buf);
  mbedtls_mpi_free(&serial);
  mbedtls_x509write_crt_free(&w);
  return err;
}

static int random_serial(uint8_t serial[16], cs_lab_rng_fn f_rng, void *p_rng) {
  if (f_rng(p_rng, serial, 16) != 0)
    return CS_ECRYPTO;
  serial[0] = (uint8_t)((serial[0] & 0x7F) | 0x10); /* positive, 16 bytes */
  return 0;
}

int cs_lab_ct_ca_generate(cs_lab_ct_ca_t *ca, const char *common_name, int64_t now_ms,
                          cs_lab_rng_fn f_rng, void *p_rng) {
  uint8_t serial[16];
  if (ca == NULL || common_name == NULL || f_rng == NULL)
    return CS_EINVAL;
  cs_lab_ct_ca_free(ca);
  cs_lab_ct_ca_init(ca);
  snprintf(ca->subject, sizeof(ca->subject), "CN=%s,O=certskew lab", common_name);
  int err = cs_lab_gen_p256(&ca->key, f_rng, p_rng);
  if (err == 0)
    err = random_serial(serial, f_rng, p_rng);
  if (err != 0)
    return err;
  cert_fields_t f = {ca->subject, ca->subject, &ca->key, &ca->key, serial,
                     now_ms - CS_MS_PER_DAY, now_ms + 3650 * CS_MS_PER_DAY, 1};
  return write_cert(&f, NULL, 0, &ca->der, &ca->der_len, f_rng, p_rng);
}

/* SubjectAltName ::= SEQUENCE { dNSName [2] IA5String, [iPAddress [7]] }
 * into buf (written backwards by mbedTLS, so the address goes first);
 * returns the start and length through out/len. ip4 may be NULL. */
static int san_value(const char *dns, const uint8_t *ip4, uint8_t *buf, size_t cap,
                     const uint8_t **out, size_t *len) {
  unsigned char *p = buf + cap;
  size_t n = strlen(dns);
  int ip = 0;
  if (ip4 != NULL) {
    int i1 = mbedtls_asn1_write_raw_buffer(&p, buf, ip4, 4);
    int i2 = i1 < 0 ? i1 : mbedtls_asn1_write_len(&p, buf, 4);
    int i3 = i2 < 0 ? i2 : mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7);
    if (i3 < 0)
      return CS_EINVAL;
    ip = i1 + i2 + i3;
  }
  int a = mbedtls_asn1_write_raw_buffer(&p, buf, (const unsigned char *)dns, n);
  int b = a < 0 ? a : mbedtls_asn1_write_len(&p, buf, n);
  int c = b < 0 ? b : mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2);
  int d = c < 0 ? c : mbedtls_asn1_write_len(&p, buf, (size_t)(a + b + c + ip));
  int e = d < 0 ? d : mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
  if (e < 0)
    return CS_EINVAL;
  *out = p;
  *len = (size_t)(buf + cap - p);
  return 0;
}

/* The precertificate TBS as a log sees it: issued with the poison, parsed,
 * poison removed. */
static int precert_tbs(const uint8_t *der, size_t len, uint8_t **tbs, size_t *tbs_len) {
  /* mbedTLS would refuse the critical poison without a callback; the outer
   * structure is all we need to find the TBS. */
  int err = CS_EPARSE;
  unsigned char *p = (unsigned char *)der, *end = (unsigned char *)der + len;
  size_t n;
  if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) == 0) {
    unsigned char *t = p;
    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) == 0)
      err = cs_ct_tbs_remove_ext(t, (size_t)(p + n - t), CS_CT_OID_POISON,
                                 sizeof(CS_CT_OID_POISON), tbs, tbs_len, NULL);
  }
  return err;
}

/* Has each log sign the precert entry; builds the TLS-encoded list. */
static int sign_scts(cs_lab_ct_leaf_t *leaf, const cs_lab_ct_leaf_spec_t *spec,
                     const uint8_t *tbs, size_t tbs_len, const uint8_t issuer_hash[32],
                     int64_t now_ms, cs_lab_rng_fn f_rng, void *p_rng) {
  uint8_t *scts[32] = {0};
  size_t lens[32] = {0};
  static const uint8_t WRONG_HASH[32] = {0};
  int err = 0;
  if (spec->nlogs > 32)
    return CS_EINVAL;
  for (size_t i = 0; i < spec->nlogs && err == 0; i++) {
    int64_t ts = now_ms;
    if (spec->sct_offsets_ms != NULL && cs_time_add(now_ms, spec->sct_offsets_ms[i], &ts) != 0)
      err = CS_ERANGE;
    const uint8_t *h = (spec->bad_log_mask >> i) & 1u ? WRONG_HASH : issuer_hash;
    if (err == 0)
      err = cs_lab_ct_sct_sign(spec->logs[i], CS_CT_ENTRY_PRECERT, ts, h, tbs, tbs_len, f_rng,
                               p_rng, &scts[i], &lens[i]);
  }
  if (err == 0)
    err = cs_lab_ct_sct_list((const uint8_t *const *)scts, lens, spec->nlogs, &leaf->sct_list,
                             &leaf->sct_list_len);
  for (size_t i = 0; i < spec->nlogs; i++)
    free(scts[i]);
  return err;
}

int cs_lab_ct_leaf_issue(cs_lab_ct_leaf_t *leaf, const cs_lab_ct_ca_t *ca,
                         const cs_lab_ct_leaf_spec_t *spec, int64_t now_ms, cs_lab_rng_fn f_rng,
                         void *p_rng) {
  uint8_t serial[16], san_pre[300], san_fin[300], sctbuf[70000], issuer_hash[32];
  const uint8_t *pre_v, *fin_v;
  size_t pre_len, fin_len;
  uint8_t *tbs = NULL;
  size_t tbs_len = 0;
  char subject[200];
  mbedtls_x509_crt issuer;
  if (leaf == NULL || ca == NULL || ca->der == NULL || spec == NULL || spec->dns_name == NULL ||
      f_rng == NULL || spec->lifetime_ms <= 0 || strlen(spec->dns_name) > 200 ||
      (spec->precert_dns_name != NULL && strlen(spec->precert_dns_name) > 200) ||
      (spec->nlogs > 0 && spec->logs == NULL))
    return CS_EINVAL;
  cs_lab_ct_leaf_free(leaf);
  cs_lab_ct_leaf_init(leaf);
  mbedtls_x509_crt_init(&issuer);
  if (spec->nexts > 8 || (spec->nexts > 0 && spec->exts == NULL))
    return CS_EINVAL;
  int err = cs_lab_gen_p256(&leaf->key, f_rng, p_rng);
  if (err == 0 && spec->serial != NULL)
    memcpy(serial, spec->serial, sizeof(serial));
  else if (err == 0)
    err = random_serial(serial, f_rng, p_rng);
  if (err == 0 && mbedtls_x509_crt_parse_der(&issuer, ca->der, ca->der_len) != 0)
    err = CS_EINVAL;
  if (err != 0)
    goto done;
  (void)mbedtls_sha256_ret(issuer.pk_raw.p, issuer.pk_raw.len, issuer_hash, 0);
  snprintf(subject, sizeof(subject), "CN=%s", spec->dns_name);
  /* Whole seconds: X.509 cannot encode milliseconds. */
  int64_t nb = now_ms - spec->backdate_ms, na;
  nb -= ((nb % 1000) + 1000) % 1000;
  if (cs_time_add(nb, spec->lifetime_ms, &na) != 0) {
    err = CS_ERANGE;
    goto done;
  }
  na -= ((na % 1000) + 1000) % 1000;
  cert_fields_t f = {subject, ca->subject, &leaf->key, (mbedtls_pk_context *)&ca->key, serial,
                     nb, na, 0};
  if ((err = san_value(spec->precert_dns_name ? spec->precert_dns_name : spec->dns_name,
                       spec->ipv4_san, san_pre, sizeof(san_pre), &pre_v, &pre_len)) != 0 ||
      (err = san_value(spec->dns_name, spec->ipv4_san, san_fin, sizeof(san_fin), &fin_v, &fin_len)) != 0)
    goto done;
  static const uint8_t ASN1_NULL[] = {0x05, 0x00};
  /* SAN, the caller's extensions, then the poison (precertificate) or the
   * SCT list (final certificate). */
  extra_ext_t pre_exts[10], fin_exts[10];
  pre_exts[0] = (extra_ext_t){MBEDTLS_OID_SUBJECT_ALT_NAME,
                              MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, pre_v, pre_len};
  fin_exts[0] = (extra_ext_t){MBEDTLS_OID_SUBJECT_ALT_NAME,
                              MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, fin_v, fin_len};
  size_t npre = 1, nfin = 1;
  for (size_t i = 0; i < spec->nexts; i++) {
    const cs_lab_ct_ext_t *e = &spec->exts[i];
    pre_exts[npre++] = fin_exts[nfin++] =
        (extra_ext_t){(const char *)e->oid, e->oid_len, e->critical, e->value, e->value_len};
  }
  pre_exts[npre++] = (extra_ext_t){(const char *)CS_CT_OID_POISON, sizeof(CS_CT_OID_POISON), 1,
                                   ASN1_NULL, sizeof(ASN1_NULL)};
  if ((err = write_cert(&f, pre_exts, npre, &leaf->precert_der, &leaf->precert_der_len, f_rng,
                        p_rng)) != 0 ||
      (err = precert_tbs(leaf->precert_der, leaf->precert_der_len, &tbs, &tbs_len)) != 0)
    goto done;
  if (spec->nlogs > 0) {
    if ((err = sign_scts(leaf, spec, tbs, tbs_len, issuer_hash, now_ms, f_rng, p_rng)) != 0)
      goto done;
    /* extnValue holds an OCTET STRING wrapping the TLS-encoded list. */
    unsigned char *p = sctbuf + sizeof(sctbuf);
    int a = mbedtls_asn1_write_octet_string(&p, sctbuf, leaf->sct_list, leaf->sct_list_len);
    if (a < 0) {
      err = CS_ETOOBIG;
      goto done;
    }
    fin_exts[nfin++] = (extra_ext_t){(const char *)CS_CT_OID_SCT_LIST,
                                     sizeof(CS_CT_OID_SCT_LIST), 0, p, (size_t)a};
  }
  err = write_cert(&f, fin_exts, nfin, &leaf->der, &leaf->der_len, f_rng, p_rng);
done:
  free(tbs);
  mbedtls_x509_crt_free(&issuer);
  return err;
}
