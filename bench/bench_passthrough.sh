#!/usr/bin/env bash
# Passthrough benchmark on loopback, side by side in one run:
#   direct  vs  certskew --passthrough  vs  certskew (intercepting)  vs  mitmproxy
#   vs  HAProxy in TCP mode (a reference relay: no CONNECT, no capture, splice on)
# with the project's proxy bench client and upstream (bench/bench_proxy_client.c,
# bench/bench_proxy_server.c: OpenSSL, TLS 1.2): bulk MB/s (median of BULK_RUNS
# downloads, run by run round the targets), p50/p99 latency of sequential requests on one kept-alive
# connection (the relay's own cost), and full handshakes per second with
# their p50/p99 latency (TCP + CONNECT + TLS + GET). Each proxy's CPU time is
# reported by the client, and the relay's CPU seconds per GB relayed in bulk.
# Target: passthrough bulk >= 90% of direct.
#
# usage: bench/bench_passthrough.sh [BUILD_DIR]   (DURATION, CONC, BULK_MB, BULK_RUNS env)
# Writes bench/results/passthrough-<time>.json (gitignored) and prints it.
# Needs: openssl; mitmdump (Debian package mitmproxy) and haproxy optional.
#
# On a machine whose cores the client and the upstream already fill (2 cores
# here), any relay's CPU, and the kernel's work for the extra TCP hop (much
# of it charged to the client and upstream), is throughput taken from them:
# the HAProxy line measures what a mature relay loses on the same machine.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
DURATION=${DURATION:-3}
CONC=${CONC:-1,16}
BULK_MB=${BULK_MB:-256}
BULK_RUNS=${BULK_RUNS:-5}
BIN=$BUILD/certskew
CLIENT=$BUILD/bench/bench_proxy_client
SERVER=$BUILD/bench/bench_proxy_server
mkdir -p "$SRC/bench/results"
OUT=${OUT:-$SRC/bench/results/passthrough-$(date -u +%Y%m%dT%H%M%SZ).json}
T=$(mktemp -d "${TMPDIR:-/tmp}/certskew-benchpt.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1
for f in "$BIN" "$CLIENT" "$SERVER"; do
  [ -x "$f" ] || { echo "{\"error\": \"missing $f: build first\"}"; exit 1; }
done

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key \
  -out root.pem -subj "/CN=bench root" -days 30 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr \
  -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in leaf.csr -CA root.pem -CAkey root.key -CAcreateserial -out leaf.pem \
  -days 10 -extfile ext.cnf 2>/dev/null
cat leaf.pem root.pem > chain.pem

wait_file() { # wait_file FILE: its first line once it exists
  local i
  for i in $(seq 1 150); do
    [ -s "$1" ] && { head -1 "$1"; return 0; }
    sleep 0.1
  done
  return 1
}

"$SERVER" --cert chain.pem --key leaf.key --port-file "$T/s.port" \
  --bulk-bytes $((BULK_MB * 1024 * 1024)) > s.log 2>&1 &
SPID=$!
PIDS+=($SPID)
SPORT=$(wait_file "$T/s.port") || { echo '{"error": "upstream did not start"}'; exit 1; }

start_certskew() { # start_certskew NAME ARGS...: sets CSPORT, CSPID
  local name=$1; shift
  CERTSKEW_HOME="$T/home" "$BIN" proxy --port 0 --port-file "$T/$name.port" --trust root.pem "$@" \
    > "$T/$name.log" 2>&1 &
  CSPID=$!
  PIDS+=($CSPID)
  CSPORT=$(wait_file "$T/$name.port") || { echo "{\"error\": \"certskew $name did not start\"}"; exit 1; }
}
start_certskew pass --passthrough
PTPORT=$CSPORT PTPID=$CSPID
start_certskew icpt
ICPORT=$CSPORT ICPID=$CSPID

MITM="" MPORT="" MPID=""
if command -v mitmdump > /dev/null; then
  MPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  mitmdump --listen-host 127.0.0.1 --listen-port "$MPORT" --set confdir="$T/mitm" \
    --set ssl_verify_upstream_trusted_ca="$T/root.pem" --set stream_large_bodies=1m \
    -q > mitm.log 2>&1 &
  MPID=$!
  PIDS+=($MPID)
  wait_file "$T/mitm/mitmproxy-ca-cert.pem" > /dev/null && MITM=1
  for i in $(seq 1 100); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$MPORT),1)" 2>/dev/null && break
    sleep 0.1
  done
fi

HAPROXY="" HPORT="" HPID=""
if command -v haproxy > /dev/null; then
  HPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  printf 'global\n  maxconn 1000\ndefaults\n  mode tcp\n  option splice-auto\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nfrontend f\n  bind 127.0.0.1:%s\n  default_backend b\nbackend b\n  server s 127.0.0.1:%s\n' \
    "$HPORT" "$SPORT" > haproxy.cfg
  haproxy -f haproxy.cfg > haproxy.log 2>&1 &
  HPID=$!
  PIDS+=($HPID)
  for i in $(seq 1 100); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$HPORT),1)" 2>/dev/null && { HAPROXY=1; break; }
    sleep 0.1
  done
fi

# Passthrough: the client validates the real chain (root.pem), not a minted one.
TARGETS=(--target "direct,0,root.pem" --target "passthrough,$PTPORT,root.pem,$PTPID"
         --target "intercept,$ICPORT,$T/home/ca.pem,$ICPID")
[ -n "$MITM" ] && TARGETS+=(--target "mitmproxy,$MPORT,$T/mitm/mitmproxy-ca-cert.pem,$MPID")
[ -n "$HAPROXY" ] && TARGETS+=(--target "haproxy-tcp,=$HPORT,root.pem,$HPID")
RESULTS=$("$CLIENT" --port "$SPORT" --duration "$DURATION" --conc "$CONC" --bulk-runs "$BULK_RUNS" --pid "upstream=$SPID" \
  "${TARGETS[@]}" 2> client.err) \
  || { echo "{\"error\": \"client failed: $(head -c 300 client.err | tr '"\n' "' ")\"}"; exit 1; }
[ -n "$MITM" ] || RESULTS=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r.append({"label": "mitmproxy", "error": "mitmdump not installed (Debian package mitmproxy)"}); print(json.dumps(r))' "$RESULTS")
[ -n "$HAPROXY" ] || RESULTS=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r.append({"label": "haproxy-tcp", "error": "haproxy not installed (Debian package haproxy)"}); print(json.dumps(r))' "$RESULTS")
# What the passthrough proxy captured meanwhile (off the data path).
CAPS=$(curl -sS "http://127.0.0.1:$PTPORT/api/captures" 2>/dev/null || echo '{}')

python3 - "$RESULTS" "$CAPS" "$DURATION" "$CONC" "$BULK_MB" > "$OUT" <<'PY'
import json, os, platform, sys
results = json.loads(sys.argv[1])
by = {r.get("label"): r for r in results}
def get(r, *path):
    try:
        for k in path:
            r = r[k]
        return r
    except (KeyError, TypeError, IndexError):
        return None
def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None
def cpu_per_gb(r):
    s, n, runs = get(r, "bulk", "cpu", "proxy", "s"), get(r, "bulk", "bytes"), get(r, "bulk", "runs")
    return round(s / (n * runs / 1e9), 3) if s is not None and n and runs else None
labels = ["direct", "passthrough", "intercept", "mitmproxy", "haproxy-tcp"]
bulk = {l: get(by.get(l), "bulk", "MBps") for l in labels}
try:
    caps = json.loads(sys.argv[2]).get("captures", [])
    sightings = sum(c.get("seen_count", 0) for c in caps)
except ValueError:
    sightings = None
out = {
    "benchmark": "passthrough", "cpus": os.cpu_count(), "machine": platform.machine(),
    "duration_s": float(sys.argv[3]), "concurrency": sys.argv[4], "bulk_mb": int(sys.argv[5]),
    "figures": {
        "bulk_MBps": bulk,
        "passthrough_bulk_vs_direct": ratio(bulk["passthrough"], bulk["direct"]),
        "intercept_bulk_vs_direct": ratio(bulk["intercept"], bulk["direct"]),
        "haproxy_tcp_bulk_vs_direct": ratio(bulk["haproxy-tcp"], bulk["direct"]),
        "passthrough_bulk_vs_haproxy_tcp": ratio(bulk["passthrough"], bulk["haproxy-tcp"]),
        # The relay's own CPU per GB relayed (bulk phase), beside its MB/s.
        "proxy_cpu_s_per_GB": {l: cpu_per_gb(by.get(l)) for l in labels if l != "direct"},
        "keepalive_latency_ms": {l: get(by.get(l), "keepalive", "latency_ms") for l in labels},
        "full_handshake_c1": {l: {"per_s": get(by.get(l), "handshakes", "full", 0, "handshakes_per_s"),
                                  "latency_ms": get(by.get(l), "handshakes", "full", 0, "latency_ms")}
                              for l in labels},
    },
    "passthrough_sightings_captured": sightings,
    "targets": {"passthrough_bulk_vs_direct": ">= 0.9"},
    "targets_met": {"passthrough_bulk_vs_direct":
                    (ratio(bulk["passthrough"], bulk["direct"]) or 0) >= 0.9},
    "results": results,
}
print(json.dumps(out, indent=2))
PY
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps({k: d[k] for k in ("figures", "passthrough_sightings_captured", "targets_met")}, indent=2))' "$OUT"
echo "full results: $OUT" >&2
