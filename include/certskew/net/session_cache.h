/*
 * Upstream TLS sessions kept per server, so the proxy resumes them the way
 * browsers do (an abbreviated handshake: no key exchange, no signature to
 * verify). A session is offered only while younger than max_age_ms counted
 * from the full handshake that created it. The chain served in that full
 * handshake is kept with the session (mbedTLS 2.28 keeps only the leaf in
 * a session copy), and handed out with the offer, so a resumed connection
 * is captured and judged with exactly the chain its session was made with.
 * The owner saves a session only after judging its chain, and forgets it
 * when a later judgement fails.
 *
 * Memory: the cache owns copies of the sessions (mbedtls_ssl_get_session)
 * and of the chains.
 */
#ifndef CERTSKEW_NET_SESSION_CACHE_H
#define CERTSKEW_NET_SESSION_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ssl.h>

#include "certskew/core/error.h"

typedef struct cs_session_cache cs_session_cache_t;

/* A cache of at most max_entries sessions (least recently saved evicted
 * first), each usable for max_age_ms after its full handshake. *out owned
 * by the caller (cs_session_cache_free). CS_EINVAL for 0 sizes, CS_ENOMEM. */
int cs_session_cache_new(cs_session_cache_t **out, size_t max_entries, int64_t max_age_ms)
    CS_MUST_CHECK;
/* Safe on NULL. */
void cs_session_cache_free(cs_session_cache_t *c);
/* Before a client handshake: offers the session saved under key (if fresh)
 * to ssl, and sets *chain_der (malloc'ed copy, owned by the caller),
 * *chain_len and *ncerts to the chain saved with it. 1 offered, 0 nothing
 * to offer (or expired: dropped), negative CS_E* if mbedTLS refused it or
 * out of memory (a failure only loses the resumption; nothing to free).
 * c may be NULL (0). */
int cs_session_cache_offer(cs_session_cache_t *c, const char *key, mbedtls_ssl_context *ssl,
                           int64_t now_ms, uint8_t **chain_der, size_t *chain_len,
                           size_t *ncerts);
/* After a completed full handshake: saves ssl's session under key with a
 * copy of the chain it served (chain_len > 0; DER certificates
 * concatenated, ncerts of them), replacing a previous one, stamped now_ms.
 * c may be NULL (no-op). CS_EINVAL, CS_ENOMEM, CS_ECRYPTO. */
int cs_session_cache_save(cs_session_cache_t *c, const char *key, const mbedtls_ssl_context *ssl,
                          const uint8_t *chain_der, size_t chain_len, size_t ncerts,
                          int64_t now_ms);
/* Drops key's session, if any. c may be NULL. */
void cs_session_cache_forget(cs_session_cache_t *c, const char *key);
/* Sessions held. */
size_t cs_session_cache_count(const cs_session_cache_t *c);

#endif
