#!/usr/bin/env bash
# Seeds for fuzz_tls_hello_join: a real ClientHello (openssl s_client's,
# captured on a loopback socket) whole, split over 2 and 5 records, and
# interrupted by an alert record.
#   bash fuzz/make_seeds_hello_join.sh   (writes fuzz/corpus/fuzz_tls_hello_join/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/fuzz/corpus/fuzz_tls_hello_join
mkdir -p "$out"
python3 - "$out" <<'PY'
import socket, subprocess, sys, os
out = sys.argv[1]
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
port = srv.getsockname()[1]
cli = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                        "-servername", "seed.test"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
conn, _ = srv.accept(); conn.settimeout(5)
data = b""
while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
    chunk = conn.recv(65536)
    if not chunk: break
    data += chunk
conn.close(); cli.kill()
rec_len = int.from_bytes(data[3:5], "big")
hello = data[5:5 + rec_len]
def records(parts, version=data[1:3]):
    return b"".join(bytes([22]) + version + len(p).to_bytes(2, "big") + p for p in parts)
def split(msg, n):
    step = (len(msg) + n - 1) // n
    return [msg[i:i + step] for i in range(0, len(msg), step)]
seeds = {
    "whole.bin": records([hello]),
    "split2.bin": records(split(hello, 2)),
    "split5.bin": records(split(hello, 5)) + b"\x17\x03\x03\x00\x01x",
    "alert_between.bin": records(split(hello, 2)[:1]) + b"\x15\x03\x03\x00\x02\x02\x28",
}
for name, b in seeds.items():
    open(os.path.join(out, name), "wb").write(b)
print("seeds:", ", ".join(sorted(seeds)))
PY
