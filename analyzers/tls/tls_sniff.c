/*
 * Passive TLS view of a relayed connection (include/certskew/tls/tls_sniff.h).
 *
 * Each direction has its own record framer (5-byte header, then the body in
 * whatever pieces arrive). Only what is reported is kept: the client's
 * handshake bytes until its ClientHello is complete, the 2 bytes of a
 * plaintext alert, and the server's first flight, which goes record by
 * record into the stapling probe's parser (one strict parser of server
 * flights in the project, not two).
 */
#include "certskew/tls/tls_sniff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REC_HDR 5
#define REC_MAX (16384 + 2048) /* TLSCiphertext bound (RFC 5246 §6.2.3) */
/* A TLS 1.3 alert under AEAD: 2 bytes, the inner content type, a 16-byte
 * tag. A little slack for padding; a Finished is at least 4 + 32 + 1 + 16. */
#define TLS13_ALERT_RECORD_MAX 24

enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23 };
enum { EXT_SNI = 0, EXT_STATUS_REQUEST = 5, EXT_SCT = 18, EXT_SUPPORTED_VERSIONS = 43 };

typedef struct side {
  uint8_t hdr[REC_HDR];
  size_t hdr_len;
  uint8_t type;         /* of the record being read */
  size_t body_len;      /* its length */
  size_t body_left;     /* bytes of it still to come */
  uint8_t alert[2];     /* first bytes of an alert record */
  size_t alert_len;
  int ccs;              /* sent ChangeCipherSpec: its later TLS 1.2 records are encrypted */
} side_t;

struct cs_tls_sniff {
  side_t c, s;
  uint8_t *hello;       /* owned: client handshake bytes until the ClientHello is complete */
  size_t hello_len;
  int hello_parsed;
  cs_tls_probe_parser_t *parser; /* owned: the server's first flight */
  int stopped;          /* NOT_TLS or out of memory: ignore everything */
  cs_tls_sniff_info_t info;
};

static uint32_t be16(const uint8_t *b) { return (uint32_t)b[0] << 8 | b[1]; }
static uint32_t be24(const uint8_t *b) { return (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2]; }

cs_tls_sniff_t *cs_tls_sniff_new(void) {
  cs_tls_sniff_t *s = calloc(1, sizeof(*s)); /* owned by the caller */
  if (s == NULL)
    return NULL;
  s->parser = cs_tls_probe_parser_new();
  if (s->parser == NULL) {
    free(s);
    return NULL;
  }
  s->info.server_alert = -1;
  s->info.alert = -1;
  return s;
}

void cs_tls_sniff_free(cs_tls_sniff_t *s) {
  if (s == NULL)
    return;
  cs_tls_probe_parser_free(s->parser);
  free(s->hello);
  free(s);
}

const cs_tls_sniff_info_t *cs_tls_sniff_info(const cs_tls_sniff_t *s) {
  return s == NULL ? NULL : &s->info;
}

static void stop(cs_tls_sniff_t *s, const char *why) {
  s->stopped = 1;
  if (s->info.flight == CS_SNIFF_FLIGHT_PENDING) {
    s->info.flight = CS_SNIFF_FLIGHT_NOT_TLS;
    s->info.server = NULL;
  }
  snprintf(s->info.detail, sizeof(s->info.detail), "%s", why);
}

static void decide(cs_tls_sniff_t *s, cs_sniff_reaction_t r, const char *why) {
  if (s->info.reaction != CS_SNIFF_CLIENT_UNKNOWN)
    return;
  s->info.reaction = r;
  snprintf(s->info.detail, sizeof(s->info.detail), "%s", why);
}

int cs_tls_sniff_done(const cs_tls_sniff_t *s) {
  const cs_tls_sniff_info_t *i = &s->info;
  return s->stopped || i->reaction != CS_SNIFF_CLIENT_UNKNOWN || i->client_closed ||
         i->flight == CS_SNIFF_FLIGHT_SERVER_ALERT ||
         (i->server_closed && i->flight == CS_SNIFF_FLIGHT_PENDING);
}

/* ---- client side: the ClientHello ---- */

static int is_grease(uint32_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

static const char *hello_exts(cs_tls_sniff_t *s, const uint8_t *b, size_t n) {
  while (n > 0) {
    if (n < 4 || be16(b + 2) > n - 4)
      return "ClientHello: truncated extension";
    uint32_t type = be16(b), len = be16(b + 2);
    const uint8_t *d = b + 4;
    if (type == EXT_SNI && len >= 2 && be16(d) == len - 2) {
      size_t off = 2;
      while (off + 3 <= len && s->info.sni[0] == '\0') {
        uint32_t nl = be16(d + off + 1);
        if (nl > len - off - 3)
          return "ClientHello: server_name entry overruns";
        if (d[off] == 0 && nl > 0 && nl < sizeof(s->info.sni)) {
          for (uint32_t k = 0; k < nl; k++)
            if (d[off + 3 + k] <= 0x20 || d[off + 3 + k] >= 0x7f)
              return "ClientHello: server_name is not a host name";
          memcpy(s->info.sni, d + off + 3, nl);
          s->info.sni[nl] = '\0';
        }
        off += 3 + nl;
      }
    } else if (type == EXT_STATUS_REQUEST) {
      s->info.client_status_request = 1;
    } else if (type == EXT_SCT) {
      s->info.client_sct = 1;
    } else if (type == EXT_SUPPORTED_VERSIONS) {
      if (len < 1 || d[0] != len - 1 || (d[0] & 1))
        return "ClientHello: malformed supported_versions";
      uint16_t best = 0;
      for (size_t k = 1; k + 1 < len; k += 2) {
        uint32_t v = be16(d + k);
        if (!is_grease(v) && v > best)
          best = (uint16_t)v;
      }
      if (best != 0)
        s->info.client_max_version = best;
    }
    b += 4 + len;
    n -= 4 + len;
  }
  return NULL;
}

static const char *parse_hello(cs_tls_sniff_t *s, const uint8_t *b, size_t n) {
  if (n < 2 + 32 + 1)
    return "ClientHello: too short";
  s->info.client_max_version = (uint16_t)be16(b);
  size_t off = 34;
  size_t sid = b[off++];
  if (sid > 32 || n - off < sid + 2)
    return "ClientHello: bad session id";
  off += sid;
  size_t cs_len = be16(b + off);
  off += 2;
  if (n - off < cs_len + 1)
    return "ClientHello: cipher suites overrun";
  off += cs_len;
  size_t comp = b[off++];
  if (n - off < comp)
    return "ClientHello: compression methods overrun";
  off += comp;
  if (off == n)
    return NULL; /* no extensions (an old client) */
  if (n - off < 2 || be16(b + off) != n - off - 2)
    return "ClientHello: extensions length mismatch";
  return hello_exts(s, b + off + 2, n - off - 2);
}

static int client_handshake_bytes(cs_tls_sniff_t *s, const uint8_t *b, size_t n) {
  if (s->hello_len + n > CS_SNIFF_HELLO_MAX + 4) {
    stop(s, "ClientHello larger than the sniffer reassembles");
    return 0;
  }
  uint8_t *nb = realloc(s->hello, s->hello_len + n); /* owned by the sniffer */
  if (nb == NULL) {
    stop(s, "out of memory");
    return CS_ENOMEM;
  }
  s->hello = nb;
  memcpy(s->hello + s->hello_len, b, n);
  s->hello_len += n;
  if (s->hello_len < 4)
    return 0;
  if (s->hello[0] != 1) {
    stop(s, "the client's first handshake message is not a ClientHello");
    return 0;
  }
  size_t len = be24(s->hello + 1);
  if (len > CS_SNIFF_HELLO_MAX) {
    stop(s, "ClientHello larger than the sniffer reassembles");
    return 0;
  }
  if (s->hello_len - 4 < len)
    return 0;
  const char *err = parse_hello(s, s->hello + 4, len);
  if (err != NULL) {
    stop(s, err);
    return 0;
  }
  s->hello_parsed = 1;
  s->info.client_hello_seen = 1;
  free(s->hello); /* nothing later is needed from it */
  s->hello = NULL;
  s->hello_len = 0;
  return 0;
}

/* ---- server side: the first flight, through the probe's parser ---- */

static void server_outcome(cs_tls_sniff_t *s) {
  const cs_tls_probe_result_t *r = cs_tls_probe_parser_result(s->parser);
  s->info.version = r->version;
  s->info.cipher_suite = r->cipher_suite;
  switch (r->outcome) {
  case CS_TLS_PROBE_DONE:
    s->info.flight = CS_SNIFF_FLIGHT_TLS12;
    s->info.server = r;
    break;
  case CS_TLS_PROBE_NOT_OBSERVABLE:
    if (r->alert >= 0) {
      s->info.flight = CS_SNIFF_FLIGHT_SERVER_ALERT;
      s->info.server_alert = r->alert;
    } else {
      s->info.flight = CS_SNIFF_FLIGHT_TLS13;
      if (s->info.version < 0x0304)
        s->info.version = 0x0304; /* a HelloRetryRequest */
    }
    break;
  case CS_TLS_PROBE_ALERT:
    s->info.flight = CS_SNIFF_FLIGHT_SERVER_ALERT;
    s->info.server_alert = r->alert;
    break;
  case CS_TLS_PROBE_INCOMPLETE:
  default:
    return;
  }
  snprintf(s->info.detail, sizeof(s->info.detail), "%s", r->detail);
}

static int server_flight_bytes(cs_tls_sniff_t *s, const uint8_t *b, size_t n) {
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  int ret = cs_tls_probe_parser_feed(s->parser, b, n, &eb);
  if (ret == CS_ENOMEM) {
    stop(s, "out of memory");
    return ret;
  }
  if (ret != 0) {
    char why[sizeof(s->info.detail)];
    snprintf(why, sizeof(why), "server flight not understood: %.160s", eb.msg);
    stop(s, why);
    return 0;
  }
  server_outcome(s);
  return 0;
}

/* ---- records ---- */

static int tls13(const cs_tls_sniff_t *s) { return s->info.flight == CS_SNIFF_FLIGHT_TLS13; }

static int flight_final(const cs_tls_sniff_t *s) {
  return s->info.flight != CS_SNIFF_FLIGHT_PENDING;
}

static int record_start(cs_tls_sniff_t *s, int from_client) {
  side_t *d = from_client ? &s->c : &s->s;
  if (from_client) {
    if (!s->hello_parsed && d->type != CT_HANDSHAKE)
      stop(s, "the client's first record is not a TLS handshake record");
    return 0;
  }
  if (flight_final(s))
    return 0;
  if (d->type == CT_CCS && s->info.version != 0) {
    s->info.flight = CS_SNIFF_FLIGHT_RESUMED;
    snprintf(s->info.detail, sizeof(s->info.detail),
             "abbreviated handshake (session resumption): the server sent no certificate");
    return 0;
  }
  /* The parser frames records itself: it gets the header whole. */
  return server_flight_bytes(s, d->hdr, REC_HDR);
}

static int record_body(cs_tls_sniff_t *s, int from_client, const uint8_t *b, size_t n) {
  side_t *d = from_client ? &s->c : &s->s;
  if (d->type == CT_ALERT && d->alert_len < 2) {
    size_t k = n < 2 - d->alert_len ? n : 2 - d->alert_len;
    memcpy(d->alert + d->alert_len, b, k);
    d->alert_len += k;
  }
  if (from_client)
    return !s->hello_parsed && d->type == CT_HANDSHAKE ? client_handshake_bytes(s, b, n) : 0;
  if (!flight_final(s))
    return server_flight_bytes(s, b, n);
  return 0;
}

static const char *alert_level_word(int level) { return level == 2 ? "fatal" : "warning"; }

/* A whole client record after its ClientHello: what did the client do? */
static void client_record_end(cs_tls_sniff_t *s) {
  side_t *d = &s->c;
  char why[sizeof(s->info.detail)];
  int encrypted = tls13(s) ? d->type == CT_APPDATA : d->ccs && d->type != CT_CCS;
  if (!flight_final(s) && d->type != CT_ALERT)
    return; /* early data or a second ClientHello: not a reaction */
  if (encrypted) {
    if (!tls13(s)) {
      if (d->type == CT_APPDATA)
        decide(s, CS_SNIFF_CLIENT_ACCEPTED,
               "the client finished the TLS 1.2 handshake and sent application data");
      return;
    }
    if (s->info.client_encrypted_records++ == 0)
      s->info.first_encrypted_len = d->body_len;
    if (s->info.client_encrypted_records >= 2)
      decide(s, CS_SNIFF_CLIENT_ACCEPTED,
             "the client sent its Finished and then application data (TLS 1.3)");
    return;
  }
  switch (d->type) {
  case CT_ALERT:
    if (d->body_len != 2 || d->alert_len != 2)
      return;
    s->info.alert_level = d->alert[0];
    s->info.alert = d->alert[1];
    snprintf(why, sizeof(why), "the client sent a %s alert %s(%d) %s",
             alert_level_word(d->alert[0]), cs_tls_alert_name(d->alert[1]), d->alert[1],
             s->info.flight == CS_SNIFF_FLIGHT_TLS12 ? "right after the server's certificate"
             : tls13(s) ? "after the server's flight (unencrypted: this client had not yet "
                          "switched to its TLS 1.3 handshake keys)"
             : flight_final(s) ? "after the server's flight"
                               : "before the server's flight was complete");
    decide(s, CS_SNIFF_CLIENT_ALERT, why);
    return;
  case CT_CCS:
    if (tls13(s))
      return; /* middlebox compatibility (RFC 8446 §D.4) */
    d->ccs = 1;
    if (s->info.flight == CS_SNIFF_FLIGHT_TLS12)
      decide(s, CS_SNIFF_CLIENT_ACCEPTED,
             "the client went on to ChangeCipherSpec after the server's certificate");
    return;
  case CT_HANDSHAKE:
    if (s->info.flight == CS_SNIFF_FLIGHT_TLS12)
      decide(s, CS_SNIFF_CLIENT_ACCEPTED,
             "the client went on with its key exchange after the server's certificate");
    return;
  case CT_APPDATA:
  default:
    return;
  }
}

static int feed_side(cs_tls_sniff_t *s, int from_client, const uint8_t *data, size_t len) {
  side_t *d = from_client ? &s->c : &s->s;
  while (len > 0 && !cs_tls_sniff_done(s)) {
    if (d->hdr_len < REC_HDR) {
      size_t take = REC_HDR - d->hdr_len < len ? REC_HDR - d->hdr_len : len;
      memcpy(d->hdr + d->hdr_len, data, take);
      d->hdr_len += take;
      data += take;
      len -= take;
      if (d->hdr_len < REC_HDR)
        break;
      d->type = d->hdr[0];
      d->body_len = d->body_left = be16(d->hdr + 3);
      d->alert_len = 0;
      if (d->type < CT_CCS || d->type > CT_APPDATA || d->hdr[1] != 3 || d->body_len > REC_MAX) {
        char why[80];
        snprintf(why, sizeof(why), "not TLS from the %s (record header %02x %02x %02x)",
                 from_client ? "client" : "server", d->hdr[0], d->hdr[1], d->hdr[2]);
        stop(s, why);
        return 0;
      }
      int ret = record_start(s, from_client);
      if (ret != 0)
        return ret;
    } else {
      size_t take = d->body_left < len ? d->body_left : len;
      int ret = record_body(s, from_client, data, take);
      if (ret != 0)
        return ret;
      d->body_left -= take;
      data += take;
      len -= take;
    }
    if (d->hdr_len == REC_HDR && d->body_left == 0 && !s->stopped) {
      /* The ClientHello's own record ends here too; it is no reaction
       * because the server's flight cannot be complete before it. */
      if (from_client && s->hello_parsed)
        client_record_end(s);
      d->hdr_len = 0;
    }
  }
  return 0;
}

int cs_tls_sniff_feed(cs_tls_sniff_t *s, int from_client, const uint8_t *data, size_t len) {
  if (s == NULL || (data == NULL && len > 0))
    return CS_EINVAL;
  if (cs_tls_sniff_done(s))
    return 0;
  return feed_side(s, from_client != 0, data, len);
}

void cs_tls_sniff_close(cs_tls_sniff_t *s, int from_client) {
  if (s == NULL)
    return;
  cs_tls_sniff_info_t *i = &s->info;
  if (!from_client) {
    i->server_closed = 1;
    return;
  }
  if (i->client_closed)
    return;
  if (!s->stopped && i->reaction == CS_SNIFF_CLIENT_UNKNOWN) {
    char why[sizeof(i->detail)];
    if (i->flight == CS_SNIFF_FLIGHT_TLS12) {
      decide(s, CS_SNIFF_CLIENT_LIKELY_REJECTED,
             "the client closed right after the server's certificate, without an alert "
             "and without application data");
    } else if (i->flight == CS_SNIFF_FLIGHT_TLS13 && i->client_encrypted_records == 0) {
      decide(s, CS_SNIFF_CLIENT_LIKELY_REJECTED,
             "the client closed right after the server's TLS 1.3 flight without answering it");
    } else if (i->flight == CS_SNIFF_FLIGHT_TLS13 && i->client_encrypted_records == 1 &&
               i->first_encrypted_len <= TLS13_ALERT_RECORD_MAX) {
      snprintf(why, sizeof(why),
               "the client sent one encrypted record of %zu bytes (the size of an alert; a "
               "Finished is at least 53) and closed without application data: its alert "
               "code is encrypted in TLS 1.3",
               i->first_encrypted_len);
      decide(s, CS_SNIFF_CLIENT_LIKELY_REJECTED, why);
    } else if (i->flight == CS_SNIFF_FLIGHT_TLS13 && i->client_encrypted_records == 1) {
      snprintf(i->detail, sizeof(i->detail),
               "the client finished the TLS 1.3 handshake, then closed without application "
               "data");
    }
  }
  i->client_closed = 1;
}

/* ---- names ---- */

const char *cs_tls_alert_name(int d) {
  switch (d) {
  case 0: return "close_notify";
  case 10: return "unexpected_message";
  case 20: return "bad_record_mac";
  case 22: return "record_overflow";
  case 40: return "handshake_failure";
  case 42: return "bad_certificate";
  case 43: return "unsupported_certificate";
  case 44: return "certificate_revoked";
  case 45: return "certificate_expired";
  case 46: return "certificate_unknown";
  case 47: return "illegal_parameter";
  case 48: return "unknown_ca";
  case 49: return "access_denied";
  case 50: return "decode_error";
  case 51: return "decrypt_error";
  case 70: return "protocol_version";
  case 71: return "insufficient_security";
  case 80: return "internal_error";
  case 86: return "inappropriate_fallback";
  case 90: return "user_canceled";
  case 109: return "missing_extension";
  case 110: return "unsupported_extension";
  case 112: return "unrecognized_name";
  case 113: return "bad_certificate_status_response";
  case 115: return "unknown_psk_identity";
  case 116: return "certificate_required";
  case 120: return "no_application_protocol";
  default: return "unknown";
  }
}

const char *cs_tls_version_name(uint16_t v) {
  switch (v) {
  case 0x0300: return "SSLv3";
  case 0x0301: return "TLSv1.0";
  case 0x0302: return "TLSv1.1";
  case 0x0303: return "TLSv1.2";
  case 0x0304: return "TLSv1.3";
  default: return "unknown";
  }
}

const char *cs_sniff_flight_name(cs_sniff_flight_t f) {
  switch (f) {
  case CS_SNIFF_FLIGHT_TLS12: return "passive TLS 1.2 handshake";
  case CS_SNIFF_FLIGHT_TLS13: return "TLS 1.3 (certificate encrypted)";
  case CS_SNIFF_FLIGHT_RESUMED: return "resumed TLS 1.2 session (no certificate sent)";
  case CS_SNIFF_FLIGHT_SERVER_ALERT: return "server alert";
  case CS_SNIFF_FLIGHT_NOT_TLS: return "not TLS";
  case CS_SNIFF_FLIGHT_PENDING:
  default: return "incomplete";
  }
}

const char *cs_sniff_reaction_name(cs_sniff_reaction_t r) {
  switch (r) {
  case CS_SNIFF_CLIENT_ALERT: return "alert";
  case CS_SNIFF_CLIENT_LIKELY_REJECTED: return "likely_rejected";
  case CS_SNIFF_CLIENT_ACCEPTED: return "accepted";
  case CS_SNIFF_CLIENT_UNKNOWN:
  default: return "unknown";
  }
}
