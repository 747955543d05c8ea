/* Static files of the web UI, served by the proxy at "/" (see web/). */
#ifndef CERTSKEW_PROXY_STATIC_FILES_H
#define CERTSKEW_PROXY_STATIC_FILES_H

#include "certskew/core/error.h"
#include "certskew/net/http_response.h"

#define CS_STATIC_MAX_FILE (16u * 1024 * 1024)

/* Maps a request path ("/", "/app.js?v=1", percent-encoded) to a file under
 * web_dir and fills r: 200 with the file and its content type, 404 when
 * absent, 400 for paths that try to leave web_dir (".." segments, NUL,
 * backslashes, encoded slashes). "/" serves index.html, or when there is
 * none a short built-in page. Symlinks leading outside web_dir are refused.
 * Returns 0 or CS_ENOMEM. */
int cs_static_serve(const char *web_dir, const char *path, cs_http_response_t *r) CS_MUST_CHECK;
/* Content type for a file name by extension; "application/octet-stream"
 * when unknown. */
const char *cs_static_content_type(const char *name);
/* Decodes and checks a request path into out (relative, no leading '/').
 * CS_EINVAL for traversal or malformed escapes, CS_ENOSPACE if too long. */
int cs_static_clean_path(const char *path, char *out, size_t cap) CS_MUST_CHECK;

#endif
