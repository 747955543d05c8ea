/*
 * The CRLs the enrichment fetched, kept per URL so each new fetch can be
 * compared with the previous one (a revoked certificate dropped from a CRL
 * before it expires: CRL_ENTRY_DROPPED). Plain files, bounded:
 *
 *   DIR/<sha256(url) hex>/cur.der    the latest fetch
 *   DIR/<sha256(url) hex>/prev.der   the fetch before it that differed
 *   DIR/<sha256(url) hex>/url        the URL, for people
 *
 * at most CS_CRL_HISTORY_MAX_URLS URLs and CS_CRL_MAX_INPUT bytes a file,
 * each written atomically.
 */
#ifndef CERTSKEW_FETCH_CRL_HISTORY_STORE_H
#define CERTSKEW_FETCH_CRL_HISTORY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/error.h"

#define CS_CRL_HISTORY_MAX_URLS 256

/* Records der as the latest fetch of url under dir and returns, in *prev
 * (newly allocated, caller frees; NULL when there is none yet), the previous
 * different fetch of the same URL. A fetch equal to the latest one changes
 * nothing and returns the one before it. Over CS_CRL_HISTORY_MAX_URLS URLs a
 * new URL is not kept (*prev NULL, CS_ENOSPACE). Returns 0, CS_EINVAL,
 * CS_ENOSPACE, CS_EIO (eb says which file), CS_ENOMEM. */
int cs_crl_history_record(const char *dir, const char *url, const uint8_t *der, size_t len,
                          uint8_t **prev, size_t *prev_len, cs_errbuf_t *eb) CS_MUST_CHECK;

#endif
