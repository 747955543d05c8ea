#!/usr/bin/env bash
# certskew proxy --passthrough against real peers on loopback: curl through
# the proxy to openssl s_server (TLS 1.2 and TLS 1.3) serving chains made
# here. The client validates the real chain and fails on its own (curl exit
# 60); certskew captures exactly the served chain (passively for TLS 1.2, by
# a side connection for TLS 1.3), and the report records what the client did
# (its alert code) and the analysis's cause. Also: bytes relayed intact, the
# stapled OCSP response read from the handshake, per-host rules, a TLS
# 1.3-only server (captured by the TLS 1.3 probe), one whose CertificateVerify
# does not match its certificate (reported, not captured), and a tunnel that
# carries no TLS at all.
source "$CS_SRC/tests/lib/proxy_e2e_lib.sh"
T=$PX_TMP
cd "$T" || exit 1

# ---- fixtures: root -> intermediate -> leaves with chosen validity ----
px_ca_cnf "$T"
px_root "$T" root || exit 1
px_root "$T" otherroot || exit 1
px_issue "$T" root inter inter_ext "$(px_date -864000)" "$(px_date 8640000)" || exit 1
px_issue "$T" inter valid leaf_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1
px_issue "$T" inter expired leaf_ext "$(px_date -864000)" "$(px_date -86400)" || exit 1
px_issue "$T" inter notyet leaf_ext "$(px_date 86400)" "$(px_date 864000)" || exit 1
px_issue "$T" otherroot stranger leaf_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1
head -c 300000 /dev/urandom > "$T/body.bin"
# A stapled OCSP response for the valid leaf, made by openssl ocsp.
openssl ocsp -issuer "$T/inter.pem" -cert "$T/valid.pem" -no_nonce -reqout "$T/req.der" > /dev/null 2>&1 &&
  openssl ocsp -index "$T/index.txt" -rsigner "$T/inter.pem" -rkey "$T/inter.key" -CA "$T/inter.pem" \
    -reqin "$T/req.der" -respout "$T/ocsp.der" -ndays 7 > /dev/null 2>&1 || { echo "openssl ocsp failed" >&2; exit 1; }

# The proxy trusts root (like a client that has it); the clients below are
# given root too, so "stranger" (otherroot) is untrusted by both.
px_proxy pass --trust "$T/root.pem" --passthrough --verbose || exit 1
PASS=$PPORT
API="http://127.0.0.1:$PASS"
curl_pt() { curl -sS --max-time 20 -x "http://127.0.0.1:$PASS" --cacert "$T/root.pem" "$@"; }

# report PORT -> $T/r_PORT.json (waits for the capture: it is made after the tunnel).
wait_report() {
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
# rq PORT EXPR: EXPR over the report d (python3's json reads our output).
rq() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$T/r_$1.json" "$2"; }

# ---- table: name | leaf | s_server version flag | curl exit | reaction | alert | method | cause code ----
CASES="valid12|valid|-tls1_2|0|accepted|-|passive TLS 1.2 handshake|-
untrusted12|stranger|-tls1_2|60|alert|48|passive TLS 1.2 handshake|ANCHOR_NOT_TRUSTED
expired12|expired|-tls1_2|60|alert|45|passive TLS 1.2 handshake|EXPIRED
notyet12|notyet|-tls1_2|60|alert|42|passive TLS 1.2 handshake|NOT_YET_VALID
valid13|valid||0|accepted|-|side connection (TLS 1.3)|-
untrusted13|stranger||60|alert|48|side connection (TLS 1.3)|ANCHOR_NOT_TRUSTED
notyet13|notyet||60|alert|42|side connection (TLS 1.3)|NOT_YET_VALID"
while IFS='|' read -r name leaf ver want reaction alert method cause; do
  chain="$T/inter.pem"
  [ "$leaf" = stranger ] && chain="$T/otherroot.pem"
  # shellcheck disable=SC2086
  px_s_server "$T/s_$name.log" -cert "$T/$leaf.pem" -key "$T/$leaf.key" -cert_chain "$chain" $ver -WWW || exit 1
  port=$SPORT
  cp "$T/body.bin" "$T/body_$name.bin"
  curl_pt -o "$T/out_$name" "https://127.0.0.1:$port/body_$name.bin" 2> "$T/curl_$name.err"
  rc=$?
  px_check "$name: curl's own verdict, exit $want (got $rc: $(head -c 120 "$T/curl_$name.err"))" test "$rc" = "$want"
  [ "$want" = 0 ] && px_check "$name: body relayed intact" cmp -s "$T/out_$name" "$T/body.bin"
  if ! wait_report "$port"; then
    px_fail "$name: no capture for port $port"
    continue
  fi
  cat "$T/$leaf.pem" "$chain" > "$T/served_$name.pem"
  px_check "$name: the capture holds exactly the served chain" \
    diff <(px_fingerprints "$T/cap_$port.pem") <(px_fingerprints "$T/served_$name.pem")
  px_check "$name: capture mode passthrough" test "$(rq "$port" 'd["capture"]["mode"]')" = passthrough
  px_check "$name: captured by '$method'" test "$(rq "$port" 'd["capture"]["method"]')" = "$method"
  px_check "$name: client reaction '$reaction'" test "$(rq "$port" 'd["capture"]["client"]["reaction"]')" = "$reaction"
  codes=$(rq "$port" '" ".join(f["code"] for f in d["findings"])')
  if [ "$reaction" = alert ]; then
    px_check "$name: the client's alert code is $alert" test "$(rq "$port" 'd["capture"]["client"]["alert"]["code"]')" = "$alert"
    px_check "$name: CLIENT_REJECTED_CHAIN finding" grep -qw CLIENT_REJECTED_CHAIN <<< "$codes"
    px_check "$name: the analysis finds the cause $cause" grep -qw "$cause" <<< "$codes"
    expl=$(rq "$port" '[f["explanation"] for f in d["findings"] if f["code"] == "CLIENT_REJECTED_CHAIN"][0]')
    px_check "$name: the explanation links the alert to $cause" grep -q "agrees: .*$cause" <<< "$expl"
  else
    px_check "$name: CLIENT_ACCEPTED_CHAIN finding" grep -qw CLIENT_ACCEPTED_CHAIN <<< "$codes"
    px_check "$name: no error finding" test "$(rq "$port" 'sum(f["severity"] == "error" for f in d["findings"])')" = 0
  fi
  tv=$(curl -sS "$API/api/captures" | px_capture_field "$port" tls_version)
  want_tv=TLSv1.3; [ -n "$ver" ] && want_tv=TLSv1.2
  px_check "$name: capture metadata has the tunnel's version $want_tv (got $tv)" test "$tv" = "$want_tv"
done <<< "$CASES"

# ---- what the client sees is the real leaf (no minted certificate) ----
px_s_server "$T/s_real.log" -cert "$T/valid.pem" -key "$T/valid.key" -cert_chain "$T/inter.pem" -WWW || exit 1
echo | openssl s_client -proxy "127.0.0.1:$PASS" -connect "127.0.0.1:$SPORT" 2>/dev/null \
  | awk '/BEGIN CERT/{p=1} p{print} /END CERT/{exit}' > "$T/seen.pem"
px_check "openssl s_client through the tunnel sees the real leaf" \
  test "$(openssl x509 -in "$T/seen.pem" -noout -fingerprint -sha256)" = "$(openssl x509 -in "$T/valid.pem" -noout -fingerprint -sha256)"

# ---- the stapled OCSP response, read from the TLS 1.2 handshake ----
px_s_server "$T/s_staple.log" -cert "$T/valid.pem" -key "$T/valid.key" -cert_chain "$T/inter.pem" \
  -status_file "$T/ocsp.der" -tls1_2 -WWW || exit 1
cp "$T/body.bin" "$T/staple.bin"
curl_pt --cert-status -o /dev/null "https://127.0.0.1:$SPORT/staple.bin"
px_check "staple: curl --cert-status accepts the stapled response (exit $?)" test $? = 0
wait_report "$SPORT" || px_fail "staple: no capture"
px_check "staple: the client asked for stapling" test "$(rq "$SPORT" 'd["capture"]["tunnel"]["client_asked_stapling"]')" = True
px_check "staple: the report holds the stapled response (status good)" \
  grep -q '"good"' <(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["revocation"]))' "$T/r_$SPORT.json")

# ---- TLS 1.2 chains past the old 16-certificate bound: 30 captured; 41 read by
# the parser but past the analysis's CS_CHAIN_MAX_CERTS (32); 71 past the
# parser's 64: each bound is an error entry, never a silent miss ----
for i in $(seq 70); do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj "/CN=padding $i" -days 2 2> /dev/null
done > "$T/pad70.pem"
awk '/BEGIN/{n++} n<=28' "$T/pad70.pem" > "$T/pad28.pem"
awk '/BEGIN/{n++} n<=39' "$T/pad70.pem" > "$T/pad39.pem"
cat "$T/inter.pem" "$T/pad28.pem" > "$T/chain29.pem"
cat "$T/inter.pem" "$T/pad39.pem" > "$T/chain40.pem"
cat "$T/inter.pem" "$T/pad70.pem" > "$T/chain71.pem"
px_s_server "$T/s_long.log" -cert "$T/valid.pem" -key "$T/valid.key" -cert_chain "$T/chain29.pem" \
  -tls1_2 -WWW || exit 1
curl_pt -o /dev/null "https://127.0.0.1:$SPORT/" 2> /dev/null
wait_report "$SPORT" || px_fail "30 certificates: no capture"
px_check "30 certificates (TLS 1.2): all captured" \
  test "$(px_fingerprints "$T/cap_$SPORT.pem" | wc -l)" = 30
px_s_server "$T/s_long41.log" -cert "$T/valid.pem" -key "$T/valid.key" -cert_chain "$T/chain40.pem" \
  -tls1_2 -WWW || exit 1
curl_pt -o /dev/null "https://127.0.0.1:$SPORT/" 2> /dev/null
sleep 1
px_check "41 certificates (TLS 1.2): PASSTHROUGH_CHAIN_UNREADABLE names the analysis bound" \
  python3 -c 'import json,sys; e=json.load(sys.stdin)["errors"]; sys.exit(0 if any(x["code"]=="PASSTHROUGH_CHAIN_UNREADABLE" and x["port"]==int(sys.argv[1]) and "32" in x["message"] for x in e) else 1)' "$SPORT" \
  < <(curl -sS "$API/api/captures")
px_s_server "$T/s_toolong.log" -cert "$T/valid.pem" -key "$T/valid.key" -cert_chain "$T/chain71.pem" \
  -tls1_2 -WWW || exit 1
curl_pt -o /dev/null "https://127.0.0.1:$SPORT/" 2> /dev/null
sleep 1
px_check "71 certificates (TLS 1.2): PASSTHROUGH_FLIGHT_UNREADABLE says more than 64" \
  python3 -c 'import json,sys; e=json.load(sys.stdin)["errors"]; sys.exit(0 if any(x["code"]=="PASSTHROUGH_FLIGHT_UNREADABLE" and x["port"]==int(sys.argv[1]) and "more than 64" in x["message"] for x in e) else 1)' "$SPORT" \
  < <(curl -sS "$API/api/captures")
px_check "71 certificates: no capture" test -z "$(curl -sS "$API/api/captures" | px_capture_field "$SPORT" id)"

# ---- a TLS 1.3-only server: captured by the TLS 1.3 side connection ----
px_s_server "$T/s_only13.log" -cert "$T/stranger.pem" -key "$T/stranger.key" -tls1_3 -WWW || exit 1
curl_pt -o /dev/null "https://127.0.0.1:$SPORT/" 2> /dev/null
px_check "TLS 1.3-only: curl's own error (exit $?)" test $? = 60
wait_report "$SPORT" || px_fail "TLS 1.3-only: no capture"
px_check "TLS 1.3-only: the capture holds the served leaf" \
  diff <(px_fingerprints "$T/cap_$SPORT.pem") <(px_fingerprints "$T/stranger.pem")
px_check "TLS 1.3-only: no PASSTHROUGH_NOT_OBSERVABLE error" \
  python3 -c 'import json,sys; e=json.load(sys.stdin)["errors"]; sys.exit(1 if any(x["code"]=="PASSTHROUGH_NOT_OBSERVABLE" and x["port"]==int(sys.argv[1]) for x in e) else 0)' "$SPORT" \
  < <(curl -sS "$API/api/captures")

# ---- TLS 1.3, a CertificateVerify not made with the leaf's key: reported, not captured ----
# The key file keeps the leaf's public point with another private scalar:
# OpenSSL compares only public halves on load, then signs with the wrong key.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/foreign.key" 2> /dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/badcv.key" \
  -out "$T/badcv.pem" -subj /CN=127.0.0.1 -days 2 2> /dev/null
PUB=$(openssl pkey -in "$T/badcv.key" -pubout -outform DER | tail -c 65 | od -An -tx1 | tr -d ' \n')
PRIV=$(openssl pkey -in "$T/foreign.key" -outform DER | openssl asn1parse -inform DER |
  sed -n 's/.*OCTET STRING *\[HEX DUMP\]://p' | tail -1)
printf 'asn1=SEQUENCE:ec\n[ec]\nv=INTEGER:1\nd=FORMAT:HEX,OCTETSTRING:%s\np=EXP:0,OID:prime256v1\npub=EXP:1,FORMAT:HEX,BITSTRING:%s\n' \
  "$PRIV" "$PUB" > "$T/badcv.cnf"
openssl asn1parse -genconf "$T/badcv.cnf" -noout -out "$T/badcv_priv.der" &&
  openssl pkey -inform DER -in "$T/badcv_priv.der" -out "$T/badcv_priv.key" || exit 1
px_s_server "$T/s_badcv.log" -cert "$T/badcv.pem" -key "$T/badcv_priv.key" -tls1_3 -WWW || exit 1
curl_pt -k -o /dev/null "https://127.0.0.1:$SPORT/" 2> /dev/null
px_check "bad CertificateVerify: curl refuses the handshake (exit $?)" test $? != 0
sleep 1
px_check "bad CertificateVerify: an error entry PASSTHROUGH_CERT_VERIFY_FAILED" \
  python3 -c 'import json,sys; e=json.load(sys.stdin)["errors"]; sys.exit(0 if any(x["code"]=="PASSTHROUGH_CERT_VERIFY_FAILED" and x["port"]==int(sys.argv[1]) for x in e) else 1)' "$SPORT" \
  < <(curl -sS "$API/api/captures")
px_check "bad CertificateVerify: no capture" test -z "$(curl -sS "$API/api/captures" | px_capture_field "$SPORT" id)"

# ---- a tunnel without TLS is relayed and not captured ----
mkdir -p "$T/www" && cp "$T/body.bin" "$T/www/plain.bin"
python3 -m http.server --bind 127.0.0.1 0 --directory "$T/www" > "$T/http.log" 2>&1 &
PX_PIDS+=($!)
for i in $(seq 1 100); do
  HPORT=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$T/http.log" | head -1); [ -n "$HPORT" ] && break; sleep 0.1
done
curl -sS --max-time 20 -p -x "http://127.0.0.1:$PASS" -o "$T/out_plain" "http://127.0.0.1:$HPORT/plain.bin"
px_check "plain HTTP inside a CONNECT tunnel: relayed intact" cmp -s "$T/out_plain" "$T/body.bin"
px_check "plain HTTP inside a tunnel: no capture" test -z "$(curl -sS "$API/api/captures" | px_capture_field "$HPORT" id)"

# ---- a refused upstream: 502 before the tunnel, with the code ----
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
got=$(printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: x\r\n\r\n' "$dead" | curl -sS --max-time 5 telnet://127.0.0.1:$PASS 2>/dev/null)
px_check "refused upstream: 502" grep -q "^HTTP/1.1 502 " <<< "$got"
px_check "refused upstream: the body names UPSTREAM_REFUSED" grep -q UPSTREAM_REFUSED <<< "$got"

# ---- per-host rules ----
px_s_server "$T/s_rules.log" -cert "$T/valid.pem" -key "$T/valid.key" -cert_chain "$T/inter.pem" -WWW || exit 1
RULES_PORT=$SPORT
issuer_via() { # issuer_via PROXYPORT HOST -> issuer of the leaf the client sees
  echo | openssl s_client -proxy "127.0.0.1:$1" -connect "$2:$RULES_PORT" -servername "$2" 2>/dev/null \
    | openssl x509 -noout -issuer 2>/dev/null
}
px_proxy rules1 --trust "$T/root.pem" --passthrough localhost || exit 1
px_check "--passthrough localhost: localhost passes through (real issuer)" grep -q "certskew test inter" <(issuer_via "$PPORT" localhost)
px_check "--passthrough localhost: 127.0.0.1 is intercepted (minted)" grep -qv "certskew test inter" <(issuer_via "$PPORT" 127.0.0.1)
px_proxy rules2 --trust "$T/root.pem" --passthrough --intercept "localhost:$RULES_PORT" || exit 1
px_check "--passthrough --intercept localhost:PORT: localhost intercepted" grep -qv "certskew test inter" <(issuer_via "$PPORT" localhost)
px_check "--passthrough --intercept localhost:PORT: 127.0.0.1 passes through" grep -q "certskew test inter" <(issuer_via "$PPORT" 127.0.0.1)
px_proxy rules3 --trust "$T/root.pem" --passthrough '*.test,127.0.0.1' --intercept other.test || exit 1
px_check "--passthrough '*.test,127.0.0.1': 127.0.0.1 passes through" grep -q "certskew test inter" <(issuer_via "$PPORT" 127.0.0.1)
"$CS_BIN" proxy --intercept > /dev/null 2>&1
px_check "--intercept without a host is refused (exit $?)" test $? = 2

px_check "the passthrough proxy log names the client's alert" grep -q "unknown_ca(48)" "$T/pass.log"
px_done
