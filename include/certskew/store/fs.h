/* Small file helpers for the proxy's on-disk state (CA, capture store). */
#ifndef CERTSKEW_STORE_FS_H
#define CERTSKEW_STORE_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "certskew/core/error.h"

/* Writes data to path atomically: a temp file in the same directory with
 * the given mode, fsync, rename. Never follows a symlink at path (rename
 * replaces the link itself). CS_EIO (or CS_ENOSPACE when the disk is full)
 * with a detail in eb. */
int cs_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                       cs_errbuf_t *eb) CS_MUST_CHECK;
/* Reads a regular file (not a symlink) of at most max bytes into a new
 * NUL-terminated buffer (*out, caller frees). CS_ENOTFOUND, CS_ETOOBIG, CS_EIO. */
int cs_fs_read_file(const char *path, size_t max, char **out, size_t *len) CS_MUST_CHECK;
/* mkdir -p with mode for created directories. An existing symlink anywhere
 * in what we create is refused (CS_EIO). */
int cs_fs_mkdirs(const char *path, mode_t mode, cs_errbuf_t *eb) CS_MUST_CHECK;
/* Removes the regular files in dir (one level, no recursion, symlinks
 * unlinked, never followed) and dir itself. */
int cs_fs_remove_dir(const char *dir) CS_MUST_CHECK;
/* The current wall-clock time in ms since the epoch (the one place the
 * proxy reads the system clock). */
int64_t cs_fs_now_ms(void);

#endif
