/*
 * Reading trust stores from files for the trust analyzer (certskew/trust/trust.h
 * never touches files). Used by the CLI's `--trust FILE` (repeatable: one
 * store per file, analyzed side by side) and, without --trust, the Debian/
 * Ubuntu system bundle.
 */
#ifndef CERTSKEW_STORE_TRUST_STORE_LOAD_H
#define CERTSKEW_STORE_TRUST_STORE_LOAD_H

#include "certskew/core/error.h"
#include "certskew/trust/trust.h"

/* The system bundle (ca-certificates on Debian/Ubuntu: every root the
 * distribution trusts, PEM, one file). */
#define CS_TRUST_SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

/* Reads path (NULL: CS_TRUST_SYSTEM_BUNDLE) — a PEM bundle or a DER
 * certificate — into a new store named after the file ("system" for the
 * system bundle). *skipped (optional) counts PEM blocks that did not parse.
 * Returns 0, CS_EIO (cannot open/read: eb has the path and errno text),
 * CS_ETOOBIG (file above CS_TRUST_STORE_MAX_INPUT) or any error of
 * cs_trust_store_add. On error *out is NULL; on success the caller owns it
 * (cs_trust_store_free). */
int cs_trust_store_load_file(cs_trust_store_t **out, const char *path, size_t *skipped,
                             cs_errbuf_t *eb) CS_MUST_CHECK;

#endif
