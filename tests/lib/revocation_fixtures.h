/*
 * Test helpers for the revocation tests: a temp dir with a small PKI made by
 * openssl (CA, leaves good/revoked/unknown, a delegated OCSP signer, another
 * CA, a CRL by `openssl ca -gencrl`), and real peers (openssl ocsp, openssl
 * s_server, python3 http.server) on ephemeral 127.0.0.1 ports, killed with
 * bounded waits.
 */
#ifndef CS_TESTS_REVOCATION_FIXTURES_H
#define CS_TESTS_REVOCATION_FIXTURES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include <mbedtls/x509_crt.h>

#include "cs_test.h"
#include "fixture.h"

/* Assertions: cs_test.h. Temporary directories: fixture.h. */

/* Runs a shell command in dir, output appended to dir/log. Returns the exit status. */
int rv_sh(const char *dir, const char *cmd);
/* Reads a whole file (caller frees *buf). 0 or -1. */
int rv_read(const char *dir, const char *name, uint8_t **buf, size_t *len);
/* A currently free 127.0.0.1 TCP port (bind 0, read, close), or -1. */
int rv_free_port(void);
/* Starts `cmd` (a shell command, run with exec in dir, output to dir/name.log)
 * and waits until the log contains `ready` (at most timeout_ms). Waiting on
 * the log, not by connecting: openssl ocsp serves one connection at a time
 * and a probe connection can wedge it. Returns the pid, or -1 if it did not
 * come up (exited, e.g. port taken: the caller retries; or timed out: killed). */
pid_t rv_spawn_server(const char *dir, const char *name, const char *cmd, const char *ready,
                      int timeout_ms);
/* SIGTERM, bounded wait, then SIGKILL. Safe with pid <= 0. */
void rv_kill(pid_t pid);
/* Builds the PKI in dir; AIA/CRL URLs point at 127.0.0.1:http_port.
 * Files: ca.crt/.key, good.crt, revoked.crt, unknown.crt (not in the index),
 * foreign.crt (by other.crt), ocsp.crt/.key (delegated, id-kp-OCSPSigning),
 * badocsp.crt/.key (delegate without the EKU), ca.crl (DER), ca.der, index.txt,
 * ca.cnf. Returns 0 or the failing exit status. */
int rv_make_pki(const char *dir, int http_port);
/* Writes dir/out: a P-256 key file holding dir/key's public point but a
 * fresh private scalar. OpenSSL compares only the public halves when it
 * loads a certificate and key, so s_server then signs (TLS 1.3
 * CertificateVerify) with a key that does not match its certificate.
 * Returns 0 or the failing exit status. */
int rv_make_foreign_scalar_key(const char *dir, const char *key, const char *out);
/* Parses dir/name into crt (initialised here). 0 or -1. */
int rv_load_crt(const char *dir, const char *name, mbedtls_x509_crt *crt);

#endif
