/*
 * CRL wrapper (include/certskew/revocation/crl.h). mbedTLS parses; we convert times,
 * check the issuer signature (mbedTLS only does that inside chain
 * verification, which needs a trusted CA we may not have) and look up serials.
 */
#include "certskew/revocation/crl.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/pk.h>

#include "certskew/core/time.h"

void cs_crl_info_init(cs_crl_info_t *info) {
  memset(info, 0, sizeof(*info));
  mbedtls_x509_crl_init(&info->crl);
}

void cs_crl_info_free(cs_crl_info_t *info) {
  if (info == NULL)
    return;
  mbedtls_x509_crl_free(&info->crl); /* leaves an initialised, empty crl */
  info->parsed = 0;
  info->nentries = 0;
}

static int x509_time_ms(const mbedtls_x509_time *t, int64_t *out) {
  cs_civil_t c = {t->year, t->mon, t->day, t->hour, t->min, t->sec, 0};
  return cs_time_from_civil(&c, out);
}

int cs_crl_parse(cs_crl_info_t *info, const uint8_t *buf, size_t len, cs_errbuf_t *eb) {
  if (info == NULL || (buf == NULL && len > 0))
    return cs_errbuf_set(eb, CS_EINVAL, "CRL: no input");
  if (info->parsed)
    return cs_errbuf_set(eb, CS_ESTATE, "CRL: info already holds a CRL");
  if (len == 0)
    return cs_errbuf_set(eb, CS_EEMPTY, "CRL: empty input");
  if (len > CS_CRL_MAX_INPUT)
    return cs_errbuf_set(eb, CS_ETOOBIG, "CRL: %zu bytes", len);
  /* PEM parsing needs a NUL-terminated buffer whose length counts the NUL. */
  int ret;
  if (len > 10 && memcmp(buf, "-----BEGIN", 10) == 0 && buf[len - 1] != '\0') {
    uint8_t *copy = malloc(len + 1); /* freed below */
    if (copy == NULL)
      return cs_errbuf_set(eb, CS_ENOMEM, "CRL: out of memory");
    memcpy(copy, buf, len);
    copy[len] = '\0';
    ret = mbedtls_x509_crl_parse(&info->crl, copy, len + 1);
    free(copy);
  } else {
    ret = mbedtls_x509_crl_parse(&info->crl, buf, len);
  }
  if (ret != 0 || info->crl.next != NULL) {
    cs_crl_info_free(info);
    if (ret == 0)
      return cs_errbuf_set(eb, CS_EPARSE, "CRL: more than one CRL in the input");
    return cs_errbuf_set(eb, CS_EPARSE, "CRL: mbedTLS rejects it (-0x%04x)", (unsigned)-ret);
  }
  if (mbedtls_x509_dn_gets(info->issuer, sizeof(info->issuer), &info->crl.issuer) < 0)
    info->issuer[0] = '\0';
  if (x509_time_ms(&info->crl.this_update, &info->this_update_ms) != 0) {
    cs_crl_info_free(info);
    return cs_errbuf_set(eb, CS_EPARSE, "CRL: thisUpdate out of range");
  }
  /* mbedTLS leaves next_update zeroed when the field is absent. */
  info->has_next_update = info->crl.next_update.year != 0;
  if (info->has_next_update && x509_time_ms(&info->crl.next_update, &info->next_update_ms) != 0) {
    cs_crl_info_free(info);
    return cs_errbuf_set(eb, CS_EPARSE, "CRL: nextUpdate out of range");
  }
  for (const mbedtls_x509_crl_entry *e = &info->crl.entry; e != NULL; e = e->next)
    if (e->raw.len != 0)
      info->nentries++;
  info->parsed = 1;
  return 0;
}

int cs_crl_verify(const cs_crl_info_t *info, const mbedtls_x509_crt *issuer, cs_errbuf_t *eb) {
  if (info == NULL || !info->parsed || issuer == NULL)
    return cs_errbuf_set(eb, CS_EINVAL, "CRL: nothing to verify");
  const mbedtls_x509_crl *crl = &info->crl;
  if (crl->issuer_raw.len != issuer->subject_raw.len ||
      memcmp(crl->issuer_raw.p, issuer->subject_raw.p, crl->issuer_raw.len) != 0)
    return cs_errbuf_set(eb, CS_ENOTFOUND, "CRL: issued by another name than the issuer");
  const mbedtls_md_info_t *mi = mbedtls_md_info_from_type(crl->sig_md);
  uint8_t hash[MBEDTLS_MD_MAX_SIZE];
  if (mi == NULL || mbedtls_md(mi, crl->tbs.p, crl->tbs.len, hash) != 0)
    return cs_errbuf_set(eb, CS_ECRYPTO, "CRL: unsupported signature hash");
  /* mbedtls_pk_verify_ext does not modify the key; its prototype is not const. */
  if (mbedtls_pk_verify_ext(crl->sig_pk, crl->sig_opts, (mbedtls_pk_context *)(uintptr_t)&issuer->pk,
                            crl->sig_md, hash, mbedtls_md_get_size(mi), crl->sig.p,
                            crl->sig.len) != 0)
    return cs_errbuf_set(eb, CS_ECRYPTO, "CRL: signature does not verify with the issuer key");
  return 0;
}

int cs_crl_find_serial(const cs_crl_info_t *info, const uint8_t *serial, size_t serial_len,
                       int64_t *revoked_ms) {
  if (info == NULL || !info->parsed || serial == NULL)
    return 0;
  for (const mbedtls_x509_crl_entry *e = &info->crl.entry; e != NULL; e = e->next) {
    if (e->raw.len == 0 || e->serial.len != serial_len ||
        memcmp(e->serial.p, serial, serial_len) != 0)
      continue;
    if (revoked_ms != NULL && x509_time_ms(&e->revocation_date, revoked_ms) != 0)
      *revoked_ms = 0;
    return 1;
  }
  return 0;
}
