/* The client profile table (include/certskew/clients/profile.h). Every value
 * carries the source it was read from; docs/clients.md quotes them. */
#include "certskew/clients/profile.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const cs_client_profile_t profiles[] = {
    {.name = "chrome",
     .aliases = "chromium,edge",
     .description = "Chrome/Chromium builtin verifier with the Chrome Root Store",
     .cert_clock = "trunc:1s",
     .sct_clock = "exact",
     .notafter = CS_NOTAFTER_INCLUSIVE,
     .paths = CS_PATHS_ALL,
     .anchor_expiry_checked = 0,
     .aia_fetch = 1,
     .ct = CS_CT_CHROME,
     .fails_on_revoked = 0,
     .revocation = "CRLSet only; no online OCSP/CRL by default",
     .min_tls = "1.2",
     .rejects_unknown_critical = 1,
     .src = {.clock = "chromium net/cert/time_conversions.cc EncodeTimeAsGeneralizedTime "
                      "(InSecondsFloored)",
             .sct_clock = "chromium net/cert/multi_log_ct_verifier.cc VerifySingleSCT "
                          "(sct->timestamp > base::Time::Now())",
             .notafter = "boringssl pki/verify_certificate_chain.cc VerifyTimeValidity",
             .paths = "chromium net/cert/cert_verify_proc_builtin.cc (CertPathBuilder)",
             .anchor_expiry = "chromium net/cert/internal/trust_store_chrome.cc "
                              "(enforce_anchor_expiry defaults to false)",
             .aia = "chromium net/cert/cert_verify_proc_builtin.cc (CertIssuerSourceAia)",
             .ct = "components/certificate_transparency/chrome_ct_policy_enforcer.cc; "
                   "googlechrome.github.io/CertificateTransparency/ct_policy.html",
             .revocation = "chromium cert_verify_proc_builtin.cc ChooseRevocationPolicy",
             .min_tls = "chromium net/ssl/ssl_config.cc kDefaultSSLVersionMin",
             .critical = "boringssl pki/verify_certificate_chain.cc "
                         "kUnconsumedCriticalExtension"}},
    {.name = "safari",
     .aliases = "trustd,macos,ios,apple",
     .description = "macOS/iOS trustd (Security framework): Safari and every app using it",
     .cert_clock = "exact",
     .sct_clock = "trunc:1s",
     .notafter = CS_NOTAFTER_INCLUSIVE,
     .paths = CS_PATHS_ALL,
     .anchor_expiry_checked = 1,
     .aia_fetch = 1,
     .ct = CS_CT_APPLE,
     .fails_on_revoked = 0,
     .revocation = "valid.apple.com database; online OCSP only for EV or when asked; soft-fail",
     .min_tls = "1.2",
     .rejects_unknown_critical = 1,
     .src = {.clock = "apple Security OSX/sec/Security/SecTrust.c SecTrustGetVerifyTime "
                      "(CFAbsoluteTime, fractional)",
             .sct_clock = "apple Security trust/trustd/CertificateTransparency.m "
                          "TimestampFromCFAbsoluteTime ((uint64_t)(at+...)*1000)",
             .notafter = "apple Security OSX/sec/Security/SecCertificate.c SecCertificateIsValid",
             .paths = "apple Security trust/trustd/SecCertificateServer.c "
                      "SecCertificatePathVCScore",
             .anchor_expiry = "apple Security trust/trustd/SecPolicyServer.c "
                              "SecPolicyCheckTemporalValidity",
             .aia = "apple Security trust/trustd/SecTrustServer.c (kSecCAIssuerSource)",
             .ct = "apple Security trust/trustd/CertificateTransparency.m; "
                   "support.apple.com/en-us/103214",
             .revocation = "apple Security trust/trustd/SecRevocationServer.c",
             .min_tls = "webkit.org/blog/8462",
             .critical = "apple Security OSX/sec/Security/SecCertificate.c "
                         "(_foundUnknownCriticalExtension)"}},
    {.name = "firefox",
     .aliases = "gecko,mozilla",
     .description = "Firefox desktop (mozilla::pkix, PSM)",
     .cert_clock = "trunc:1s",
     .sct_clock = "trunc:1s",
     .notafter = CS_NOTAFTER_INCLUSIVE,
     .paths = CS_PATHS_ALL,
     .anchor_expiry_checked = 1,
     .aia_fetch = 0,
     .ct = CS_CT_FIREFOX,
     .fails_on_revoked = 1,
     .revocation = "CRLite/OneCRL; OCSP soft-fail (an unauthorized answer passes), revoked fails",
     .min_tls = "1.2",
     .rejects_unknown_critical = 1,
     .src = {.clock = "mozpkix lib/pkixtime.cpp Now() (tv.tv_sec)",
             .sct_clock = "gecko security/ct/MultiLogCTVerifier.cpp VerifySingleSCT "
                          "((timestamp + 999) / 1000 > now)",
             .notafter = "mozpkix pkixcheck.cpp CheckValidity",
             .paths = "mozpkix pkixbuild.cpp BuildForward",
             .anchor_expiry = "mozpkix pkixbuild.cpp BuildForward / "
                              "CheckIssuerIndependentProperties",
             .aia = "wiki.mozilla.org/Security/CryptoEngineering/Intermediate_Preloading "
                    "(no AIA fetching; CCADB intermediates preloaded)",
             .ct = "dev-security-policy 2025-02-04 (enforced from Firefox 135); bugzilla 1912120",
             .revocation = "gecko security/certverifier/NSSCertDBTrustDomain.cpp CheckRevocation",
             .min_tls = "security.tls.version.min = 3 since Firefox 78 (user.js docs; "
                        "firefox.js not read)",
             .critical = "mozpkix pkixder.h OptionalExtensions "
                         "(ERROR_UNKNOWN_CRITICAL_EXTENSION)"}},
    {.name = "openssl",
     .aliases = "curl,openssl3,wget",
     .description = "OpenSSL 3 libssl as used by curl (no CT, no revocation by default)",
     .cert_clock = "trunc:1s",
     .sct_clock = "trunc:1s",
     .notafter = CS_NOTAFTER_EXCLUSIVE,
     .paths = CS_PATHS_ALL,
     .anchor_expiry_checked = 1,
     .aia_fetch = 0,
     .ct = CS_CT_NONE,
     .fails_on_revoked = 0,
     .revocation = "none by default (curl: --cert-status stapling hard-fail, --crlfile)",
     .min_tls = "1.2",
     .rejects_unknown_critical = 1,
     .src = {.clock = "openssl crypto/x509/x509_vfy.c ossl_x509_check_cert_time (time(NULL))",
             .sct_clock = "openssl ssl/ssl_lib.c ssl_validate_ct (only when an app enables CT; "
                          "curl does not)",
             .notafter = "openssl crypto/x509/x509_vfy.c X509_cmp_time (equality is earlier); "
                         "tests/unit/test_trust_verify.c",
             .paths = "openssl crypto/x509/x509_vfy.c build_chain (X509_V_FLAG_TRUSTED_FIRST "
                      "always on since 1.1.0)",
             .anchor_expiry = "openssl crypto/x509/x509_vfy.c internal_verify",
             .aia = "openssl x509_vfy.c (no network); curl lib/vtls/openssl.c",
             .ct = "curl lib/vtls/openssl.c (never enables CT)",
             .revocation = "curl lib/vtls/openssl.c verifystatus (opt-in)",
             .min_tls = "openssl doc/man3/SSL_CTX_set_security_level.pod; curl "
                        "CURLOPT_SSLVERSION.md (1.2 since 8.16.0)",
             .critical = "openssl crypto/x509/x509_vfy.c check_extensions "
                         "(X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION)"}},
    {.name = "openssl-1.0.2",
     .aliases = "openssl102,openssl-1.0",
     .description = "OpenSSL 1.0.2 default verification (untrusted-first: the 2021 DST Root "
                    "CA X3 failures)",
     .cert_clock = "trunc:1s",
     .sct_clock = "trunc:1s",
     .notafter = CS_NOTAFTER_EXCLUSIVE,
     .paths = CS_PATHS_UNTRUSTED_FIRST,
     .anchor_expiry_checked = 1,
     .aia_fetch = 0,
     .ct = CS_CT_NONE,
     .fails_on_revoked = 0,
     .revocation = "none by default (CRL only with X509_V_FLAG_CRL_CHECK)",
     .min_tls = "1.0",
     .rejects_unknown_critical = 1,
     .src = {.clock = "openssl-1.0.2 crypto/x509/x509_vfy.c X509_time_adj_ex (time(&t))",
             .sct_clock = "none: 1.0.2 has no crypto/ct",
             .notafter = "openssl-1.0.2 crypto/x509/x509_vfy.c X509_cmp_time",
             .paths = "openssl-1.0.2 crypto/x509/x509_vfy.c X509_verify_cert (alternate "
                      "chains only if the chain is not trusted); x509_vpm.c (flags = 0)",
             .anchor_expiry = "openssl-1.0.2 crypto/x509/x509_vfy.c internal_verify",
             .aia = "openssl-1.0.2 x509_vfy.c (no network)",
             .ct = "none: 1.0.2 has no crypto/ct",
             .revocation = "openssl-1.0.2 x509_vfy.c check_revocation (X509_V_FLAG_CRL_CHECK)",
             .min_tls = "openssl-1.0.2 ssl/ssl_lib.c SSL_CTX_new; curl >= 7.39 disables SSLv3",
             .critical = "openssl-1.0.2 x509_vfy.c check_chain_extensions"}},
    {.name = NULL},
};

const cs_client_profile_t *cs_client_profiles(void) { return profiles; }

static int alias_matches(const char *aliases, const char *name) {
  size_t n = strlen(name);
  for (const char *p = aliases; *p != '\0';) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len == n && strncasecmp(p, name, n) == 0)
      return 1;
    p += len + (comma != NULL);
  }
  return 0;
}

const cs_client_profile_t *cs_client_profile_find(const char *name) {
  for (const cs_client_profile_t *p = profiles; p->name != NULL; p++)
    if (strcasecmp(p->name, name) == 0 || alias_matches(p->aliases, name))
      return p;
  return NULL;
}

size_t cs_client_default_set(const cs_client_profile_t **out, size_t max) {
  size_t n = 0;
  for (const cs_client_profile_t *p = profiles; p->name != NULL && n < max; p++)
    out[n++] = p;
  return n;
}

const cs_client_profile_t *cs_client_from_user_agent(const char *ua) {
  if (ua == NULL)
    return NULL;
  /* Order matters: Chrome's UA names Safari, Edge's names Chrome. */
  if (strstr(ua, "Firefox/") != NULL)
    return cs_client_profile_find("firefox");
  if (strstr(ua, "Chrome/") != NULL || strstr(ua, "Chromium/") != NULL ||
      strstr(ua, "CriOS/") != NULL || strstr(ua, "Edg/") != NULL)
    return cs_client_profile_find("chrome");
  if (strstr(ua, "Safari/") != NULL || strstr(ua, "CFNetwork/") != NULL)
    return cs_client_profile_find("safari");
  if (strncasecmp(ua, "curl/", 5) == 0 || strncasecmp(ua, "Wget/", 5) == 0 ||
      strncasecmp(ua, "python-requests/", 16) == 0)
    return cs_client_profile_find("openssl");
  return NULL;
}

static void compose(cs_clock_t *out, const cs_clock_t *skew, const char *model) {
  cs_clock_t base;
  if (cs_clock_parse(&base, model, NULL) != 0)
    cs_clock_init_exact(&base); /* the table is constant: tested never to happen */
  *out = base;
  if (skew == NULL)
    return;
  out->nsteps = 0;
  for (int i = 0; i < skew->nsteps && out->nsteps < CS_CLOCK_MAX_STEPS; i++)
    out->steps[out->nsteps++] = skew->steps[i];
  for (int i = 0; i < base.nsteps && out->nsteps < CS_CLOCK_MAX_STEPS; i++)
    out->steps[out->nsteps++] = base.steps[i];
}

void cs_client_from_profile(cs_client_t *out, const cs_client_profile_t *p) {
  memset(out, 0, sizeof(*out));
  out->profile = p;
  snprintf(out->name, sizeof(out->name), "%s", p->name);
  compose(&out->cert_clock, NULL, p->cert_clock);
  compose(&out->sct_clock, NULL, p->sct_clock);
  snprintf(out->cert_clock.name, sizeof(out->cert_clock.name), "%s", p->cert_clock);
  snprintf(out->sct_clock.name, sizeof(out->sct_clock.name), "%s", p->sct_clock);
}

int cs_client_parse(cs_client_t *out, const char *text, cs_errbuf_t *eb) {
  char name[64];
  const char *colon = strchr(text, ':');
  size_t n = colon ? (size_t)(colon - text) : strlen(text);
  if (n == 0 || n >= sizeof(name))
    return cs_errbuf_set(eb, CS_EPARSE, "wants NAME or NAME:CLOCK-MODEL");
  memcpy(name, text, n);
  name[n] = '\0';
  const cs_client_profile_t *p = cs_client_profile_find(name);
  if (p == NULL)
    return cs_errbuf_set(eb, CS_ENOTFOUND,
                         "no client profile '%s' (chrome, safari, firefox, openssl, openssl-1.0.2)",
                         name);
  cs_client_from_profile(out, p);
  if (colon == NULL)
    return 0;
  int err = cs_clock_parse(&out->skew, colon + 1, eb);
  if (err != 0)
    return err;
  if (out->skew.nsteps + 2 > CS_CLOCK_MAX_STEPS)
    return cs_errbuf_set(eb, CS_ETOOBIG, "clock model too long for a client");
  out->has_skew = 1;
  snprintf(out->name, sizeof(out->name), "%s:%s", p->name, colon + 1);
  compose(&out->cert_clock, &out->skew, p->cert_clock);
  compose(&out->sct_clock, &out->skew, p->sct_clock);
  snprintf(out->cert_clock.name, sizeof(out->cert_clock.name), "%s,%s", colon + 1, p->cert_clock);
  snprintf(out->sct_clock.name, sizeof(out->sct_clock.name), "%s,%s", colon + 1, p->sct_clock);
  return 0;
}

int cs_client_min_tls_version(const cs_client_profile_t *p) {
  const char *v = p != NULL ? p->min_tls : NULL;
  if (v == NULL || v[0] != '1' || v[1] != '.' || v[2] < '0' || v[2] > '3' || v[3] != '\0')
    return 0;
  return 0x0301 + (v[2] - '0');
}
