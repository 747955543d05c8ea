/* Fuzz target: joining a ClientHello split over records
 * (certskew/tls/tls_hello_join.h), the client's first bytes the proxy sees.
 * Checks, beyond no crash: every prefix of the input gives a consistent
 * answer (NEED_MORE never follows a final one), and a joined output starts
 * with one handshake record that holds the whole ClientHello. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "certskew/tls/tls_hello_join.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4 * CS_TLS_HELLO_JOIN_MAX)
    return 0;
  int final_seen = 0;
  /* Feeding grows the buffer one arrival at a time: every 97th prefix, and
   * the whole input. */
  for (size_t n = 0; n <= size; n = n == size ? size + 1 : (n + 97 > size ? size : n + 97)) {
    uint8_t *out = NULL;
    size_t out_len = 0;
    int r = cs_tls_hello_join(data, n, &out, &out_len);
    if (r == CS_HELLO_JOIN_NEED_MORE && final_seen)
      abort(); /* more bytes cannot make a finished message unfinished */
    if (r != CS_HELLO_JOIN_NEED_MORE)
      final_seen = 1;
    if (r == CS_HELLO_JOIN_JOINED) {
      if (out == NULL || out_len < 9 || out[0] != 22 || out[5] != 1)
        abort(); /* one handshake record holding a ClientHello */
      size_t rec = (size_t)out[3] << 8 | out[4];
      size_t msg = (size_t)out[6] << 16 | (size_t)out[7] << 8 | out[8];
      /* The record holds the whole message (and any handshake bytes that
       * followed it in the records that carried it). */
      if (rec < msg + 4 || rec > CS_TLS_HELLO_JOIN_MAX || 5 + rec > out_len)
        abort();
    } else if (out != NULL) {
      abort(); /* *out only for a joined message */
    }
    free(out);
  }
  return 0;
}
