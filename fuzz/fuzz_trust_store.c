/*
 * Fuzz target for the trust analyzer's inputs: the bytes are loaded both as
 * a trust store (PEM bundle or DER) and as a served chain, and every path
 * between them is built and checked; the raw-DER extension readers (SAN,
 * AIA, nameConstraints) run over every certificate. Seeds:
 * fuzz/make_seeds_trust.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "certskew/revocation/revocation.h"
#include "certskew/trust/trust.h"
#include "trust_der.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cs_trust_store_t *store = NULL;
  cs_chain_t *chain = NULL;
  cs_trust_result_t *r = NULL;
  cs_findings_t *f = cs_findings_new();
  if (f == NULL || cs_trust_store_new(&store, "fuzz") != 0)
    goto out;
  size_t added = 0;
  int err = cs_trust_store_add(store, data, size, &added, NULL, NULL);
  /* Invariant: a failed add leaves the store empty, a successful one fills it. */
  if ((err != 0) != (cs_trust_store_count(store) == 0) || added != cs_trust_store_count(store))
    abort();
  for (size_t i = 0; i < cs_trust_store_count(store); i++) {
    const mbedtls_x509_crt *crt = cs_trust_store_cert(store, i)->crt;
    char matched[64];
    cs_revocation_urls_t urls;
    if (cs_revocation_urls_get(crt, &urls) == 0 && urls.ca_issuers[sizeof(urls.ca_issuers) - 1] != '\0')
      abort(); /* always NUL-terminated */
    /* Valid hosts never give an error, whatever the certificate holds. */
    if (cs_trust_hostname_matches(crt, "www.example.test", matched, sizeof(matched)) < 0 ||
        cs_trust_hostname_matches(crt, "192.0.2.7", matched, sizeof(matched)) < 0)
      abort();
  }
  if (cs_chain_load(&chain, data, size, NULL) != 0)
    goto out;
  cs_clock_t clocks[2];
  cs_clock_init_exact(&clocks[0]);
  if (cs_clock_parse(&clocks[1], "skew:-1h,trunc:1s", NULL) != 0)
    goto out;
  const cs_trust_store_t *stores[1] = {store};
  if (cs_trust_analyze(&r, chain, stores, 1, "www.example.test", clocks, 2, 1,
                       INT64_C(1767225600000), f) != 0)
    goto out;
  cJSON_Delete(cs_trust_result_to_json(r));
  (void)cs_trust_verdict_at(r, 1, INT64_C(1767225600000), CS_TRUST_RULE_OPENSSL, NULL);
out:
  cs_trust_result_free(r);
  cs_chain_free(chain);
  cs_trust_store_free(store);
  cs_findings_free(f);
  return 0;
}
