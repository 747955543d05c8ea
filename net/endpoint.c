/* One side of a proxied connection (see endpoint.h). */
#include "certskew/net/endpoint.h"

#include <stdlib.h>
#include <string.h>

typedef struct write_req {
  uv_write_t req;
  cs_endpoint_t *ep;
  uint8_t *data; /* owned */
  size_t len;
} write_req_t;

void cs_endpoint_init(cs_endpoint_t *ep, void *owner, const char *name) {
  memset(ep, 0, sizeof *ep);
  ep->owner = owner;
  ep->name = name;
  cs_tls_bio_init(&ep->bio);
  mbedtls_ssl_init(&ep->ssl);
}

int cs_endpoint_open(cs_endpoint_t *ep, uv_loop_t *loop) {
  if (uv_tcp_init(loop, &ep->tcp) != 0)
    return CS_ENET;
  ep->tcp.data = ep;
  ep->open = 1;
  return 0;
}

int cs_endpoint_tls_setup(cs_endpoint_t *ep, const mbedtls_ssl_config *conf) {
  if (mbedtls_ssl_setup(&ep->ssl, conf) != 0)
    return CS_ENOMEM;
  mbedtls_ssl_set_bio(&ep->ssl, &ep->bio, cs_tls_bio_send, cs_tls_bio_recv, NULL);
  ep->has_ssl = 1;
  return 0;
}

/* The mbedTLS context and its configuration, no longer needed once the
 * records are ours or the side is gone. */
static void free_mbedtls(cs_endpoint_t *ep) {
  mbedtls_ssl_free(&ep->ssl);
  mbedtls_ssl_init(&ep->ssl);
  if (ep->own_conf != NULL) {
    mbedtls_ssl_config_free(ep->own_conf);
    free(ep->own_conf);
    ep->own_conf = NULL;
  }
}

void cs_endpoint_tls_free(cs_endpoint_t *ep) {
  free_mbedtls(ep);
  cs_tls_records_free(ep->rec);
  ep->rec = NULL;
  cs_tls_keys_wipe(&ep->keys);
  cs_tls_bio_free(&ep->bio);
  ep->has_ssl = 0;
}

int cs_endpoint_tls_take_over(cs_endpoint_t *ep) {
  if (ep->rec != NULL)
    return 1;
  if (!ep->has_ssl || !cs_tls_records_ready(&ep->ssl, &ep->keys))
    return 0;
  cs_tls_records_t *rec = NULL;
  int rc = cs_tls_records_new(&rec, &ep->ssl, &ep->keys);
  if (rc == CS_EUNSUPPORTED)
    return 0;
  if (rc != 0)
    return rc;
  /* mbedTLS 2.28 (ssl_msg.c, mbedtls_ssl_fetch_input) keeps the bytes of
   * an incomplete record at in_hdr, in_left of them: they come first. */
  if (cs_tls_bio_unshift(&ep->bio, ep->ssl.in_hdr, ep->ssl.in_left) != 0) {
    cs_tls_records_free(rec);
    return CS_ENOMEM;
  }
  ep->rec = rec;
  free_mbedtls(ep);
  return 1;
}

int cs_endpoint_tls_open(cs_endpoint_t *ep, uint8_t *buf, size_t len, cs_tls_opened_t *out) {
  if (ep->rec == NULL) {
    memset(out, 0, sizeof *out);
    return CS_ESTATE;
  }
  return cs_tls_records_open(ep->rec, buf, len, out, &ep->bio);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  buf->base = malloc(CS_EP_READ_CHUNK); /* handed to on_read */
  buf->len = buf->base != NULL ? CS_EP_READ_CHUNK : 0;
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  cs_endpoint_t *ep = s->data;
  if (nread == 0) {
    free(buf->base);
    return;
  }
  if (nread < 0) {
    free(buf->base);
    cs_endpoint_read_stop(ep);
    if (ep->on_read != NULL)
      ep->on_read(ep, NULL, nread);
    return;
  }
  ep->bytes_in += (uint64_t)nread;
  if (ep->on_read != NULL)
    ep->on_read(ep, (uint8_t *)buf->base, nread);
  else
    free(buf->base);
}

int cs_endpoint_read_start(cs_endpoint_t *ep) {
  if (!ep->open || ep->closing)
    return CS_ESTATE;
  if (ep->reading)
    return 0;
  if (uv_read_start((uv_stream_t *)&ep->tcp, alloc_cb, read_cb) != 0)
    return CS_ENET;
  ep->reading = 1;
  return 0;
}

void cs_endpoint_read_stop(cs_endpoint_t *ep) {
  if (ep->reading && ep->open && !ep->closing)
    uv_read_stop((uv_stream_t *)&ep->tcp);
  ep->reading = 0;
}

static void write_cb(uv_write_t *req, int status) {
  write_req_t *w = (write_req_t *)req;
  cs_endpoint_t *ep = w->ep;
  size_t before = ep->queued;
  ep->queued -= w->len;
  free(w->data);
  free(w);
  if (status != 0) {
    if (status != UV_ECANCELED && ep->on_write_error != NULL)
      ep->on_write_error(ep, status);
    return;
  }
  if (before >= CS_EP_WRITE_LOW && ep->queued < CS_EP_WRITE_LOW && ep->on_drain != NULL)
    ep->on_drain(ep);
}

int cs_endpoint_write_owned(cs_endpoint_t *ep, uint8_t *data, size_t len) {
  if (!ep->open || ep->closing || ep->shut) {
    free(data);
    return CS_ESTATE;
  }
  write_req_t *w = malloc(sizeof *w); /* freed in write_cb */
  if (w == NULL) {
    free(data);
    return CS_ENOMEM;
  }
  w->ep = ep;
  w->data = data;
  w->len = len;
  uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
  if (uv_write(&w->req, (uv_stream_t *)&ep->tcp, &b, 1, write_cb) != 0) {
    free(data);
    free(w);
    return CS_ENET;
  }
  ep->queued += len;
  ep->bytes_out += len;
  return 0;
}

int cs_endpoint_write_copy(cs_endpoint_t *ep, const void *data, size_t len) {
  if (len == 0)
    return 0;
  uint8_t *p = malloc(len);
  if (p == NULL)
    return CS_ENOMEM;
  memcpy(p, data, len);
  return cs_endpoint_write_owned(ep, p, len);
}

int cs_endpoint_flush(cs_endpoint_t *ep) {
  size_t len = 0;
  uint8_t *p = cs_tls_bio_take(&ep->bio, &len);
  if (p == NULL)
    return 0;
  return cs_endpoint_write_owned(ep, p, len);
}

int cs_endpoint_send_nf(cs_endpoint_t *ep, const void *data, size_t len) {
  if (!ep->has_ssl)
    return cs_endpoint_write_copy(ep, data, len);
  if (ep->rec != NULL)
    return cs_tls_records_seal(ep->rec, data, len, &ep->bio);
  const unsigned char *p = data;
  while (len > 0) {
    /* The memory BIO accepts everything, so WANT_WRITE cannot happen. */
    int n = mbedtls_ssl_write(&ep->ssl, p, len);
    if (n <= 0)
      return CS_ECRYPTO;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

size_t cs_endpoint_unflushed(const cs_endpoint_t *ep) { return ep->bio.out_len; }

int cs_endpoint_send(cs_endpoint_t *ep, const void *data, size_t len) {
  int rc = cs_endpoint_send_nf(ep, data, len);
  if (rc != 0 || !ep->has_ssl)
    return rc;
  return cs_endpoint_flush(ep);
}

static void shutdown_cb(uv_shutdown_t *req, int status) {
  cs_endpoint_t *ep = req->data;
  free(req);
  ep->shut_done = 1;
  if (ep->on_shutdown != NULL)
    ep->on_shutdown(ep, status);
}

void cs_endpoint_shutdown(cs_endpoint_t *ep) {
  if (!ep->open || ep->closing || ep->shut)
    return;
  if (ep->rec != NULL) {
    /* Best effort, as with mbedTLS: the half-close happens regardless. */
    int sealed = cs_tls_records_seal_alert(ep->rec, 1, 0, &ep->bio);
    (void)sealed;
    if (cs_endpoint_flush(ep) != 0)
      return;
  } else if (ep->has_ssl) {
    (void)mbedtls_ssl_close_notify(&ep->ssl);
    if (cs_endpoint_flush(ep) != 0)
      return;
  }
  uv_shutdown_t *req = malloc(sizeof *req); /* freed in shutdown_cb */
  if (req == NULL)
    return;
  req->data = ep;
  if (uv_shutdown(req, (uv_stream_t *)&ep->tcp, shutdown_cb) != 0) {
    free(req);
    return;
  }
  ep->shut = 1;
}

static void close_cb(uv_handle_t *h) {
  cs_endpoint_t *ep = h->data;
  ep->open = 0;
  if (ep->on_closed != NULL)
    ep->on_closed(ep);
}

void cs_endpoint_close(cs_endpoint_t *ep) {
  cs_endpoint_tls_free(ep);
  if (!ep->open || ep->closing)
    return;
  ep->closing = 1;
  ep->reading = 0;
  uv_close((uv_handle_t *)&ep->tcp, close_cb);
}
