/*
 * CRL wrapper (include/certskew/revocation/crl.h) over the strict reader of
 * crl_list.c. It used to be mbedtls_x509_crl_parse, which refuses every CRL
 * with a critical extension, i.e. every sharded CRL (critical
 * issuingDistributionPoint, RFC 5280 section 5.2.5).
 */
#include "certskew/revocation/crl.h"

#include <stdio.h>
#include <string.h>


void cs_crl_info_init(cs_crl_info_t *info) {
  memset(info, 0, sizeof(*info));
  cs_crl_list_init(&info->list);
}

void cs_crl_info_free(cs_crl_info_t *info) {
  if (info == NULL)
    return;
  cs_crl_list_free(&info->list);
  info->parsed = 0;
  info->nentries = 0;
}

int cs_crl_parse(cs_crl_info_t *info, const uint8_t *buf, size_t len, cs_errbuf_t *eb) {
  if (info == NULL || (buf == NULL && len > 0))
    return cs_errbuf_set(eb, CS_EINVAL, "CRL: no input");
  if (info->parsed)
    return cs_errbuf_set(eb, CS_ESTATE, "CRL: info already holds a CRL");
  if (len > CS_CRL_MAX_INPUT)
    return cs_errbuf_set(eb, CS_ETOOBIG, "CRL: %zu bytes", len);
  int ret = cs_crl_list_parse(&info->list, buf, len, eb);
  if (ret != 0)
    return ret;
  snprintf(info->issuer, sizeof(info->issuer), "%s", info->list.issuer);
  info->this_update_ms = info->list.this_update_ms;
  info->has_next_update = info->list.has_next_update;
  info->next_update_ms = info->list.next_update_ms;
  info->nentries = info->list.nserials;
  info->parsed = 1;
  return 0;
}

int cs_crl_verify(const cs_crl_info_t *info, const mbedtls_x509_crt *issuer, cs_errbuf_t *eb) {
  if (info == NULL || !info->parsed || issuer == NULL)
    return cs_errbuf_set(eb, CS_EINVAL, "CRL: nothing to verify");
  int ret = cs_crl_list_verify(&info->list, issuer, eb);
  return ret == CS_EUNSUPPORTED ? CS_ECRYPTO : ret;
}

int cs_crl_find_serial(const cs_crl_info_t *info, const uint8_t *serial, size_t serial_len,
                       int64_t *revoked_ms) {
  if (info == NULL || !info->parsed || serial == NULL)
    return 0;
  long i = cs_crl_list_find(&info->list, serial, serial_len);
  if (i < 0)
    return 0;
  if (revoked_ms != NULL)
    *revoked_ms = info->list.serials[i].revoked_ms;
  return 1;
}
