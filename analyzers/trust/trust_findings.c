/*
 * The trust diagnosis (cs_trust__diagnose): turns the paths into findings
 * with stable codes, evidence and a fix. Time-independent problems first,
 * then, with an instant, why each clock that fails fails.
 */
#include "certskew/revocation/revocation.h"
#include "trust_internal.h"

#include <stdio.h>
#include <string.h>

#include "certskew/core/time.h"
#include "trust_der.h"

/* CA/Browser Forum Baseline Requirements §6.3.2 (ballot SC31) and Apple's
 * policy (support.apple.com/HT211025): TLS certificates issued on or after
 * 2020-09-01 may be valid for at most 398 days. Safari/macOS/iOS reject
 * longer ones; OpenSSL does not enforce it, so this never changes the
 * verdict. */
#define LIFETIME_LIMIT_DAYS 398
#define LIFETIME_RULE_FROM_MS INT64_C(1598918400000) /* 2020-09-01T00:00:00Z */

#define TEXT_MAX 2048

/* The served position of a hop's certificate (a store copy of a served
 * root counts as served), or -1. */
static int served_pos(const cs_trust_result_t *r, const cs_trust_hop_t *hop) {
  if (hop->served_index >= 0)
    return hop->served_index;
  for (size_t i = 0; i < cs_chain_count(r->chain); i++)
    if (cs_trust__same_cert(cs_chain_cert(r->chain, i), hop->cert))
      return (int)i;
  return -1;
}

static void fingerprint_hex(const cs_cert_info_t *c, char out[65]) {
  uint8_t b[32];
  cs_cert_fingerprint(c, b);
  for (int i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static int cert_evidence(cs_findings_t *f, const cs_cert_info_t *c) {
  char fp[65];
  fingerprint_hex(c, fp);
  char nb[CS_TIME_STRLEN], na[CS_TIME_STRLEN];
  cs_time_format(c->not_before_ms, nb);
  cs_time_format(c->not_after_ms, na);
  int err = cs_findings_evidence(f, "subject", "%s", c->subject);
  if (err == 0)
    err = cs_findings_evidence(f, "issuer", "%s", c->issuer);
  if (err == 0)
    err = cs_findings_evidence(f, "sha256", "%s", fp);
  if (err == 0)
    err = cs_findings_evidence(f, "not_before", "%s", nb);
  if (err == 0)
    err = cs_findings_evidence(f, "not_after", "%s", na);
  return err;
}

static int usable_ignoring_host(const cs_trust_path_t *p) {
  return p->end == CS_TRUST_END_ANCHOR && (p->problems & CS_TRUST_FATAL_PROBLEMS) == 0;
}

static int hostname_finding(const cs_trust_result_t *r, cs_findings_t *f) {
  if (!r->has_host || r->host_ok)
    return 0;
  const cs_cert_info_t *leaf = cs_chain_cert(r->chain, 0);
  char summary[TEXT_MAX], expl[TEXT_MAX];
  snprintf(summary, sizeof(summary), "The certificate is not valid for %s.", r->host);
  snprintf(expl, sizeof(expl),
           "No subjectAltName of the leaf (%s) matches \"%s\". Clients match dNSName SANs "
           "(a wildcard covers exactly one left-most label, never part of one), iPAddress SANs "
           "for IP literals, and consult the subject CN only when there is no dNSName SAN "
           "(Chrome never does).",
           leaf->subject, r->host);
  int err = cs_findings_add(f, "HOSTNAME_MISMATCH", CS_SEV_ERROR, 10, 0, -1, summary, expl,
                            "Reissue the certificate with this exact name (or a one-label "
                            "wildcard covering it) in the subjectAltName extension.",
                            NULL);
  if (err == 0)
    err = cs_findings_evidence(f, "hostname", "%s", r->host);
  if (err == 0)
    err = cert_evidence(f, leaf);
  return err;
}

static int lifetime_finding(const cs_trust_result_t *r, cs_findings_t *f) {
  const cs_cert_info_t *leaf = cs_chain_cert(r->chain, 0);
  int64_t lifetime_ms;
  if (leaf->not_before_ms < LIFETIME_RULE_FROM_MS ||
      cs_time_sub(leaf->valid_until_ms + 1, leaf->not_before_ms, &lifetime_ms) != 0 ||
      lifetime_ms <= LIFETIME_LIMIT_DAYS * CS_MS_PER_DAY)
    return 0;
  char dur[CS_DURATION_STRLEN], summary[TEXT_MAX], expl[TEXT_MAX];
  cs_duration_format(lifetime_ms, dur);
  snprintf(summary, sizeof(summary), "The leaf is valid for %s, more than %d days.", dur,
           LIFETIME_LIMIT_DAYS);
  snprintf(expl, sizeof(expl),
           "Certificates issued on or after 2020-09-01 may be valid for at most %d days "
           "(CA/Browser Forum Baseline Requirements 6.3.2; Apple HT211025: Safari, iOS and "
           "macOS reject longer ones). OpenSSL does not enforce this limit.",
           LIFETIME_LIMIT_DAYS);
  int err = cs_findings_add(f, "LIFETIME_TOO_LONG", CS_SEV_WARNING, 40, 0, -1, summary, expl,
                            "Reissue with a validity period of at most 398 days.", NULL);
  if (err == 0)
    err = cs_findings_evidence(f, "lifetime_days", "%.3f",
                               (double)lifetime_ms / (double)CS_MS_PER_DAY);
  if (err == 0)
    err = cs_findings_evidence(f, "limit_days", "%d", LIFETIME_LIMIT_DAYS);
  if (err == 0)
    err = cs_findings_evidence(f, "source", "CA/B Forum BR 6.3.2; support.apple.com/HT211025");
  if (err == 0)
    err = cert_evidence(f, leaf);
  return err;
}

/* The certificate's AIA caIssuers URL (read by the revocation URL reader,
 * the one AIA parser), made printable for the report; 1 if there is one. A
 * malformed CRL distribution point does not hide a caIssuers URL read before. */
static int caissuers_url(const mbedtls_x509_crt *crt, char url[CS_REVOCATION_URL_MAX]) {
  cs_revocation_urls_t urls;
  memset(&urls, 0, sizeof(urls));
  if (cs_revocation_urls_get(crt, &urls) != 0 && urls.ca_issuers[0] == '\0')
    return 0;
  size_t i = 0;
  for (; urls.ca_issuers[i] != '\0'; i++) {
    unsigned char c = (unsigned char)urls.ca_issuers[i];
    url[i] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
  }
  url[i] = '\0';
  return i > 0;
}

static int missing_intermediate(const cs_trust_result_t *r, const cs_trust_hop_t *last,
                                cs_severity_t sev, const char *how, cs_findings_t *f) {
  char url[CS_REVOCATION_URL_MAX], summary[TEXT_MAX], expl[TEXT_MAX];
  int has_url = caissuers_url(last->cert->crt, url);
  if (sev == CS_SEV_ERROR)
    snprintf(summary, sizeof(summary),
             "The issuer of \"%s\" (\"%s\") is %s: not served and not in the trust store; "
             "a missing intermediate, or a root this store does not (or no longer) trust.",
             last->cert->subject, last->cert->issuer, how);
  else
    snprintf(summary, sizeof(summary),
             "The served chain is incomplete: the issuer of \"%s\" is %s.", last->cert->subject,
             how);
  snprintf(expl, sizeof(expl),
           "No certificate named \"%s\" was served%s. If it is an intermediate, clients that do "
           "not fetch or cache intermediates (most non-browser clients, Android apps, curl, "
           "OpenSSL) cannot build a path to a root.%s%s%s%s",
           last->cert->issuer,
           sev == CS_SEV_ERROR ? " or found in the trust store" : "",
           has_url ? " Its AIA caIssuers URL is " : " It names no caIssuers URL to fetch it from.",
           has_url ? url : "", has_url ? " (what a fetching client would get)." : "",
           sev == CS_SEV_ERROR ? " If that name is a root rather than an intermediate (e.g. an "
                                 "expired root removed from stores, such as DST Root CA X3), the "
                                 "root is what is missing, from the trust store: serve a chain to "
                                 "a root clients have."
                               : "");
  int err = cs_findings_add(f, "MISSING_INTERMEDIATE", sev, 20,
                            last->served_index >= 0 ? last->served_index : -1, -1, summary, expl,
                            "Serve the full chain: the leaf followed by every intermediate up "
                            "to (not including) the root, e.g. the CA's fullchain file.",
                            NULL);
  if (err == 0)
    err = cs_findings_evidence(f, "missing_issuer", "%s", last->cert->issuer);
  if (err == 0 && has_url)
    err = cs_findings_evidence(f, "ca_issuers_url", "%s", url);
  if (err == 0)
    err = cert_evidence(f, last->cert);
  (void)r;
  return err;
}

/* Bit mask of the clocks for which the certificate is out of its window at
 * the instant, split into "expired" and "not yet valid". */
static void time_masks(const cs_trust_result_t *r, const cs_trust_hop_t *hop, uint64_t *expired,
                       uint64_t *early) {
  *expired = *early = 0;
  if (!r->has_at)
    return;
  for (size_t c = 0; c < r->nclocks; c++) {
    if (cs_trust__in(hop->windows[c], r->at_ms))
      continue;
    if (r->at_ms >= hop->windows[c].to_ms)
      *expired |= UINT64_C(1) << c;
    else
      *early |= UINT64_C(1) << c;
  }
}

static int clocks_evidence(const cs_trust_result_t *r, uint64_t mask, const cs_trust_hop_t *hop,
                           cs_findings_t *f) {
  char at[CS_TIME_STRLEN];
  cs_time_format(r->at_ms, at);
  int err = cs_findings_evidence(f, "at", "%s", at);
  for (size_t c = 0; c < r->nclocks && err == 0; c++) {
    if ((mask & (UINT64_C(1) << c)) == 0)
      continue;
    int64_t believed;
    char b[CS_TIME_STRLEN] = "overflow", from[CS_TIME_STRLEN], to[CS_TIME_STRLEN];
    if (cs_clock_apply(&r->clocks[c], r->at_ms, &believed) == 0)
      cs_time_format(believed, b);
    cs_time_format(hop->windows[c].from_ms, from);
    cs_time_format(hop->windows[c].to_ms, to);
    err = cs_findings_evidence(f, "clock", "%s believes %s; valid for true times [%s, %s)",
                               r->clocks[c].name, b, from, to);
  }
  return err;
}

typedef struct time_code {
  const char *code;
  const char *what;
  const char *fix;
} time_code_t;

static time_code_t classify(const cs_trust_path_t *p, size_t h, int expired) {
  int anchor = h == p->nhops - 1 && p->hops[h].cert->self_issued;
  if (anchor && expired)
    return (time_code_t){"ANCHOR_EXPIRED", "root",
                         "Serve a chain that leads to a root that is still valid (e.g. drop "
                         "the cross-signed intermediate that leads to the expired root); "
                         "clients need an updated trust store."};
  if (anchor)
    return (time_code_t){"ANCHOR_NOT_YET_VALID", "root",
                         "Chain to an older root, or wait until the root is valid for these "
                         "clients."};
  if (p->hops[h].is_cross_sign && expired)
    return (time_code_t){"CROSS_SIGN_EXPIRED", "cross-signed intermediate",
                         "Stop serving the expired cross-sign; serve the path to the root "
                         "clients trust (the 2021 DST Root CA X3 case)."};
  if (expired)
    return (time_code_t){"INTERMEDIATE_EXPIRED", "intermediate",
                         "Serve the current intermediate from your CA."};
  return (time_code_t){"INTERMEDIATE_NOT_YET_VALID", "intermediate",
                       "Serve the previous (already valid) intermediate until slow clients "
                       "catch up, or issue from an intermediate that is at least a day old."};
}

static int time_finding(const cs_trust_result_t *r, const cs_trust_path_t *p, size_t h,
                        int expired, uint64_t mask, const char *extra, cs_findings_t *f) {
  const cs_trust_hop_t *hop = &p->hops[h];
  time_code_t tc = classify(p, h, expired);
  cs_severity_t sev = (mask & 1) ? CS_SEV_ERROR : CS_SEV_WARNING;
  char summary[TEXT_MAX], expl[TEXT_MAX], nb[CS_TIME_STRLEN], na[CS_TIME_STRLEN];
  cs_time_format(hop->cert->not_before_ms, nb);
  cs_time_format(hop->cert->not_after_ms, na);
  snprintf(summary, sizeof(summary), "The %s \"%s\" is %s for %s.", tc.what, hop->cert->subject,
           expired ? "expired" : "not yet valid",
           (mask & 1) ? "the clock asked about" : "some modeled clocks");
  snprintf(expl, sizeof(expl),
           "Every path a client can build passes through certificates that must all be valid "
           "at the time it believes; this %s is valid from %s to %s (inclusive), so the path "
           "through it fails at the instant asked about for the clocks listed.%s",
           tc.what, nb, na, extra);
  int err = cs_findings_add(f, tc.code, sev, 15, hop->served_index, -1, summary, expl, tc.fix,
                            NULL);
  if (err == 0)
    err = cs_findings_evidence(f, "in_store", "%s", hop->in_store ? "yes" : "no");
  if (err == 0)
    err = cert_evidence(f, hop->cert);
  if (err == 0)
    err = clocks_evidence(r, mask, hop, f);
  return err;
}

static int untrusted_root(const cs_trust_result_t *r, const cs_trust_path_t *p,
                          cs_findings_t *f) {
  const cs_trust_hop_t *root = &p->hops[p->nhops - 1];
  uint64_t expired, early;
  time_masks(r, root, &expired, &early);
  char summary[TEXT_MAX], expl[TEXT_MAX];
  snprintf(summary, sizeof(summary), "The chain ends at \"%s\", which is in no trust store%s.",
           root->cert->subject, expired ? " and is expired" : "");
  snprintf(expl, sizeof(expl),
           "The served path ends at a self-issued certificate that none of the %zu trust "
           "store(s) given contains%s.",
           r->nstores, expired ? "; it is also outside its validity period at the instant "
                                 "asked about (see ANCHOR_EXPIRED)"
                               : "");
  int err = cs_findings_add(f, "ANCHOR_NOT_TRUSTED", CS_SEV_ERROR, 20, root->served_index, -1,
                            summary, expl,
                            "Chain to a root in the clients' trust stores (a publicly trusted "
                            "CA), or install this root on every client that must trust it.",
                            NULL);
  for (size_t s = 0; s < r->nstores && err == 0; s++)
    err = cs_findings_evidence(f, "store", "%s (%zu certificates)",
                               cs_trust_store_name(r->stores[s]),
                               cs_trust_store_count(r->stores[s]));
  if (err == 0)
    err = cert_evidence(f, root->cert);
  if (err == 0 && (expired || early))
    err = time_finding(r, p, p->nhops - 1, expired != 0, expired ? expired : early,
                       " This root is also absent from every trust store.", f);
  return err;
}

/* One finding per fatal problem bit on the first anchored path. */
static int static_problems(const cs_trust_path_t *p, cs_findings_t *f) {
  int err = 0;
  for (size_t h = 0; h < p->nhops && err == 0; h++) {
    const cs_trust_hop_t *hop = &p->hops[h];
    unsigned bits = hop->problems & CS_TRUST_FATAL_PROBLEMS;
    for (unsigned bit = 1; bit != 0 && bits != 0 && err == 0; bit <<= 1) {
      if ((bits & bit) == 0)
        continue;
      bits &= ~bit;
      char summary[TEXT_MAX];
      snprintf(summary, sizeof(summary), "%s on \"%s\" breaks every trusted path.",
               cs_trust_problem_code(bit), hop->cert->subject);
      const char *expl =
          bit == CS_TRUST_P_BAD_SIGNATURE
              ? "The signature of this certificate does not verify with the key of the next "
                "certificate on the path: it was not issued by that key."
          : bit == CS_TRUST_P_SIG_UNSUPPORTED
              ? "The signature algorithm or key type cannot be checked."
          : bit == CS_TRUST_P_NOT_A_CA
              ? "This certificate issues another but lacks basicConstraints cA=TRUE."
          : bit == CS_TRUST_P_PATHLEN
              ? "More CA certificates sit below this one than its pathLenConstraint allows."
          : bit == CS_TRUST_P_CA_KEY_USAGE
              ? "This issuer's keyUsage lacks keyCertSign."
          : bit == CS_TRUST_P_NAME_CONSTRAINTS_VIOLATED
              ? "A subjectAltName of the leaf lies outside this CA's permitted subtrees or "
                "inside its excluded subtrees (nameConstraints)."
          : bit == CS_TRUST_P_LEAF_KEY_USAGE
              ? "The leaf's keyUsage has none of digitalSignature, keyEncipherment, "
                "keyAgreement: unusable for TLS."
              : "extendedKeyUsage is present without serverAuth (id-kp-serverAuth).";
      err = cs_findings_add(f, cs_trust_problem_code(bit), CS_SEV_ERROR, 12, hop->served_index,
                            -1, summary, expl,
                            "Reissue the certificate from the right CA with the right "
                            "extensions, or serve the correct issuer.",
                            NULL);
      if (err == 0)
        err = cs_findings_evidence(f, "signature_algorithm", "%s", hop->sig_alg);
      if (err == 0)
        err = cert_evidence(f, hop->cert);
    }
  }
  return err;
}

static int order_and_extras(const cs_trust_result_t *r, const cs_trust_path_t *p,
                            cs_findings_t *f) {
  char seen[256] = "0", want[256] = "0";
  int in_order = 1, last = 0, expected = 1, err = 0;
  int used[CS_CHAIN_MAX_CERTS] = {1};
  for (size_t h = 1; h < p->nhops; h++) {
    int pos = served_pos(r, &p->hops[h]);
    if (pos < 0)
      continue;
    used[pos] = 1;
    size_t n = strlen(seen), m = strlen(want);
    snprintf(seen + n, sizeof(seen) - n, ",%d", pos);
    snprintf(want + m, sizeof(want) - m, ",%d", expected);
    in_order &= pos == last + 1;
    last = pos;
    expected++;
  }
  if (!in_order) {
    err = cs_findings_add(f, "CHAIN_ORDER", CS_SEV_WARNING, 30, -1, -1,
                          "The served certificates are not in issuing order.",
                          "TLS 1.2 (RFC 5246 7.4.2) requires each certificate to be followed "
                          "by its issuer. Most clients reorder, some embedded stacks do not.",
                          "Serve the leaf first, then its issuer, then that issuer's issuer.",
                          NULL);
    if (err == 0)
      err = cs_findings_evidence(f, "path_uses_served_positions", "%s", seen);
    if (err == 0)
      err = cs_findings_evidence(f, "expected", "%s", want);
  }
  for (size_t i = 1; i < cs_chain_count(r->chain) && err == 0; i++) {
    if (used[i])
      continue;
    const cs_cert_info_t *c = cs_chain_cert(r->chain, i);
    char summary[TEXT_MAX];
    snprintf(summary, sizeof(summary), "Served certificate #%zu (\"%s\") is not on the path.", i,
             c->subject);
    err = cs_findings_add(f, "CHAIN_EXTRA_CERT", CS_SEV_WARNING, 31, (int)i, -1, summary,
                          "The path clients build does not use it: it wastes handshake bytes "
                          "and can lead clients with other stores down a different path.",
                          "Remove it from the served chain file.", NULL);
    if (err == 0)
      err = cert_evidence(f, c);
  }
  return err;
}

/* With an instant: for every clock whose verdict fails, the certificate
 * (other than the leaf, which the replay engine covers) out of its window on
 * each usable path, aggregated over clocks. */
static int time_findings(const cs_trust_result_t *r, cs_findings_t *f) {
  uint64_t failing = 0;
  for (size_t c = 0; c < r->nclocks; c++)
    if (cs_trust_verdict_at(r, c, r->at_ms, CS_TRUST_RULE_RFC5280, NULL) == 0)
      failing |= UINT64_C(1) << c;
  const cs_cert_info_t *done[CS_TRUST_MAX_PATHS * CS_TRUST_MAX_DEPTH];
  size_t ndone = 0;
  int err = 0;
  for (size_t i = 0; i < r->npaths && err == 0; i++) {
    const cs_trust_path_t *p = &r->paths[i];
    if (!usable_ignoring_host(p))
      continue;
    for (size_t h = 1; h < p->nhops && err == 0; h++) {
      int dup = 0;
      for (size_t k = 0; k < ndone; k++)
        dup |= done[k] == p->hops[h].cert;
      if (dup)
        continue;
      uint64_t expired, early;
      time_masks(r, &p->hops[h], &expired, &early);
      expired &= failing;
      early &= failing;
      if (expired == 0 && early == 0)
        continue;
      done[ndone++] = p->hops[h].cert;
      if (expired != 0)
        err = time_finding(r, p, h, 1, expired, "", f);
      if (err == 0 && early != 0)
        err = time_finding(r, p, h, 0, early, "", f);
    }
  }
  return err;
}

static int structural(const cs_trust_result_t *r, cs_findings_t *f) {
  const cs_trust_path_t *first = &r->paths[0]; /* sorted: anchored and clean first */
  int err = 0;
  if (first->end != CS_TRUST_END_ANCHOR) {
    const cs_cert_info_t *done[CS_TRUST_MAX_PATHS];
    size_t ndone = 0;
    for (size_t i = 0; i < r->npaths && err == 0; i++) {
      const cs_trust_path_t *p = &r->paths[i];
      const cs_trust_hop_t *last = &p->hops[p->nhops - 1];
      int dup = 0;
      for (size_t k = 0; k < ndone; k++)
        dup |= done[k] == last->cert;
      if (dup)
        continue;
      done[ndone++] = last->cert;
      if (p->end == CS_TRUST_END_INCOMPLETE)
        err = missing_intermediate(r, last, CS_SEV_ERROR, "not found", f);
      else if (p->end == CS_TRUST_END_UNTRUSTED_ROOT)
        err = untrusted_root(r, p, f);
      else
        err = cs_findings_add(f, "NO_TRUSTED_PATH", CS_SEV_ERROR, 20, -1, -1,
                              "No path reaches a root within the depth limit.",
                              "Every candidate path is longer than 8 certificates.",
                              "Serve a short chain to a trusted root.", NULL);
    }
    return err;
  }
  if (!usable_ignoring_host(first))
    return static_problems(first, f);
  /* Usable, but completed from the store: clients without the
   * intermediate at hand fail. */
  for (size_t h = 1; h + 1 < first->nhops && err == 0; h++)
    if (first->hops[h].served_index < 0 && served_pos(r, &first->hops[h]) < 0)
      err = missing_intermediate(r, &first->hops[h - 1], CS_SEV_WARNING,
                                 "only in the trust store given", f);
  if (err == 0 && (first->problems & CS_TRUST_P_NAME_CONSTRAINTS))
    err = cs_findings_add(f, "NAME_CONSTRAINTS_UNCHECKED", CS_SEV_INFO, 50, -1, -1,
                          "A CA on the path carries name constraints certskew does not "
                          "evaluate.",
                          "Only dNSName and iPAddress constraints are evaluated; the verdict "
                          "assumes the other forms (directoryName, email, URI) allow the "
                          "certificate.",
                          NULL, NULL);
  if (err == 0)
    err = order_and_extras(r, first, f);
  return err;
}

int cs_trust__diagnose(const cs_trust_result_t *r, cs_findings_t *f) {
  int err = hostname_finding(r, f);
  if (err == 0)
    err = lifetime_finding(r, f);
  if (err == 0 && r->npaths > 0)
    err = structural(r, f);
  if (err == 0 && r->has_at)
    err = time_findings(r, f);
  return err;
}
