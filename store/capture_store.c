/*
 * The capture store (see certskew/store/capture.h). The index lives in memory;
 * disk holds one directory per capture. Files are written through
 * cs_fs_write_atomic, so a reader never sees a half-written report.
 */
#include "certskew/store/capture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "certskew/core/chain.h"
#include "certskew/core/time.h"
#include "certskew/store/fs.h"

#define META_FLUSH_MS (5 * CS_MS_PER_SECOND)
#define ERROR_RING 64
#define FILE_MAX (8u * 1024 * 1024)
#define FIELD 256
/* An incomplete capture directory older than this has no writer left. */
#define STALE_DIR_S 60
/* Chains of one host:port kept whatever their age: the current one and the
 * two it replaced, so a rotation and what came before it stay visible. */
#define KEEP_PER_HOST 3

typedef struct entry {
  char id[CS_CAPTURE_ID_MAX];
  char host[FIELD];
  int port;
  char sni[FIELD];
  char upstream[80];
  char tls_version[32];
  char cipher[100];
  char fp_hex[65];
  int worst;
  int64_t first_seen_ms;
  int64_t last_seen_ms;
  uint64_t seen_count;
  int64_t leaf_not_after_ms; /* the served leaf's notAfter; CS_TIME_POS_INF: unknown */
  int dirty;
  int64_t flushed_ms;
  int64_t report_ms;       /* when report.json was last written */
  long nsightings;         /* lines in sightings.jsonl, -1 until counted */
  char verdict_key[CS_CAPTURE_KEY_MAX]; /* what the report was judged to (memory only) */
} entry_t;

typedef struct upstream_error {
  char host[FIELD];
  int port;
  char code[48];
  char message[256];
  int64_t at_ms;
} upstream_error_t;

struct cs_capture_store {
  char dir[4096];
  entry_t *entries; /* owned array */
  size_t n, cap, max;
  upstream_error_t errors[ERROR_RING];
  size_t nerrors, error_head;
  char store_error[300];   /* the last write error, kept after recovery */
  int64_t store_error_ms;   /* when it happened */
  int store_error_now;      /* 1 until a new capture is written again */
  uint64_t failed_writes;   /* captures not stored because a write failed */
};

static void copy_field(char *dst, size_t cap, const char *src) {
  snprintf(dst, cap, "%s", src != NULL ? src : "");
}

static void make_id(char id[CS_CAPTURE_ID_MAX], const char *host, int port, const char *fp_hex) {
  char clean[FIELD];
  size_t j = 0;
  for (size_t i = 0; host[i] != '\0' && j < sizeof clean - 1; i++) {
    char c = host[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    clean[j++] = ok ? c : '_';
  }
  clean[j] = '\0';
  /* A host of dots only would make a "." or ".." path component. */
  if (clean[0] == '.')
    clean[0] = '_';
  snprintf(id, CS_CAPTURE_ID_MAX, "%s_%d_%.16s", clean, port, fp_hex);
}

static int entry_path(const cs_capture_store_t *s, const entry_t *e, const char *file, char *buf,
                      size_t cap) {
  int n = file != NULL ? snprintf(buf, cap, "%s/%s/%s", s->dir, e->id, file)
                       : snprintf(buf, cap, "%s/%s", s->dir, e->id);
  return (n < 0 || (size_t)n >= cap) ? CS_EINVAL : 0;
}

static cJSON *entry_json(const entry_t *e) {
  char first[CS_TIME_STRLEN], last[CS_TIME_STRLEN];
  cs_time_format(e->first_seen_ms, first);
  cs_time_format(e->last_seen_ms, last);
  static const char *sev[] = {"info", "warning", "error"};
  cJSON *o = cJSON_CreateObject();
  if (o == NULL)
    return NULL;
  cJSON_AddStringToObject(o, "id", e->id);
  cJSON_AddStringToObject(o, "host", e->host);
  cJSON_AddNumberToObject(o, "port", e->port);
  cJSON_AddStringToObject(o, "sni", e->sni);
  cJSON_AddStringToObject(o, "upstream", e->upstream);
  cJSON_AddStringToObject(o, "tls_version", e->tls_version);
  cJSON_AddStringToObject(o, "cipher", e->cipher);
  cJSON_AddStringToObject(o, "chain_sha256", e->fp_hex);
  if (e->worst >= 0 && e->worst <= 2)
    cJSON_AddStringToObject(o, "worst", sev[e->worst]);
  else
    cJSON_AddNullToObject(o, "worst");
  cJSON_AddStringToObject(o, "first_seen", first);
  cJSON_AddStringToObject(o, "last_seen", last);
  cJSON_AddNumberToObject(o, "first_seen_ms", (double)e->first_seen_ms);
  cJSON_AddNumberToObject(o, "last_seen_ms", (double)e->last_seen_ms);
  cJSON_AddNumberToObject(o, "seen_count", (double)e->seen_count);
  cJSON_AddNumberToObject(o, "report_ms", (double)e->report_ms);
  if (e->leaf_not_after_ms != CS_TIME_POS_INF)
    cJSON_AddNumberToObject(o, "leaf_not_after_ms", (double)e->leaf_not_after_ms);
  return o;
}

static void remember_error(cs_capture_store_t *s, const cs_errbuf_t *eb, int rc) {
  snprintf(s->store_error, sizeof s->store_error, "%s", eb->msg[0] ? eb->msg : cs_strerror(rc));
  s->store_error_ms = cs_fs_now_ms();
  s->store_error_now = 1;
}

static int write_meta(cs_capture_store_t *s, entry_t *e, int64_t now_ms, cs_errbuf_t *eb) {
  char path[4400];
  if (entry_path(s, e, "meta.json", path, sizeof path) != 0)
    return CS_EINVAL;
  cJSON *o = entry_json(e);
  char *text = o != NULL ? cJSON_Print(o) : NULL; /* owned here */
  cJSON_Delete(o);
  if (text == NULL)
    return CS_ENOMEM;
  int rc = cs_fs_write_atomic(path, text, strlen(text), 0644, eb);
  free(text);
  if (rc == 0) {
    e->dirty = 0;
    e->flushed_ms = now_ms;
  } else {
    remember_error(s, eb, rc);
  }
  return rc;
}

/* Numbers read from disk are checked before any conversion: a hand-edited
 * or corrupt meta.json must not reach a double-to-integer conversion out of
 * range (undefined behaviour). */
#define TIME_MAX_MS INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */
#define SEEN_MAX 9007199254740992.0          /* 2^53: exact in a double */

/* An integral number in [lo, hi] (both exactly representable), else CS_EPARSE. */
static int int_field(const cJSON *o, const char *key, double lo, double hi, double *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!cJSON_IsNumber(v))
    return CS_EPARSE;
  double d = v->valuedouble;
  /* NaN fails every comparison; infinities fail the range. */
  if (!(d >= lo && d <= hi) || d != (double)(int64_t)d)
    return CS_EPARSE;
  *out = d;
  return 0;
}

static int parse_time_field(const cJSON *o, const char *key, int64_t *out) {
  double d = 0;
  if (int_field(o, key, 0, (double)TIME_MAX_MS, &d) != 0)
    return CS_EPARSE;
  *out = (int64_t)d;
  return 0;
}

static const char *str_field(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : "";
}

static int grow(cs_capture_store_t *s) {
  if (s->n < s->cap)
    return 0;
  size_t cap = s->cap ? s->cap * 2 : 16;
  entry_t *p = realloc(s->entries, cap * sizeof *p);
  if (p == NULL)
    return CS_ENOMEM;
  s->entries = p;
  s->cap = cap;
  return 0;
}

/*
 * Crash safety. Every file is written to "NAME.tmp.PID" and renamed into
 * place, and meta.json is written last, after chain.pem and report.json: a
 * capture directory is complete exactly when meta.json exists, and only
 * complete ones are indexed (so listed or served). What a kill -9 or a
 * power cut leaves behind is swept when the store opens: temp files whose
 * writer process is gone, and directories without meta.json that no live
 * process is writing and that are older than STALE_DIR_S.
 */

/* If name is "X.tmp.PID", the PID; else 0. */
static long temp_file_pid(const char *name) {
  const char *t = strstr(name, ".tmp.");
  if (t == NULL || t == name)
    return 0;
  char *end = NULL;
  long pid = strtol(t + 5, &end, 10);
  return (end != NULL && *end == '\0' && pid > 0) ? pid : 0;
}

static int pid_alive(long pid) { return kill((pid_t)pid, 0) == 0 || errno == EPERM; }

/* Removes the stale temp files in one capture directory. Returns 1 when a
 * live process still has a temp file there (a writer at work). */
static int sweep_temp_files(const char *capdir) {
  DIR *d = opendir(capdir);
  if (d == NULL)
    return 0;
  int live = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    long pid = temp_file_pid(de->d_name);
    if (pid == 0)
      continue;
    if (pid != (long)getpid() && pid_alive(pid)) {
      live = 1;
      continue;
    }
    char path[4400];
    int n = snprintf(path, sizeof path, "%s/%s", capdir, de->d_name);
    if (n > 0 && (size_t)n < sizeof path)
      unlink(path); /* never follows a symlink */
  }
  closedir(d);
  return live;
}

/* A directory without meta.json: deleted once clearly abandoned. */
static void sweep_incomplete(const char *capdir, const struct stat *st) {
  time_t now = time(NULL);
  if (now - st->st_mtime < STALE_DIR_S)
    return;
  if (cs_fs_remove_dir(capdir) != 0)
    fprintf(stderr, "certskew: capture store: cannot remove incomplete %s\n", capdir);
}

/* 1 if capture directory name holds a regular file (never a symlink) file. */
static int has_file(const cs_capture_store_t *s, const char *name, const char *file) {
  char path[4400];
  struct stat st;
  int n = snprintf(path, sizeof path, "%s/%s/%s", s->dir, name, file);
  return n > 0 && (size_t)n < sizeof path && lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Fills e from a parsed meta.json; NULL when valid, else why not. */
static const char *meta_from_json(entry_t *e, const char *name, const cJSON *o) {
  copy_field(e->id, sizeof e->id, name);
  copy_field(e->host, sizeof e->host, str_field(o, "host"));
  copy_field(e->sni, sizeof e->sni, str_field(o, "sni"));
  copy_field(e->upstream, sizeof e->upstream, str_field(o, "upstream"));
  copy_field(e->tls_version, sizeof e->tls_version, str_field(o, "tls_version"));
  copy_field(e->cipher, sizeof e->cipher, str_field(o, "cipher"));
  copy_field(e->fp_hex, sizeof e->fp_hex, str_field(o, "chain_sha256"));
  double port = 0, seen = 0;
  if (int_field(o, "port", 1, 65535, &port) != 0)
    return "port is not an integer in 1..65535";
  if (int_field(o, "seen_count", 1, SEEN_MAX, &seen) != 0)
    return "seen_count is not an integer in 1..2^53";
  if (parse_time_field(o, "first_seen_ms", &e->first_seen_ms) != 0 ||
      parse_time_field(o, "last_seen_ms", &e->last_seen_ms) != 0)
    return "first_seen_ms or last_seen_ms is not a time in ms between 1970 and 9999";
  if (e->first_seen_ms > e->last_seen_ms)
    return "first_seen_ms is after last_seen_ms";
  if (strlen(e->fp_hex) != 64 || strspn(e->fp_hex, "0123456789abcdef") != 64)
    return "chain_sha256 is not 64 lower-case hex digits";
  e->port = (int)port;
  e->seen_count = (uint64_t)seen;
  if (parse_time_field(o, "report_ms", &e->report_ms) != 0)
    e->report_ms = e->first_seen_ms; /* written before report_ms was kept */
  if (parse_time_field(o, "leaf_not_after_ms", &e->leaf_not_after_ms) != 0)
    e->leaf_not_after_ms = CS_TIME_POS_INF; /* unknown (older store): never expired */
  e->nsightings = -1;
  const char *worst = str_field(o, "worst");
  e->worst = strcmp(worst, "error") == 0     ? 2
             : strcmp(worst, "warning") == 0 ? 1
             : strcmp(worst, "info") == 0    ? 0
                                             : -1;
  return NULL;
}

/* Indexes one existing capture directory; unreadable ones are skipped. */
static void index_one(cs_capture_store_t *s, const char *name, const struct stat *st) {
  char path[4400];
  int n = snprintf(path, sizeof path, "%s/%s", s->dir, name);
  if (n < 0 || (size_t)n >= sizeof path)
    return;
  int writer = sweep_temp_files(path);
  struct stat fst;
  n = snprintf(path, sizeof path, "%s/%s/meta.json", s->dir, name);
  if (n < 0 || (size_t)n >= sizeof path)
    return;
  if (lstat(path, &fst) != 0) {
    n = snprintf(path, sizeof path, "%s/%s", s->dir, name);
    if (!writer && n > 0 && (size_t)n < sizeof path)
      sweep_incomplete(path, st);
    return;
  }
  const char *why = NULL;
  if (!has_file(s, name, "chain.pem") || !has_file(s, name, "report.json")) {
    why = "chain.pem or report.json is missing";
    goto skip;
  }
  char *text = NULL;
  size_t len = 0;
  if (cs_fs_read_file(path, FILE_MAX, &text, &len) != 0) {
    why = "meta.json cannot be read";
    goto skip;
  }
  cJSON *o = cJSON_Parse(text);
  free(text);
  if (o == NULL) {
    why = "meta.json is not JSON";
    goto skip;
  }
  if (grow(s) != 0) {
    cJSON_Delete(o);
    return;
  }
  entry_t *e = &s->entries[s->n];
  memset(e, 0, sizeof *e);
  why = meta_from_json(e, name, o);
  cJSON_Delete(o);
  if (why == NULL) {
    s->n++;
    return;
  }
skip:
  fprintf(stderr, "certskew: capture store: skipping %s/%s: %s\n", s->dir, name, why);
}

static void index_dir(cs_capture_store_t *s) {
  DIR *d = opendir(s->dir);
  if (d == NULL)
    return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char path[4400];
    struct stat st;
    int n = snprintf(path, sizeof path, "%s/%s", s->dir, de->d_name);
    /* lstat: a symlink planted in the store is never indexed or followed. */
    if (n > 0 && (size_t)n < sizeof path && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
      index_one(s, de->d_name, &st);
  }
  closedir(d);
}

int cs_capture_store_open(cs_capture_store_t **out, const char *dir, size_t max_captures,
                          cs_errbuf_t *eb) {
  *out = NULL;
  if (max_captures == 0)
    return cs_errbuf_set(eb, CS_EINVAL, "retention must keep at least one capture");
  cs_capture_store_t *s = calloc(1, sizeof *s); /* owned by the caller */
  if (s == NULL)
    return CS_ENOMEM;
  s->max = max_captures;
  int n = snprintf(s->dir, sizeof s->dir, "%s", dir);
  int rc = (n <= 0 || (size_t)n >= sizeof s->dir - 400)
               ? cs_errbuf_set(eb, CS_EINVAL, "store path too long")
               : cs_fs_mkdirs(dir, 0700, eb);
  if (rc != 0) {
    cs_capture_store_free(s);
    return rc;
  }
  index_dir(s);
  *out = s;
  return 0;
}

void cs_capture_store_free(cs_capture_store_t *s) {
  if (s == NULL)
    return;
  if (cs_capture_store_flush(s, 0) != 0)
    fprintf(stderr, "certskew: capture store: %s\n", s->store_error);
  free(s->entries);
  free(s);
}

static entry_t *find(cs_capture_store_t *s, const char *id) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->entries[i].id, id) == 0)
      return &s->entries[i];
  return NULL;
}

static int same_host(const entry_t *a, const entry_t *b) {
  return a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* How many chains of e's host:port were first seen after e (0: e is the
 * chain the host serves now). */
static size_t newer_chains(const cs_capture_store_t *s, const entry_t *e) {
  size_t n = 0;
  for (size_t i = 0; i < s->n; i++)
    if (&s->entries[i] != e && same_host(&s->entries[i], e) &&
        s->entries[i].first_seen_ms > e->first_seen_ms)
      n++;
  return n;
}

static void remove_entry(cs_capture_store_t *s, size_t victim) {
  char path[4400];
  if (entry_path(s, &s->entries[victim], NULL, path, sizeof path) == 0 &&
      cs_fs_remove_dir(path) != 0)
    snprintf(s->store_error, sizeof s->store_error, "cannot delete old capture %.200s",
             s->entries[victim].id);
  s->entries[victim] = s->entries[s->n - 1];
  s->n--;
}

/* Per host:port, beyond its KEEP_PER_HOST newest chains, a superseded chain
 * is deleted once its leaf has expired (until then a client may still be
 * served it). */
static void retire_superseded(cs_capture_store_t *s, const entry_t *current, int64_t now_ms) {
  for (size_t i = 0; i < s->n;) {
    entry_t *e = &s->entries[i];
    if (e != current && same_host(e, current) && e->leaf_not_after_ms < now_ms &&
        newer_chains(s, e) >= KEEP_PER_HOST) {
      remove_entry(s, i);
      continue; /* the last entry moved into slot i */
    }
    i++;
  }
}

/* Over --max-captures: the first victim is a superseded chain whose leaf
 * has expired, else any superseded chain, else any capture; the least
 * recently seen within the first class that has one. keep is never chosen. */
static void evict_one(cs_capture_store_t *s, const entry_t *keep, int64_t now_ms) {
  size_t victim = SIZE_MAX;
  int victim_class = 3;
  for (size_t i = 0; i < s->n; i++) {
    const entry_t *e = &s->entries[i];
    if (e == keep)
      continue;
    int superseded = newer_chains(s, e) > 0;
    int cls = superseded && e->leaf_not_after_ms < now_ms ? 0 : superseded ? 1 : 2;
    if (cls < victim_class ||
        (cls == victim_class && e->last_seen_ms < s->entries[victim].last_seen_ms)) {
      victim = i;
      victim_class = cls;
    }
  }
  if (victim != SIZE_MAX)
    remove_entry(s, victim);
}

/* The served leaf's notAfter, from the chain as stored; CS_TIME_POS_INF
 * when it cannot be read (then the chain never counts as expired). */
static int64_t leaf_not_after(const char *chain_pem) {
  cs_chain_t *chain = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_chain_load(&chain, (const uint8_t *)chain_pem, strlen(chain_pem), &eb) != 0)
    return CS_TIME_POS_INF;
  int64_t t = cs_chain_count(chain) > 0 ? cs_chain_cert(chain, 0)->not_after_ms : CS_TIME_POS_INF;
  cs_chain_free(chain);
  return t;
}

static int write_new(cs_capture_store_t *s, entry_t *e, const char *chain_pem,
                     const char *report_json, int64_t now_ms, cs_errbuf_t *eb) {
  char path[4400];
  int rc = entry_path(s, e, NULL, path, sizeof path);
  if (rc == 0)
    rc = cs_fs_mkdirs(path, 0700, eb);
  if (rc == 0 && entry_path(s, e, "chain.pem", path, sizeof path) == 0)
    rc = cs_fs_write_atomic(path, chain_pem, strlen(chain_pem), 0644, eb);
  if (rc == 0 && entry_path(s, e, "report.json", path, sizeof path) == 0)
    rc = cs_fs_write_atomic(path, report_json, strlen(report_json), 0644, eb);
  if (rc == 0)
    rc = write_meta(s, e, now_ms, eb);
  if (rc != 0)
    remember_error(s, eb, rc);
  return rc;
}

void cs_capture_id(char id[CS_CAPTURE_ID_MAX], const char *host, int port, const uint8_t fp[32]) {
  char fp_hex[17];
  for (int i = 0; i < 8; i++)
    snprintf(fp_hex + 2 * i, 3, "%02x", fp[i]);
  make_id(id, host, port, fp_hex);
}

int cs_capture_store_put(cs_capture_store_t *s, const cs_capture_meta_t *meta,
                         const uint8_t fp[32], const char *chain_pem, const char *report_json,
                         int64_t now_ms, char id_out[CS_CAPTURE_ID_MAX], int *is_new,
                         cs_errbuf_t *eb) {
  char fp_hex[65];
  for (int i = 0; i < 32; i++)
    snprintf(fp_hex + 2 * i, 3, "%02x", fp[i]);
  char id[CS_CAPTURE_ID_MAX];
  make_id(id, meta->host, meta->port, fp_hex);
  if (id_out != NULL)
    copy_field(id_out, CS_CAPTURE_ID_MAX, id);
  if (is_new != NULL)
    *is_new = 0;
  entry_t *e = find(s, id);
  if (e == NULL && (chain_pem == NULL || chain_pem[0] == '\0' || report_json == NULL))
    /* A capture is its served chain and its report: never create one
     * without them (a caller that believed the capture existed, e.g. after
     * its eviction). */
    return cs_errbuf_set(eb, CS_EINVAL, "capture %.100s: no chain or report to store", id);
  if (e != NULL) {
    e->seen_count++;
    e->last_seen_ms = now_ms;
    e->dirty = 1;
    if (now_ms - e->flushed_ms < META_FLUSH_MS)
      return 0;
    return write_meta(s, e, now_ms, eb);
  }
  if (grow(s) != 0)
    return CS_ENOMEM;
  /* Written whole before it is indexed: a capture that could not be written
   * (full disk, read-only store) is not listed, its partial directory is
   * removed, and the next sighting of the chain tries the whole write again. */
  entry_t fresh;
  memset(&fresh, 0, sizeof fresh);
  e = &fresh;
  copy_field(e->id, sizeof e->id, id);
  copy_field(e->host, sizeof e->host, meta->host);
  copy_field(e->sni, sizeof e->sni, meta->sni);
  copy_field(e->upstream, sizeof e->upstream, meta->upstream);
  copy_field(e->tls_version, sizeof e->tls_version, meta->tls_version);
  copy_field(e->cipher, sizeof e->cipher, meta->cipher);
  copy_field(e->fp_hex, sizeof e->fp_hex, fp_hex);
  e->port = meta->port;
  e->worst = meta->worst;
  e->first_seen_ms = e->last_seen_ms = e->report_ms = now_ms;
  e->seen_count = 1;
  e->nsightings = 0;
  e->leaf_not_after_ms = leaf_not_after(chain_pem);
  int rc = write_new(s, e, chain_pem, report_json, now_ms, eb);
  if (rc != 0) {
    char path[4400];
    if (entry_path(s, e, NULL, path, sizeof path) == 0)
      if (cs_fs_remove_dir(path) != 0) /* what is left of it */
        fprintf(stderr, "certskew: capture store: cannot remove the partial %s\n", path);
    s->failed_writes++;
    if (id_out != NULL)
      id_out[0] = '\0';
    return rc;
  }
  s->entries[s->n++] = fresh;
  s->store_error_now = 0;
  if (is_new != NULL)
    *is_new = 1;
  retire_superseded(s, find(s, id), now_ms);
  while (s->n > s->max)
    evict_one(s, find(s, id), now_ms);
  return 0;
}

int cs_capture_store_update_report(cs_capture_store_t *s, const char *id,
                                   const char *report_json, int worst, int64_t now_ms,
                                   cs_errbuf_t *eb) {
  entry_t *e = find(s, id);
  if (e == NULL)
    return cs_errbuf_set(eb, CS_ENOTFOUND, "capture %.200s is no longer stored", id);
  char path[4400];
  int rc = entry_path(s, e, "report.json", path, sizeof path);
  if (rc == 0)
    rc = cs_fs_write_atomic(path, report_json, strlen(report_json), 0644, eb);
  if (rc == 0) {
    e->worst = worst;
    e->report_ms = now_ms;
    rc = write_meta(s, e, now_ms, eb);
  }
  if (rc != 0)
    remember_error(s, eb, rc);
  return rc;
}

void cs_capture_store_note_error(cs_capture_store_t *s, const char *host, int port,
                                 const char *code, const char *message, int64_t now_ms) {
  upstream_error_t *u = &s->errors[s->error_head];
  s->error_head = (s->error_head + 1) % ERROR_RING;
  if (s->nerrors < ERROR_RING)
    s->nerrors++;
  copy_field(u->host, sizeof u->host, host);
  copy_field(u->code, sizeof u->code, code);
  copy_field(u->message, sizeof u->message, message);
  u->port = port;
  u->at_ms = now_ms;
}

int cs_capture_store_flush(cs_capture_store_t *s, int64_t now_ms) {
  int first = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (!s->entries[i].dirty)
      continue;
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    int rc = write_meta(s, &s->entries[i], now_ms, &eb);
    if (rc != 0 && first == 0)
      first = rc;
  }
  return first;
}

char *cs_capture_store_list_json(cs_capture_store_t *s) {
  cJSON *root = cJSON_CreateObject();
  cJSON *caps = cJSON_AddArrayToObject(root, "captures");
  cJSON *errs = cJSON_AddArrayToObject(root, "errors");
  if (root == NULL || caps == NULL || errs == NULL) {
    cJSON_Delete(root);
    return NULL;
  }
  for (size_t i = 0; i < s->n; i++) {
    cJSON *o = entry_json(&s->entries[i]);
    if (o != NULL)
      cJSON_AddItemToArray(caps, o);
  }
  /* Newest error first. */
  for (size_t k = 0; k < s->nerrors; k++) {
    const upstream_error_t *u = &s->errors[(s->error_head + ERROR_RING - 1 - k) % ERROR_RING];
    char at[CS_TIME_STRLEN];
    cs_time_format(u->at_ms, at);
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
      continue;
    cJSON_AddStringToObject(o, "host", u->host);
    cJSON_AddNumberToObject(o, "port", u->port);
    cJSON_AddStringToObject(o, "code", u->code);
    cJSON_AddStringToObject(o, "message", u->message);
    cJSON_AddStringToObject(o, "at", at);
    cJSON_AddItemToArray(errs, o);
  }
  /* store_error: the last write error, while writes are failing (null once a
   * capture has been written again); store_last_error keeps it afterwards,
   * with failed_writes counting the captures that were not stored. */
  if (s->store_error[0] != '\0' && s->store_error_now)
    cJSON_AddStringToObject(root, "store_error", s->store_error);
  else
    cJSON_AddNullToObject(root, "store_error");
  if (s->store_error[0] != '\0') {
    char at[CS_TIME_STRLEN];
    cs_time_format(s->store_error_ms, at);
    cJSON *le = cJSON_AddObjectToObject(root, "store_last_error");
    if (le != NULL) {
      cJSON_AddStringToObject(le, "message", s->store_error);
      cJSON_AddStringToObject(le, "at", at);
    }
  } else {
    cJSON_AddNullToObject(root, "store_last_error");
  }
  cJSON_AddNumberToObject(root, "store_failed_writes", (double)s->failed_writes);
  char *text = cJSON_Print(root); /* owned by the caller */
  cJSON_Delete(root);
  return text;
}

int cs_capture_store_read(cs_capture_store_t *s, const char *id, const char *file, char **out,
                          size_t *len) {
  *out = NULL;
  *len = 0;
  if (strcmp(file, "chain.pem") != 0 && strcmp(file, "report.json") != 0 &&
      strcmp(file, "meta.json") != 0)
    return CS_ENOTFOUND;
  entry_t *e = find(s, id);
  if (e == NULL)
    return CS_ENOTFOUND;
  char path[4400];
  if (entry_path(s, e, file, path, sizeof path) != 0)
    return CS_EINVAL;
  return cs_fs_read_file(path, FILE_MAX, out, len);
}

size_t cs_capture_store_count(const cs_capture_store_t *s) { return s->n; }

/* ---- sightings ---- */

const char *cs_capture_store_verdict_key(cs_capture_store_t *s, const char *id) {
  entry_t *e = find(s, id);
  return e != NULL ? e->verdict_key : NULL;
}

void cs_capture_store_set_verdict_key(cs_capture_store_t *s, const char *id, const char *key) {
  entry_t *e = find(s, id);
  if (e != NULL)
    copy_field(e->verdict_key, sizeof e->verdict_key, key);
}

static long count_lines(const char *text, size_t len) {
  long n = 0;
  for (size_t i = 0; i < len; i++)
    n += text[i] == '\n';
  return n;
}

/* Keeps the last CS_SIGHTINGS_KEEP lines of path (atomically). */
static int trim_sightings(entry_t *e, const char *path, cs_errbuf_t *eb) {
  char *text = NULL;
  size_t len = 0;
  int rc = cs_fs_read_file(path, FILE_MAX, &text, &len);
  if (rc != 0)
    return rc;
  long n = count_lines(text, len);
  size_t from = 0;
  for (long skip = n - CS_SIGHTINGS_KEEP; skip > 0 && from < len; from++)
    if (text[from] == '\n')
      skip--;
  rc = cs_fs_write_atomic(path, text + from, len - from, 0644, eb);
  if (rc == 0)
    e->nsightings = count_lines(text + from, len - from);
  free(text);
  return rc;
}

static cJSON *sighting_json(const cs_sighting_t *sg) {
  cJSON *o = cJSON_CreateObject();
  if (o == NULL)
    return NULL;
  cJSON_AddNumberToObject(o, "at_ms", (double)sg->at_ms);
  cJSON_AddStringToObject(o, "client_addr", sg->client_addr != NULL ? sg->client_addr : "");
  cJSON_AddStringToObject(o, "user_agent", sg->user_agent != NULL ? sg->user_agent : "");
  cJSON_AddStringToObject(o, "mode", sg->mode != NULL ? sg->mode : "");
  cJSON_AddStringToObject(o, "profile", sg->profile != NULL ? sg->profile : "");
  cJSON_AddStringToObject(o, "verdict", sg->verdict != NULL ? sg->verdict : "");
  cJSON_AddStringToObject(o, "action", sg->action != NULL ? sg->action : "");
  return o;
}

int cs_capture_store_add_sighting(cs_capture_store_t *s, const char *id, const cs_sighting_t *sg,
                                  cs_errbuf_t *eb) {
  entry_t *e = find(s, id);
  if (e == NULL)
    return cs_errbuf_set(eb, CS_ENOTFOUND, "capture %.200s is no longer stored", id);
  char path[4400];
  if (entry_path(s, e, "sightings.jsonl", path, sizeof path) != 0)
    return CS_EINVAL;
  cJSON *o = sighting_json(sg);
  char *line = o != NULL ? cJSON_PrintUnformatted(o) : NULL; /* owned here */
  cJSON_Delete(o);
  if (line == NULL)
    return CS_ENOMEM;
  int rc = 0;
  /* O_NOFOLLOW: a symlink planted in the store is never written through. */
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
  size_t len = strlen(line);
  line[len] = '\n'; /* replaces the NUL: written with its length below */
  if (fd < 0 || write(fd, line, len + 1) != (ssize_t)(len + 1))
    rc = cs_errbuf_set(eb, errno == ENOSPC ? CS_ENOSPACE : CS_EIO, "cannot append to %s: %s", path,
                       strerror(errno));
  if (fd >= 0)
    close(fd);
  free(line);
  if (rc != 0) {
    remember_error(s, eb, rc);
    return rc;
  }
  if (e->nsightings < 0) {
    char *text = NULL;
    size_t tlen = 0;
    if (cs_fs_read_file(path, FILE_MAX, &text, &tlen) == 0)
      e->nsightings = count_lines(text, tlen);
    free(text);
  } else {
    e->nsightings++;
  }
  /* Trimmed in batches: one rewrite per CS_SIGHTINGS_SLACK appends. */
  if (e->nsightings > CS_SIGHTINGS_KEEP + CS_SIGHTINGS_SLACK)
    rc = trim_sightings(e, path, eb);
  return rc;
}

/* Appends e's sightings (newest first) to arr, each with its capture. */
static void add_sightings_of(cs_capture_store_t *s, const entry_t *e, cJSON *arr) {
  char path[4400], *text = NULL;
  size_t len = 0;
  if (entry_path(s, e, "sightings.jsonl", path, sizeof path) != 0 ||
      cs_fs_read_file(path, FILE_MAX, &text, &len) != 0)
    return;
  /* Lines are appended in time order: walk them backwards. */
  size_t end = len;
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && text[start - 1] != '\n')
      start--;
    cJSON *o = cJSON_ParseWithLength(text + start, end - start);
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "at_ms");
    if (o != NULL && cJSON_IsNumber(at) && at->valuedouble >= 0 && at->valuedouble <= (double)TIME_MAX_MS) {
      char rfc[CS_TIME_STRLEN];
      cs_time_format((int64_t)at->valuedouble, rfc);
      cJSON_AddStringToObject(o, "at", rfc);
      cJSON_AddStringToObject(o, "capture", e->id);
      cJSON_AddStringToObject(o, "host", e->host);
      cJSON_AddNumberToObject(o, "port", e->port);
      cJSON_AddItemToArray(arr, o);
    } else {
      cJSON_Delete(o); /* a torn or damaged line: skipped */
    }
    end = start;
  }
  free(text);
}

static int by_last_seen_desc(const void *a, const void *b) {
  const entry_t *x = *(const entry_t *const *)a, *y = *(const entry_t *const *)b;
  return (x->last_seen_ms < y->last_seen_ms) - (x->last_seen_ms > y->last_seen_ms);
}

static int by_at_desc(const void *a, const void *b) {
  const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
  double p = cJSON_GetObjectItemCaseSensitive(x, "at_ms")->valuedouble;
  double q = cJSON_GetObjectItemCaseSensitive(y, "at_ms")->valuedouble;
  return (p < q) - (p > q);
}

char *cs_capture_store_sightings_json(cs_capture_store_t *s, const char *id, size_t limit) {
  cJSON *root = cJSON_CreateObject();
  cJSON *all = cJSON_CreateArray();
  const entry_t **order = malloc((s->n ? s->n : 1) * sizeof *order);
  if (root == NULL || all == NULL || order == NULL) {
    cJSON_Delete(root);
    cJSON_Delete(all);
    free(order);
    return NULL;
  }
  size_t n = 0;
  for (size_t i = 0; i < s->n; i++)
    if (id == NULL || strcmp(s->entries[i].id, id) == 0)
      order[n++] = &s->entries[i];
  qsort(order, n, sizeof *order, by_last_seen_desc);
  /* Most recently seen captures first; stop once `limit` sightings are in
   * hand that are all newer than the next capture's last sighting. */
  for (size_t i = 0; i < n; i++) {
    int have = cJSON_GetArraySize(all);
    if ((size_t)have >= limit) {
      double oldest = 0;
      int first = 1;
      for (const cJSON *x = all->child; x != NULL; x = x->next) {
        double v = cJSON_GetObjectItemCaseSensitive(x, "at_ms")->valuedouble;
        if (first || v < oldest)
          oldest = v;
        first = 0;
      }
      if ((double)order[i]->last_seen_ms < oldest)
        break;
    }
    add_sightings_of(s, order[i], all);
  }
  free(order);
  size_t total = (size_t)cJSON_GetArraySize(all);
  cJSON **items = malloc((total ? total : 1) * sizeof *items);
  cJSON *out = cJSON_AddArrayToObject(root, "sightings");
  if (items == NULL || out == NULL) {
    free(items);
    cJSON_Delete(all);
    cJSON_Delete(root);
    return NULL;
  }
  size_t k = 0;
  while (all->child != NULL)
    items[k++] = cJSON_DetachItemViaPointer(all, all->child);
  cJSON_Delete(all);
  qsort(items, k, sizeof *items, by_at_desc);
  for (size_t i = 0; i < k; i++) {
    if (i < limit)
      cJSON_AddItemToArray(out, items[i]);
    else
      cJSON_Delete(items[i]);
  }
  free(items);
  char *text = cJSON_PrintUnformatted(root); /* owned by the caller */
  cJSON_Delete(root);
  return text;
}

int cs_capture_store_clear(cs_capture_store_t *s, cs_errbuf_t *eb) {
  int rc = 0;
  while (s->n > 0) {
    char path[4400];
    entry_t *e = &s->entries[s->n - 1];
    if (entry_path(s, e, NULL, path, sizeof path) == 0 && cs_fs_remove_dir(path) != 0 && rc == 0)
      rc = cs_errbuf_set(eb, CS_EIO, "cannot delete capture %.200s", e->id);
    s->n--;
  }
  return rc;
}
