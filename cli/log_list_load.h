/*
 * The CT log list the analyzing commands and the proxy verify SCTs with:
 * the files named by --log-list (repeatable, merged by log id), or, without
 * any, the snapshot of Chrome's list that certskew ships (data/log_list.json,
 * installed as share/certskew/log_list.json). File reading lives here; the CT
 * analyzer only parses bytes.
 */
#ifndef CERTSKEW_CLI_LOG_LIST_LOAD_H
#define CERTSKEW_CLI_LOG_LIST_LOAD_H

#include <stddef.h>

#include "certskew/ct/ct.h"

/* Overrides where the default list is looked for; "none" means no default. */
#define CS_LOG_LIST_ENV "CERTSKEW_LOG_LIST"

/* The path of the default list, found in this order: $CERTSKEW_LOG_LIST
 * (NULL if it is "none"), the running binary's ../share/certskew/log_list.json
 * (an install), the source tree's data/log_list.json (a build tree). Writes
 * it to buf (size n) and returns buf, or NULL if there is none. */
const char *cs_log_list_default_path(char *buf, size_t n);

/* Loads and merges paths[0..npaths) (each a Chrome v3 list), or with
 * npaths == 0 the default list if there is one (*out stays NULL if not: CT
 * is then reported as not checked). Prints "certskew CMD: --log-list PATH:
 * why" on failure. *out is owned by the caller (cs_ct_log_list_free).
 * Returns 0, or CS_EIO / CS_EPARSE / ... as the file reader and
 * cs_ct_log_list_load_many do. */
int cs_log_list_load(const char *cmd, const char *const *paths, size_t npaths,
                     cs_ct_log_list_t **out);

#endif
