/*
 * The per-install local certificate authority that signs the leaf
 * certificates certskew presents to the browser, and the minting of those
 * leaves (one shared leaf key, one certificate per host, cached).
 *
 * Where the CA lives (first that is set):
 *   $CERTSKEW_HOME, $XDG_DATA_HOME/certskew, $HOME/.local/share/certskew
 * The directory is created with mode 0700; the key (ca-key.pem) with 0600;
 * the certificate is ca.pem. Both are written atomically (temp + rename).
 */
#ifndef CERTSKEW_PROXY_CA_H
#define CERTSKEW_PROXY_CA_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "certskew/core/error.h"

#define CS_CA_CERT_FILE "ca.pem"
#define CS_CA_KEY_FILE "ca-key.pem"

/* Writes the certskew home directory (rules above) into buf (NUL-terminated).
 * CS_ENOTFOUND if none of the variables is set, CS_ENOSPACE if buf is short. */
int cs_ca_home_dir(char *buf, size_t buflen) CS_MUST_CHECK;

typedef struct cs_ca cs_ca_t;

/* Loads the CA from dir, or when absent and create is 1 generates one
 * (ECDSA P-256, valid from the UTC midnight before now_ms minus one day for
 * ten years) and stores it. *out is owned by the caller (cs_ca_free).
 * CS_ENOTFOUND when absent and create is 0; CS_EIO on file errors, and
 * when the key file is not a regular file or is accessible by group or
 * others (any of mode 077: the key signs for every site), with a detail in
 * eb (optional). */
int cs_ca_open(cs_ca_t **out, const char *dir, int create, int64_t now_ms, cs_errbuf_t *eb)
    CS_MUST_CHECK;
/* Safe on NULL. */
void cs_ca_free(cs_ca_t *ca);

/* Path of ca.pem (owned by ca). */
const char *cs_ca_cert_path(const cs_ca_t *ca);
/* The CA certificate as PEM (owned by ca, NUL-terminated). */
const char *cs_ca_cert_pem(const cs_ca_t *ca);
/* Parsed certificate and key, borrowed from ca. */
mbedtls_x509_crt *cs_ca_cert(cs_ca_t *ca);
mbedtls_pk_context *cs_ca_key(cs_ca_t *ca);

/* ---- Leaf minting ---- */

typedef struct cs_mint cs_mint_t;
typedef struct cs_leaf cs_leaf_t;

/* Creates a minter signing with ca (borrowed: must outlive the minter) and
 * generates the one leaf key. cache_max (>= 1) bounds the number of cached
 * leaves. */
int cs_mint_new(cs_mint_t **out, cs_ca_t *ca, size_t cache_max, cs_errbuf_t *eb) CS_MUST_CHECK;
/* Safe on NULL. Leaves still referenced stay valid until released. */
void cs_mint_free(cs_mint_t *m);

/* A leaf for host (a DNS name or an IPv4/IPv6 literal), minted on first use
 * and cached. SAN: dNSName, or iPAddress for IP literals. Validity: from the
 * UTC midnight before now_ms minus one day, for 90 days, so the minted leaf
 * never causes a clock-skew failure of its own. *out is a new reference:
 * release with cs_leaf_release. CS_EINVAL for an empty or overlong host. */
int cs_mint_get(cs_mint_t *m, const char *host, int64_t now_ms, cs_leaf_t **out,
                cs_errbuf_t *eb) CS_MUST_CHECK;
/* Number of leaves minted so far (cache misses). */
size_t cs_mint_count(cs_mint_t *m);
/* The leaf followed by the CA certificate, borrowed from the leaf. */
mbedtls_x509_crt *cs_leaf_chain(cs_leaf_t *leaf);
/* The shared leaf key, borrowed from the minter. One thread at a time: a
 * proxy worker signs its handshakes with its own copy (cs_mint_key_copy). */
mbedtls_pk_context *cs_mint_key(cs_mint_t *m);
/* Parses a copy of the leaf key into out (initialised by the caller with
 * mbedtls_pk_init, freed by it with mbedtls_pk_free). 0 or CS_ECRYPTO. */
int cs_mint_key_copy(cs_mint_t *m, mbedtls_pk_context *out) CS_MUST_CHECK;
/* Drops one reference; safe on NULL. */
void cs_leaf_release(cs_leaf_t *leaf);

#endif
