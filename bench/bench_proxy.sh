#!/usr/bin/env bash
# Side-by-side proxy benchmark on loopback, one run:
#   direct  vs  through certskew proxy  vs  through mitmproxy (mitmdump)
# for handshakes/s and p50/p99 latency (sequential full HTTPS requests:
# TCP + CONNECT + TLS + small GET) and bulk MB/s (one 256 MB download).
# Upstream: openssl s_server -WWW with a root -> leaf chain made here.
#
# usage: bench/bench_proxy.sh [BUILD_DIR] [COUNT] > results.json
# Needs: openssl, mitmdump (Debian package mitmproxy; skipped if absent).
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
COUNT=${2:-300}
BIN=$BUILD/certskew
CLIENT=$BUILD/bench/bench_proxy_client
T=$(mktemp -d "${TMPDIR:-/tmp}/certskew-bench.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "${KEEP:-}" ] && { echo "kept $T" >&2; return; }
  rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key \
  -out root.pem -subj "/CN=bench root" -days 30 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr \
  -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in leaf.csr -CA root.pem -CAkey root.key -CAcreateserial -out leaf.pem \
  -days 10 -extfile ext.cnf 2>/dev/null
head -c 100 /dev/zero | tr '\0' x > small.txt
head -c $((256 * 1024 * 1024)) /dev/urandom > bulk.bin

wait_for() { # wait_for FILE PATTERN -> first capture group
  local i v
  for i in $(seq 1 150); do
    v=$(sed -n "$2" "$1" 2>/dev/null | head -1)
    [ -n "$v" ] && { echo "$v"; return 0; }
    sleep 0.1
  done
  return 1
}

openssl s_server -accept 127.0.0.1:0 -cert leaf.pem -key leaf.key -WWW -quiet > s.log 2>&1 &
PIDS+=($!)
# -quiet hides ACCEPT; find the port from /proc instead.
SPORT=""
for i in $(seq 1 50); do
  SPORT=$(ss -ltnp 2>/dev/null | awk -v pid="pid=${PIDS[0]}," '$0 ~ pid {split($4,a,":"); print a[length(a)]}' | head -1)
  [ -n "$SPORT" ] && break
  sleep 0.1
done
[ -n "$SPORT" ] || { echo '{"error": "s_server did not start"}'; exit 1; }

CERTSKEW_HOME="$T/home" "$BIN" proxy --port 0 --port-file "$T/cs.port" --trust root.pem \
  > cs.log 2>&1 &
PIDS+=($!)
CSPORT=$(wait_for "$T/cs.port" 's/^\([0-9]*\)$/\1/p') || { echo '{"error":"certskew did not start"}'; exit 1; }

MITM=""
MPORT=""
if command -v mitmdump > /dev/null; then
  MPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  mitmdump --listen-host 127.0.0.1 --listen-port "$MPORT" --set confdir="$T/mitm" \
    --set ssl_verify_upstream_trusted_ca="$T/root.pem" --set stream_large_bodies=1m \
    -q > mitm.log 2>&1 &
  PIDS+=($!)
  for i in $(seq 1 150); do [ -s "$T/mitm/mitmproxy-ca-cert.pem" ] && break; sleep 0.1; done
  sleep 1
  [ -s "$T/mitm/mitmproxy-ca-cert.pem" ] && MITM=1
fi

run() { # run LABEL ARGS...
  local label=$1; shift
  "$CLIENT" --label "$label" --port "$SPORT" --count "$COUNT" --small /small.txt --bulk /bulk.bin "$@" \
    || echo "{\"label\": \"$label\", \"error\": \"client failed\"}"
}
DIRECT=$(run direct --ca root.pem)
CERTSKEW=$(run certskew --proxy "$CSPORT" --ca "$T/home/ca.pem")
if [ -n "$MITM" ]; then
  MITMJ=$(run mitmproxy --proxy "$MPORT" --ca "$T/mitm/mitmproxy-ca-cert.pem")
else
  MITMJ='{"label": "mitmproxy", "error": "mitmdump not installed (Debian package mitmproxy)"}'
fi
python3 - "$DIRECT" "$CERTSKEW" "$MITMJ" "$COUNT" <<'PY'
import json, sys, platform, os
d, c, m = (json.loads(x) for x in sys.argv[1:4])
def ratio(a, b, key, inverse=False):
    try:
        x, y = (a[key], b[key]) if not inverse else (b[key], a[key])
        return round(x / y, 2) if y else None
    except (KeyError, TypeError):
        return None
def lat(r, q):
    try: return r["latency_ms"][q]
    except (KeyError, TypeError): return None
cmp = {
  "certskew_vs_mitmproxy": {
    "handshakes_per_s": ratio(c, m, "handshakes_per_s"),
    "p50_latency_speedup": round(lat(m, "p50") / lat(c, "p50"), 2) if lat(m, "p50") and lat(c, "p50") else None,
    "p99_latency_speedup": round(lat(m, "p99") / lat(c, "p99"), 2) if lat(m, "p99") and lat(c, "p99") else None,
    "bulk_MBps": ratio(c, m, "bulk_MBps"),
  },
  "certskew_bulk_vs_direct": ratio(c, d, "bulk_MBps"),
}
out = {"benchmark": "proxy", "requests_per_run": int(sys.argv[4]), "cpus": os.cpu_count(),
       "machine": platform.machine(), "results": [d, c, m], "comparison": cmp,
       "targets": {"vs_mitmproxy_every_figure": ">= 10x", "bulk_vs_direct": ">= 0.5"}}
print(json.dumps(out, indent=2))
PY
