/*
 * The local CA: load from the certskew home directory or generate on first
 * use (see certskew/proxy/ca.h).
 */
#include "certskew/proxy/ca.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "certskew/core/time.h"
#include "certskew/store/fs.h"
#include "certskew/net/rng.h"
#include "certskew/net/x509_write.h"

#define CA_VALIDITY_MS (3650 * CS_MS_PER_DAY)
#define PEM_MAX (64 * 1024)

struct cs_ca {
  char cert_path[4096];
  char key_path[4096];
  char *cert_pem; /* owned */
  mbedtls_x509_crt cert;
  mbedtls_pk_context key;
};

int cs_ca_home_dir(char *buf, size_t buflen) {
  const char *home = getenv("CERTSKEW_HOME");
  const char *xdg = getenv("XDG_DATA_HOME");
  const char *user = getenv("HOME");
  int n;
  if (home != NULL && home[0] != '\0')
    n = snprintf(buf, buflen, "%s", home);
  else if (xdg != NULL && xdg[0] != '\0')
    n = snprintf(buf, buflen, "%s/certskew", xdg);
  else if (user != NULL && user[0] != '\0')
    n = snprintf(buf, buflen, "%s/.local/share/certskew", user);
  else
    return CS_ENOTFOUND;
  if (n < 0 || (size_t)n >= buflen)
    return CS_ENOSPACE;
  return 0;
}

static int generate(cs_ca_t *ca, int64_t now_ms, cs_errbuf_t *eb) {
  cs_rng_t rng;
  mbedtls_x509write_cert w;
  mbedtls_x509write_crt_init(&w);
  int rc = cs_rng_init(&rng, "certskew-ca");
  if (rc != 0)
    goto out;
  rc = CS_ECRYPTO;
  if (mbedtls_pk_setup(&ca->key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
      mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(ca->key), cs_rng_fill, &rng) != 0)
    goto out;
  unsigned char tag[6];
  if (cs_rng_fill(&rng, tag, sizeof tag) != 0)
    goto out;
  char subject[128];
  /* A random tag tells installs apart in a browser's certificate manager. */
  snprintf(subject, sizeof subject, "CN=certskew local CA %02x%02x%02x%02x%02x%02x,O=certskew",
           tag[0], tag[1], tag[2], tag[3], tag[4], tag[5]);
  int64_t nb = cs_x509_backdated_not_before(now_ms), na = 0;
  if (cs_time_add(nb, CA_VALIDITY_MS, &na) != 0)
    goto out;
  char nbs[16], nas[16];
  cs_x509_time_string(nb, nbs);
  cs_x509_time_string(na, nas);
  mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&w, &ca->key);
  mbedtls_x509write_crt_set_issuer_key(&w, &ca->key);
  if (mbedtls_x509write_crt_set_subject_name(&w, subject) != 0 ||
      mbedtls_x509write_crt_set_issuer_name(&w, subject) != 0 ||
      mbedtls_x509write_crt_set_validity(&w, nbs, nas) != 0 ||
      cs_x509_random_serial(&w, &rng) != 0 ||
      mbedtls_x509write_crt_set_basic_constraints(&w, 1, 0) != 0 ||
      mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_KEY_CERT_SIGN |
                                                  MBEDTLS_X509_KU_CRL_SIGN) != 0 ||
      mbedtls_x509write_crt_set_subject_key_identifier(&w) != 0 ||
      mbedtls_x509write_crt_set_authority_key_identifier(&w) != 0)
    goto out;
  unsigned char pem[4096];
  if (mbedtls_x509write_crt_pem(&w, pem, sizeof pem, cs_rng_fill, &rng) != 0)
    goto out;
  unsigned char keypem[1024];
  if (mbedtls_pk_write_key_pem(&ca->key, keypem, sizeof keypem) != 0)
    goto out;
  /* Key first: a certificate without its key would be useless. */
  rc = cs_fs_write_atomic(ca->key_path, keypem, strlen((char *)keypem), 0600, eb);
  if (rc == 0)
    rc = cs_fs_write_atomic(ca->cert_path, pem, strlen((char *)pem), 0644, eb);
  mbedtls_platform_zeroize(keypem, sizeof keypem);
out:
  if (rc == CS_ECRYPTO)
    cs_errbuf_set(eb, rc, "cannot generate the local CA");
  mbedtls_x509write_crt_free(&w);
  cs_rng_free(&rng);
  mbedtls_pk_free(&ca->key);
  mbedtls_pk_init(&ca->key);
  return rc;
}

static int load(cs_ca_t *ca, cs_errbuf_t *eb) {
  size_t len = 0;
  int rc = cs_fs_read_file(ca->cert_path, PEM_MAX, &ca->cert_pem, &len);
  if (rc != 0)
    return cs_errbuf_set(eb, rc, "cannot read %s", ca->cert_path);
  if (mbedtls_x509_crt_parse(&ca->cert, (const unsigned char *)ca->cert_pem, len + 1) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "%s is not a PEM certificate", ca->cert_path);
  struct stat st;
  if (lstat(ca->key_path, &st) != 0 || !S_ISREG(st.st_mode))
    return cs_errbuf_set(eb, CS_EIO, "%s is missing or not a regular file", ca->key_path);
  /* Whoever can read this key can intercept every TLS connection of the
   * user's browser: refuse rather than warn. */
  if ((st.st_mode & 077) != 0)
    return cs_errbuf_set(eb, CS_EIO,
                         "%s is accessible by group or others (mode %03o): refusing to use a "
                         "CA private key others may have read; run: chmod 600 %s (or delete the "
                         "directory to make a new CA, then re-import ca.pem)",
                         ca->key_path, (unsigned)(st.st_mode & 0777), ca->key_path);
  if (mbedtls_pk_parse_keyfile(&ca->key, ca->key_path, NULL) != 0)
    return cs_errbuf_set(eb, CS_EPARSE, "%s is not a PEM private key", ca->key_path);
  if (mbedtls_pk_check_pair(&ca->cert.pk, &ca->key) != 0)
    return cs_errbuf_set(eb, CS_ECRYPTO, "%s does not match %s", ca->key_path, ca->cert_path);
  return 0;
}

int cs_ca_open(cs_ca_t **out, const char *dir, int create, int64_t now_ms, cs_errbuf_t *eb) {
  *out = NULL;
  cs_ca_t *ca = calloc(1, sizeof *ca); /* owned by the caller on success */
  if (ca == NULL)
    return CS_ENOMEM;
  mbedtls_x509_crt_init(&ca->cert);
  mbedtls_pk_init(&ca->key);
  int rc = 0;
  int n1 = snprintf(ca->cert_path, sizeof ca->cert_path, "%s/%s", dir, CS_CA_CERT_FILE);
  int n2 = snprintf(ca->key_path, sizeof ca->key_path, "%s/%s", dir, CS_CA_KEY_FILE);
  if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof ca->cert_path ||
      (size_t)n2 >= sizeof ca->key_path) {
    rc = cs_errbuf_set(eb, CS_EINVAL, "directory path too long");
    goto out;
  }
  struct stat st;
  if (lstat(ca->cert_path, &st) != 0) {
    if (!create) {
      rc = cs_errbuf_set(eb, CS_ENOTFOUND, "no CA in %s", dir);
      goto out;
    }
    rc = cs_fs_mkdirs(dir, 0700, eb);
    if (rc == 0)
      rc = generate(ca, now_ms, eb);
    if (rc != 0)
      goto out;
  }
  rc = load(ca, eb);
out:
  if (rc != 0) {
    cs_ca_free(ca);
    return rc;
  }
  *out = ca;
  return 0;
}

void cs_ca_free(cs_ca_t *ca) {
  if (ca == NULL)
    return;
  mbedtls_x509_crt_free(&ca->cert);
  mbedtls_pk_free(&ca->key);
  free(ca->cert_pem);
  free(ca);
}

const char *cs_ca_cert_path(const cs_ca_t *ca) { return ca->cert_path; }
const char *cs_ca_cert_pem(const cs_ca_t *ca) { return ca->cert_pem; }
mbedtls_x509_crt *cs_ca_cert(cs_ca_t *ca) { return &ca->cert; }
mbedtls_pk_context *cs_ca_key(cs_ca_t *ca) { return &ca->key; }
