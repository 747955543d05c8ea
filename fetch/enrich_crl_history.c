/*
 * CRL history for the enrichment (include/certskew/fetch/crl_history_store.h).
 * Called from the CRL fetch's completion on the loop: two small atomic
 * writes at most, only when the CRL changed.
 */
#include "certskew/fetch/crl_history_store.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mbedtls/sha256.h>

#include "certskew/revocation/crl.h"
#include "certskew/store/file_io.h"
#include "certskew/store/fs.h"

static size_t count_entries(const char *dir) {
  DIR *d = opendir(dir);
  size_t n = 0;
  if (d == NULL)
    return 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

/* Reads path into *out, or leaves *out NULL when it does not exist. */
static int read_opt(const char *path, uint8_t **out, size_t *len, cs_errbuf_t *eb) {
  struct stat st;
  *out = NULL;
  *len = 0;
  if (stat(path, &st) != 0)
    return 0;
  return cs_file_read(path, CS_CRL_MAX_INPUT, out, len, eb);
}

int cs_crl_history_record(const char *dir, const char *url, const uint8_t *der, size_t len,
                          uint8_t **prev, size_t *prev_len, cs_errbuf_t *eb) {
  if (prev == NULL || prev_len == NULL)
    return cs_errbuf_set(eb, CS_EINVAL, "CRL history: no output");
  *prev = NULL;
  *prev_len = 0;
  if (dir == NULL || url == NULL || der == NULL || len == 0 || len > CS_CRL_MAX_INPUT ||
      strlen(dir) > 3800)
    return cs_errbuf_set(eb, CS_EINVAL, "CRL history: bad arguments");
  uint8_t h[32];
  if (mbedtls_sha256_ret((const unsigned char *)url, strlen(url), h, 0) != 0)
    return cs_errbuf_set(eb, CS_ECRYPTO, "CRL history: SHA-256 failed");
  char sub[4000], path[4100];
  int n = snprintf(sub, sizeof(sub), "%s/", dir);
  for (size_t i = 0; i < 32; i++)
    n += snprintf(sub + n, sizeof(sub) - (size_t)n, "%02x", h[i]);
  struct stat st;
  int known = stat(sub, &st) == 0;
  if (!known && count_entries(dir) >= CS_CRL_HISTORY_MAX_URLS)
    return cs_errbuf_set(eb, CS_ENOSPACE, "CRL history: %d URLs kept already; %s is not",
                         CS_CRL_HISTORY_MAX_URLS, url);
  int err = cs_fs_mkdirs(sub, 0700, eb);
  uint8_t *cur = NULL;
  size_t cur_len = 0;
  snprintf(path, sizeof(path), "%s/cur.der", sub);
  if (err == 0)
    err = read_opt(path, &cur, &cur_len, eb);
  if (err != 0)
    return err;
  if (cur != NULL && cur_len == len && memcmp(cur, der, len) == 0) {
    free(cur); /* unchanged: compare with the fetch before */
    snprintf(path, sizeof(path), "%s/prev.der", sub);
    return read_opt(path, prev, prev_len, eb);
  }
  if (cur != NULL) {
    snprintf(path, sizeof(path), "%s/prev.der", sub);
    err = cs_file_write_atomic(path, cur, cur_len, 0600, eb);
  }
  snprintf(path, sizeof(path), "%s/cur.der", sub);
  if (err == 0)
    err = cs_file_write_atomic(path, der, len, 0600, eb);
  snprintf(path, sizeof(path), "%s/url", sub);
  if (err == 0 && (!known || stat(path, &st) != 0))
    err = cs_file_write_atomic(path, url, strlen(url), 0600, eb);
  if (err != 0) {
    free(cur);
    return err;
  }
  *prev = cur;
  *prev_len = cur_len;
  return 0;
}
