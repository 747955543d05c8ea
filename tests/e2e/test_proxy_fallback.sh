#!/usr/bin/env bash
# Interception falls back to relaying (issue #15), against real peers on
# loopback, the proxy in its default intercepting mode:
#  - upstreams mbedTLS 2.28 cannot intercept (openssl s_server -tls1_3 with a
#    staple and an SCT list; -max_send_frag 512 with a chain over 16 KB;
#    gnutls-serv in TLS 1.3 only): curl through the proxy gets 200 from the
#    real server, the capture holds exactly the served chain, and its report
#    says why the tunnel was relayed (INTERCEPTION_FELL_BACK,
#    capture.relayed_because); staple and SCTs are in the report;
#  - headless Chromium through the proxy to the TLS 1.3-only server loads the
#    real page (when chromium and selenium are installed);
#  - a TLS 1.0-only upstream: not 200, the 502 page, PROTOCOL_TOO_OLD in its
#    report, every browser profile failing and openssl-1.0.2 passing;
#  - a client offering only TLS 1.0 gets a protocol_version alert;
#  - a client whose ClientHello is split over records (python3's ssl through a
#    memory BIO, re-framed) completes the handshake with the minted leaf; one
#    over 16 KB is refused with an alert;
#  - an upstream that refuses the connection still gets the 502.
source "$CS_SRC/tests/lib/proxy_e2e_lib.sh"
T=$PX_TMP
cd "$T" || exit 1

# ---- fixtures ----
px_ca_cnf "$T"
px_root "$T" root || exit 1
px_issue "$T" root inter inter_ext "$(px_date -864000)" "$(px_date 8640000)" || exit 1
px_issue "$T" inter valid leaf_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1
# A leaf with 900 DNS names: one certificate of about 25 KB (chain > 16 KB).
{ printf '[ big_ext ]\nbasicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature\n'
  printf 'extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1,DNS:localhost'
  for i in $(seq 900); do printf ',DNS:name-%04d.many-sans.certskew.test' "$i"; done
  printf '\n'; } >> "$T/ca.cnf"
px_issue "$T" inter big big_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1
cat "$T/big.pem" "$T/inter.pem" > "$T/big_chain.pem"
px_check "the big chain is over 16 KB ($(openssl x509 -in "$T/big.pem" -outform der | wc -c) bytes for the leaf)" \
  test "$(openssl x509 -in "$T/big.pem" -outform der | wc -c)" -gt 16384
echo "served by the real server" > "$T/hi.txt"
mkdir -p "$T/www" && printf '<!doctype html><title>real</title><p id=m>served by the real server</p>\n' > "$T/www/index.html"
# A stapled OCSP response for the valid leaf.
openssl ocsp -issuer "$T/inter.pem" -cert "$T/valid.pem" -no_nonce -reqout "$T/req.der" > /dev/null 2>&1 &&
  openssl ocsp -index "$T/index.txt" -rsigner "$T/inter.pem" -rkey "$T/inter.key" -CA "$T/inter.pem" \
    -reqin "$T/req.der" -respout "$T/ocsp.der" -ndays 7 > /dev/null 2>&1 || { echo "openssl ocsp failed" >&2; exit 1; }
# An SCT list (one well-formed SCT from a log the proxy does not know) in a
# version-2 serverinfo file whose context includes the TLS 1.3 leaf entry.
python3 - "$T/serverinfo.pem" <<'PY'
import base64, struct, sys
sig = bytes(range(70))
sct = bytes([0]) + bytes([0x42] * 32) + struct.pack(">Q", 1700000000000) + b"\0\0" + bytes([4, 3]) + struct.pack(">H", len(sig)) + sig
lst = struct.pack(">H", len(sct) + 2) + struct.pack(">H", len(sct)) + sct
ext = bytes([0, 0, 0x11, 0x80, 0, 18]) + struct.pack(">H", len(lst)) + lst
b = base64.encodebytes(ext).decode()
open(sys.argv[1], "w").write("-----BEGIN SERVERINFOV2 FOR CT-----\n" + b + "-----END SERVERINFOV2 FOR CT-----\n")
PY

px_proxy icpt --trust "$T/root.pem" --verbose || exit 1
ICPT=$PPORT
API="http://127.0.0.1:$ICPT"
CA="$T/home/ca.pem"
# curl trusts both the real root (relayed tunnels) and the proxy's CA.
cat "$T/root.pem" "$CA" > "$T/both.pem"
curl_px() { curl -sS --max-time 20 -x "http://127.0.0.1:$ICPT" --cacert "$T/both.pem" "$@"; }

wait_report() { # wait_report PORT: report and chain to $T/r_PORT.json, $T/cap_PORT.pem
  local port=$1 id="" i
  for i in $(seq 1 50); do
    id=$(curl -sS "$API/api/captures" | px_capture_field "$port" id)
    [ -n "$id" ] && break
    sleep 0.1
  done
  [ -n "$id" ] || return 1
  curl -sS "$API/api/captures/$id/report" > "$T/r_$port.json"
  curl -sS "$API/api/captures/$id/chain.pem" > "$T/cap_$port.pem"
}
rq() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$T/r_$1.json" "$2"; }
# gnutls_serv LOG ARGS...: gnutls-serv on a free port, sets SPORT.
gnutls_serv() {
  local log=$1; shift
  SPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  gnutls-serv --port "$SPORT" "$@" > "$log" 2>&1 &
  PX_PIDS+=($!)
  local i
  for i in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$SPORT") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "gnutls-serv did not start: $(cat "$log")" >&2
  return 1
}

# gnutls-serv in TLS 1.3 only answers a TLS 1.2 hello with handshake_failure
# (not protocol_version), so its relay code is the general UPSTREAM_TLS_FAILED.
# ---- table: name | server | expected relay code | chain served | staple+SCTs ----
CASES="tls13|openssl -tls1_3 -status_file ocsp.der -serverinfo serverinfo.pem -cert valid.pem -key valid.key -cert_chain inter.pem|UPSTREAM_TLS13_ONLY|valid.pem inter.pem|yes
frag512|openssl -max_send_frag 512 -cert big.pem -key big.key -cert_chain inter.pem|UPSTREAM_TLS_FAILED|big.pem inter.pem|no
gnutls13|gnutls --x509certfile big_chain.pem --x509keyfile big.key --priority NORMAL:-VERS-ALL:+VERS-TLS1.3|UPSTREAM_TLS_FAILED|big.pem inter.pem|no"
while IFS='|' read -r name server code served staple; do
  # shellcheck disable=SC2086
  case $server in
    openssl*) px_s_server "$T/s_$name.log" ${server#openssl } -WWW || exit 1 ;;
    gnutls*) gnutls_serv "$T/s_$name.log" ${server#gnutls } --http || exit 1 ;;
  esac
  port=$SPORT
  status=$(curl_px -o "$T/out_$name" -w '%{http_code}' "https://127.0.0.1:$port/hi.txt" 2> "$T/curl_$name.err")
  px_check "$name: curl through the proxy gets 200 (got $status: $(head -c 160 "$T/curl_$name.err"))" test "$status" = 200
  if [ "${server%% *}" = openssl ]; then
    px_check "$name: the real server's body" cmp -s "$T/out_$name" "$T/hi.txt"
  fi
  px_check "$name: the proxy logged the relay ($code)" grep -q "\[127.0.0.1:$port\] relaying without interception: $code" "$T/icpt.log"
  if ! wait_report "$port"; then
    px_fail "$name: no capture for port $port"
    continue
  fi
  # shellcheck disable=SC2086
  (cd "$T" && cat $served) > "$T/served_$name.pem"
  px_check "$name: the capture holds exactly the served chain" \
    diff <(px_fingerprints "$T/cap_$port.pem") <(px_fingerprints "$T/served_$name.pem")
  px_check "$name: capture mode passthrough" test "$(rq "$port" 'd["capture"]["mode"]')" = passthrough
  px_check "$name: capture.relayed_because.code = $code" test "$(rq "$port" 'd["capture"]["relayed_because"]["code"]')" = "$code"
  codes=$(rq "$port" '" ".join(f["code"] for f in d["findings"])')
  px_check "$name: INTERCEPTION_FELL_BACK finding" grep -qw INTERCEPTION_FELL_BACK <<< "$codes"
  px_check "$name: the browser accepted the real chain (CLIENT_ACCEPTED_CHAIN)" grep -qw CLIENT_ACCEPTED_CHAIN <<< "$codes"
  if [ "$staple" = yes ]; then
    px_check "$name: the report holds the stapled response (status good)" \
      grep -q '"good"' <(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["revocation"]))' "$T/r_$port.json")
    px_check "$name: the report holds the TLS extension's SCT" \
      test "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for s in d["ct"]["scts"] if "tls" in json.dumps(s).lower()))' "$T/r_$port.json")" -ge 1
  fi
done <<< "$CASES"

# ---- headless Chromium through the proxy to the TLS 1.3-only server ----
if command -v chromium > /dev/null 2>&1; then
  px_s_server "$T/s_chromium.log" -tls1_3 -cert "$T/valid.pem" -key "$T/valid.key" -cert_chain "$T/inter.pem" -WWW || exit 1
  LEAF_SPKI=$(openssl x509 -in "$T/valid.pem" -pubkey -noout | openssl pkey -pubin -outform der \
    | openssl dgst -sha256 -binary | base64)
  (cd "$T/www" && timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --user-data-dir="$T/chrome-profile" \
    --proxy-server="http://127.0.0.1:$ICPT" --proxy-bypass-list='<-loopback>' \
    --ignore-certificate-errors-spki-list="$LEAF_SPKI" \
    --virtual-time-budget=3000 --dump-dom "https://localhost:$SPORT/www/index.html" \
    > "$T/dom_chromium" 2> "$T/dom_chromium.err")
  px_check "chromium: the real page loads through the proxy" grep -q "served by the real server" "$T/dom_chromium"
  px_check "chromium: the tunnel was relayed" grep -q "\[localhost:$SPORT\] relaying without interception: UPSTREAM_TLS13_ONLY" "$T/icpt.log"
else
  echo "skip: chromium not installed"
fi

# ---- a TLS 1.0-only upstream: refused like browsers refuse it ----
px_s_server "$T/s_tls10.log" -tls1 -cipher 'DEFAULT@SECLEVEL=0' -cert "$T/valid.pem" -key "$T/valid.key" -cert_chain "$T/inter.pem" -WWW || exit 1
port=$SPORT
status=$(curl_px -o "$T/out_tls10" -w '%{http_code}' "https://127.0.0.1:$port/hi.txt" 2> "$T/curl_tls10.err")
px_check "tls10: curl through the proxy is not 200 (got $status)" test "$status" != 200
px_check "tls10: the 502 page names PROTOCOL_TOO_OLD" grep -q PROTOCOL_TOO_OLD "$T/out_tls10"
wait_report "$port" || px_fail "tls10: no capture"
codes=$(rq "$port" '" ".join(f["code"] for f in d["findings"])')
px_check "tls10: PROTOCOL_TOO_OLD finding in the report" grep -qw PROTOCOL_TOO_OLD <<< "$codes"
px_check "tls10: every browser profile fails on PROTOCOL_TOO_OLD" \
  test "$(rq "$port" '",".join(sorted(c["name"] for c in d["clients"] if c["root_cause"] == "PROTOCOL_TOO_OLD"))')" = "chrome,firefox,openssl,safari"
px_check "tls10: openssl-1.0.2 (min TLS 1.0) is not failed by it" \
  test "$(rq "$port" '[c["root_cause"] for c in d["clients"] if c["name"] == "openssl-1.0.2"][0]')" != PROTOCOL_TOO_OLD

# ---- a client offering only TLS 1.0: protocol_version ----
px_s_server "$T/s_plain.log" -cert "$T/valid.pem" -key "$T/valid.key" -cert_chain "$T/inter.pem" -WWW || exit 1
PLAIN=$SPORT
python3 - "$ICPT" "$PLAIN" > "$T/tls10_client.out" 2>&1 <<'PY'
import socket, ssl, sys, warnings
warnings.simplefilter("ignore")
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: x\r\n\r\n" % sys.argv[2].encode())
h = b""
while b"\r\n\r\n" not in h:
    h += s.recv(1)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_ciphers("DEFAULT@SECLEVEL=0")
ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1
try:
    ctx.wrap_socket(s)
    print("handshake completed")
except ssl.SSLError as e:
    print("refused:", e)
PY
px_check "a TLS 1.0-only client gets protocol_version ($(cat "$T/tls10_client.out"))" grep -qi "alert protocol version" "$T/tls10_client.out"

# ---- a ClientHello split over records ----
for frag in 100 512; do
  python3 "$CS_SRC/tests/lib/split_hello_client.py" "$ICPT" "127.0.0.1:$PLAIN" "$CA" "$frag" > "$T/split_$frag.out" 2> "$T/split_$frag.err"
  px_check "split ClientHello ($frag-byte records): handshake with the minted leaf and a response ($(cat "$T/split_$frag.out"))" \
    grep -q "^HTTP/1.0 200" "$T/split_$frag.out"
done
python3 "$CS_SRC/tests/lib/split_hello_client.py" "$ICPT" "127.0.0.1:$PLAIN" "$CA" 1000 40 > "$T/split_big.out" 2>&1
px_check "split ClientHello of about 8 KB: joined and served ($(cat "$T/split_big.out" | tail -1))" grep -q "^HTTP/1.0 200" "$T/split_big.out"
python3 "$CS_SRC/tests/lib/split_hello_client.py" "$ICPT" "127.0.0.1:$PLAIN" "$CA" 1000 90 > "$T/split_huge.out" 2>&1
px_check "split ClientHello over 16 KB: refused with an alert ($(tail -1 "$T/split_huge.out"))" grep -qi "alert handshake failure" "$T/split_huge.out"
px_check "split ClientHello over 16 KB: logged" grep -q "client ClientHello refused: larger than 16384" "$T/icpt.log"

# ---- an upstream that refuses the connection still gets the 502 ----
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
status=$(curl_px -o "$T/out_dead" -w '%{http_code}' "https://127.0.0.1:$DEAD/" 2> "$T/curl_dead.err")
px_check "refused upstream: no relay" test -z "$(grep "127.0.0.1:$DEAD\] relaying" "$T/icpt.log")"
px_check "refused upstream: curl does not get 200 (got $status: $(head -c 100 "$T/curl_dead.err"))" test "$status" != 200
px_done
