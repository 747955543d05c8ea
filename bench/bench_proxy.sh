#!/usr/bin/env bash
# Side-by-side proxy benchmark on loopback, in one run:
#   direct  vs  certskew --workers 1  vs  certskew --workers 2  vs  mitmproxy (mitmdump)
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
#        BULK_MB (default 256), BULK_RUNS (default 3), OUT (default bench/results/proxy-<time>.json),
#        WORKERS (the certskew instances' --workers, space separated; default "1 2")
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
export BULK_RUNS=${BULK_RUNS:-3}
UPSTREAM_RESUME=${UPSTREAM_RESUME:-1}
export WORKERS=${WORKERS:-1 2}
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

# One certskew per worker count, each with its own home (CA) and store.
CS_TARGETS=()
for w in $WORKERS; do
  CERTSKEW_HOME="$T/home$w" "$BIN" proxy --port 0 --port-file "$T/cs$w.port" --trust root.pem \
    --workers "$w" > "cs$w.log" 2>&1 &
  pid=$!
  PIDS+=($pid)
  port=$(wait_file "$T/cs$w.port") || { echo "{\"error\": \"certskew --workers $w did not start\"}"; exit 1; }
  CS_TARGETS+=(--target "certskew-w$w,$port,$T/home$w/ca.pem,$pid")
done

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

TARGETS=(--target "direct,0,root.pem" "${CS_TARGETS[@]}")
[ -n "$MITM" ] && TARGETS+=(--target "mitmproxy,$MPORT,$T/mitm/mitmproxy-ca-cert.pem,$MPID")
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
RESULTS=$("$CLIENT" --port "$SPORT" --duration "$DURATION" --conc "$CONC" --bulk-runs "$BULK_RUNS" --pid "upstream=$SPID" \
  "${TARGETS[@]}" 2> client.err) \
  || { echo "{\"error\": \"client failed: $(head -c 300 client.err | tr '"\n' "' ")\"}"; exit 1; }
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
[ -n "$MITM" ] || RESULTS=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r.append({"label": "mitmproxy", "error": "mitmdump not installed (Debian package mitmproxy)"}); print(json.dumps(r))' "$RESULTS")

python3 - "$RESULTS" "$SRC" "$DURATION" "$CONC" "$BULK_MB" "$LOAD_BEFORE" "$LOAD_AFTER" "$UPSTREAM_RESUME" \
  > "$OUT" <<'PY'
import json, os, platform, re, subprocess, sys, datetime
results = json.loads(sys.argv[1])
by = {r.get("label"): r for r in results}
d, m = by.get("direct"), by.get("mitmproxy")
workers = [int(w) for w in os.environ.get("WORKERS", "1").split()]
cs_labels = ["certskew-w%d" % w for w in workers]
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
def row(path, speedup=False):
    """One figure for every target; each certskew against mitmproxy
    (a rate: certskew/mitmproxy; a latency: mitmproxy/certskew)."""
    r = {"direct": get(d, *path), "mitmproxy": get(m, *path)}
    for l in cs_labels:
        r[l] = get(by.get(l), *path)
        r[l + "_vs_mitmproxy"] = ratio(r["mitmproxy"], r[l]) if speedup else ratio(r[l], r["mitmproxy"])
    return r
for mode in ("full", "resumed"):
    for i, lv in enumerate(levels):
        key = f"{mode}_c{lv}"
        figures[f"handshakes_per_s_{key}"] = row(("handshakes", mode, i, "handshakes_per_s"))
        for q in ("p50", "p99"):
            figures[f"latency_{q}_ms_{key}"] = row(("handshakes", mode, i, "latency_ms", q), speedup=True)
for q in ("p50", "p99"):
    figures[f"keepalive_latency_{q}_ms"] = row(("keepalive", "latency_ms", q), speedup=True)
figures["bulk_MBps"] = row(("bulk", "MBps"))
for l in cs_labels:
    figures["bulk_MBps"][l + "_vs_direct"] = ratio(figures["bulk_MBps"][l], figures["bulk_MBps"]["direct"])
# Scaling: the most workers' handshake rate over the fewest's. More loops
# can only help where the fewest saturate their cores (proxy CPU util per
# worker >= 0.8); elsewhere the client and upstream, sharing the same cores,
# set the rate, and the phase is marked not proxy-bound.
scaling = {}
if len(workers) > 1:
    lo, hi = cs_labels[0], cs_labels[-1]
    for mode in ("full", "resumed"):
        for i, lv in enumerate(levels):
            k = f"handshakes_per_s_{mode}_c{lv}"
            util = get(by.get(lo), "handshakes", mode, i, "cpu", "proxy", "util")
            scaling[k] = {"ratio": ratio(figures[k][hi], figures[k][lo]),
                          "proxy_util_per_worker_at_%d" % workers[0]:
                              round(util / workers[0], 2) if util is not None else None,
                          "proxy_bound": util is not None and lv > 1 and util / workers[0] >= 0.8}

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
def cost_row(path, unit):
    r = {"mitmproxy": per(m, path, unit)}
    for l in cs_labels:
        r[l] = per(by.get(l), path, unit)
    return r
cost = {}
for mode in ("full", "resumed"):
    for i, lv in enumerate(levels):
        cost[f"proxy_cpu_ms_per_handshake_{mode}_c{lv}"] = cost_row(("handshakes", mode, i), "handshake")
cost["proxy_cpu_ms_per_keepalive_request"] = cost_row(("keepalive",), "request")
cost["proxy_cpu_s_per_GB_bulk"] = cost_row(("bulk",), "GB")

# Issue #21's targets: ahead of mitmproxy on every figure with every worker
# count, bulk >= 1.5x mitmproxy with the most workers, handshakes/s growing
# with workers.
top = cs_labels[-1]
ahead = {f"{k}:{l}": (v.get(l + "_vs_mitmproxy") or 0) > 1 for k, v in figures.items() for l in cs_labels}
met = {"ahead_of_mitmproxy_every_figure": all(ahead.values()),
       "behind_or_even": sorted(k for k, ok in ahead.items() if not ok),
       "bulk_vs_mitmproxy_at_%d_workers" % workers[-1]: (figures["bulk_MBps"].get(top + "_vs_mitmproxy") or 0) >= 1.5,
       "handshakes_scale_with_workers_where_proxy_bound":
           any(v["proxy_bound"] for v in scaling.values()) and
           all((v["ratio"] or 0) > 1.1 for v in scaling.values() if v["proxy_bound"])}

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
    "bulk_phase": "%s downloads of /bulk per target on new connections, going round the targets run by run; MB/s = bytes / (connect..last byte); median reported" % os.environ.get("BULK_RUNS", "3"),
    "warmup": "%s clients resuming for 1 s before measuring (not reported): leaves minted, chains judged" % max(levels),
    "cpu": "per phase CPU seconds of client, proxy and upstream from getrusage and /proc/PID/stat; util = CPU s per wall s",
    "machine_sharing": "client, proxy and upstream all run on the same %s CPUs; the proxy is not pinned; "
                       "every phase runs for every target back to back (interleaved) so background load "
                       "hits them alike; see machine.loadavg_*" % os.cpu_count(),
    "mitmproxy_options": "mitmdump -q --set stream_large_bodies=1m --set ssl_verify_upstream_trusted_ca=<bench root>",
    "certskew_options": "certskew proxy --port 0 --trust <bench root> --workers N (default clocks, captures on), one instance per N",
    "certskew_workers": workers},
  "results": results,
  "figures": figures,
  "proxy_cpu_cost": cost,
  "handshake_scaling_most_over_one_worker": scaling,
  "targets": {"every_figure_vs_mitmproxy": "> 1 (each worker count)",
              "bulk_vs_mitmproxy_most_workers": ">= 1.5",
              "handshake_scaling": "> 1.1 in every phase where one worker is proxy-bound"},
  "targets_met": met,
}
print(json.dumps(out, indent=2))
PY
cat "$OUT"
echo "results: $OUT" >&2
