/* Zero-copy socket relay with splice(2) (see splice_relay.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* splice, pipe2, F_SETPIPE_SZ */
#endif
#include "certskew/net/splice_relay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifdef __linux__
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

/* Pipe size asked for each direction. The default (64 KB, 16 page slots)
 * halves the bytes moved per splice pair against 256 KB on loopback bulk;
 * the kernel caps unprivileged sizes at /proc/sys/fs/pipe-max-size (1 MB by
 * default), and a pipe holds pages only while bytes wait in it. */
#define PIPE_WANT (256 * 1024)

/* Bytes one direction moves per wake-up before yielding to the other
 * connections of the loop (level-triggered polls call again). */
#define PUMP_BUDGET (1024u * 1024)

typedef struct direction {
  int src, dst;           /* the sockets (borrowed from the TCP handles) */
  int pipe_r, pipe_w;     /* owned */
  size_t in_pipe;         /* spliced in and not yet out */
  uint8_t *head;          /* owned: bytes to write before the pipe's */
  size_t head_len, head_off;
  int src_eof;            /* the source half-closed */
  int done;               /* ... and that was passed on: shutdown(dst, SHUT_WR) */
  uint64_t moved;
} direction_t;

struct cs_splice_relay {
  uv_poll_t poll[2]; /* [0] watches socket a, [1] socket b */
  int poll_open[2];
  int watching[2];   /* the events each poll handle watches now */
  direction_t dir[2]; /* [0] a -> b, [1] b -> a */
  cs_splice_relay_cbs_t cbs;
  int stopped;       /* on_done called or cs_splice_relay_close */
  int closing;       /* handles closing: no more callbacks, free when both are */
  int nopen;
};

#ifdef __linux__

int cs_splice_relay_supported(void) { return 1; }

static void direction_free(direction_t *d) {
  if (d->pipe_r >= 0)
    close(d->pipe_r);
  if (d->pipe_w >= 0)
    close(d->pipe_w);
  d->pipe_r = d->pipe_w = -1;
  free(d->head);
  d->head = NULL;
}

static int direction_init(direction_t *d, int src, int dst, const uint8_t *head, size_t len) {
  memset(d, 0, sizeof *d);
  d->src = src;
  d->dst = dst;
  d->pipe_r = d->pipe_w = -1;
  int p[2];
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0)
    return errno == ENOMEM ? CS_ENOMEM : CS_ENET;
  d->pipe_r = p[0];
  d->pipe_w = p[1];
  /* A smaller pipe than asked is still a working one. */
  (void)fcntl(d->pipe_w, F_SETPIPE_SZ, PIPE_WANT);
  if (len > 0) {
    d->head = malloc(len); /* owned by the direction, freed in direction_free */
    if (d->head == NULL)
      return CS_ENOMEM;
    memcpy(d->head, head, len);
    d->head_len = len;
  }
  return 0;
}

/* Moves what it can from src to dst. 0, or a negative UV_* code. */
static int pump(direction_t *d) {
  size_t budget = PUMP_BUDGET;
  while (!d->done) {
    if (d->head_off < d->head_len) {
      ssize_t n = send(d->dst, d->head + d->head_off, d->head_len - d->head_off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : uv_translate_sys_error(errno);
      }
      d->head_off += (size_t)n;
      d->moved += (uint64_t)n;
      if (d->head_off == d->head_len) {
        free(d->head);
        d->head = NULL;
        d->head_len = d->head_off = 0;
      }
      continue;
    }
    /* Drain the pipe completely before reading more: reading only into an
     * empty pipe keeps the backpressure simple (the source is watched only
     * when nothing waits for the destination) and never spins on a pipe
     * whose page slots are full while the socket is readable. */
    if (d->in_pipe > 0) {
      ssize_t n = splice(d->pipe_r, NULL, d->dst, NULL, d->in_pipe,
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return errno == EAGAIN ? 0 : uv_translate_sys_error(errno);
      }
      d->in_pipe -= (size_t)n;
      d->moved += (uint64_t)n;
      continue;
    }
    if (d->src_eof) {
      /* Everything read has left: pass the end of stream on. */
      if (shutdown(d->dst, SHUT_WR) != 0 && errno != ENOTCONN)
        return uv_translate_sys_error(errno);
      d->done = 1;
      break;
    }
    if (budget == 0)
      break;
    ssize_t n = splice(d->src, NULL, d->pipe_w, NULL, budget < PIPE_WANT ? budget : PIPE_WANT,
                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno == EAGAIN ? 0 : uv_translate_sys_error(errno);
    }
    if (n == 0) {
      d->src_eof = 1;
      continue;
    }
    d->in_pipe += (size_t)n;
    budget = (size_t)n < budget ? budget - (size_t)n : 0;
  }
  return 0;
}

/* What a direction waits for: to read its source, or to write its
 * destination. */
static int wants_read(const direction_t *d) {
  return !d->done && !d->src_eof && d->in_pipe == 0 && d->head_off >= d->head_len;
}
static int wants_write(const direction_t *d) {
  return !d->done && (d->in_pipe > 0 || d->head_off < d->head_len);
}

static void on_poll(uv_poll_t *h, int status, int events);

static void handle_closed(uv_handle_t *h) {
  cs_splice_relay_t *r = h->data;
  if (--r->nopen == 0) {
    direction_free(&r->dir[0]);
    direction_free(&r->dir[1]);
    free(r);
  }
}

static void stop(cs_splice_relay_t *r, int status) {
  if (r->stopped)
    return;
  r->stopped = 1;
  for (int i = 0; i < 2; i++)
    if (r->poll_open[i])
      uv_poll_stop(&r->poll[i]);
  if (r->cbs.on_done != NULL)
    r->cbs.on_done(r->cbs.data, status);
}

/* Socket i is a's (0) or b's (1): the source of dir[i], the destination
 * of dir[1 - i]. */
static int rearm(cs_splice_relay_t *r) {
  for (int i = 0; i < 2; i++) {
    int ev = (wants_read(&r->dir[i]) ? UV_READABLE : 0) |
             (wants_write(&r->dir[1 - i]) ? UV_WRITABLE : 0);
    if (ev == r->watching[i])
      continue;
    int rc = ev != 0 ? uv_poll_start(&r->poll[i], ev, on_poll) : uv_poll_stop(&r->poll[i]);
    if (rc != 0)
      return rc;
    r->watching[i] = ev;
  }
  return 0;
}

static void run(cs_splice_relay_t *r) {
  uint64_t before = r->dir[0].moved + r->dir[1].moved;
  int rc = pump(&r->dir[0]);
  if (rc == 0)
    rc = pump(&r->dir[1]);
  if (rc == 0 && r->dir[0].moved + r->dir[1].moved != before && r->cbs.on_activity != NULL)
    r->cbs.on_activity(r->cbs.data);
  if (r->stopped) /* on_activity may have ended the tunnel */
    return;
  if (rc == 0 && r->dir[0].done && r->dir[1].done) {
    stop(r, 0);
    return;
  }
  if (rc == 0)
    rc = rearm(r);
  if (rc != 0)
    stop(r, rc);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)events;
  cs_splice_relay_t *r = h->data;
  if (r->stopped)
    return;
  if (status < 0) {
    stop(r, status);
    return;
  }
  run(r);
}

int cs_splice_relay_start(cs_splice_relay_t **out, uv_loop_t *loop, uv_tcp_t *a, uv_tcp_t *b,
                          const cs_splice_relay_pending_t *pending,
                          const cs_splice_relay_cbs_t *cbs) {
  *out = NULL;
  uv_os_fd_t fa, fb;
  if (uv_fileno((uv_handle_t *)a, &fa) != 0 || uv_fileno((uv_handle_t *)b, &fb) != 0)
    return CS_ENET;
  cs_splice_relay_t *r = calloc(1, sizeof *r); /* owned by the caller until close */
  if (r == NULL)
    return CS_ENOMEM;
  r->cbs = *cbs;
  r->dir[0].pipe_r = r->dir[0].pipe_w = r->dir[1].pipe_r = r->dir[1].pipe_w = -1;
  int rc = direction_init(&r->dir[0], fa, fb, pending ? pending->a_to_b : NULL,
                          pending ? pending->a_to_b_len : 0);
  if (rc == 0)
    rc = direction_init(&r->dir[1], fb, fa, pending ? pending->b_to_a : NULL,
                        pending ? pending->b_to_a_len : 0);
  if (rc != 0) {
    direction_free(&r->dir[0]);
    direction_free(&r->dir[1]);
    free(r);
    return rc;
  }
  /* UV_EEXIST here: a TCP handle still watches its socket. */
  int fds[2] = {fa, fb};
  for (int i = 0; i < 2; i++) {
    if (uv_poll_init_socket(loop, &r->poll[i], fds[i]) != 0) {
      if (i == 1) {
        /* The first handle exists: it frees r through handle_closed. */
        r->stopped = 1;
        cs_splice_relay_close(r);
        return CS_ENET;
      }
      direction_free(&r->dir[0]);
      direction_free(&r->dir[1]);
      free(r);
      return CS_ENET;
    }
    r->poll[i].data = r;
    r->poll_open[i] = 1;
    r->nopen++;
  }
  *out = r;
  /* The first pump runs from the loop (never inside the caller's stack):
   * both sockets are writable at once, or readable if bytes wait. */
  if (uv_poll_start(&r->poll[0], UV_WRITABLE, on_poll) != 0 ||
      uv_poll_start(&r->poll[1], UV_WRITABLE, on_poll) != 0) {
    r->stopped = 1;
    cs_splice_relay_close(r);
    *out = NULL;
    return CS_ENET;
  }
  r->watching[0] = r->watching[1] = UV_WRITABLE;
  return 0;
}

void cs_splice_relay_close(cs_splice_relay_t *r) {
  if (r == NULL || r->closing)
    return;
  r->stopped = 1; /* no callback from here on */
  r->closing = 1;
  for (int i = 0; i < 2; i++)
    if (r->poll_open[i])
      uv_close((uv_handle_t *)&r->poll[i], handle_closed);
}

#else /* not Linux: no splice(2); the caller keeps its ordinary relay */

int cs_splice_relay_supported(void) { return 0; }

int cs_splice_relay_start(cs_splice_relay_t **out, uv_loop_t *loop, uv_tcp_t *a, uv_tcp_t *b,
                          const cs_splice_relay_pending_t *pending,
                          const cs_splice_relay_cbs_t *cbs) {
  (void)loop, (void)a, (void)b, (void)pending, (void)cbs;
  *out = NULL;
  return CS_EUNSUPPORTED;
}

void cs_splice_relay_close(cs_splice_relay_t *r) { (void)r; }

#endif
