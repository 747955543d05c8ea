/* Whole-file reads with limits, and atomic writes (see file_io.h). */
#include "certskew/store/file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cs_file_read(const char *path, size_t max_len, uint8_t **out, size_t *len, cs_errbuf_t *eb) {
  *out = NULL;
  *len = 0;
  int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cs_errbuf_set(eb, CS_EIO, "%s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    return cs_errbuf_set(eb, CS_EIO, "%s: is a directory", path);
  }
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max_len) {
    if (fd != STDIN_FILENO)
      close(fd);
    return cs_errbuf_set(eb, CS_ETOOBIG, "%s: %jd bytes; the limit is %zu", path,
                         (intmax_t)st.st_size, max_len);
  }
  size_t cap = 64 * 1024, used = 0;
  uint8_t *buf = malloc(cap + 1); /* owned; handed to the caller on success */
  int err = 0;
  if (buf == NULL) {
    err = CS_ENOMEM;
    goto done;
  }
  for (;;) {
    if (used == cap) {
      if (cap > max_len) {
        err = cs_errbuf_set(eb, CS_ETOOBIG, "%s: larger than the limit of %zu bytes", path, max_len);
        goto done;
      }
      cap *= 2;
      uint8_t *bigger = realloc(buf, cap + 1);
      if (bigger == NULL) {
        err = CS_ENOMEM;
        goto done;
      }
      buf = bigger;
    }
    ssize_t n = read(fd, buf + used, cap - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      err = cs_errbuf_set(eb, CS_EIO, "%s: %s", path, strerror(errno));
      goto done;
    }
    if (n == 0)
      break;
    used += (size_t)n;
    if (used > max_len) {
      err = cs_errbuf_set(eb, CS_ETOOBIG, "%s: larger than the limit of %zu bytes", path, max_len);
      goto done;
    }
  }
  buf[used] = '\0';
  *out = buf;
  *len = used;
  buf = NULL;
done:
  free(buf);
  if (fd != STDIN_FILENO)
    close(fd);
  return err;
}

int cs_file_write_atomic(const char *path, const void *buf, size_t len, unsigned mode,
                         cs_errbuf_t *eb) {
  char tmp[4096];
  int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
  if (n < 0 || (size_t)n >= sizeof(tmp))
    return cs_errbuf_set(eb, CS_EINVAL, "path too long: %s", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
  if (fd < 0)
    return cs_errbuf_set(eb, CS_EIO, "%s: %s", tmp, strerror(errno));
  const uint8_t *p = buf;
  size_t left = len;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      int saved = errno;
      close(fd);
      unlink(tmp);
      return cs_errbuf_set(eb, CS_EIO, "%s: %s", tmp, strerror(saved));
    }
    p += w;
    left -= (size_t)w;
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    int saved = errno;
    unlink(tmp);
    return cs_errbuf_set(eb, CS_EIO, "%s: %s", tmp, strerror(saved));
  }
  if (rename(tmp, path) != 0) {
    int saved = errno;
    unlink(tmp);
    return cs_errbuf_set(eb, CS_EIO, "%s: %s", path, strerror(saved));
  }
  return 0;
}
