# Shared helpers for the proxy's end-to-end tests (sourced by
# tests/e2e/test_proxy_*.sh). Everything runs on 127.0.0.1 with ephemeral
# ports; every process started here is killed by PID on exit.
set -u

PX_PIDS=()
PX_PROXIES=()
PX_TMP=$(mktemp -d "${TMPDIR:-/tmp}/certskew-proxy.XXXXXX")
PX_FAILS=0

px_cleanup() {
  local pid
  for pid in "${PX_PIDS[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${PX_PIDS[@]}"; do
    wait "$pid" 2>/dev/null
  done
  rm -rf "$PX_TMP"
}
trap px_cleanup EXIT

px_fail() { echo "FAIL: $*" >&2; PX_FAILS=$((PX_FAILS + 1)); }
px_ok() { echo "ok: $*"; }
px_check() { # px_check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then px_ok "$what"; else px_fail "$what"; fi
}
px_done() {
  # Stop every proxy cleanly: exit status 0, and no sanitizer report in its
  # log (the ASan+UBSan build runs these same tests).
  local entry pid name rc
  for entry in "${PX_PROXIES[@]}"; do
    pid=${entry%%:*}; name=${entry#*:}
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"; wait "$pid"; rc=$?
      px_check "proxy '$name' exits 0 on SIGTERM (got $rc)" test "$rc" = 0
    fi
    px_check "proxy '$name': no sanitizer report" \
      test -z "$(grep -E 'AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error' "$PX_TMP/$name.log")"
  done
  if [ "$PX_FAILS" -ne 0 ]; then echo "$PX_FAILS check(s) failed" >&2; exit 1; fi
  echo "all checks passed"
}

# Instant as openssl wants it, seconds from now.
px_date() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y%m%d%H%M%SZ; }

# px_ca_cnf DIR: a minimal `openssl ca` configuration in DIR.
px_ca_cnf() {
  local d=$1
  mkdir -p "$d/newcerts"; : > "$d/index.txt"; echo 1000 > "$d/serial"
  cat > "$d/ca.cnf" <<CNF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = $d
database = $d/index.txt
new_certs_dir = $d/newcerts
serial = $d/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
[ leaf_ext ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[ inter_ext ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
CNF
}

# px_root DIR NAME: self-signed root DIR/NAME.{pem,key}.
px_root() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$1/$2.key" -out "$1/$2.pem" -subj "/CN=certskew test $2" -days 365 2>/dev/null
}

# px_issue DIR CA NAME EXT START END: NAME.{pem,key} signed by CA, valid
# from START to END (openssl ca date strings).
px_issue() {
  local d=$1 ca=$2 name=$3 ext=$4 start=$5 end=$6
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/$name.key" \
    -out "$d/$name.csr" -subj "/CN=certskew test $name" 2>/dev/null || return 1
  openssl ca -batch -config "$d/ca.cnf" -cert "$d/$ca.pem" -keyfile "$d/$ca.key" \
    -in "$d/$name.csr" -out "$d/$name.pem" -startdate "$start" -enddate "$end" \
    -extensions "$ext" -notext 2>/dev/null
}

# px_wait_file FILE: up to 10 s for FILE to be non-empty.
px_wait_file() {
  local i
  for i in $(seq 1 100); do
    [ -s "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

# px_s_server LOG ARGS...: starts openssl s_server on 127.0.0.1:0, sets SPORT.
px_s_server() {
  local log=$1; shift
  openssl s_server -accept 127.0.0.1:0 "$@" > "$log" 2>&1 &
  PX_PIDS+=($!)
  local i
  SPORT=""
  for i in $(seq 1 100); do
    SPORT=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$SPORT" ] && return 0
    sleep 0.1
  done
  echo "s_server did not start: $(cat "$log")" >&2
  return 1
}

# px_proxy NAME ARGS...: starts certskew proxy on an ephemeral port with its
# own home; sets PPORT and PPID_LAST; log in $PX_TMP/NAME.log.
px_proxy() {
  local name=$1; shift
  rm -f "$PX_TMP/$name.port"
  CERTSKEW_HOME="$PX_TMP/home" "$CS_BIN" proxy --port 0 --port-file "$PX_TMP/$name.port" \
    "$@" > "$PX_TMP/$name.log" 2>&1 &
  PPID_LAST=$!
  PX_PIDS+=($PPID_LAST)
  PX_PROXIES+=("$PPID_LAST:$name")
  if ! px_wait_file "$PX_TMP/$name.port"; then
    echo "proxy did not start: $(cat "$PX_TMP/$name.log")" >&2
    return 1
  fi
  PPORT=$(cat "$PX_TMP/$name.port")
}

# SHA-256 fingerprints, in order, of every certificate in a PEM file.
px_fingerprints() {
  local d f
  d=$(mktemp -d "$PX_TMP/fp.XXXXXX")
  awk -v d="$d" '/-----BEGIN CERTIFICATE-----/{n++; f=sprintf("%s/%03d.pem", d, n)}
       f != "" {print > f}
       /-----END CERTIFICATE-----/{close(f); f=""}' "$1"
  for f in "$d"/*.pem; do
    [ -e "$f" ] && openssl x509 -in "$f" -noout -fingerprint -sha256
  done
  rm -rf "$d"
}

# px_capture_field PORT FIELD < captures.json: FIELD of the capture whose
# upstream port is PORT (python3's json module reads the API's output).
px_capture_field() {
  python3 -c 'import json, sys
port, field = int(sys.argv[1]), sys.argv[2]
caps = [c for c in json.load(sys.stdin)["captures"] if c["port"] == port]
print(caps[0][field] if caps else "")' "$1" "$2"
}
