/*
 * A tunnel's bytes both ways once it is established (conn_internal.h):
 *  - intercepted legs: records opened by mbedTLS, or by the libcrypto record
 *    layer (net/tls_records.c) once mbedTLS has handed a TLS 1.2 AEAD leg
 *    over, re-sealed for the other side in batches;
 *  - relayed (passthrough or fallback) tunnels: bytes as read, and with
 *    splice(2) (net/splice_relay.c) once the observer has the handshake.
 * Backpressure: a side stops being read while the other side's write queue
 * is above CS_EP_WRITE_HIGH and resumes below CS_EP_WRITE_LOW.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_internal.h"

cs_endpoint_t *cs_conn_peer_of(cs_conn_t *c, cs_endpoint_t *ep) {
  return ep == &c->client ? &c->upstream : &c->client;
}

static void on_relay_shutdown(cs_endpoint_t *ep, int status) {
  (void)status;
  cs_conn_t *c = ep->owner;
  if (c->client.eof && c->upstream.eof && c->client.shut_done && c->upstream.shut_done)
    cs_conn_close(c);
}

static void side_eof(cs_conn_t *c, cs_endpoint_t *from) {
  cs_endpoint_t *to = cs_conn_peer_of(c, from);
  from->eof = 1;
  cs_endpoint_read_stop(from);
  if (!to->shut)
    cs_endpoint_shutdown(to);
  if (!to->shut) {
    cs_conn_close(c); /* cannot half-close: nothing more can be delivered */
    return;
  }
  on_relay_shutdown(to, 0);
}

void cs_conn_pause_side(cs_endpoint_t *from) {
  from->paused = 1;
  cs_endpoint_read_stop(from);
}

/* Records are re-encrypted into the other side's output buffer and written
 * together (one write per RELAY_BATCH bytes, not one per record). */
#define RELAY_BATCH (64u * 1024)

/* Plaintext from `from` goes to the other side, sealed (or written) into
 * its output, which is written every RELAY_BATCH bytes; the first bytes
 * from the client name its User-Agent for the sighting. */
static int forward_plaintext(cs_conn_t *c, cs_endpoint_t *from, const uint8_t *data, size_t len) {
  cs_endpoint_t *to = cs_conn_peer_of(c, from);
  if (!c->sighted && from == &c->client) {
    char ua[256];
    cs_conn_sniff_user_agent(data, len, ua, sizeof ua);
    cs_conn_note_sighting(c, ua, "relayed");
  }
  if (cs_endpoint_send_nf(to, data, len) != 0 ||
      (cs_endpoint_unflushed(to) >= RELAY_BATCH && cs_endpoint_flush(to) != 0))
    return CS_ENET;
  return 0;
}

/* How a pass over received records ended. */
typedef struct relay_state {
  int rc;          /* the record layer's error (cs_tls_records_error) */
  int send_failed; /* sealing or writing to the other side failed */
  int eof;         /* close_notify */
} relay_state_t;

static int relay_stopped(const relay_state_t *st) { return st->rc != 0 || st->send_failed || st->eof; }

/* Opens the whole records of p[0..n) in place and seals their plaintext
 * straight into the other side's output, written every RELAY_BATCH bytes;
 * stops at an incomplete record, when the other side is full (pausing
 * from, as relay_from does), at close_notify or on error. Returns the
 * bytes consumed. */
static size_t open_records(cs_conn_t *c, cs_endpoint_t *from, uint8_t *p, size_t n,
                           relay_state_t *st) {
  cs_endpoint_t *to = cs_conn_peer_of(c, from);
  size_t off = 0;
  while (off < n && !relay_stopped(st)) {
    if (to->queued + cs_endpoint_unflushed(to) >= CS_EP_WRITE_HIGH) {
      cs_conn_pause_side(from);
      break;
    }
    cs_tls_opened_t o;
    st->rc = cs_endpoint_tls_open(from, p + off, n - off, &o);
    if (st->rc != 0 || o.used == 0)
      break;
    off += o.used;
    if (o.len > 0 && forward_plaintext(c, from, o.data, o.len) != 0)
      st->send_failed = 1;
    st->eof = o.eof;
  }
  return off;
}

/* Moves up to the bytes missing from the BIO's first record from
 * buf[*off..len) into the BIO. */
static int complete_record(cs_endpoint_t *from, const uint8_t *buf, size_t len, size_t *off) {
  size_t have = 0;
  const uint8_t *h = cs_tls_bio_in_data(&from->bio, &have);
  size_t miss = cs_tls_records_missing(h, have);
  size_t k = miss < len - *off ? miss : len - *off;
  if (k > 0 && cs_tls_bio_push(&from->bio, buf + *off, k) != 0)
    return CS_ENOMEM;
  *off += k;
  return 0;
}

/* A side on our record layer (after cs_endpoint_tls_take_over). buf (the
 * bytes just read, owned, freed here; NULL when called for what is
 * already in the BIO) is opened in place: when a partial record waits in
 * the BIO, only the bytes that complete it are copied there, and the rest
 * of buf is opened where it lies; what is left over (a trailing partial
 * record, or records not opened while the other side is full) goes to the
 * BIO. Backpressure as in relay_from. */
static void relay_records(cs_conn_t *c, cs_endpoint_t *from, uint8_t *buf, size_t len) {
  cs_endpoint_t *to = cs_conn_peer_of(c, from);
  relay_state_t st = {0};
  size_t boff = 0;
  int oom = 0;
  if (cs_tls_bio_pending_in(&from->bio) > 0) {
    /* Twice: the header completes first, then the body it announces. */
    if (buf != NULL && (complete_record(from, buf, len, &boff) != 0 ||
                        complete_record(from, buf, len, &boff) != 0))
      oom = 1;
    size_t have = 0;
    uint8_t *h = cs_tls_bio_in_data(&from->bio, &have);
    if (!oom && h != NULL)
      cs_tls_bio_in_consume(&from->bio, open_records(c, from, h, have, &st));
  }
  if (buf != NULL) {
    if (!oom && !relay_stopped(&st) && !from->paused && cs_tls_bio_pending_in(&from->bio) == 0)
      boff += open_records(c, from, buf + boff, len - boff, &st);
    if (!oom && boff < len && cs_tls_bio_push(&from->bio, buf + boff, len - boff) != 0)
      oom = 1;
    free(buf);
  }
  if (oom || st.send_failed) {
    cs_conn_close(c);
    return;
  }
  /* Alerts for the peer (no_renegotiation, or the fatal one) are in from's
   * output. */
  if (cs_endpoint_flush(to) != 0 || cs_endpoint_flush(from) != 0) {
    cs_conn_close(c);
    return;
  }
  if (st.rc != 0) {
    cs_conn_log(c, "TLS error from %s: %s", from->name, cs_tls_records_error(from->rec));
    cs_conn_close(c);
    return;
  }
  /* close_notify, or the TCP EOF once every whole record is relayed (a
   * truncated last record is dropped, as mbedTLS does). */
  if (st.eof || (from->bio.eof && !from->paused))
    side_eof(c, from);
}

static void relay_from(cs_conn_t *c, cs_endpoint_t *from) {
  cs_endpoint_t *to = cs_conn_peer_of(c, from);
  unsigned char buf[16384];
  if (from->rec != NULL) {
    relay_records(c, from, NULL, 0);
    return;
  }
  for (;;) {
    if (to->queued + cs_endpoint_unflushed(to) >= CS_EP_WRITE_HIGH) {
      cs_conn_pause_side(from);
      break;
    }
    int n = mbedtls_ssl_read(&from->ssl, buf, sizeof buf);
    if (n > 0) {
      if (forward_plaintext(c, from, buf, (size_t)n) != 0) {
        cs_conn_close(c);
        return;
      }
      continue;
    }
    if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE) {
      /* Nothing pending inside mbedTLS: a TLS 1.2 AEAD side goes to our
       * record layer (libcrypto's AEAD, issue #21), and what is left in
       * the BIO is relayed from there. */
      int taken = cs_endpoint_tls_take_over(from);
      if (taken < 0) {
        cs_conn_close(c);
        return;
      }
      if (taken > 0) {
        cs_conn_log(c, "%s: records on the fast path (%s)", from->name, cs_tls_records_suite(from->rec));
        relay_records(c, from, NULL, 0);
        return;
      }
      break;
    }
    if (cs_endpoint_flush(to) != 0) {
      cs_conn_close(c);
      return;
    }
    if (n == 0 || n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || n == MBEDTLS_ERR_SSL_CONN_EOF) {
      side_eof(c, from);
      return;
    }
    cs_conn_log(c, "TLS error from %s: -0x%04x", from->name, (unsigned)-n);
    cs_conn_close(c);
    return;
  }
  if (cs_endpoint_flush(to) != 0 || cs_endpoint_flush(from) != 0)
    cs_conn_close(c);
}

static void on_splice_activity(void *data) { cs_conn_touch(data); }

static void on_splice_done(void *data, int status) {
  cs_conn_t *c = data;
  if (status != 0)
    cs_conn_log(c, "relay: %s", uv_strerror(status));
  cs_conn_close(c);
}

/* A relayed tunnel whose handshake the observer has captured moves its
 * bytes with splice(2) from here on (splice_relay.h): the kernel carries
 * them socket to socket, with no copy into the proxy and back. Possible
 * only while libuv has nothing queued on either socket; otherwise, or when
 * the relay cannot start (no descriptors left for its pipes), the tunnel
 * keeps the ordinary relay. 1: buf (just read from `from`) went to the
 * splice relay, which now owns the tunnel's bytes. */
static int try_splice(cs_conn_t *c, cs_endpoint_t *from, const uint8_t *buf, size_t len) {
  cs_endpoint_t *to = cs_conn_peer_of(c, from);
  if (c->pt == NULL || c->splice != NULL || c->splice_refused || cs_passthrough_observing(c->pt) ||
      !cs_splice_relay_supported() || c->client.has_ssl || c->upstream.has_ssl ||
      c->client.queued != 0 || c->upstream.queued != 0 || c->client.shut || c->upstream.shut ||
      c->client.eof || c->upstream.eof)
    return 0;
  cs_endpoint_read_stop(&c->client);
  cs_endpoint_read_stop(&c->upstream);
  cs_splice_relay_pending_t pending = {0};
  if (from == &c->client) {
    pending.a_to_b = buf;
    pending.a_to_b_len = len;
  } else {
    pending.b_to_a = buf;
    pending.b_to_a_len = len;
  }
  cs_splice_relay_cbs_t cbs = {c, on_splice_activity, on_splice_done};
  int rc = cs_splice_relay_start(&c->splice, c->px->loop, &c->client.tcp, &c->upstream.tcp,
                                 &pending, &cbs);
  if (rc == 0) {
    cs_conn_log(c, "relaying with splice(2) from here on");
    return 1;
  }
  cs_conn_log(c, "splice relay not started (%s): relaying through the loop", cs_strerror(rc));
  c->splice_refused = 1; /* not tried again on every read */
  if ((!from->paused && cs_endpoint_read_start(from) != 0) ||
      (!to->paused && cs_endpoint_read_start(to) != 0)) {
    cs_conn_close(c);
    return -1;
  }
  return 0;
}

static void on_relay_read(cs_endpoint_t *from, uint8_t *buf, ssize_t nread) {
  cs_conn_t *c = from->owner;
  cs_endpoint_t *to = cs_conn_peer_of(c, from);
  cs_conn_touch(c);
  if (nread > 0 && try_splice(c, from, buf, (size_t)nread) != 0) {
    free(buf);
    return;
  }
  if (nread < 0) {
    if (c->pt != NULL)
      cs_passthrough_closed(c->pt, from == &c->client);
    if (nread != UV_EOF) {
      cs_conn_log(c, "%s: %s", from->name, uv_strerror((int)nread));
      cs_conn_close(c);
      return;
    }
    if (from->has_ssl) {
      from->bio.eof = 1;
      relay_from(c, from);
    } else {
      side_eof(c, from);
    }
    return;
  }
  if (from->rec != NULL) {
    relay_records(c, from, buf, (size_t)nread); /* owns buf */
    return;
  }
  if (from->has_ssl) {
    int rc = cs_tls_bio_push(&from->bio, buf, (size_t)nread);
    free(buf);
    if (rc != 0) {
      cs_conn_close(c);
      return;
    }
    relay_from(c, from);
    return;
  }
  int rc = to->has_ssl ? cs_endpoint_send(to, buf, (size_t)nread)
                       : cs_endpoint_write_owned(to, buf, (size_t)nread);
  if (to->has_ssl)
    free(buf);
  if (rc != 0) {
    cs_conn_close(c);
    return;
  }
  /* Forwarded first: the write owns buf, which stays intact until its
   * callback, and libuv never runs that before we return to the loop. */
  if (c->pt != NULL)
    cs_passthrough_observe(c->pt, from == &c->client, buf, (size_t)nread);
  if (to->queued >= CS_EP_WRITE_HIGH)
    cs_conn_pause_side(from);
}

static void on_relay_drain(cs_endpoint_t *to) {
  cs_conn_t *c = to->owner;
  cs_endpoint_t *from = cs_conn_peer_of(c, to);
  cs_conn_touch(c);
  if (c->state != ST_RELAY || !from->paused || from->eof)
    return;
  from->paused = 0;
  if (from->has_ssl)
    relay_from(c, from); /* records already received come first */
  if (c->state == ST_RELAY && !from->paused && !from->eof &&
      cs_endpoint_read_start(from) != 0)
    cs_conn_close(c);
}

void cs_conn_on_write_error(cs_endpoint_t *ep, int status) {
  cs_conn_t *c = ep->owner;
  cs_conn_log(c, "write to %s failed: %s", ep->name, uv_strerror(status));
  cs_conn_close(c);
}

void cs_conn_start_relay(cs_conn_t *c) {
  c->state = ST_RELAY;
  cs_conn_touch(c);
  /* A relaying tunnel never parses a head again: its ~20 KB parser goes
   * (issue #21: memory per idle tunnel). */
  free(c->head);
  c->head = NULL;
  c->client.on_read = on_relay_read;
  c->upstream.on_read = on_relay_read;
  c->client.on_drain = on_relay_drain;
  c->upstream.on_drain = on_relay_drain;
  c->client.on_shutdown = on_relay_shutdown;
  c->upstream.on_shutdown = on_relay_shutdown;
  if (cs_endpoint_read_start(&c->client) != 0 || cs_endpoint_read_start(&c->upstream) != 0) {
    cs_conn_close(c);
    return;
  }
  /* Bytes that arrived during the handshakes are already in the BIOs. */
  if (c->client.has_ssl)
    relay_from(c, &c->client);
  if (c->state == ST_RELAY && c->upstream.has_ssl)
    relay_from(c, &c->upstream);
}
