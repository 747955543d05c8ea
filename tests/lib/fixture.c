/* Fixture helpers (see fixture.h). */
#include "fixture.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "certskew/core/time.h"
#include "certskew/store/file_io.h"

int cs_fx_tempdir(char *out, size_t cap) {
  const char *base = getenv("TMPDIR");
  snprintf(out, cap, "%s/certskew-test-XXXXXX", base && *base ? base : "/tmp");
  return mkdtemp(out) ? 0 : -1;
}

int cs_fx_run(const char *fmt, ...) {
  char cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof(cmd))
    return -1;
  int st = system(cmd);
  if (st == -1 || !WIFEXITED(st))
    return -1;
  return WEXITSTATUS(st);
}

void cs_fx_rmdir(const char *dir) {
  if (strstr(dir, "certskew-test-") != NULL)
    (void)cs_fx_run("rm -rf '%s'", dir);
}

int cs_fx_mkchain(const char *dir, const char *const *settings) {
  const char *src = getenv("CS_SRC");
  char cmd[6144];
  int n = snprintf(cmd, sizeof(cmd), "bash '%s/tests/lib/mkchain.sh' '%s'", src ? src : ".", dir);
  for (size_t i = 0; settings && settings[i] && n > 0 && (size_t)n < sizeof(cmd); i++)
    n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " '%s'", settings[i]);
  if (n < 0 || (size_t)n >= sizeof(cmd))
    return -1;
  return cs_fx_run("%s", cmd);
}

const char *cs_fx_gentime(int64_t ms, char out[24]) {
  cs_civil_t c;
  cs_time_to_civil(ms, &c);
  snprintf(out, 24, "%04d%02d%02d%02d%02d%02dZ", (int)c.year, c.month, c.day, c.hour, c.minute,
           c.second);
  return out;
}

static size_t put_u16(uint8_t *p, size_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
  return 2;
}

int cs_fx_sct_ext_hex(const int64_t *ts_ms, size_t n, char *hex, size_t cap) {
  static const uint8_t sig[] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};
  uint8_t buf[4096];
  size_t sct_len = 1 + 32 + 8 + 2 + 2 + 2 + sizeof(sig);
  size_t list_len = n * (2 + sct_len);
  size_t p = 0;
  if (n == 0 || list_len + 2 + 4 > sizeof(buf) || list_len + 2 > 0xffff)
    return -1;
  /* DER OCTET STRING header, short or long form. */
  size_t inner = list_len + 2;
  buf[p++] = 0x04;
  if (inner < 128) {
    buf[p++] = (uint8_t)inner;
  } else if (inner < 256) {
    buf[p++] = 0x81;
    buf[p++] = (uint8_t)inner;
  } else {
    buf[p++] = 0x82;
    p += put_u16(buf + p, inner);
  }
  p += put_u16(buf + p, list_len);
  for (size_t i = 0; i < n; i++) {
    p += put_u16(buf + p, sct_len);
    buf[p++] = 0; /* v1 */
    memset(buf + p, (int)(0x11 * (i + 1)), 32);
    p += 32;
    uint64_t t = (uint64_t)ts_ms[i];
    for (int b = 7; b >= 0; b--)
      buf[p++] = (uint8_t)(t >> (8 * b));
    p += put_u16(buf + p, 0); /* no extensions */
    buf[p++] = 4;             /* sha256 */
    buf[p++] = 3;             /* ecdsa */
    p += put_u16(buf + p, sizeof(sig));
    memcpy(buf + p, sig, sizeof(sig));
    p += sizeof(sig);
  }
  if (2 * p + 1 > cap)
    return -1;
  for (size_t i = 0; i < p; i++)
    snprintf(hex + 2 * i, 3, "%02x", buf[i]);
  return 0;
}

int cs_fx_load_chain(const char *path, cs_chain_t **out, cs_errbuf_t *eb) {
  uint8_t *buf;
  size_t len;
  int err = cs_file_read(path, CS_CHAIN_MAX_INPUT, &buf, &len, eb);
  if (err != 0)
    return err;
  err = cs_chain_load(out, buf, len, eb);
  free(buf);
  return err;
}

int cs_fx_write(const char *dir, const char *name, const void *buf, size_t len, char *path_out) {
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  if (path_out != NULL)
    memcpy(path_out, path, sizeof(path));
  FILE *f = fopen(path, "wb");
  if (f == NULL)
    return -1;
  size_t w = fwrite(buf, 1, len, f);
  return fclose(f) == 0 && w == len ? 0 : -1;
}
