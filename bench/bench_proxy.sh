#!/usr/bin/env bash
# Side-by-side proxy benchmark on loopback, in one run:
#   direct  vs  through certskew  vs  through mitmproxy (mitmdump)
# with the same client (bench_proxy_client: OpenSSL, one thread per
# simulated client) and the same upstream (bench_proxy_server: OpenSSL,
# thread per connection, TLS 1.2). Figures: handshakes/s and per-request
# latency p50/p99 at 1, 16 and 64 concurrent clients, with full and with
# resumed client handshakes; request latency on a kept-alive connection;
# bulk MB/s (median of 3 downloads). Warm-up is excluded. Each phase runs
# for the three targets back to back. The CPU seconds
# of the client, the proxy and the upstream are recorded for every phase,
# so the JSON shows which process was the bottleneck.
#
# usage: bench/bench_proxy.sh [BUILD_DIR] > out.json
#   env: DURATION (s per phase, default 3), CONC (default 1,16,64),
#        UPSTREAM_RESUME (default 1; 0: the upstream refuses resumption, so
#        every proxy-to-server handshake is full: the first-visit case),
#        BULK_MB (default 256), OUT (default bench/results/proxy-<time>.json),
#        WORKERS (certskew --workers; default: the proxy's default, the CPU count)
# Results go to bench/results/ (gitignored: they describe one machine);
# the file is also printed. Use a release build (-O2) of certskew.
# Needs: openssl, python3, mitmdump (Debian package mitmproxy; the
# mitmproxy figures are marked as missing without it).
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
DURATION=${DURATION:-3}
CONC=${CONC:-1,16,64}
BULK_MB=${BULK_MB:-256}
UPSTREAM_RESUME=${UPSTREAM_RESUME:-1}
export WORKERS=${WORKERS:-$(nproc)}
BIN=$BUILD/certskew
CLIENT=$BUILD/bench/bench_proxy_client
SERVER=$BUILD/bench/bench_proxy_server
mkdir -p "$SRC/bench/results"
SUFFIX=""
[ "$UPSTREAM_RESUME" = 0 ] && SUFFIX=-upstream-no-resume
OUT=${OUT:-$SRC/bench/results/proxy-$(date -u +%Y%m%dT%H%M%SZ)$SUFFIX.json}
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
for f in "$BIN" "$CLIENT" "$SERVER"; do
  [ -x "$f" ] || { echo "{\"error\": \"missing $f: build first\"}"; exit 1; }
done

# The upstream's chain: ECDSA P-256 root -> leaf for IP 127.0.0.1.
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
  --bulk-bytes $((BULK_MB * 1024 * 1024)) --no-resume $((1 - UPSTREAM_RESUME)) > s.log 2>&1 &
SPID=$!
PIDS+=($SPID)
SPORT=$(wait_file "$T/s.port") || { echo '{"error": "upstream did not start"}'; exit 1; }

CERTSKEW_HOME="$T/home" "$BIN" proxy --port 0 --port-file "$T/cs.port" --trust root.pem \
  --workers "$WORKERS" > cs.log 2>&1 &
CSPID=$!
PIDS+=($CSPID)
CSPORT=$(wait_file "$T/cs.port") || { echo '{"error": "certskew did not start"}'; exit 1; }

MITM=""
MPORT=""
MPID=""
if command -v mitmdump > /dev/null; then
  MPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  # stream_large_bodies: bodies over 1 MB are streamed, not buffered
  # (certskew always streams); upstream verified against the bench root.
  mitmdump --listen-host 127.0.0.1 --listen-port "$MPORT" --set confdir="$T/mitm" \
    --set ssl_verify_upstream_trusted_ca="$T/root.pem" --set stream_large_bodies=1m \
    -q > mitm.log 2>&1 &
  MPID=$!
  PIDS+=($MPID)
  wait_file "$T/mitm/mitmproxy-ca-cert.pem" > /dev/null && MITM=1
  # Listening only after the CA is written: wait for the port.
  for i in $(seq 1 100); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$MPORT),1)" 2>/dev/null && break
    sleep 0.1
  done
fi

TARGETS=(--target "direct,0,root.pem" --target "certskew,$CSPORT,$T/home/ca.pem,$CSPID")
[ -n "$MITM" ] && TARGETS+=(--target "mitmproxy,$MPORT,$T/mitm/mitmproxy-ca-cert.pem,$MPID")
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
RESULTS=$("$CLIENT" --port "$SPORT" --duration "$DURATION" --conc "$CONC" --pid "upstream=$SPID" \
  "${TARGETS[@]}" 2> client.err) \
  || { echo "{\"error\": \"client failed: $(head -c 300 client.err | tr '"\n' "' ")\"}"; exit 1; }
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
[ -n "$MITM" ] || RESULTS=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r.append({"label": "mitmproxy", "error": "mitmdump not installed (Debian package mitmproxy)"}); print(json.dumps(r))' "$RESULTS")

python3 - "$RESULTS" "$SRC" "$DURATION" "$CONC" "$BULK_MB" "$LOAD_BEFORE" "$LOAD_AFTER" "$UPSTREAM_RESUME" \
  > "$OUT" <<'PY'
import json, os, platform, re, subprocess, sys, datetime
d, c, m = json.loads(sys.argv[1])
src, duration, conc, bulk_mb, load_before, load_after, up_resume = sys.argv[2:9]

def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:
        return None

def dpkg(pkg):
    return sh("dpkg-query", "-W", "-f=${Version}", pkg) or None

def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()

def mem_gb():
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        return None

def get(r, *path):
    for p in path:
        if isinstance(r, dict) and p in r:
            r = r[p]
        elif isinstance(r, list) and isinstance(p, int) and p < len(r):
            r = r[p]
        else:
            return None
    return r

def ratio(x, y):
    return round(x / y, 2) if isinstance(x, (int, float)) and isinstance(y, (int, float)) and y > 0 and x >= 0 else None

flags = ""
try:
    flags = open("/proc/cpuinfo").read()
except OSError:
    pass
mconf = ""
try:
    mconf = open("/usr/include/mbedtls/config.h").read()
except OSError:
    pass
def mdef(name):
    return re.search(r"^#define " + name + r"\b", mconf, re.M) is not None

figures = {}
levels = [int(x) for x in conc.split(",")]
for mode in ("full", "resumed"):
    for i, lv in enumerate(levels):
        key = f"{mode}_c{lv}"
        cs, mi, di = (get(r, "handshakes", mode, i) for r in (c, m, d))
        figures[f"handshakes_per_s_{key}"] = {
            "direct": get(di, "handshakes_per_s"), "certskew": get(cs, "handshakes_per_s"),
            "mitmproxy": get(mi, "handshakes_per_s"),
            "certskew_vs_mitmproxy": ratio(get(cs, "handshakes_per_s"), get(mi, "handshakes_per_s"))}
        for q in ("p50", "p99"):
            figures[f"latency_{q}_ms_{key}"] = {
                "direct": get(di, "latency_ms", q), "certskew": get(cs, "latency_ms", q),
                "mitmproxy": get(mi, "latency_ms", q),
                # a speedup: mitmproxy's latency over certskew's
                "certskew_vs_mitmproxy": ratio(get(mi, "latency_ms", q), get(cs, "latency_ms", q))}
for q in ("p50", "p99"):
    figures[f"keepalive_latency_{q}_ms"] = {
        "direct": get(d, "keepalive", "latency_ms", q), "certskew": get(c, "keepalive", "latency_ms", q),
        "mitmproxy": get(m, "keepalive", "latency_ms", q),
        "certskew_vs_mitmproxy": ratio(get(m, "keepalive", "latency_ms", q), get(c, "keepalive", "latency_ms", q))}
figures["bulk_MBps"] = {
    "direct": get(d, "bulk", "MBps"), "certskew": get(c, "bulk", "MBps"), "mitmproxy": get(m, "bulk", "MBps"),
    "certskew_vs_mitmproxy": ratio(get(c, "bulk", "MBps"), get(m, "bulk", "MBps")),
    "certskew_vs_direct": ratio(get(c, "bulk", "MBps"), get(d, "bulk", "MBps"))}
met = {k: (v["certskew_vs_mitmproxy"] is not None and v["certskew_vs_mitmproxy"] >= 10) for k, v in figures.items()}

# CPU cost of the proxy process per unit of work: unlike rates, this barely
# depends on how much of the 2 CPUs other processes took during the run, so
# it says what each proxy could do with one core to itself.
def per(r, phase_path, unit):
    p = get(r, *phase_path)
    s = get(p, "cpu", "proxy", "s")
    if s is None:
        return None
    n = get(p, "completed") if unit == "handshake" else (
        get(p, "requests") if unit == "request" else
        (get(p, "bytes") or 0) * (get(p, "runs") or 0) / 1e9)
    return round(s * (1000 if unit != "GB" else 1) / n, 3) if n else None
cost = {}
for mode in ("full", "resumed"):
    for i, lv in enumerate(levels):
        cs_, mi_ = per(c, ("handshakes", mode, i), "handshake"), per(m, ("handshakes", mode, i), "handshake")
        cost[f"proxy_cpu_ms_per_handshake_{mode}_c{lv}"] = {
            "certskew": cs_, "mitmproxy": mi_, "mitmproxy_over_certskew": ratio(mi_, cs_)}
cs_, mi_ = per(c, ("keepalive",), "request"), per(m, ("keepalive",), "request")
cost["proxy_cpu_ms_per_keepalive_request"] = {"certskew": cs_, "mitmproxy": mi_, "mitmproxy_over_certskew": ratio(mi_, cs_)}
cs_, mi_ = per(c, ("bulk",), "GB"), per(m, ("bulk",), "GB")
cost["proxy_cpu_s_per_GB_bulk"] = {"certskew": cs_, "mitmproxy": mi_, "mitmproxy_over_certskew": ratio(mi_, cs_)}

out = {
  "benchmark": "proxy",
  "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
  "machine": {"cpu": cpu_model(), "cpus": os.cpu_count(), "arch": platform.machine(),
              "kernel": platform.release(), "memory_gb": mem_gb(),
              # other work on the machine during the run (1/5/15-min load averages)
              "loadavg_before": load_before, "loadavg_after": load_after,
              "cpu_flags": {f: (f" {f} " in flags) for f in ("aes", "pclmulqdq", "avx2", "sha_ni")}},
  "versions": {
    "certskew": sh("git", "-C", src, "describe", "--always", "--dirty"),
    "libmbedtls": dpkg("libmbedtls-dev"), "libuv": dpkg("libuv1-dev"),
    "mbedtls_config": {k: mdef("MBEDTLS_" + k) for k in ("AESNI_C", "HAVE_ASM", "ECP_NIST_OPTIM", "SSL_SESSION_TICKETS", "CHACHAPOLY_C")},
    "openssl": sh("openssl", "version"), "mitmproxy": "; ".join((sh("mitmdump", "--version") or "").split("\n")) or None,
    "python3_for_this_script": platform.python_version()},
  "methodology": {
    "client": "bench/bench_proxy_client.c: OpenSSL, blocking sockets, one thread per simulated client, TLS 1.2 max, "
              "verification of the served chain and of IP 127.0.0.1 on every connection; identical for all three targets",
    "upstream": "bench/bench_proxy_server.c: OpenSSL, a thread per connection, TLS 1.2 max, ECDSA P-256 leaf + root, "
                "/small = 100-byte body, /bulk = %s MiB" % bulk_mb,
    "upstream_resumption": ("on (tickets + session cache): a proxy may resume its own upstream sessions, so in the "
                            "'full' phase only the client's handshake is full" if up_resume == "1" else
                            "off (--no-resume): every proxy-to-server handshake is full, as on a first visit"),
    "handshake_phase": "each client loops for %s s: TCP connect (+ CONNECT through a proxy), TLS handshake, "
                       "GET /small HTTP/1.0, body read to its Content-Length, close; handshakes/s = completed / wall time; "
                       "latency = that whole request, per request; 'full' never resumes, 'resumed' offers each client's "
                       "previous session (resumed_fraction says how many were resumed)" % duration,
    "concurrency_levels": levels,
    "keepalive_phase": "one TLS connection, sequential HTTP/1.1 GET /small: per-request latency (the relay's own cost)",
    "bulk_phase": "3 sequential downloads of /bulk on new connections; MB/s = bytes / (connect..last byte); median reported",
    "warmup": "%s clients resuming for 1 s before measuring (not reported): leaves minted, chains judged" % max(levels),
    "cpu": "per phase CPU seconds of client, proxy and upstream from getrusage and /proc/PID/stat; util = CPU s per wall s",
    "machine_sharing": "client, proxy and upstream all run on the same %s CPUs; the proxy is not pinned; "
                       "every phase runs for the three targets back to back (interleaved) so background load "
                       "hits them alike; see machine.loadavg_*" % os.cpu_count(),
    "mitmproxy_options": "mitmdump -q --set stream_large_bodies=1m --set ssl_verify_upstream_trusted_ca=<bench root>",
    "certskew_options": "certskew proxy --port 0 --trust <bench root> --workers %s (default clocks, captures on)" % os.environ.get("WORKERS", "?"),
    "certskew_workers": int(os.environ.get("WORKERS", "0") or 0)},
  "results": [d, c, m],
  "figures": figures,
  "proxy_cpu_cost": cost,
  "targets": {"certskew_vs_mitmproxy_every_figure": ">= 10", "bulk_certskew_vs_direct": ">= 0.5"},
  "targets_met": {"vs_mitmproxy": met, "bulk_vs_direct": (figures["bulk_MBps"]["certskew_vs_direct"] or 0) >= 0.5},
}
print(json.dumps(out, indent=2))
PY
cat "$OUT"
echo "results: $OUT" >&2
