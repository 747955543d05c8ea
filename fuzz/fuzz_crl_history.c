/*
 * Fuzz target: CRL history (include/certskew/revocation/crl_history.h): the
 * strict CRL reader (serials, CRL number, issuing distribution point), the
 * diff of two CRLs, the shard checks and the drift between two sets.
 *
 * Input: two DER CRLs back to back (OLD then NEW; see
 * fuzz/make_seeds_crl_history.sh). When only the first parses, it is
 * compared with itself.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/revocation/crl_history.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Length of the DER element at data (tag, length, contents), or 0. */
static size_t der_element_len(const uint8_t *data, size_t size) {
  if (size < 2 || data[0] != 0x30)
    return 0;
  size_t len = data[1], hdr = 2;
  if (len & 0x80) {
    size_t nb = len & 0x7f;
    if (nb == 0 || nb > 4 || size < 2 + nb)
      return 0;
    len = 0;
    for (size_t i = 0; i < nb; i++)
      len = (len << 8) | data[2 + i];
    hdr += nb;
  }
  return hdr + len <= size ? hdr + len : 0;
}

static void check_list(const cs_crl_list_t *l) {
  for (size_t i = 0; i < l->nserials; i++) {
    const cs_crl_serial_t *s = &l->serials[i];
    if (s->p < l->der || s->p + s->len > l->der + l->der_len || s->len == 0)
      abort(); /* every serial points into the CRL */
    if (cs_crl_list_find(l, s->p, s->len) != (long)i)
      abort(); /* sorted and unique: found at its own index */
  }
  if (l->tbs < l->der || l->tbs + l->tbs_len > l->der + l->der_len || l->number_len > 20 ||
      l->nidp_uris > CS_CRL_IDP_MAX_URIS)
    abort();
  for (size_t i = 0; i < l->nidp_uris; i++)
    if (strlen(l->idp_uris[i]) == 0 || strlen(l->idp_uris[i]) >= CS_CRL_URI_MAX)
      abort();
}

static void run(const cs_crl_list_t *a, const cs_crl_list_t *b) {
  cs_findings_t *f = cs_findings_new();
  if (f == NULL)
    return;
  cs_crl_diff_t d;
  cs_crl_diff_init(&d);
  if (cs_crl_diff_run(a, b, NULL, 0, &d, f, NULL) == 0) {
    if (d.nadded > b->nserials || d.nremoved > a->nserials)
      abort();
    if (a == b && (d.nadded != 0 || d.nremoved != 0 || cs_findings_worst(f) == CS_SEV_ERROR))
      abort(); /* a CRL compared with itself changes nothing */
  }
  cs_crl_diff_free(&d);
  cs_crl_shard_t s[2] = {{a, "http://crl.test/1.crl", "a"}, {b, NULL, "b"}};
  int ret = cs_crl_shards_check(s, a == b ? 1 : 2, NULL, 0, 0, f, NULL);
  if (ret != 0 && ret != CS_EINVAL && ret != CS_ENOMEM)
    abort();
  ret = cs_crl_shards_drift(&s[0], 1, &s[1], 1, f, NULL);
  if (ret != 0 && ret != CS_EINVAL && ret != CS_ENOMEM)
    abort();
  cJSON *j = cs_crl_findings_json(f);
  cJSON_Delete(j);
  cs_findings_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t first = der_element_len(data, size);
  if (first == 0)
    first = size;
  cs_crl_list_t a, b;
  cs_crl_list_init(&a);
  cs_crl_list_init(&b);
  if (cs_crl_list_parse(&a, data, first, NULL) == 0) {
    check_list(&a);
    if (first < size && cs_crl_list_parse(&b, data + first, size - first, NULL) == 0) {
      check_list(&b);
      run(&a, &b);
    } else {
      run(&a, &a);
    }
  }
  cs_crl_list_free(&a);
  cs_crl_list_free(&b);
  cs_crl_list_free(&a);
  return 0;
}
