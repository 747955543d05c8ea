/* Fuzz target: the passthrough sniffer (certskew/tls/tls_sniff.h). The input is
 * a conversation of frames (fuzz/make_seeds_passthrough.sh: 1 byte kind —
 * 0 client bytes, 1 server bytes, 2 client closed, 3 server closed — then a
 * 2-byte length and the bytes). It is fed frame by frame and again in small
 * splits: no crash, and both ways must reach the same verdict (a
 * differential check of the record reassembly). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certskew/tls/passthrough_report.h"
#include "certskew/tls/tls_sniff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(cs_tls_sniff_t *s, const uint8_t *data, size_t size, size_t step) {
  size_t off = 0;
  while (size - off >= 3) {
    uint8_t kind = data[off];
    size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
    off += 3;
    if (len > size - off)
      len = size - off;
    if (kind >= 2) {
      cs_tls_sniff_close(s, (kind & 1) == 0);
    } else {
      for (size_t k = 0; k < len; k += step) {
        size_t n = len - k < step ? len - k : step;
        if (cs_tls_sniff_feed(s, kind == 0, data + off + k, n) != 0)
          return;
      }
    }
    off += len;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cs_tls_sniff_t *whole = cs_tls_sniff_new();
  cs_tls_sniff_t *split = cs_tls_sniff_new();
  if (whole == NULL || split == NULL)
    goto out;
  run(whole, data, size, SIZE_MAX);
  run(split, data, size, size % 7 + 1);
  const cs_tls_sniff_info_t *a = cs_tls_sniff_info(whole), *b = cs_tls_sniff_info(split);
  if (a->flight != b->flight || a->reaction != b->reaction || a->alert != b->alert ||
      a->version != b->version || strcmp(a->sni, b->sni) != 0 ||
      a->client_encrypted_records != b->client_encrypted_records ||
      (a->server != NULL) != (b->server != NULL) ||
      (a->server != NULL && a->server->ncerts != b->server->ncerts))
    abort(); /* the split changed the verdict: a reassembly bug */
  /* The report part must accept whatever the sniffer says. */
  cJSON *j = cs_passthrough_capture_json(a, CS_CAPTURE_METHOD_PASSIVE);
  cJSON_Delete(j);
  cs_findings_t *f = cs_findings_new();
  if (f != NULL && cs_passthrough_add_finding(f, a) != 0)
    abort();
  cs_findings_free(f);
out:
  cs_tls_sniff_free(whole);
  cs_tls_sniff_free(split);
  return 0;
}
