/*
 * Passive, read-only view of one TLS connection relayed byte for byte (the
 * proxy's passthrough mode). Pure: fed copies or borrowed views of the bytes
 * each side sent, in any split; no I/O, no clock.
 *
 * What it sees:
 *  - from the client's ClientHello: SNI, the highest version offered, and
 *    whether it asked for OCSP stapling / TLS-extension SCTs;
 *  - from the server: ServerHello (version, cipher suite) and, for TLS 1.2,
 *    the plaintext Certificate, CertificateStatus and SCT extension, parsed
 *    by the stapling probe's parser (certskew/tls/tls_probe.h). In TLS 1.3 they
 *    are encrypted: the flight is reported as such, and the caller captures
 *    the chain by other means (a side connection);
 *  - what the client did next: a plaintext fatal alert after the server's
 *    flight (TLS 1.2: its code is visible), carrying on (key exchange,
 *    ChangeCipherSpec, application data), or closing. In TLS 1.3 the alert
 *    is encrypted; a single alert-sized encrypted record followed by a close
 *    is reported as "likely rejected".
 *
 * Traffic that is not TLS, or TLS this parser does not understand, never
 * fails the tunnel: the sniffer stops and says why (flight NOT_TLS).
 */
#ifndef CERTSKEW_TLS_TLS_SNIFF_H
#define CERTSKEW_TLS_TLS_SNIFF_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/core/error.h"
#include "certskew/tls/tls_probe.h"

#define CS_SNIFF_HELLO_MAX (64u * 1024) /* largest ClientHello reassembled */

typedef enum cs_sniff_flight {
  CS_SNIFF_FLIGHT_PENDING = 0,  /* the server's first flight is not complete yet */
  CS_SNIFF_FLIGHT_TLS12,        /* plaintext flight parsed to ServerHelloDone: chain seen */
  CS_SNIFF_FLIGHT_TLS13,        /* TLS 1.3 (or a HelloRetryRequest): chain encrypted */
  CS_SNIFF_FLIGHT_RESUMED,      /* abbreviated TLS 1.2 handshake: no Certificate sent */
  CS_SNIFF_FLIGHT_SERVER_ALERT, /* the server answered with an alert (server_alert) */
  CS_SNIFF_FLIGHT_NOT_TLS,      /* not TLS or not understood (detail says why) */
} cs_sniff_flight_t;

typedef enum cs_sniff_reaction {
  CS_SNIFF_CLIENT_UNKNOWN = 0,     /* nothing decisive seen (yet) */
  CS_SNIFF_CLIENT_ALERT,           /* a plaintext alert after the server's flight (alert) */
  CS_SNIFF_CLIENT_LIKELY_REJECTED, /* closed right after the server's flight without
                                      application data (alert not observable) */
  CS_SNIFF_CLIENT_ACCEPTED,        /* went on with the handshake / application data */
} cs_sniff_reaction_t;

typedef struct cs_tls_sniff_info {
  /* Client side. */
  int client_hello_seen;
  char sni[256];                 /* "" when the ClientHello carried none */
  uint16_t client_max_version;   /* highest offered (supported_versions counted) */
  int client_status_request;     /* asked for OCSP stapling */
  int client_sct;                /* asked for TLS-extension SCTs */
  /* Server side. */
  cs_sniff_flight_t flight;
  uint16_t version;              /* negotiated; 0 before ServerHello */
  uint16_t cipher_suite;
  int server_alert;              /* alert description the server sent, -1 if none */
  const cs_tls_probe_result_t *server; /* flight TLS12: certificates, staple, SCT list
                                          (borrowed from the sniffer); NULL otherwise */
  /* What the client did after the server's flight. */
  cs_sniff_reaction_t reaction;
  int alert_level;               /* with reaction ALERT: 1 warning, 2 fatal */
  int alert;                     /* with reaction ALERT: description, -1 otherwise */
  size_t client_encrypted_records; /* client records under encryption after ServerHello */
  size_t first_encrypted_len;    /* length of the first one (an alert is 19 bytes in
                                    TLS 1.3 with AEAD, a Finished at least 53) */
  int client_closed, server_closed;
  char detail[200];              /* how flight and reaction were decided, for people */
} cs_tls_sniff_info_t;

typedef struct cs_tls_sniff cs_tls_sniff_t;

/* NULL on allocation failure; the caller owns the result. */
cs_tls_sniff_t *cs_tls_sniff_new(void);
/* Safe on NULL. Invalidates the info's borrowed pointers. */
void cs_tls_sniff_free(cs_tls_sniff_t *s);

/* Observes len bytes sent by the client (from_client = 1) or the server
 * (borrowed for the call; nothing is kept but the handshake messages that
 * are reported). Bytes after cs_tls_sniff_done() are ignored. Returns 0, or
 * CS_ENOMEM (the sniffer then stops: flight NOT_TLS). Malformed traffic is
 * never an error here: see the info's flight and detail. */
int cs_tls_sniff_feed(cs_tls_sniff_t *s, int from_client, const uint8_t *data, size_t len)
    CS_MUST_CHECK;
/* That side closed (EOF, reset or the tunnel ended). */
void cs_tls_sniff_close(cs_tls_sniff_t *s, int from_client);
/* 1 once nothing more can change (the caller may stop feeding). */
int cs_tls_sniff_done(const cs_tls_sniff_t *s);
/* Borrowed; valid until the next feed/close or free. */
const cs_tls_sniff_info_t *cs_tls_sniff_info(const cs_tls_sniff_t *s);

/* "unknown_ca" for 48 etc. (RFC 8446 §6 names), "unknown" otherwise. */
const char *cs_tls_alert_name(int description);
/* "TLSv1.2", "TLSv1.3", ...; "unknown" otherwise. */
const char *cs_tls_version_name(uint16_t version);
/* "passive TLS 1.2 handshake" etc. for each flight. */
const char *cs_sniff_flight_name(cs_sniff_flight_t flight);
/* "alert", "likely_rejected", "accepted", "unknown". */
const char *cs_sniff_reaction_name(cs_sniff_reaction_t reaction);

#endif
