#!/usr/bin/env bash
# Headless Chromium through `certskew proxy --passthrough` to openssl
# s_server (TLS 1.2 and TLS 1.3): with no CA of certskew installed, Chromium
# validates the real chain itself. An untrusted or not-yet-valid chain: the
# page does not load (Chromium's own error), the capture holds exactly the
# served chain, and the report records Chromium's rejection (TLS 1.2: the
# alert code) with the analysis's cause. A chain Chromium is told to accept
# (--ignore-certificate-errors-spki-list with the real leaf's key): the page loads
# and the report says the browser accepted it.
source "$CS_SRC/tests/lib/proxy_e2e_lib.sh"
source "$CS_SRC/tests/lib/web_e2e_lib.sh"
T=$PX_TMP
cd "$T" || exit 1
web_require_browser || exit 1

px_ca_cnf "$T"
px_root "$T" root || exit 1
px_root "$T" otherroot || exit 1
px_issue "$T" root inter inter_ext "$(px_date -864000)" "$(px_date 8640000)" || exit 1
px_issue "$T" inter valid leaf_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1
px_issue "$T" inter notyet leaf_ext "$(px_date 86400)" "$(px_date 864000)" || exit 1
px_issue "$T" otherroot stranger leaf_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1
mkdir -p "$T/www" && printf '<!doctype html><title>real</title><p id=m>served by the real server</p>\n' > "$T/www/index.html"
LEAF_SPKI=$(openssl x509 -in "$T/valid.pem" -pubkey -noout | openssl pkey -pubin -outform der \
  | openssl dgst -sha256 -binary | base64)

px_proxy pass --trust "$T/root.pem" --passthrough --verbose || exit 1
PASS=$PPORT
API="http://127.0.0.1:$PASS"

# chromium_get PORT OUT [EXTRA...]: Chromium through the proxy, DOM to OUT.
chromium_get() {
  local port=$1 out=$2; shift 2
  local profile
  profile=$(mktemp -d "$T/chrome.XXXXXX")
  timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --user-data-dir="$profile" \
    --proxy-server="http://127.0.0.1:$PASS" --proxy-bypass-list='<-loopback>' \
    --virtual-time-budget=3000 --dump-dom "$@" "https://localhost:$port/index.html" \
    > "$out" 2> "$out.err"
}

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

# ---- table: name | leaf | version flag | page loads | reaction(s) accepted | TLS 1.2 alert | cause ----
CASES="untrusted12|stranger|-tls1_2|no|alert|-|ANCHOR_NOT_TRUSTED
notyet12|notyet|-tls1_2|no|alert|-|NOT_YET_VALID
untrusted13|stranger||no|alert likely_rejected|-|ANCHOR_NOT_TRUSTED
notyet13|notyet||no|alert likely_rejected|-|NOT_YET_VALID
accepted12|valid|-tls1_2|yes|accepted|-|-
accepted13|valid||yes|accepted|-|-"
while IFS='|' read -r name leaf ver loads reactions _ cause; do
  chain="$T/inter.pem"
  [ "$leaf" = stranger ] && chain="$T/otherroot.pem"
  cd "$T/www" || exit 1
  # shellcheck disable=SC2086
  px_s_server "$T/s_$name.log" -cert "$T/$leaf.pem" -key "$T/$leaf.key" -cert_chain "$chain" $ver -WWW || exit 1
  cd "$T" || exit 1
  port=$SPORT
  extra=()
  [ "$loads" = yes ] && extra=(--ignore-certificate-errors-spki-list="$LEAF_SPKI")
  chromium_get "$port" "$T/dom_$name" "${extra[@]}"
  if [ "$loads" = yes ]; then
    px_check "$name: Chromium loaded the real page" grep -q "served by the real server" "$T/dom_$name"
  else
    px_check "$name: Chromium refused the page itself (no content)" test "$(grep -c "served by the real server" "$T/dom_$name")" = 0
  fi
  if ! wait_report "$port"; then
    px_fail "$name: no capture for port $port"
    continue
  fi
  cat "$T/$leaf.pem" "$chain" > "$T/served_$name.pem"
  px_check "$name: the capture holds exactly the served chain" \
    diff <(px_fingerprints "$T/cap_$port.pem") <(px_fingerprints "$T/served_$name.pem")
  got=$(rq "$port" 'd["capture"]["client"]["reaction"]')
  px_check "$name: Chromium's reaction is one of '$reactions' (got $got: $(rq "$port" 'd["capture"]["client"]["detail"]'))" \
    grep -qw -- "$got" <<< "$reactions"
  codes=$(rq "$port" '" ".join(f["code"] for f in d["findings"])')
  if [ "$loads" = no ]; then
    px_check "$name: a rejection finding" grep -qE "CLIENT_REJECTED_CHAIN|CLIENT_LIKELY_REJECTED" <<< "$codes"
    px_check "$name: the cause $cause is in the report" grep -qw "$cause" <<< "$codes"
    if [ -n "$ver" ]; then
      code=$(rq "$port" 'd["capture"]["client"]["alert"]["code"] if d["capture"]["client"]["alert"] else ""')
      name_=$(rq "$port" 'd["capture"]["client"]["alert"]["name"] if d["capture"]["client"]["alert"] else ""')
      px_check "$name: TLS 1.2: Chromium's alert code is recorded (got $code $name_)" test -n "$code"
    fi
  else
    px_check "$name: CLIENT_ACCEPTED_CHAIN" grep -qw CLIENT_ACCEPTED_CHAIN <<< "$codes"
  fi
done <<< "$CASES"
px_done
