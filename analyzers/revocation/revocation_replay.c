/*
 * Hands the revocation time checks to a replay. Kept apart from
 * revocation_checks.c so that code computing checks links without the
 * replay engine.
 */
#include "certskew/revocation/revocation.h"

int cs_revocation_add_checks(cs_replay_t *r, const cs_ocsp_response_t *ocsp,
                             const cs_crl_info_t *crl) {
  if (r == NULL)
    return CS_EINVAL;
  cs_time_check_t checks[CS_REVOCATION_MAX_CHECKS];
  size_t n = 0;
  int ret = cs_revocation_time_checks(ocsp, NULL, NULL, crl, checks, CS_REVOCATION_MAX_CHECKS, &n);
  for (size_t i = 0; ret == 0 && i < n; i++)
    ret = cs_replay_add_check(r, &checks[i]);
  return ret;
}
