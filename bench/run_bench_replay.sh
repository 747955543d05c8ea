#!/usr/bin/env bash
# Builds a release tree, makes a leaf+intermediate+root chain with two SCTs
# using openssl, and runs bench_replay; the JSON lands in bench/results/.
#   bash bench/run_bench_replay.sh [SECONDS_PER_POINT]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cmake -S "$root" -B "$root/build-release" -DCMAKE_BUILD_TYPE=Release -DCERTSKEW_TESTS=OFF >/dev/null
cmake --build "$root/build-release" -j"$(nproc)" --target bench_replay >/dev/null
sct=$(python3 - <<'PY'
import struct
def sct(ts, idb):
    sig = bytes([0x30,0x45,2,0x20]) + b'\x01'*32 + bytes([2,0x21,0]) + b'\x02'*32
    body = b'\x00' + bytes([idb])*32 + struct.pack('>Q', ts) + b'\x00\x00\x04\x03' + struct.pack('>H', len(sig)) + sig
    return struct.pack('>H', len(body)) + body
lst = sct(1795467783095, 0x11) + sct(1795467783157, 0x22)
tls = struct.pack('>H', len(lst)) + lst
print((bytes([4, 0x81, len(tls)]) + tls).hex())
PY
)
bash "$root/tests/lib/mkchain.sh" "$tmp/c" LEAF_SCT_HEX="$sct" LEAF_NB=20261123200303Z LEAF_NA=20270221200302Z
mkdir -p "$root/bench/results"
out="$root/bench/results/replay-$(date -u +%Y%m%dT%H%M%SZ).json"
"$root/build-release/bench/bench_replay" "$tmp/c/full.pem" "${1:-1}" | tee "$out"
echo "results: $out" >&2
