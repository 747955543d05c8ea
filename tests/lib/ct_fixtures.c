/* Test helpers for the CT tests (ct_fixtures.h). */
#include "ct_fixtures.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/pem.h>
#include <mbedtls/sha256.h>

extern char **environ;

/* Deterministic "entropy": SHA-256(label || counter). */
static int label_entropy(void *p, unsigned char *out, size_t len) {
  ct_rng_t *r = p;
  while (len > 0) {
    uint8_t block[64 + 4], digest[32];
    size_t ll = strlen(r->label);
    memcpy(block, r->label, ll);
    memcpy(block + ll, &r->counter, 4);
    r->counter++;
    (void)mbedtls_sha256_ret(block, ll + 4, digest, 0);
    size_t n = len < 32 ? len : 32;
    memcpy(out, digest, n);
    out += n;
    len -= n;
  }
  return 0;
}

int ct_rng_init(ct_rng_t *r, const char *label) {
  memset(r, 0, sizeof(*r));
  snprintf(r->label, sizeof(r->label), "%s", label);
  mbedtls_ctr_drbg_init(&r->drbg);
  return mbedtls_ctr_drbg_seed(&r->drbg, label_entropy, r, (const unsigned char *)"certskew-ct",
                               11) == 0
             ? 0
             : -1;
}

void ct_rng_free(ct_rng_t *r) { mbedtls_ctr_drbg_free(&r->drbg); }

int ct_rng(void *p_rng, unsigned char *out, size_t len) {
  return mbedtls_ctr_drbg_random(&((ct_rng_t *)p_rng)->drbg, out, len);
}





int ct_world_init(ct_world_t *w, const char *label, const char *root_name,
                  const ct_world_log_t *logs, size_t nlogs, int64_t logs_age_ms) {
  memset(w, 0, sizeof(*w));
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  w->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  cs_lab_ct_ca_init(&w->ca);
  for (size_t i = 0; i < CT_WORLD_MAX_LOGS; i++)
    cs_lab_ct_log_init(&w->logs[i]);
  if (nlogs > CT_WORLD_MAX_LOGS || ct_rng_init(&w->rng, label) != 0 ||
      cs_fx_tempdir(w->dir, sizeof(w->dir)) != 0 ||
      cs_lab_ct_ca_generate(&w->ca, root_name, w->now_ms, ct_rng, &w->rng) != 0)
    return -1;
  for (; w->nlogs < nlogs; w->nlogs++)
    if (cs_lab_ct_log_generate(&w->logs[w->nlogs], logs[w->nlogs].alg, logs[w->nlogs].name,
                               logs[w->nlogs].op, w->now_ms - logs_age_ms, ct_rng, &w->rng) != 0)
      return -1;
  return 0;
}

void ct_world_free(ct_world_t *w) {
  for (size_t i = 0; i < CT_WORLD_MAX_LOGS; i++)
    cs_lab_ct_log_free(&w->logs[i]);
  cs_lab_ct_ca_free(&w->ca);
  ct_rng_free(&w->rng);
  if (w->dir[0] != '\0')
    cs_fx_rmdir(w->dir);
  w->dir[0] = '\0';
}

int ct_write_pems(const char *dir, const char *name, const uint8_t *a, size_t la, const uint8_t *b,
                  size_t lb, char *path) {
  char *pa = NULL, *pb = NULL, *both = NULL;
  int rc = -1;
  if (cs_lab_ct_cert_pem(a, la, &pa) == 0 && (b == NULL || cs_lab_ct_cert_pem(b, lb, &pb) == 0) &&
      (both = malloc(strlen(pa) + (pb ? strlen(pb) : 0) + 1)) != NULL) {
    strcpy(both, pa);
    if (pb != NULL)
      strcat(both, pb);
    rc = cs_fx_write(dir, name, both, strlen(both), path);
  }
  free(pa);
  free(pb);
  free(both);
  return rc;
}

int ct_tls_sct_list(ct_world_t *w, uint32_t mask, const uint8_t *cert_der, size_t cert_len,
                    uint8_t **list, size_t *list_len) {
  uint8_t *scts[CT_WORLD_MAX_LOGS] = {0};
  size_t lens[CT_WORLD_MAX_LOGS] = {0}, n = 0;
  int err = 0;
  for (size_t i = 0; i < w->nlogs && err == 0; i++)
    if (mask & (1u << i)) {
      err = cs_lab_ct_sct_sign(&w->logs[i], CS_CT_ENTRY_X509, w->now_ms - 60000, NULL, cert_der,
                               cert_len, ct_rng, &w->rng, &scts[n], &lens[n]);
      n++;
    }
  if (err == 0)
    err = cs_lab_ct_sct_list((const uint8_t *const *)scts, lens, n, list, list_len);
  for (size_t i = 0; i < n; i++)
    free(scts[i]);
  return err;
}

int ct_write_serverinfo(const char *dir, const uint8_t *list, size_t len, char *path) {
  static uint8_t ext[8 + 65536];
  static unsigned char pem[90000];
  size_t olen = 0;
  if (len > 65535)
    return -1;
  /* Version 2 with an explicit context: OpenSSL gives version-1 data a
   * TLS 1.2-only context, so a TLS 1.3 handshake would carry no SCTs.
   * ClientHello (0x0080: sent only if asked) | TLS 1.2 ServerHello (0x0100)
   * | TLS 1.3 leaf CertificateEntry (0x1000). */
  const uint8_t hdr[8] = {0, 0, 0x11, 0x80, 0, 18, (uint8_t)(len >> 8), (uint8_t)len};
  memcpy(ext, hdr, sizeof(hdr));
  memcpy(ext + 8, list, len);
  if (mbedtls_pem_write_buffer("-----BEGIN SERVERINFOV2 FOR CT-----\n",
                               "-----END SERVERINFOV2 FOR CT-----\n", ext, len + 8, pem,
                               sizeof(pem), &olen) != 0)
    return -1;
  return cs_fx_write(dir, "serverinfo.pem", pem, strlen((char *)pem), path);
}

const char *ct_src_dir(void) {
  const char *d = getenv("CS_SRC");
  return d && d[0] ? d : ".";
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Spawns argv with stdout+stderr to a new pipe (*out_fd) and stdin from
 * *in_fd's pipe (or /dev/null if in_fd is NULL). */
static int spawn(char *const argv[], pid_t *pid, int *out_fd, int *in_fd) {
  int out[2], in[2] = {-1, -1};
  posix_spawn_file_actions_t fa;
  if (pipe(out) != 0)
    return -1;
  if (in_fd != NULL && pipe(in) != 0) {
    close(out[0]);
    close(out[1]);
    return -1;
  }
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  if (in_fd != NULL) {
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_addclose(&fa, in[1]);
  } else {
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  }
  int rc = posix_spawnp(pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  if (in_fd != NULL)
    close(in[0]);
  if (rc != 0) {
    close(out[0]);
    if (in_fd != NULL)
      close(in[1]);
    return -1;
  }
  *out_fd = out[0];
  if (in_fd != NULL)
    *in_fd = in[1];
  return 0;
}

/* Reads from fd into buf until stop appears (if non-NULL), EOF, or the
 * deadline. Returns bytes read. */
static size_t read_until(int fd, char *buf, size_t cap, const char *stop, int64_t deadline_ms) {
  size_t n = 0;
  buf[0] = '\0';
  while (n + 1 < cap) {
    int64_t left = deadline_ms - mono_ms();
    if (left <= 0)
      break;
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, (int)left);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    ssize_t got = read(fd, buf + n, cap - 1 - n);
    if (got <= 0)
      break;
    n += (size_t)got;
    buf[n] = '\0';
    if (stop != NULL && strstr(buf, stop) != NULL && strchr(strstr(buf, stop), '\n') != NULL)
      break;
  }
  return n;
}

static int count(const char *hay, const char *needle) {
  int c = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
    c++;
  return c;
}

static void parse_client(const char *out, ct_openssl_verdict_t *v) {
  const char *p = strstr(out, "SCTs present (");
  v->handshake_ok = strstr(out, "Verify return code: 0 (ok)") != NULL;
  v->present = p ? atoi(p + strlen("SCTs present (")) : 0;
  v->valid = count(out, "SCT validation status: valid\n");
  v->invalid = count(out, "SCT validation status: invalid\n");
  v->unknown_log = count(out, "SCT validation status: unknown log\n");
  v->other = count(out, "SCT validation status: ") - v->valid - v->invalid - v->unknown_log;
}

static void reap(pid_t pid) {
  int st;
  for (int i = 0; i < 50; i++) {
    if (waitpid(pid, &st, WNOHANG) == pid)
      return;
    if (i == 10) /* 200 ms grace, then ask it to stop */
      kill(pid, SIGTERM);
    usleep(20000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &st, 0);
}

int ct_openssl_sct_check(const char *dir, const char *cert_pem, const char *key_pem,
                         const char *ca_pem, const char *ctlog, const char *serverinfo_pem,
                         ct_openssl_verdict_t *v) {
  static char buf[65536];
  char port_arg[64];
  pid_t srv, cli;
  int srv_out, srv_in, cli_out;
  (void)dir;
  memset(v, 0, sizeof(*v));
  char *sargv[16] = {"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", (char *)cert_pem,
                     "-key", (char *)key_pem, "-naccept", "1", NULL};
  if (serverinfo_pem != NULL) {
    sargv[10] = "-serverinfo";
    sargv[11] = (char *)serverinfo_pem;
    sargv[12] = NULL;
  }
  if (spawn(sargv, &srv, &srv_out, &srv_in) != 0)
    return -1;
  int64_t deadline = mono_ms() + 20000;
  read_until(srv_out, buf, sizeof(buf), "ACCEPT 127.0.0.1:", deadline);
  const char *acc = strstr(buf, "ACCEPT 127.0.0.1:");
  if (acc == NULL) {
    fprintf(stderr, "openssl s_server did not start:\n%s\n", buf);
    close(srv_in);
    close(srv_out);
    reap(srv);
    return -1;
  }
  snprintf(port_arg, sizeof(port_arg), "127.0.0.1:%d", atoi(acc + strlen("ACCEPT 127.0.0.1:")));
  char *cargv[16] = {"openssl", "s_client", "-connect", port_arg, "-ct", "-ctlogfile",
                     (char *)ctlog, "-CAfile", (char *)ca_pem, NULL};
  if (serverinfo_pem != NULL)
    cargv[9] = "-tls1_2";
  int rc = spawn(cargv, &cli, &cli_out, NULL);
  if (rc == 0) {
    read_until(cli_out, buf, sizeof(buf), NULL, deadline);
    close(cli_out);
    reap(cli);
    parse_client(buf, v);
    if (!v->handshake_ok)
      fprintf(stderr, "openssl s_client output:\n%s\n", buf);
  }
  close(srv_in);
  close(srv_out);
  reap(srv);
  return rc;
}
