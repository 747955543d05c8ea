/* Joining a split ClientHello (certskew/tls/tls_hello_join.h). */
#include "certskew/tls/tls_hello_join.h"

#include <stdlib.h>
#include <string.h>

#define REC_HDR 5
#define HS_HDR 4
/* A record's plaintext may not exceed 2^14 bytes (RFC 8446 §5.1). */
#define REC_MAX 16384

int cs_tls_hello_join(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  uint8_t hs[HS_HDR];
  size_t have = 0;   /* handshake bytes in the records walked */
  size_t want = 0;   /* the whole message with its header, once known */
  size_t off = 0, nrec = 0;
  while (want == 0 || have < want) {
    if (len - off < REC_HDR)
      return CS_HELLO_JOIN_NEED_MORE;
    const uint8_t *r = in + off;
    size_t rlen = ((size_t)r[3] << 8) | r[4];
    if (r[0] != 22 || r[1] != 3 || rlen == 0 || rlen > REC_MAX) {
      /* Not a handshake record: mbedTLS refuses the first one itself;
       * anything else inside the message is refused here. */
      return nrec == 0 ? CS_HELLO_JOIN_AS_IS : CS_EPARSE;
    }
    if (len - off - REC_HDR < rlen)
      return CS_HELLO_JOIN_NEED_MORE;
    for (size_t i = 0; i < rlen && have + i < HS_HDR; i++)
      hs[have + i] = r[REC_HDR + i];
    have += rlen;
    off += REC_HDR + rlen;
    nrec++;
    if (want == 0 && have >= HS_HDR) {
      size_t body = ((size_t)hs[1] << 16) | ((size_t)hs[2] << 8) | hs[3];
      if (hs[0] != 1)
        return nrec == 1 ? CS_HELLO_JOIN_AS_IS : CS_EPARSE; /* not a ClientHello */
      want = HS_HDR + body;
      if (want > CS_TLS_HELLO_JOIN_MAX)
        return CS_ETOOBIG;
    }
    if (nrec == 1 && want != 0 && have >= want)
      return CS_HELLO_JOIN_AS_IS; /* one record: nothing to join */
    if (have > CS_TLS_HELLO_JOIN_MAX)
      return CS_ETOOBIG;
  }
  size_t rest = len - off;
  uint8_t *o = malloc(REC_HDR + have + rest); /* handed to the caller */
  if (o == NULL)
    return CS_ENOMEM;
  o[0] = 22;
  o[1] = in[1];
  o[2] = in[2];
  o[3] = (uint8_t)(have >> 8);
  o[4] = (uint8_t)have;
  size_t w = REC_HDR;
  for (size_t p = 0; p < off;) {
    size_t rlen = ((size_t)in[p + 3] << 8) | in[p + 4];
    memcpy(o + w, in + p + REC_HDR, rlen);
    w += rlen;
    p += REC_HDR + rlen;
  }
  memcpy(o + w, in + off, rest);
  *out = o;
  *out_len = w + rest;
  return CS_HELLO_JOIN_JOINED;
}
