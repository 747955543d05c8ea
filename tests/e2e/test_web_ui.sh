#!/usr/bin/env bash
# The web UI in headless Chromium against a running certskew proxy:
#  - chains made here with exact dates and SCTs (tests/lib/mkchain.sh),
#    served by openssl s_server on 127.0.0.1, captured by curl through the
#    proxy; a second capture made while the page is open must appear live;
#  - the report view, the timeline's shaded windows (against the API and
#    against an independent computation), zoom to milliseconds, replay with
#    a truncated clock, a refused clock model, downloads, accessibility;
#  - Chromium itself as the proxied browser (our CA accepted by SPKI).
# The browser driver is tests/web/web_ui_test.py (Debian python3-selenium,
# chromium, chromium-driver). Screenshots: $CS_BUILD/artifacts/web/.
source "$CS_SRC/tests/lib/proxy_e2e_lib.sh"
source "$CS_SRC/tests/lib/web_e2e_lib.sh"
T=$PX_TMP

# A missing browser is a failure, not a skip: CI installs it.
web_require_browser || exit 1

ART="${CS_BUILD:-$T}/artifacts/web"
mkdir -p "$ART" && rm -f "$ART"/*.png

# ---- chains: "ok" (2 SCTs ~10 min ago, notBefore backdated 1 h) and
# "notyet" (notBefore tomorrow). ms parts of the SCTs are not on a second. ----
now=$(date +%s)
sct_s=$(( now - 600 ))
SCT0_MS=$(( sct_s * 1000 + 95 ))
SCT1_MS=$(( sct_s * 1000 + 157 ))
sct_hex=$(web_sct_hex "$SCT0_MS" "$SCT1_MS") || exit 1
bash "$CS_SRC/tests/lib/mkchain.sh" "$T/ok" LEAF_CN=localhost LEAF_SCT_HEX="$sct_hex" \
  LEAF_NB="$(px_date -4200)" LEAF_NA="$(px_date 6912000)" || exit 1
bash "$CS_SRC/tests/lib/mkchain.sh" "$T/notyet" LEAF_CN=localhost \
  LEAF_NB="$(px_date 86400)" LEAF_NA="$(px_date 6912000)" || exit 1
cat "$T/ok/root.pem" "$T/notyet/root.pem" > "$T/trust.pem"
mkdir -p "$T/www" && printf '<!doctype html><title>served</title><p id=m>served through certskew</p>\n' > "$T/www/index.html"

px_proxy web --trust "$T/trust.pem" --clock trustd --clock minute --web "$CS_SRC/web" || exit 1
PROXY=$PPORT
cd "$T/www" || exit 1
px_s_server "$T/s_ok.log" -cert "$T/ok/leaf.pem" -key "$T/ok/leaf.key" -cert_chain "$T/ok/int.pem" -WWW || exit 1
OK_PORT=$SPORT
px_s_server "$T/s_notyet.log" -cert "$T/notyet/leaf.pem" -key "$T/notyet/leaf.key" -cert_chain "$T/notyet/int.pem" -WWW || exit 1
NOTYET_PORT=$SPORT
px_s_server "$T/s_chromium.log" -cert "$T/ok/leaf.pem" -key "$T/ok/leaf.key" -cert_chain "$T/ok/int.pem" -WWW || exit 1
CHROMIUM_PORT=$SPORT
cd "$T" || exit 1

# ---- the first capture, made by curl before the page opens ----
got=$(curl -sS --max-time 20 -x "http://127.0.0.1:$PROXY" --proxy-cacert "$T/home/ca.pem" \
  --cacert "$T/home/ca.pem" -o "$T/out_ok" -w '%{http_code}' "https://localhost:$OK_PORT/index.html")
px_check "curl through the proxy to the SCT chain: 200 (got $got)" test "$got" = 200
px_check "the page served through the proxy" grep -q "served through certskew" "$T/out_ok"
px_check "a static file: index.html has a text/html type" \
  grep -qi "content-type: text/html" <(curl -sS -D - -o /dev/null "http://127.0.0.1:$PROXY/")
for f in app.js timeline.js style.css; do
  px_check "static $f is served with its type" grep -qiE "content-type: text/(javascript|css)" \
    <(curl -sS -D - -o /dev/null "http://127.0.0.1:$PROXY/$f")
done

# Fingerprints of what s_server served, by openssl (not by certskew).
cat "$T/ok/leaf.pem" "$T/ok/int.pem" > "$T/ok_served.pem"
px_fingerprints "$T/ok_served.pem" | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f' > "$T/ok_fps.txt"
# A report file with trust and revocation sections: `certskew replay --json`
# with a stapled OCSP response made by `openssl ocsp` for the ok leaf.
( cd "$T/ok" && openssl ocsp -issuer int.pem -cert leaf.pem -no_nonce -reqout req.der > /dev/null 2>&1 &&
  openssl ocsp -index ca-int/index.txt -rsigner int.pem -rkey int.key -CA int.pem -reqin req.der \
    -respout ocsp.der -ndays 7 > /dev/null 2>&1 ) || { echo "openssl ocsp failed" >&2; exit 1; }
"$CS_BIN" replay "$T/ok/chain.pem" --ocsp "$T/ok/ocsp.der" --trust "$T/ok/root.pem" --host localhost \
  --now --clock exact --clock trustd --json > "$T/file_report.json"
px_check "replay --json with --ocsp writes a report (exit $?)" grep -q '"stapled_ocsp"' "$T/file_report.json"
echo '{"not": "a report"' > "$T/bad_report.json"
CA_SPKI=$(openssl x509 -in "$T/home/ca.pem" -pubkey -noout | openssl pkey -pubin -outform der \
  | openssl dgst -sha256 -binary | base64)

# ---- history: the fresh lab scenario judged for Safari (trunc:1s) across
# its issuance second, then a restart with another --trust ----
UA_SAFARI='Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15'
safari_get() { # safari_get PROXYPORT LABPORT: the HTTP status
  curl -sS --max-time 20 -A "$UA_SAFARI" -x "http://127.0.0.1:$1" --proxy-cacert "$T/home/ca.pem" \
    --cacert "$T/home/ca.pem" -o /dev/null -w '%{http_code}' "https://localhost:$2/"
}
report_cause() { # report_cause PROXYPORT ID: "clients_at top_cause" of the stored report
  curl -sS "http://127.0.0.1:$1/api/captures/$2/report" | python3 -c \
    'import json,sys; v=json.load(sys.stdin)["verdict"]; print(v["clients_at"], v["top_cause"])'
}
fresh_ok=no
for attempt in 1 2 3; do
  # Issued at the top of a second: most of the issuance second is left.
  python3 -c 'import time; time.sleep(1.02 - time.time() % 1)'
  "$CS_BIN" lab fresh --out "$T/lab$attempt" --duration 600s > "$T/lab$attempt.log" 2>&1 &
  PX_PIDS+=($!)
  px_wait_file "$T/lab$attempt/lab.env" || exit 1
  px_proxy fresh$attempt --store "$T/store_fresh" --trust "$T/lab$attempt/trust.pem" --browser safari \
    --web "$CS_SRC/web" || exit 1
  FRESH_PID=$PPID_LAST FRESH_PROXY=$PPORT
  LAB_PORT=$(. "$T/lab$attempt/lab.env" && echo "${LAB_TLS##*:}")
  first=$(safari_get "$FRESH_PROXY" "$LAB_PORT")
  sleep 1.2
  second=$(safari_get "$FRESH_PROXY" "$LAB_PORT")
  echo "fresh attempt $attempt: first $first, then $second"
  [ "$first" = 502 ] && [ "$second" = 200 ] && { fresh_ok=yes; break; }
  kill "$FRESH_PID"; wait "$FRESH_PID" 2> /dev/null
  rm -rf "$T/store_fresh"
done
px_check "fresh: Safari's request in the issuance second gets the 502 page, the next one 200" test "$fresh_ok" = yes
FRESH_ID=$(curl -sS "http://127.0.0.1:$FRESH_PROXY/api/captures" | python3 -c \
  'import json,sys; print(json.load(sys.stdin)["captures"][0]["id"])')
before=$(report_cause "$FRESH_PROXY" "$FRESH_ID")
px_check "fresh: the report was rewritten for the passing sighting (got: $before)" test "$before" = "pass None"
kill "$FRESH_PID"; wait "$FRESH_PID" 2> /dev/null
# Restarted with a --trust without the lab's root: the next sighting re-judges.
px_proxy restarted --store "$T/store_fresh" --trust "$T/trust.pem" --browser safari --web "$CS_SRC/web" || exit 1
RESTART_PROXY=$PPORT
third=$(safari_get "$RESTART_PROXY" "$LAB_PORT")
after=$(report_cause "$RESTART_PROXY" "$FRESH_ID")
px_check "restart with another --trust: 502 (got $third) and the report names the new cause ($before -> $after)" \
  test "$third" = 502 -a "${after%% *}" = fail -a "$after" != "$before"
page=$(curl -sS -A "$UA_SAFARI" -x "http://127.0.0.1:$RESTART_PROXY" --proxy-cacert "$T/home/ca.pem" \
  --cacert "$T/home/ca.pem" "https://localhost:$LAB_PORT/")
px_check "502 page: names the profile, the root cause, the fix and links to the report page" \
  bash -c 'grep -q "Judged for <strong>safari</strong>" <<< "$1" && grep -q "Root cause" <<< "$1" &&
    grep -q "Fix:" <<< "$1" && grep -q "/#/capture/" <<< "$1"' _ "$page"
dns=$(curl -sS -x "http://127.0.0.1:$RESTART_PROXY" "http://certskew-no-such-host.invalid/")
px_check "502 page for a DNS failure: no --forward-invalid advice" \
  bash -c '! grep -q forward-invalid <<< "$1" && grep -q "does not resolve" <<< "$1"' _ "$dns"

# ---- Chromium as the proxied browser to two lab scenarios, intercepting
# (restarted proxy) and in passthrough ----
"$CS_BIN" lab expired-intermediate --out "$T/lab_exp" --duration 600s > "$T/lab_exp.log" 2>&1 &
PX_PIDS+=($!)
px_wait_file "$T/lab_exp/lab.env" || exit 1
EXP_PORT=$(. "$T/lab_exp/lab.env" && echo "${LAB_TLS##*:}")
px_proxy passweb --store "$T/store_pass" --trust "$T/trust.pem" --passthrough --web "$CS_SRC/web" || exit 1
PASS_PROXY=$PPORT
chromium_via() { # chromium_via PROXYPORT LABPORT
  local profile
  profile=$(mktemp -d "$T/chrome-lab.XXXXXX")
  timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --user-data-dir="$profile" \
    --proxy-server="http://127.0.0.1:$1" --proxy-bypass-list='<-loopback>' \
    --ignore-certificate-errors-spki-list="$CA_SPKI" \
    --virtual-time-budget=3000 --dump-dom "https://localhost:$2/" > /dev/null 2>&1
}
for lp in "$LAB_PORT" "$EXP_PORT"; do
  chromium_via "$RESTART_PROXY" "$lp"
  chromium_via "$PASS_PROXY" "$lp"
done

WEB_FRESH_PROXY=$RESTART_PROXY WEB_FRESH_ID=$FRESH_ID WEB_PASS_PROXY=$PASS_PROXY \
WEB_LAB_PORTS="$LAB_PORT $EXP_PORT" \
WEB_PROXY_PORT=$PROXY WEB_OK_PORT=$OK_PORT WEB_NOTYET_PORT=$NOTYET_PORT \
WEB_CHROMIUM_PORT=$CHROMIUM_PORT WEB_SCT0_MS=$SCT0_MS WEB_SCT1_MS=$SCT1_MS \
WEB_FILE_REPORT="$T/file_report.json" WEB_BAD_FILE="$T/bad_report.json" WEB_CA_PEM="$T/home/ca.pem" WEB_CA_SPKI="$CA_SPKI" WEB_FPS="$T/ok_fps.txt" WEB_ART="$ART" WEB_TMP="$T" \
  timeout 240 "$WEB_PYTHON" "$CS_SRC/tests/web/web_ui_test.py"
rc=$?
px_check "browser checks (tests/web/web_ui_test.py, exit $rc)" test "$rc" = 0
for shot in list report report_top report_lower report_file timeline_ms replay replay_error connections report_restart connections_chromium; do
  px_check "screenshot $shot.png saved" test -s "$ART/$shot.png"
done
px_done
