/* Trust store files into cs_trust_store_t (include/certskew/store/trust_store_load.h). */
#include "certskew/store/trust_store_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads at most CS_TRUST_STORE_MAX_INPUT + 1 bytes so an oversized file is
 * detected without reading it all. *buf is owned by the caller. */
static int read_file(const char *path, uint8_t **buf, size_t *len, cs_errbuf_t *eb) {
  *buf = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return cs_errbuf_set(eb, CS_EIO, "%s: %s", path, strerror(errno));
  size_t cap = 64 * 1024, used = 0;
  uint8_t *data = malloc(cap); /* grows below; returned to the caller */
  int err = data == NULL ? CS_ENOMEM : 0;
  while (err == 0) {
    if (used == cap) {
      if (cap > CS_TRUST_STORE_MAX_INPUT) {
        err = cs_errbuf_set(eb, CS_ETOOBIG, "%s: larger than %u bytes", path,
                            CS_TRUST_STORE_MAX_INPUT);
        break;
      }
      uint8_t *grown = realloc(data, cap * 2);
      if (grown == NULL) {
        err = CS_ENOMEM;
        break;
      }
      data = grown;
      cap *= 2;
    }
    size_t n = fread(data + used, 1, cap - used, f);
    used += n;
    if (n == 0) {
      if (ferror(f))
        err = cs_errbuf_set(eb, CS_EIO, "%s: read error", path);
      break;
    }
  }
  fclose(f);
  if (err == 0 && used > CS_TRUST_STORE_MAX_INPUT)
    err = cs_errbuf_set(eb, CS_ETOOBIG, "%s: larger than %u bytes", path,
                        CS_TRUST_STORE_MAX_INPUT);
  if (err != 0) {
    free(data);
    return err;
  }
  *buf = data;
  *len = used;
  return 0;
}

int cs_trust_store_load_file(cs_trust_store_t **out, const char *path, size_t *skipped,
                             cs_errbuf_t *eb) {
  *out = NULL;
  if (skipped != NULL)
    *skipped = 0;
  const char *file = path != NULL ? path : CS_TRUST_SYSTEM_BUNDLE;
  uint8_t *buf = NULL;
  size_t len = 0;
  cs_trust_store_t *store = NULL;
  int err = read_file(file, &buf, &len, eb);
  if (err == 0)
    err = cs_trust_store_new(&store, path != NULL ? path : "system");
  if (err == 0)
    err = cs_trust_store_add(store, buf, len, NULL, skipped, eb);
  if (err != 0 && eb != NULL && strstr(eb->msg, file) == NULL) {
    char detail[sizeof(eb->msg)];
    memcpy(detail, eb->msg, sizeof(detail));
    cs_errbuf_set(eb, err, "%s: %s", file, detail);
  }
  free(buf);
  if (err != 0) {
    cs_trust_store_free(store);
    return err;
  }
  *out = store;
  return 0;
}
