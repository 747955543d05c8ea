/*
 * ClientHello extensions both of the probe's ClientHello builders write
 * (tls_probe_hello.c: TLS 1.2 only; tls13_hello.c: TLS 1.3 and 1.2), in one
 * place so the two offers cannot drift apart. Each appends one extension
 * (type, length, body) to w.
 */
#ifndef CERTSKEW_TLS_HELLO_EXT_H
#define CERTSKEW_TLS_HELLO_EXT_H

#include <stddef.h>
#include <stdint.h>

#include "tls_wbuf.h"

/* server_name with one host_name, only for a DNS name (RFC 6066 §3: never
 * an IP literal); nothing for NULL or "". The caller bounds its length. */
void cs_tls_hello_put_sni(cs_wbuf_t *w, const char *sni);
/* status_request: OCSP, no responder ids, no request extensions. */
void cs_tls_hello_put_status_request(cs_wbuf_t *w);
/* supported_groups with the n groups given. */
void cs_tls_hello_put_groups(cs_wbuf_t *w, const uint16_t *groups, size_t n);
/* ec_point_formats: uncompressed only (TLS 1.2 ECDHE). */
void cs_tls_hello_put_point_formats(cs_wbuf_t *w);
/* signature_algorithms: ECDSA, RSA-PSS (rsae) and PKCS#1 v1.5, SHA-256 up. */
void cs_tls_hello_put_sigalgs(cs_wbuf_t *w);
/* signed_certificate_timestamp (empty: asks for TLS-extension SCTs). */
void cs_tls_hello_put_sct_request(cs_wbuf_t *w);
/* extended_master_secret (empty; TLS 1.2 servers expect it). */
void cs_tls_hello_put_ems(cs_wbuf_t *w);

#endif
