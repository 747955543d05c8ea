/* Finding and loading the CT log lists (see log_list_load.h). */
#include "log_list_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certskew/store/file_io.h"

#ifndef CS_DATA_DIR
#define CS_DATA_DIR "data"
#endif

static int readable(const char *path) { return access(path, R_OK) == 0; }

/* <directory of the running binary>/rel into buf; 0 if it fits and exists. */
static int beside_binary(const char *rel, char *buf, size_t n) {
  char exe[4096];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (len <= 0)
    return -1;
  exe[len] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash == NULL)
    return -1;
  *slash = '\0';
  int w = snprintf(buf, n, "%s/%s", exe, rel);
  return w > 0 && (size_t)w < n && readable(buf) ? 0 : -1;
}

const char *cs_log_list_default_path(char *buf, size_t n) {
  const char *env = getenv(CS_LOG_LIST_ENV);
  if (env != NULL && env[0] != '\0') {
    if (strcmp(env, "none") == 0)
      return NULL;
    snprintf(buf, n, "%s", env);
    return buf;
  }
  if (beside_binary("../share/certskew/log_list.json", buf, n) == 0)
    return buf;
  int w = snprintf(buf, n, "%s/log_list.json", CS_DATA_DIR);
  return w > 0 && (size_t)w < n && readable(buf) ? buf : NULL;
}

int cs_log_list_load(const char *cmd, const char *const *paths, size_t npaths,
                     cs_ct_log_list_t **out) {
  char def[4096];
  const char *one[1];
  uint8_t *bufs[CS_CT_LOGLIST_MAX_LISTS] = {0}; /* owned here */
  size_t lens[CS_CT_LOGLIST_MAX_LISTS] = {0};
  int err = 0;
  *out = NULL;
  if (npaths > CS_CT_LOGLIST_MAX_LISTS) {
    fprintf(stderr, "certskew %s: more than %d --log-list files\n", cmd, CS_CT_LOGLIST_MAX_LISTS);
    return CS_EINVAL;
  }
  if (npaths == 0) {
    if ((one[0] = cs_log_list_default_path(def, sizeof(def))) == NULL)
      return 0;
    paths = one;
    npaths = 1;
  }
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  for (size_t k = 0; k < npaths && err == 0; k++) {
    if ((err = cs_file_read(paths[k], CS_CT_LOGLIST_MAX_INPUT, &bufs[k], &lens[k], &eb)) != 0)
      fprintf(stderr, "certskew %s: --log-list %s: %s\n", cmd, paths[k],
              eb.msg[0] ? eb.msg : cs_strerror(err));
  }
  if (err == 0 &&
      (err = cs_ct_log_list_load_many(out, (const uint8_t *const *)bufs, lens, npaths, &eb)) != 0) {
    /* Name the file: "list #k: why" from the loader says which one. */
    int k = 1;
    if (npaths > 1 && sscanf(eb.msg, "list #%d:", &k) != 1)
      k = 1;
    const char *why = npaths > 1 && strchr(eb.msg, ':') ? strchr(eb.msg, ':') + 2 : eb.msg;
    fprintf(stderr, "certskew %s: --log-list %s: %s\n", cmd,
            paths[k >= 1 && (size_t)k <= npaths ? k - 1 : 0], eb.msg[0] ? why : cs_strerror(err));
  }
  /* The shipped list, not one asked for: the CT policy is judged only for
   * leaves that carry SCTs ($CERTSKEW_LOG_LIST counts as asked for). */
  if (err == 0 && paths == one && getenv(CS_LOG_LIST_ENV) == NULL)
    cs_ct_log_list_set_implicit(*out, 1);
  for (size_t k = 0; k < npaths; k++)
    free(bufs[k]);
  return err;
}
