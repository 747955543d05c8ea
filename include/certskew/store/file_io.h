/* Reading and writing whole files with size limits (I/O lives in proxy/). */
#ifndef CERTSKEW_STORE_FILE_IO_H
#define CERTSKEW_STORE_FILE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/error.h"

/* Reads all of path ("-" = standard input) into a new buffer (*out, caller
 * frees; NUL-terminated for convenience, the NUL not counted in *len).
 * CS_ETOOBIG if the file is larger than max_len (without reading it all),
 * CS_EIO with the system's reason in eb otherwise. */
int cs_file_read(const char *path, size_t max_len, uint8_t **out, size_t *len, cs_errbuf_t *eb)
    CS_MUST_CHECK;

/* Writes buf to path atomically: a temporary file in the same directory,
 * fsync, then rename over path, so readers never see a partial file.
 * mode is the new file's permission bits (e.g. 0600 for keys). */
int cs_file_write_atomic(const char *path, const void *buf, size_t len, unsigned mode,
                         cs_errbuf_t *eb) CS_MUST_CHECK;

#endif
