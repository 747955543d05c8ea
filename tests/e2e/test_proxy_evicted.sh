#!/usr/bin/env bash
# A chain judged within the last second (the verdict cache) whose capture was
# evicted meanwhile is captured again whole, never as an empty capture.
# With --max-captures 1: visit A, visit B (evicts A), visit A again at once.
set -u
source "$CS_SRC/tests/lib/proxy_e2e_lib.sh"
T=$PX_TMP
cd "$T" || exit 1

px_ca_cnf "$T"
px_root "$T" root || exit 1
px_issue "$T" root inter inter_ext "$(px_date -864000)" "$(px_date 8640000)" || exit 1
px_issue "$T" inter leafa leaf_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1
px_issue "$T" inter leafb leaf_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1
echo a > "$T/a.txt"
echo b > "$T/b.txt"
px_s_server "$T/sa.log" -cert "$T/leafa.pem" -key "$T/leafa.key" -cert_chain "$T/inter.pem" -WWW || exit 1
A=$SPORT
px_s_server "$T/sb.log" -cert "$T/leafb.pem" -key "$T/leafb.key" -cert_chain "$T/inter.pem" -WWW || exit 1
B=$SPORT
px_proxy main --trust "$T/root.pem" --max-captures 1 --no-enrich || exit 1
CA="$T/home/ca.pem"
get() { curl -sS --max-time 20 -x "http://127.0.0.1:$PPORT" --proxy-cacert "$CA" --cacert "$CA" "$@"; }

px_check "A served" test "$(get "https://127.0.0.1:$A/a.txt")" = a
px_check "B served (evicts A)" test "$(get "https://127.0.0.1:$B/b.txt")" = b
px_check "A served again within the verdict cache's second" test "$(get "https://127.0.0.1:$A/a.txt")" = a
curl -sS "http://127.0.0.1:$PPORT/api/captures" > "$T/caps.json"
id=$(px_capture_field "$A" id < "$T/caps.json")
px_check "A is listed again" test -n "$id"
curl -sS "http://127.0.0.1:$PPORT/api/captures/$id/chain.pem" > "$T/a_chain.pem"
px_check "A's capture holds the served chain, not an empty one" \
  test "$(px_fingerprints "$T/a_chain.pem")" = "$(cat "$T/leafa.pem" "$T/inter.pem" > "$T/a_served.pem"; px_fingerprints "$T/a_served.pem")"
px_check "A's report is a report" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["chain"]["count"] == 2 else 1)' \
  <(curl -sS "http://127.0.0.1:$PPORT/api/captures/$id/report")
px_check "no capture store error logged" bash -c '! grep -q "capture store:" "$1"' _ "$T/main.log"
px_done
