#!/usr/bin/env bash
# Records real TLS conversations between openssl s_client and openssl
# s_server through a tiny loopback relay, as seeds for
# fuzz/fuzz_passthrough_sniff.c and fixtures for
# tests/unit/test_passthrough_sniff.c. One file per case, a sequence of
# frames: 1 byte kind (0 client bytes, 1 server bytes, 2 client closed,
# 3 server closed), 2 bytes big-endian length, the bytes.
#
# usage: fuzz/make_seeds_passthrough.sh [OUTDIR]   (default: the corpus dir)
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$SRC/fuzz/corpus/fuzz_passthrough_sniff}
mkdir -p "$OUT"
T=$(mktemp -d "${TMPDIR:-/tmp}/certskew-ptseeds.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1
source "$SRC/tests/lib/proxy_e2e_lib.sh"
px_ca_cnf "$T"
px_root "$T" root || exit 1
px_root "$T" otherroot || exit 1
px_issue "$T" root valid leaf_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1
px_issue "$T" root expired leaf_ext "$(px_date -864000)" "$(px_date -86400)" || exit 1
openssl ocsp -issuer root.pem -cert valid.pem -no_nonce -reqout req.der > /dev/null 2>&1 &&
  openssl ocsp -index index.txt -rsigner root.pem -rkey root.key -CA root.pem -reqin req.der \
    -respout ocsp.der -ndays 7 > /dev/null 2>&1 || exit 1
echo hello > index.html

# The relay: accepts one client, connects to the server, records both ways.
cat > relay.py <<'PY'
import select, socket, struct, sys, time
sport, path, portfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(1)
open(portfile, "w").write(str(ls.getsockname()[1]))
ls.settimeout(10)
c, _ = ls.accept()
s = socket.create_connection(("127.0.0.1", sport))
out = open(path, "wb")
open_ = {c: True, s: True}
deadline = time.time() + 10
while any(open_.values()) and time.time() < deadline:
    r, _, _ = select.select([x for x in open_ if open_[x]], [], [], 0.5)
    for x in r:
        data = x.recv(65535)
        other, kind = (s, 0) if x is c else (c, 1)
        if data:
            out.write(struct.pack(">BH", kind, len(data)) + data)
            try:
                other.sendall(data)
            except OSError:
                pass
        else:
            out.write(struct.pack(">BH", kind + 2, 0))
            open_[x] = False
            try:
                other.shutdown(socket.SHUT_WR)
            except OSError:
                pass
out.close()
PY

# record NAME SERVER_ARGS -- CLIENT_ARGS: one conversation into $OUT/NAME.
record() {
  local name=$1; shift
  local sargs=() cargs=()
  while [ "$1" != -- ]; do sargs+=("$1"); shift; done
  shift
  cargs=("$@")
  openssl s_server -accept 127.0.0.1:0 -WWW "${sargs[@]}" > "s_$name.log" 2>&1 &
  local spid=$! sport="" i
  PIDS+=($spid)
  for i in $(seq 1 100); do
    sport=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\).*/\1/p' "s_$name.log" 2>/dev/null | head -1)
    [ -n "$sport" ] && break
    sleep 0.05
  done
  rm -f "relay_$name.port"
  python3 relay.py "$sport" "$OUT/$name" "relay_$name.port" &
  local rpid=$!
  for i in $(seq 1 100); do [ -s "relay_$name.port" ] && break; sleep 0.05; done
  (printf 'GET /index.html HTTP/1.0\r\n\r\n'; sleep 1) |
    timeout 10 openssl s_client -connect "127.0.0.1:$(cat "relay_$name.port")" -servername localhost \
      -verify_return_error -ign_eof "${cargs[@]}" > "c_$name.log" 2>&1
  wait "$rpid"
  kill "$spid" 2>/dev/null
}

record tls12_accepted -cert valid.pem -key valid.key -tls1_2 -- -CAfile root.pem
record tls12_unknown_ca -cert valid.pem -key valid.key -tls1_2 -- -CAfile otherroot.pem
record tls12_expired -cert expired.pem -key expired.key -tls1_2 -- -CAfile root.pem
record tls12_staple -cert valid.pem -key valid.key -tls1_2 -status_file ocsp.der -- -CAfile root.pem -status
record tls13_accepted -cert valid.pem -key valid.key -- -CAfile root.pem
record tls13_unknown_ca -cert valid.pem -key valid.key -- -CAfile otherroot.pem
ls "$OUT" > /dev/null
