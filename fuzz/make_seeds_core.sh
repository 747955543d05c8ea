#!/usr/bin/env bash
# Regenerates the seed corpora of fuzz_chain and fuzz_clock from real
# openssl-made chains (tests/lib/mkchain.sh) and the documented syntaxes.
#   bash fuzz/make_seeds_core.sh        (from the source tree root)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
chain=$root/fuzz/corpus/fuzz_chain clock=$root/fuzz/corpus/fuzz_clock
rm -rf "$chain" "$clock"; mkdir -p "$chain" "$clock"
sct=$(python3 - <<'PY'
import struct
def sct(ts, idb):
    sig = bytes([0x30,6,2,1,1,2,1,1])
    body = b'\x00' + bytes([idb])*32 + struct.pack('>Q', ts) + b'\x00\x00\x04\x03' + struct.pack('>H', len(sig)) + sig
    return struct.pack('>H', len(body)) + body
lst = sct(1795467783095, 0x11) + sct(1795467783157, 0x22)
tls = struct.pack('>H', len(lst)) + lst
print((bytes([4, len(tls)]) + tls).hex())
PY
)
bash "$root/tests/lib/mkchain.sh" "$tmp/a" LEAF_SCT_HEX="$sct" LEAF_NB=20261123200303Z LEAF_NA=20270221200302Z
bash "$root/tests/lib/mkchain.sh" "$tmp/b" ROOT_NB=19650101000000Z LEAF_NA=20510101000000Z
cp "$tmp/a/chain.pem" "$chain/sct-chain.pem"
cp "$tmp/b/full.pem" "$chain/old-root-full.pem"
openssl x509 -in "$tmp/a/leaf.pem" -outform DER -out "$chain/sct-leaf.der"
openssl x509 -in "$tmp/b/leaf.pem" -outform DER -out "$chain/leaf.der"
printf 'not a certificate\n' > "$chain/garbage.txt"
i=0
for m in exact trustd openssl-ct day -90s +2h skew:-300ms trunc:1s ceil:1s "skew:-2s,trunc:1s" \
         fixed:2000-01-01T00:00:00Z "boot:2000-01-01T00:00:00Z@2026-01-01T00:00:00Z" \
         2026-11-23T21:03:03.095Z 1795467783095 @1795467783 1h30m 1.5s; do
  printf '%s' "$m" > "$clock/seed-$i"; i=$((i + 1))
done
