/* File helpers (see include/certskew/store/fs.h). */
#include "certskew/store/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int io_error(cs_errbuf_t *eb, const char *what, const char *path, int err) {
  int code = (err == ENOSPC || err == EDQUOT) ? CS_ENOSPACE : CS_EIO;
  return cs_errbuf_set(eb, code, "%s %s: %s", what, path, strerror(err));
}

int cs_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                       cs_errbuf_t *eb) {
  char tmp[4096];
  int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  if (n < 0 || (size_t)n >= sizeof tmp)
    return cs_errbuf_set(eb, CS_EINVAL, "path too long: %s", path);
  int rc = 0;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0)
    return io_error(eb, "cannot create", tmp, errno);
  const unsigned char *p = data;
  size_t left = len;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      rc = io_error(eb, "cannot write", tmp, w < 0 ? errno : EIO);
      goto out;
    }
    p += w;
    left -= (size_t)w;
  }
  /* open() applies the umask; the key file must be exactly mode. */
  if (fchmod(fd, mode) != 0 || fsync(fd) != 0) {
    rc = io_error(eb, "cannot sync", tmp, errno);
    goto out;
  }
  if (close(fd) != 0) {
    fd = -1;
    rc = io_error(eb, "cannot close", tmp, errno);
    goto out;
  }
  fd = -1;
  if (rename(tmp, path) != 0)
    rc = io_error(eb, "cannot rename to", path, errno);
out:
  if (fd >= 0)
    close(fd);
  if (rc != 0)
    unlink(tmp);
  return rc;
}

int cs_fs_read_file(const char *path, size_t max, char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? CS_ENOTFOUND : CS_EIO;
  int rc = 0;
  char *buf = NULL;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = CS_EIO;
    goto out;
  }
  if ((uint64_t)st.st_size > max) {
    rc = CS_ETOOBIG;
    goto out;
  }
  size_t size = (size_t)st.st_size;
  buf = malloc(size + 1); /* owned by the caller on success */
  if (buf == NULL) {
    rc = CS_ENOMEM;
    goto out;
  }
  size_t got = 0;
  while (got < size) {
    ssize_t r = read(fd, buf + got, size - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  buf[got] = '\0';
  *out = buf;
  *len = got;
  buf = NULL;
out:
  free(buf);
  close(fd);
  return rc;
}

int cs_fs_mkdirs(const char *path, mode_t mode, cs_errbuf_t *eb) {
  char tmp[4096];
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof tmp)
    return cs_errbuf_set(eb, CS_EINVAL, "bad directory path");
  memcpy(tmp, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (tmp[i] != '/' && tmp[i] != '\0')
      continue;
    char saved = tmp[i];
    tmp[i] = '\0';
    struct stat st;
    if (lstat(tmp, &st) == 0) {
      if (!S_ISDIR(st.st_mode) && i == n)
        return cs_errbuf_set(eb, CS_EIO, "%s exists and is not a directory", tmp);
    } else if (mkdir(tmp, mode) != 0 && errno != EEXIST) {
      return io_error(eb, "cannot create directory", tmp, errno);
    }
    tmp[i] = saved;
  }
  /* The leaf directory we store into must be a real directory, not a link. */
  struct stat st;
  if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
    return cs_errbuf_set(eb, CS_EIO, "%s is not a directory (symlinks are refused)", path);
  return 0;
}

int cs_fs_remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : CS_EIO;
  struct dirent *e;
  char p[4096];
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    int n = snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    if (n > 0 && (size_t)n < sizeof p)
      unlink(p); /* unlink never follows a symlink */
  }
  closedir(d);
  return rmdir(dir) == 0 ? 0 : CS_EIO;
}

int64_t cs_fs_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
