/*
 * Revocation time checks for the replay engine (include/certskew/revocation/revocation.h).
 *
 * A client checks OCSP and CRL times against its own clock: a response
 * produced "now" by a responder with an accurate clock is in the future for
 * a client that is slow or truncates, and a response cached past nextUpdate
 * is stale. Each becomes one bound the replay engine solves exactly.
 */
#include "certskew/revocation/revocation.h"

#include <stdio.h>
#include <string.h>

static int push(cs_time_check_t *out, size_t cap, size_t *n, cs_check_kind_t kind,
                cs_bound_dir_t dir, int64_t bound_ms, int item, const char *label) {
  if (*n == cap)
    return CS_ENOSPACE;
  cs_time_check_t *c = &out[(*n)++];
  memset(c, 0, sizeof(*c));
  c->kind = kind;
  c->dir = dir;
  c->bound_ms = bound_ms;
  c->cert_index = 0; /* revocation data is about the leaf */
  c->item_index = item;
  snprintf(c->label, sizeof(c->label), "%s", label);
  return 0;
}

int cs_revocation_time_checks(const cs_ocsp_response_t *ocsp, const mbedtls_x509_crt *leaf,
                              const mbedtls_x509_crt *issuer, const cs_crl_info_t *crl,
                              cs_time_check_t *out, size_t cap, size_t *n) {
  if (out == NULL || n == NULL)
    return CS_EINVAL;
  *n = 0;
  int ret = 0;
  const cs_ocsp_info_t *info = cs_ocsp_response_info(ocsp);
  if (info != NULL && info->has_basic) {
    const cs_ocsp_single_t *s = leaf != NULL && issuer != NULL
                                    ? cs_ocsp_response_find(ocsp, leaf, issuer)
                                    : cs_ocsp_response_single(ocsp, 0);
    if ((ret = push(out, cap, n, CS_CHECK_OCSP_PRODUCED_AT, CS_NEED_AT_OR_AFTER,
                    info->produced_at_ms, 0, "OCSP producedAt")) != 0)
      return ret;
    if (s != NULL) {
      if ((ret = push(out, cap, n, CS_CHECK_OCSP_THIS_UPDATE, CS_NEED_AT_OR_AFTER,
                      s->this_update_ms, 0, "OCSP thisUpdate")) != 0)
        return ret;
      if (s->has_next_update &&
          (ret = push(out, cap, n, CS_CHECK_OCSP_NEXT_UPDATE, CS_NEED_AT_OR_BEFORE,
                      s->next_update_ms, 0, "OCSP nextUpdate")) != 0)
        return ret;
    }
  }
  if (crl != NULL && crl->parsed) {
    if ((ret = push(out, cap, n, CS_CHECK_CRL_THIS_UPDATE, CS_NEED_AT_OR_AFTER,
                    crl->this_update_ms, 1, "CRL thisUpdate")) != 0)
      return ret;
    if (crl->has_next_update &&
        (ret = push(out, cap, n, CS_CHECK_CRL_NEXT_UPDATE, CS_NEED_AT_OR_BEFORE,
                    crl->next_update_ms, 1, "CRL nextUpdate")) != 0)
      return ret;
  }
  return 0;
}
