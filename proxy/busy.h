/*
 * Refusing a client when the proxy is full (private): at --max-conns, or
 * when the file-descriptor limit is near, the client is accepted, answered
 * "503 Service Unavailable" with the reason (X-Certskew-Error: PROXY_BUSY
 * or PROXY_FD_LIMIT) and closed, instead of a bare reset. A log line says
 * why, at most once a second with the count since the last one.
 */
#ifndef CERTSKEW_PROXY_BUSY_H
#define CERTSKEW_PROXY_BUSY_H

#include <uv.h>

#include "proxy_ctx.h"

/* Accepted client sockets at or above (RLIMIT_NOFILE - this) are refused,
 * so libuv's own accept never meets EMFILE (which it answers with resets). */
#define CS_BUSY_FD_RESERVE 48
/* At most this many refusals are being answered at once (half the reserve
 * near the descriptor limit); beyond, a client is closed at once (each
 * holds a descriptor while its answer drains). */
#define CS_BUSY_INFLIGHT_MAX 256

/* 1 when the soft descriptor limit leaves fewer than CS_BUSY_FD_RESERVE
 * descriptors above fd (the lowest free one, as the kernel hands out). */
int cs_busy_fd_low(int fd);
/* Answers 503 on a client already accepted into t (malloc'ed, initialised
 * on px->loop; ownership passes here), then closes it. */
void cs_busy_refuse(cs_proxy_ctx_t *px, uv_tcp_t *t, const char *code, const char *why);
/* Accepts one client from server only to refuse it (503). */
void cs_busy_accept_refuse(cs_proxy_ctx_t *px, uv_stream_t *server, const char *code,
                           const char *why);

#endif
