#!/usr/bin/env bash
# Passthrough benchmark on loopback, side by side in one run:
#   direct  vs  certskew --passthrough  vs  certskew (intercepting)  vs  mitmproxy
# bulk MB/s (one 256 MB download) and p50/p99 latency of sequential full
# HTTPS requests (TCP + CONNECT + TLS 1.2 + small GET), measured by
# bench/bench_proxy_client.c against openssl s_server -WWW.
# Target: passthrough bulk >= 90% of direct.
#
# usage: bench/bench_passthrough.sh [BUILD_DIR] [COUNT]
# Writes bench/results/passthrough.json (gitignored) and prints it.
# Needs: openssl; mitmdump (Debian package mitmproxy) optional.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
COUNT=${2:-300}
BIN=$BUILD/certskew
CLIENT=$BUILD/bench/bench_proxy_client
RESULTS=$SRC/bench/results
mkdir -p "$RESULTS"
T=$(mktemp -d "${TMPDIR:-/tmp}/certskew-benchpt.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
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

openssl s_server -accept 127.0.0.1:0 -cert leaf.pem -key leaf.key -WWW > s.log 2>&1 &
PIDS+=($!)
SPORT=""
for i in $(seq 1 100); do
  SPORT=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\).*/\1/p' s.log | head -1)
  [ -n "$SPORT" ] && break
  sleep 0.1
done
[ -n "$SPORT" ] || { echo '{"error": "s_server did not start"}'; exit 1; }

start_certskew() { # start_certskew NAME ARGS... -> port on stdout
  local name=$1; shift
  CERTSKEW_HOME="$T/home" "$BIN" proxy --port 0 --port-file "$T/$name.port" --trust root.pem "$@" \
    > "$T/$name.log" 2>&1 &
  PIDS+=($!)
  for i in $(seq 1 150); do [ -s "$T/$name.port" ] && break; sleep 0.1; done
  cat "$T/$name.port"
}
PTPORT=$(start_certskew pass --passthrough) || exit 1
ICPORT=$(start_certskew icpt) || exit 1

MITM="" MPORT=""
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
PASSJ=$(run certskew_passthrough --proxy "$PTPORT" --ca root.pem)
ICPTJ=$(run certskew_intercept --proxy "$ICPORT" --ca "$T/home/ca.pem")
if [ -n "$MITM" ]; then
  MITMJ=$(run mitmproxy --proxy "$MPORT" --ca "$T/mitm/mitmproxy-ca-cert.pem")
else
  MITMJ='{"label": "mitmproxy", "error": "mitmdump not installed (Debian package mitmproxy)"}'
fi
# Captures the passthrough proxy made (one chain, seen COUNT+1 times).
CAPS=$(curl -sS "http://127.0.0.1:$PTPORT/api/captures" 2>/dev/null || echo '{}')

python3 - "$DIRECT" "$PASSJ" "$ICPTJ" "$MITMJ" "$COUNT" "$CAPS" > "$RESULTS/passthrough.json" <<'PY'
import json, sys, platform, os
d, p, i, m = (json.loads(x) for x in sys.argv[1:5])
def ratio(a, b, key):
    try:
        return round(a[key] / b[key], 3) if b[key] else None
    except (KeyError, TypeError):
        return None
def lat(r, q):
    try: return r["latency_ms"][q]
    except (KeyError, TypeError): return None
try:
    caps = json.loads(sys.argv[6]).get("captures", [])
    seen = sum(c.get("seen_count", 0) for c in caps)
except ValueError:
    seen = None
out = {"benchmark": "passthrough", "requests_per_run": int(sys.argv[5]), "cpus": os.cpu_count(),
       "machine": platform.machine(), "results": [d, p, i, m],
       "comparison": {
           "passthrough_bulk_vs_direct": ratio(p, d, "bulk_MBps"),
           "intercept_bulk_vs_direct": ratio(i, d, "bulk_MBps"),
           "passthrough_bulk_vs_mitmproxy": ratio(p, m, "bulk_MBps"),
           "latency_ms_p50": {r.get("label"): lat(r, "p50") for r in (d, p, i, m)},
           "latency_ms_p99": {r.get("label"): lat(r, "p99") for r in (d, p, i, m)},
       },
       "passthrough_sightings_captured": seen,
       "targets": {"passthrough_bulk_vs_direct": ">= 0.9"}}
print(json.dumps(out, indent=2))
PY
cat "$RESULTS/passthrough.json"
