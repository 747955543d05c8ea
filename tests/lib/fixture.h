/*
 * Test fixtures made by real openssl (tests/lib/mkchain.sh) and SCT lists
 * built byte by byte at chosen timestamps.
 */
#ifndef CS_TEST_FIXTURE_H
#define CS_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/chain.h"
#include "certskew/core/error.h"

/* Creates a fresh temporary directory; out receives its path. */
int cs_fx_tempdir(char *out, size_t cap);
/* Removes a directory made by cs_fx_tempdir, recursively. */
void cs_fx_rmdir(const char *dir);
/* Runs a shell command (printf-style); returns its exit status, -1 if it
 * could not run or was killed. */
int cs_fx_run(const char *fmt, ...) CS_PRINTF(1, 2);
/* Runs mkchain.sh DIR with NAME=VALUE settings (NULL-terminated list). */
int cs_fx_mkchain(const char *dir, const char *const *settings);
/* ms -> "YYYYMMDDHHMMSSZ" (seconds resolution, as X.509 stores it). */
const char *cs_fx_gentime(int64_t ms, char out[24]);
/* The X.509 SCT-list extnValue content (OCTET STRING wrapping the TLS list)
 * for n v1 SCTs with the given timestamps and log ids 0x11.., 0x22.., ...,
 * as lowercase hex. Signatures are placeholders: these fixtures test time. */
int cs_fx_sct_ext_hex(const int64_t *ts_ms, size_t n, char *hex, size_t cap);
/* Loads a PEM/DER file into a chain. */
int cs_fx_load_chain(const char *path, cs_chain_t **out, cs_errbuf_t *eb);
/* Writes len bytes to dir/name; path_out (optional, >= 512 bytes) gets the
 * full path. Returns 0 or -1. */
int cs_fx_write(const char *dir, const char *name, const void *buf, size_t len, char *path_out);

#endif
