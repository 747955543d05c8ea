#!/usr/bin/env bash
# Seeds for fuzz_tls_records: records sealed with Python's cryptography
# package (an implementation independent of ours) under the fuzz target's
# fixed keys, for each suite: application data of 0, 1, 100 and 16384
# bytes, two records back to back, a close_notify, a fatal alert, a
# HelloRequest, a record with a flipped bit, one cut short.
#   bash fuzz/make_seeds_tls_records.sh   (writes fuzz/corpus/fuzz_tls_records/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/fuzz/corpus/fuzz_tls_records
mkdir -p "$out"
python3 - "$out" <<'PY'
import sys, os
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
out = sys.argv[1]
def block(keylen, ivlen):
    ck = bytes(0x10 + i for i in range(keylen)); civ = bytes(0x70 + i for i in range(ivlen))
    return ck, civ
def seal(pick, seq, typ, pt):
    keylen = 16 if pick == 0 else 32
    ivlen = 12 if pick == 2 else 4
    key, iv = block(keylen, ivlen)
    aad = seq.to_bytes(8, "big") + bytes([typ, 3, 3]) + len(pt).to_bytes(2, "big")
    if pick == 2:
        nonce = bytes(a ^ b for a, b in zip(iv, bytes(4) + seq.to_bytes(8, "big")))
        body = ChaCha20Poly1305(key).encrypt(nonce, pt, aad)
    else:
        explicit = seq.to_bytes(8, "big")
        body = explicit + AESGCM(key).encrypt(iv + explicit, pt, aad)
    return bytes([typ, 3, 3]) + len(body).to_bytes(2, "big") + body
names = ["gcm128", "gcm256", "chacha"]
for pick in range(3):
    def w(name, wire):
        open(os.path.join(out, "%s_%s" % (names[pick], name)), "wb").write(bytes([pick]) + wire)
    for n in (0, 1, 100, 16384):
        w("data%d" % n, seal(pick, 1, 23, bytes(i % 251 for i in range(n))))
    w("two", seal(pick, 1, 23, b"GET / HTTP/1.1\r\n") + seal(pick, 2, 23, b"\r\n"))
    w("close_notify", seal(pick, 1, 23, b"x") + seal(pick, 2, 21, bytes([1, 0])))
    w("fatal_alert", seal(pick, 1, 21, bytes([2, 40])))
    w("hello_request", seal(pick, 1, 22, bytes(4)))
    bad = bytearray(seal(pick, 1, 23, b"flipped")); bad[-3] ^= 1
    w("flipped", bytes(bad))
    w("short", seal(pick, 1, 23, b"truncated")[:-5])
PY
echo "seeds in $out: $(ls "$out" | wc -l)"
