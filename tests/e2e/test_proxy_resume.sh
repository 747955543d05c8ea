#!/usr/bin/env bash
# TLS session resumption through the proxy, against real peers on loopback:
#  - upstream: the proxy resumes its session with a server (the server's own
#    status page, openssl s_server -www, says New/Reused), and a resumed
#    connection is still captured with the full chain served in the
#    session's full handshake; a server that refuses resumption, and a chain
#    judged invalid, get a full handshake (a fresh capture) every time;
#  - client side: openssl s_client resumes with the proxy's session ticket,
#    with verification of the minted leaf, and a ticket from another proxy
#    process (other ticket keys) is refused.
source "$CS_SRC/tests/lib/proxy_e2e_lib.sh"
T=$PX_TMP
cd "$T" || exit 1

px_ca_cnf "$T"
px_root "$T" root || exit 1
px_issue "$T" root inter inter_ext "$(px_date -864000)" "$(px_date 8640000)" || exit 1
px_issue "$T" inter valid leaf_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1
px_issue "$T" inter expired leaf_ext "$(px_date -864000)" "$(px_date -86400)" || exit 1

px_proxy main --trust "$T/root.pem" -v || exit 1
MAIN=$PPORT
px_proxy fwd --trust "$T/root.pem" --forward-invalid || exit 1
FWD=$PPORT
CA="$T/home/ca.pem"
API="http://127.0.0.1:$MAIN"

# ---- upstream sessions: name | leaf | s_server flags | proxy port | New/Reused per request ----
CASES="resumes|valid||$MAIN|New Reused Reused
refused by the server|valid|-no_ticket -no_cache|$MAIN|New New New
invalid chain never resumed|expired||$FWD|New New New"
while IFS='|' read -r name leaf flags port want; do
  # shellcheck disable=SC2086 # flags are separate words
  px_s_server "$T/s_$leaf.log" -cert "$T/$leaf.pem" -key "$T/$leaf.key" -cert_chain "$T/inter.pem" \
    -www $flags || exit 1
  got=""
  for i in 1 2 3; do
    page=$(curl -sS --max-time 20 -x "http://127.0.0.1:$port" --proxy-cacert "$CA" --cacert "$CA" \
      "https://127.0.0.1:$SPORT/")
    got="$got $(printf '%s\n' "$page" | sed -n 's/^\(New\|Reused\), TLSv1\.2.*/\1/p' | head -1)"
  done
  px_check "$name: server saw '$want' (got '${got# }')" test "${got# }" = "$want"
  # Every connection, resumed or not, is captured with the served chain.
  caps=$(curl -sS "http://127.0.0.1:$port/api/captures")
  id=$(printf '%s' "$caps" | px_capture_field "$SPORT" id)
  seen=$(printf '%s' "$caps" | px_capture_field "$SPORT" seen_count)
  px_check "$name: one capture seen 3 times (got ${seen:-none})" test "$seen" = 3
  curl -sS "http://127.0.0.1:$port/api/captures/$id/chain.pem" > "$T/cap.pem"
  cat "$T/$leaf.pem" "$T/inter.pem" > "$T/served.pem"
  px_check "$name: capture holds exactly the served chain (leaf + intermediate)" \
    diff <(px_fingerprints "$T/cap.pem") <(px_fingerprints "$T/served.pem")
  px_check "$name: one capture directory" \
    test "$(ls -d "$T/home/captures/"*_"$SPORT"_* | wc -l)" = 1
  kill "${PX_PIDS[-1]}"
done <<< "$CASES"
px_check "the proxy logs the upstream resumption" grep -q "upstream TLS session resumed" "$T/main.log"

# ---- client sessions: tickets from the proxy ----
px_s_server "$T/s_client_side.log" -cert "$T/valid.pem" -key "$T/valid.key" \
  -cert_chain "$T/inter.pem" -www || exit 1
sclient() { # sclient PROXYPORT ARGS...: s_client's session summary lines
  local p=$1; shift
  openssl s_client -proxy "127.0.0.1:$p" -connect "127.0.0.1:$SPORT" -CAfile "$CA" \
    -verify_ip 127.0.0.1 -verify_return_error "$@" < /dev/null 2>&1 |
    grep -E '^(New|Reused), |Verify return code'
}
out1=$(sclient "$MAIN" -sess_out "$T/sess.pem")
px_check "first client handshake is full and verified" \
  test "$(printf '%s\n' "$out1" | grep -c -E '^New, TLSv1\.2|Verify return code: 0 \(ok\)')" = 2
out2=$(sclient "$MAIN" -sess_in "$T/sess.pem")
px_check "the client resumes with the proxy's ticket" \
  test "$(printf '%s\n' "$out2" | grep -c -E '^Reused, TLSv1\.2|Verify return code: 0 \(ok\)')" = 2
out3=$(sclient "$FWD" -sess_in "$T/sess.pem")
px_check "another proxy process refuses the ticket (full handshake)" \
  test "$(printf '%s\n' "$out3" | grep -c -E '^New, TLSv1\.2|Verify return code: 0 \(ok\)')" = 2
# Data flows on a resumed session.
page=$(printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -quiet -proxy "127.0.0.1:$MAIN" \
  -connect "127.0.0.1:$SPORT" -CAfile "$CA" -verify_return_error -sess_in "$T/sess.pem" 2>/dev/null)
px_check "a resumed client session relays the server's page" \
  grep -q 'Cipher is' <<< "$page"

px_done
