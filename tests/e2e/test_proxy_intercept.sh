#!/usr/bin/env bash
# certskew proxy against real peers on loopback: curl through the proxy to
# openssl s_server serving chains made here (valid, expired, not yet
# valid, untrusted, TLS 1.3-only, refused), plain HTTP forwarding, the
# capture store and the local API.
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

px_proxy main --trust "$T/root.pem" || exit 1
MAIN=$PPORT
CA="$T/home/ca.pem"
API="http://127.0.0.1:$MAIN"
curl_px() { curl -sS --max-time 20 -x "http://127.0.0.1:$MAIN" --proxy-cacert "$CA" --cacert "$CA" "$@"; }

# ---- the local CA ----
px_check "CA key is mode 0600" test "$(stat -c %a "$T/home/ca-key.pem")" = 600
px_check "ca path names the CA file" test "$(CERTSKEW_HOME=$T/home "$CS_BIN" ca path)" = "$CA"
px_check "ca export prints the CA" cmp -s <(CERTSKEW_HOME="$T/home" "$CS_BIN" ca export) "$CA"
px_check "ca --help exits 0" "$CS_BIN" ca --help

# ---- table: name | leaf | expected status | expected code in report/page ----
CASES="valid|valid|200|
expired|expired|502|EXPIRED
notyet|notyet|502|NOT_YET_VALID
untrusted|stranger|502|ANCHOR_NOT_TRUSTED"
while IFS='|' read -r name leaf want code; do
  chain="$T/inter.pem"
  [ "$leaf" = stranger ] && chain="$T/otherroot.pem"
  px_s_server "$T/s_$name.log" -cert "$T/$leaf.pem" -key "$T/$leaf.key" -cert_chain "$chain" -WWW || exit 1
  cp "$T/body.bin" "$T/body_$name.bin"
  got=$(curl_px -D "$T/h_$name" -o "$T/out_$name" -w '%{http_code}' "https://127.0.0.1:$SPORT/body_$name.bin")
  px_check "$name: status $want (got $got)" test "$got" = "$want"
  if [ "$want" = 200 ]; then
    px_check "$name: body intact through the proxy" cmp -s "$T/out_$name" "$T/body.bin"
  else
    px_check "$name: 502 page names $code" grep -q "$code" "$T/out_$name"
    px_check "$name: 502 page links the report in the web page" grep -q "/#/capture/" "$T/out_$name"
    id=$(sed -n 's/^X-Certskew-Capture: \([^[:space:]]*\).*/\1/p' "$T/h_$name")
    curl -sS "$API/api/captures/$id/report" > "$T/r_$name.json"
    px_check "$name: report names $code" grep -q "\"$code\"" "$T/r_$name.json"
  fi
  # The capture holds exactly the served chain, in order.
  id=$(curl -sS "$API/api/captures" | px_capture_field "$SPORT" id)
  curl -sS "$API/api/captures/$id/chain.pem" > "$T/cap_$name.pem"
  cat "$T/$leaf.pem" "$chain" > "$T/served_$name.pem"
  px_check "$name: capture $id holds exactly the served chain" \
    diff <(px_fingerprints "$T/cap_$name.pem") <(px_fingerprints "$T/served_$name.pem")
  px_check "$name: capture has 2 certificates" test "$(px_fingerprints "$T/cap_$name.pem" | wc -l)" = 2
done <<< "$CASES"

# ---- identical chains are captured once, with a seen count ----
px_s_server "$T/s_dedup.log" -cert "$T/valid.pem" -key "$T/valid.key" -cert_chain "$T/inter.pem" -WWW || exit 1
cp "$T/body.bin" "$T/dedup.bin"
for i in 1 2 3; do curl_px -o /dev/null "https://127.0.0.1:$SPORT/dedup.bin"; done
n=$(ls -d "$T/home/captures/"*_"$SPORT"_* | wc -l)
px_check "three sightings, one capture directory" test "$n" = 1
px_check "seen_count is 3" test "$(curl -sS "$API/api/captures" | px_capture_field "$SPORT" seen_count)" = 3
px_check "no symlinks in the store" test -z "$(find "$T/home/captures" -type l)"

# ---- the minted leaf, checked by openssl (not by our own code) ----
echo | openssl s_client -proxy "127.0.0.1:$MAIN" -connect "127.0.0.1:$SPORT" -showcerts 2>/dev/null \
  | awk '/BEGIN CERT/{p=1} p{print} /END CERT/{exit}' > "$T/minted.pem"
px_check "openssl verifies the minted leaf against our CA" \
  openssl verify -CAfile "$CA" -purpose sslserver "$T/minted.pem"
px_check "minted leaf has IP SAN 127.0.0.1" grep -q "IP Address:127.0.0.1" <(openssl x509 -in "$T/minted.pem" -noout -ext subjectAltName)
nb=$(date -u -d "$(openssl x509 -in "$T/minted.pem" -noout -startdate | cut -d= -f2)" +%s)
px_check "minted leaf notBefore is at least a day back" test "$nb" -le $(( $(date +%s) - 86400 ))
echo | openssl s_client -proxy "127.0.0.1:$MAIN" -connect "localhost:$SPORT" -servername localhost 2>/dev/null \
  | openssl x509 -noout -ext subjectAltName > "$T/minted_dns.txt" 2>/dev/null
px_check "minted leaf for a name has DNS SAN" grep -q "DNS:localhost" "$T/minted_dns.txt"

echo | openssl s_client -proxy "127.0.0.1:$MAIN" -connect "127.0.0.1:$SPORT" -servername other.test 2>/dev/null \
  | openssl x509 -noout -ext subjectAltName > "$T/minted_sni.txt" 2>/dev/null
px_check "SNI different from the CONNECT host: leaf for the SNI name" grep -q "DNS:other.test" "$T/minted_sni.txt"

# ---- limits: handshake timeout and max connections ----
px_proxy limits --trust "$T/root.pem" --handshake-timeout 1s --max-conns 1 || exit 1
LIM=$PPORT
start=$(date +%s%N)
got=$(curl -sS --max-time 10 telnet://127.0.0.1:$LIM < /dev/null 2>/dev/null | head -1)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
px_check "silent client: 408 after the handshake timeout ($got, ${ms} ms)" grep -q " 408 " <<< "$got"
px_check "silent client: closed within 1-5 s (${ms} ms)" test "$ms" -ge 900 -a "$ms" -le 5000
( sleep 3 | curl -sS --max-time 5 telnet://127.0.0.1:$LIM > /dev/null 2>&1 ) &
holder=$!
sleep 0.5
got=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LIM/api/captures" 2>/dev/null)
px_check "over --max-conns: the extra connection is answered 503 (got '$got')" test "$got" = 503
wait "$holder"
got=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LIM/api/captures")
px_check "after the first leaves, a new connection is served (got $got)" test "$got" = 200
CERTSKEW_HOME="$T/home-badlisten" "$CS_BIN" proxy --listen not-an-address --port 0 > /dev/null 2>&1
px_check "--listen with a non-address is refused (exit $?)" test $? -ne 0
px_check "... before creating anything" test ! -e "$T/home-badlisten"

# ---- upstream failures: clear 502 page and an error entry ----
px_s_server "$T/s_tls13.log" -cert "$T/valid.pem" -key "$T/valid.key" -cert_chain "$T/inter.pem" -tls1_3 -WWW || exit 1
# A TLS 1.3-only upstream is no failure any more: the tunnel is relayed to the
# real server (tests/e2e/test_proxy_fallback.sh), so a client that trusts the
# real root gets 200 where one that trusts only certskew's CA gets its own error.
got=$(curl -sS --max-time 20 -x "http://127.0.0.1:$MAIN" --cacert "$T/root.pem" -o "$T/out_tls13" \
  -w '%{http_code}' "https://127.0.0.1:$SPORT/")
px_check "TLS 1.3-only upstream: relayed to the real server, 200 (got $got)" test "$got" = 200
got=$(curl_px -o /dev/null -w '%{http_code}' "https://127.0.0.1:$SPORT/" 2>/dev/null)
px_check "TLS 1.3-only upstream: no 502, the real chain is what curl judges (got $got)" test "$got" = 000
# A port nobody listens on: bind and close a socket to find one.
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
got=$(curl_px -o "$T/out_refused" -w '%{http_code}' "https://127.0.0.1:$dead/")
px_check "refused upstream: 502 (got $got)" test "$got" = 502
px_check "refused upstream: page says UPSTREAM_REFUSED" grep -q "UPSTREAM_REFUSED" "$T/out_refused"
px_check "refused upstream: error entry in the API" grep -q "UPSTREAM_REFUSED" <(curl -sS "$API/api/captures")
got=$(curl_px -o "$T/out_dns" -w '%{http_code}' "https://no-such-host.invalid:443/")
px_check "DNS failure: 502 page (got $got)" test "$got" = 502
px_check "DNS failure: page says UPSTREAM_DNS_FAILED" grep -q "UPSTREAM_DNS_FAILED" "$T/out_dns"

# ---- --forward-invalid passes an expired upstream through ----
px_proxy fwd --trust "$T/root.pem" --forward-invalid || exit 1
px_s_server "$T/s_fwd.log" -cert "$T/expired.pem" -key "$T/expired.key" -cert_chain "$T/inter.pem" -WWW || exit 1
cp "$T/body.bin" "$T/fwd.bin"
got=$(curl -sS -x "http://127.0.0.1:$PPORT" --proxy-cacert "$CA" --cacert "$CA" -o "$T/out_fwd" -w '%{http_code}' "https://127.0.0.1:$SPORT/fwd.bin")
px_check "--forward-invalid: expired upstream passes (got $got)" test "$got" = 200
px_check "--forward-invalid: body intact" cmp -s "$T/out_fwd" "$T/body.bin"

# ---- plain HTTP (absolute URI) forwarding ----
mkdir -p "$T/www" && cp "$T/body.bin" "$T/www/plain.bin"
python3 -m http.server --bind 127.0.0.1 0 --directory "$T/www" > "$T/http.log" 2>&1 &
PX_PIDS+=($!)
for i in $(seq 1 100); do
  HPORT=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$T/http.log" | head -1); [ -n "$HPORT" ] && break; sleep 0.1
done
got=$(curl -sS --max-time 20 -x "http://127.0.0.1:$MAIN" -o "$T/out_plain" -w '%{http_code}' "http://127.0.0.1:$HPORT/plain.bin")
px_check "plain HTTP through the proxy: 200 (got $got)" test "$got" = 200
px_check "plain HTTP: body intact" cmp -s "$T/out_plain" "$T/body.bin"
got=$(curl -sS --max-time 20 -x "http://127.0.0.1:$MAIN" -o "$T/out_plain_dead" -w '%{http_code}' "http://127.0.0.1:$dead/")
px_check "plain HTTP to a refused port: 502 (got $got)" test "$got" = 502

# ---- requests the proxy refuses ----
got=$(printf 'CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n' "$MAIN" "$MAIN" | curl -sS --max-time 5 telnet://127.0.0.1:$MAIN 2>/dev/null | head -1)
px_check "CONNECT to the proxy itself: 508 ($got)" grep -q " 508 " <<< "$got"
got=$(printf 'GET http://127.0.0.1:%s/x HTTP/1.1\r\nHost: a\r\nVia: 1.1 certskew\r\n\r\n' "$HPORT" | curl -sS --max-time 5 telnet://127.0.0.1:$MAIN 2>/dev/null | head -1)
px_check "request already through certskew: 508 ($got)" grep -q " 508 " <<< "$got"
big=$(head -c 20000 /dev/zero | tr '\0' a)
got=$(curl -sS -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$API/api/captures")
px_check "oversized header: 431 (got $got)" test "$got" = 431
hdrs=(); for i in $(seq 1 120); do hdrs+=(-H "X-H$i: v"); done
got=$(curl -sS -o /dev/null -w '%{http_code}' "${hdrs[@]}" "$API/api/captures")
px_check "too many headers: 431 (got $got)" test "$got" = 431
got=$(printf 'GARBAGE\r\n\r\n' | curl -sS --max-time 5 telnet://127.0.0.1:$MAIN 2>/dev/null | head -1)
px_check "malformed request: 400 ($got)" grep -q " 400 " <<< "$got"
got=$(printf 'GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n' | curl -sS --max-time 5 telnet://127.0.0.1:$MAIN 2>/dev/null | head -1)
px_check "unsupported scheme: 400 ($got)" grep -q " 400 " <<< "$got"

# ---- API and static files ----
mkdir -p "$T/web" && echo '<h1>certskew ui</h1>' > "$T/web/index.html" && echo 'x=1' > "$T/web/app.js"
echo secret > "$T/secret.txt"
ln -s "$T/secret.txt" "$T/web/link.txt"
px_proxy web --trust "$T/root.pem" --web "$T/web" || exit 1
WEB="http://127.0.0.1:$PPORT"
px_check "index.html at /" grep -q "certskew ui" <(curl -sS "$WEB/")
px_check "content type of .js" grep -qi "content-type: text/javascript" <(curl -sS -D - -o /dev/null "$WEB/app.js")
echo '<h1>trust the CA</h1>' > "$T/web/ca.html"
px_check "/ca serves the CA page" grep -q "trust the CA" <(curl -sS "$WEB/ca")
px_check "start message: web page address" grep -q "web page:     http://127.0.0.1:$PPORT/" "$PX_TMP/web.log"
px_check "start message: how to trust the CA" grep -q "trust the CA: http://127.0.0.1:$PPORT/ca" "$PX_TMP/web.log"
for path in "/../secret.txt" "/%2e%2e/secret.txt" "/..%2fsecret.txt" "/link.txt" "/a/../../secret.txt" "/%00"; do
  out=$(curl -sS --path-as-is "$WEB$path")
  px_check "no traversal via $path" test "$(grep -c secret <<< "$out")" = 0
done
got=$(curl -sS -o /dev/null -w '%{http_code}' "$WEB/api/captures/nope/report")
px_check "unknown capture: 404 (got $got)" test "$got" = 404
id=$(sed -n 's/^X-Certskew-Capture: \([^[:space:]]*\).*/\1/p' "$T/h_expired")
curl -sS -X POST -H 'Content-Type: application/json' \
  -d "{\"capture\":\"$id\",\"clocks\":[\"exact\",\"skew:-2s\"],\"at\":\"2000-01-01T00:00:00Z\"}" \
  "$API/api/replay" > "$T/replay.json"
px_check "replay: report for the requested instant" grep -q "2000-01-01T00:00:00.000Z" "$T/replay.json"
px_check "replay: NOT_YET_VALID in 2000" grep -q "NOT_YET_VALID" "$T/replay.json"
px_check "replay: both clocks" grep -q "skew:-2s" "$T/replay.json"
px_check "replay: trust judged with the proxy's store (not null)" test "$(python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); print(d["trust"] is not None and "trust" not in d["not_judged"])' "$T/replay.json")" = True
px_check "replay: the clients table leads the report" test "$(python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); print(list(d)[0], len(d["clients"]))' "$T/replay.json")" = "clients 5"
got=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -d '{"capture":1}' "$API/api/replay")
px_check "replay with a bad body: 400 (got $got)" test "$got" = 400
got=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -d '{"capture":"x","clocks":["bogus model"]}' "$API/api/replay")
px_check "replay with a bad clock: 400 (got $got)" test "$got" = 400
got=$(curl -sS -o /dev/null -w '%{http_code}' -x "http://127.0.0.1:$MAIN" "http://127.0.0.1:$MAIN/api/captures")
px_check "absolute-form request naming the proxy reaches the API (got $got)" test "$got" = 200

# ---- diagnose: the same capture without a browser ----
px_s_server "$T/s_diag.log" -cert "$T/notyet.pem" -key "$T/notyet.key" -cert_chain "$T/inter.pem" -WWW || exit 1
CERTSKEW_HOME="$T/home" "$CS_BIN" diagnose "127.0.0.1:$SPORT" --trust "$T/root.pem" --json > "$T/diag.json"
rc=$?
px_check "diagnose: exit 1 for a not-yet-valid chain (got $rc)" test "$rc" = 1
px_check "diagnose --json: NOT_YET_VALID" grep -q '"NOT_YET_VALID"' "$T/diag.json"
CERTSKEW_HOME="$T/home" "$CS_BIN" diagnose "127.0.0.1:$SPORT" --trust "$T/root.pem" --at "$(date -u -d @$(( $(date +%s) + 172800 )) +%Y-%m-%dT%H:%M:%SZ)" > "$T/diag.txt"
rc=$?
px_check "diagnose --at two days later: valid (exit $rc)" test "$rc" = 0
CERTSKEW_HOME="$T/home" "$CS_BIN" diagnose "127.0.0.1:$dead" --trust "$T/root.pem" > "$T/diag_dead.txt"
rc=$?
px_check "diagnose refused: exit 3 (got $rc)" test "$rc" = 3
px_check "diagnose refused: says UPSTREAM_REFUSED" grep -q UPSTREAM_REFUSED "$T/diag_dead.txt"
"$CS_BIN" diagnose --help > /dev/null
px_check "diagnose --help exits 0" test $? = 0
"$CS_BIN" proxy --help > /dev/null
px_check "proxy --help exits 0" test $? = 0

px_done
