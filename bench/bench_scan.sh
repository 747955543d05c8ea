#!/usr/bin/env bash
# Fleet scan benchmark on loopback, side by side in one run:
#   certskew scan (1,000 and 10,000 hosts)  vs  a plain `openssl s_client`
#   loop (a sample)  vs  testssl.sh -S (a smaller sample: it is slow)
# Hosts are many SNI names (hN.bench.test) spread over a few openssl
# s_servers whose leaf carries *.bench.test. Reported per tool: hosts/s and
# peak RSS (/usr/bin/time -v); for certskew, at both list sizes, so that
# memory not growing with the list shows as equal peak RSS.
#
# usage: bench/bench_scan.sh [BUILD_DIR]
#   env: SIZES (default "1000 10000"), SERVERS (4), CONC (64),
#        SAMPLE (s_client loop, 200), TESTSSL_SAMPLE (3), FETCH (0: --no-fetch)
# Writes bench/results/scan-<time>.json (gitignored) and prints it.
# Needs: openssl, /usr/bin/time; testssl.sh (Debian package testssl.sh) optional.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
SIZES=${SIZES:-1000 10000}
SERVERS=${SERVERS:-4}
CONC=${CONC:-64}
SAMPLE=${SAMPLE:-200}
TESTSSL_SAMPLE=${TESTSSL_SAMPLE:-3}
FETCH=${FETCH:-0}
BIN=$BUILD/certskew
mkdir -p "$SRC/bench/results"
OUT=${OUT:-$SRC/bench/results/scan-$(date -u +%Y%m%dT%H%M%SZ).json}
T=$(mktemp -d "${TMPDIR:-/tmp}/certskew-benchscan.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1
[ -x "$BIN" ] || { echo "{\"error\": \"missing $BIN: build first\"}"; exit 1; }
[ -x /usr/bin/time ] || { echo '{"error": "needs /usr/bin/time (Debian package time)"}'; exit 1; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key \
  -out root.pem -subj "/CN=bench root" -days 30 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr \
  -subj "/CN=bench.test" 2>/dev/null
printf 'subjectAltName=DNS:*.bench.test,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in leaf.csr -CA root.pem -CAkey root.key -CAcreateserial -out leaf.pem \
  -days 10 -extfile ext.cnf 2>/dev/null

PORTS=()
for i in $(seq 1 "$SERVERS"); do
  # -www: s_server never reads stdin.
  openssl s_server -accept 127.0.0.1:0 -cert leaf.pem -key leaf.key -cert_chain root.pem \
    -www > "s$i.log" 2>&1 < /dev/null &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    p=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\).*/\1/p' "s$i.log" | head -1)
    [ -n "$p" ] && break
    sleep 0.1
  done
  [ -n "$p" ] || { echo '{"error": "s_server did not start"}'; exit 1; }
  PORTS+=("$p")
done

hosts() { # hosts N: N lines "127.0.0.1:PORT hI.bench.test"
  local n=$1 i
  for ((i = 0; i < n; i++)); do
    echo "127.0.0.1:${PORTS[$((i % SERVERS))]} h$i.bench.test"
  done
}

# timed LOG CMD...: runs CMD under /usr/bin/time -v; sets SECS and RSS_KB.
timed() {
  local log=$1; shift
  /usr/bin/time -v "$@" 2> "$log" > /dev/null
  SECS=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log" |
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
  RSS_KB=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.3g", (s > 0 ? n / s : 0) }'; }

FETCH_ARG=--no-fetch
[ "$FETCH" = 1 ] && FETCH_ARG=
SCAN_ROWS=""
for n in $SIZES; do
  hosts "$n" > "hosts$n.txt"
  timed "scan$n.time" "$BIN" scan "hosts$n.txt" --trust root.pem --no-progress \
    --concurrency "$CONC" --timeout 10s $FETCH_ARG --out "scan$n.jsonl"
  lines=$(wc -l < "scan$n.jsonl")
  pass=$(grep -c '"verdict":"pass"' "scan$n.jsonl")
  SCAN_ROWS+="${SCAN_ROWS:+,}
    {\"hosts\": $n, \"lines\": $lines, \"pass\": $pass, \"seconds\": $SECS,
     \"hosts_per_s\": $(rate "$n" "$SECS"), \"peak_rss_kb\": $RSS_KB}"
done

# A plain s_client loop on a sample: one handshake per host, sequential.
hosts "$SAMPLE" > sample.txt
cat > sclient_loop.sh <<'SH'
while read -r hp sni; do
  openssl s_client -connect "$hp" -servername "$sni" -verify_return_error \
    -CAfile root.pem < /dev/null > /dev/null 2>&1
done < sample.txt
SH
timed sclient.time bash sclient_loop.sh
SCLIENT="{\"hosts\": $SAMPLE, \"seconds\": $SECS, \"hosts_per_s\": $(rate "$SAMPLE" "$SECS"),
    \"peak_rss_kb\": $RSS_KB, \"note\": \"sequential, handshake only; peak RSS is the largest one process (one s_client)\"}"

TESTSSL_BIN=$(command -v testssl || command -v testssl.sh || true)
if [ -n "$TESTSSL_BIN" ]; then
  hosts "$TESTSSL_SAMPLE" > tsample.txt
  cat > testssl_loop.sh <<SH
while read -r hp sni; do
  "$TESTSSL_BIN" --quiet --warnings off --color 0 -S --sneaky --ip one \\
    --add-ca root.pem "https://\$hp" < /dev/null > /dev/null 2>&1
done < tsample.txt
SH
  timed testssl.time bash testssl_loop.sh
  TESTSSL="{\"hosts\": $TESTSSL_SAMPLE, \"seconds\": $SECS,
    \"hosts_per_s\": $(rate "$TESTSSL_SAMPLE" "$SECS"), \"peak_rss_kb\": $RSS_KB,
    \"command\": \"testssl -S (server defaults: certificate checks)\",
    \"note\": \"sequential; cannot send an SNI different from the URL's host, so every sample host is the same server name\"}"
else
  TESTSSL='{"skipped": "testssl.sh not installed (apt-get install -y testssl.sh)"}'
fi

cat > "$OUT" <<JSON
{
  "bench": "scan",
  "when": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "machine": {"cpus": $(nproc), "load_1m": $(cut -d' ' -f1 /proc/loadavg)},
  "setup": {"servers": $SERVERS, "server": "openssl s_server (single-threaded each)",
            "concurrency": $CONC, "fetch": $([ "$FETCH" = 1 ] && echo true || echo false),
            "per_host": "capture handshake + stapling probe handshake + judgement"},
  "certskew_scan": [$SCAN_ROWS
  ],
  "openssl_s_client_loop": $SCLIENT,
  "testssl": $TESTSSL
}
JSON
cat "$OUT"
