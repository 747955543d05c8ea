/* Static files with no path traversal (see static_files.h). */
#include "static_files.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "certskew/store/fs.h"

static const char *const TYPES[][2] = {
    {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"}, {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},   {".json", "application/json"},
    {".svg", "image/svg+xml"},             {".png", "image/png"},
    {".ico", "image/x-icon"},              {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},              {".map", "application/json"},
};

const char *cs_static_content_type(const char *name) {
  const char *dot = strrchr(name, '.');
  if (dot != NULL)
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
      if (strcasecmp(dot, TYPES[i][0]) == 0)
        return TYPES[i][1];
  return "application/octet-stream";
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int cs_static_clean_path(const char *path, char *out, size_t cap) {
  size_t o = 0;
  const char *p = path;
  while (*p == '/')
    p++;
  for (; *p != '\0' && *p != '?' && *p != '#'; p++) {
    char c = *p;
    if (c == '%') {
      int hi = hexval(p[1]), lo = hi >= 0 ? hexval(p[2]) : -1;
      if (hi < 0 || lo < 0)
        return CS_EINVAL;
      c = (char)(hi * 16 + lo);
      /* An encoded slash or NUL never names a file of ours. */
      if (c == '/' || c == '\0')
        return CS_EINVAL;
      p += 2;
    }
    if (c == '\\')
      return CS_EINVAL;
    if (o + 1 >= cap)
      return CS_ENOSPACE;
    out[o++] = c;
  }
  out[o] = '\0';
  /* Check every segment: ".." anywhere is refused, "." and "" are too. */
  const char *seg = out;
  while (*seg != '\0') {
    const char *end = strchr(seg, '/');
    size_t len = end != NULL ? (size_t)(end - seg) : strlen(seg);
    if (len == 0 || (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
      return CS_EINVAL;
    seg += len;
    if (*seg == '/')
      seg++;
  }
  return 0;
}

static const char FALLBACK[] =
    "<!doctype html><meta charset=utf-8><title>certskew</title>"
    "<h1>certskew proxy</h1><p>The web UI is not installed. The JSON API is at "
    "<a href=\"/api/captures\">/api/captures</a>.</p>\n";

int cs_static_serve(const char *web_dir, const char *path, cs_http_response_t *r) {
  char rel[1024];
  int rc = cs_static_clean_path(path, rel, sizeof rel);
  if (rc != 0)
    return cs_http_response_json_error(r, 400, "invalid path");
  int is_root = rel[0] == '\0';
  if (is_root)
    snprintf(rel, sizeof rel, "index.html");
  else if (strcmp(rel, "ca") == 0) /* the first-run page the start message names */
    snprintf(rel, sizeof rel, "ca.html");
  char full[PATH_MAX + 1100], real_dir[PATH_MAX], real_file[PATH_MAX];
  if (web_dir == NULL || realpath(web_dir, real_dir) == NULL)
    goto missing;
  snprintf(full, sizeof full, "%s/%s", real_dir, rel);
  /* The resolved file must stay inside the web directory. */
  if (realpath(full, real_file) == NULL)
    goto missing;
  size_t dl = strlen(real_dir);
  if (strncmp(real_file, real_dir, dl) != 0 || real_file[dl] != '/')
    return cs_http_response_json_error(r, 400, "invalid path");
  char *body = NULL;
  size_t len = 0;
  rc = cs_fs_read_file(real_file, CS_STATIC_MAX_FILE, &body, &len);
  if (rc == CS_ENOMEM)
    return rc;
  if (rc != 0)
    goto missing;
  cs_http_response_adopt(r, 200, cs_static_content_type(real_file), body, len);
  return 0;
missing:
  if (is_root)
    return cs_http_response_set(r, 200, "text/html; charset=utf-8", FALLBACK,
                                sizeof FALLBACK - 1);
  return cs_http_response_json_error(r, 404, "not found");
}
