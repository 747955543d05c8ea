#!/usr/bin/env bash
# certskew proxy enriches each new capture in the background: curl through
# the proxy to openssl s_server (stapling), with the leaf's OCSP responder
# (`openssl ocsp -port`), CRL and caIssuers on 127.0.0.1, then poll the
# capture's report until its enrichment appears. Hostile responders (garbage,
# never answering) become error entries while curl's request completes
# promptly; a chain seen again is not enriched again.
source "$CS_SRC/tests/lib/enrich_e2e_lib.sh"
T=$PX_TMP
cd "$T" || exit 1
OCSP_PORT=$(en_free_port); HTTP_PORT=$(en_free_port)
BAD_PORT=$(en_free_port); SILENT_PORT=$(en_free_port)
en_pki "$T" || { echo "PKI setup failed" >&2; exit 1; }
en_peers "$T" || exit 1

SERVERS="good|-cert good.pem -key good.key -cert_chain inter.pem -status_file good.ocsp
revoked|-cert revoked.pem -key revoked.key -cert_chain inter.pem
garbage|-cert garbage.pem -key garbage.key -cert_chain inter.pem
silent|-cert silent.pem -key silent.key -cert_chain inter.pem"
declare -A PORT
while IFS='|' read -r name args; do
  # shellcheck disable=SC2086
  px_s_server "$T/s_$name.log" -www $args || exit 1
  PORT[$name]=$SPORT
done <<< "$SERVERS"

# A 4 s fetch timeout: the silent responder holds its fetches that long,
# and curl must not wait for it.
px_proxy main --trust "$T/root.pem" --fetch-timeout 4s || exit 1
MAIN=$PPORT
CA="$T/home/ca.pem"
API="http://127.0.0.1:$MAIN"
curl_px() { # curl_px NAME: GET / of server NAME through the proxy; sets CODE and MS
  local t0=$(date +%s%N)
  CODE=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 20 -x "$API" --proxy-cacert "$CA" \
    --cacert "$CA" "https://127.0.0.1:${PORT[$1]}/" 2>/dev/null)
  MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}
capture_id() { curl -sS --max-time 5 "$API/api/captures" | px_capture_field "${PORT[$1]}" id; }
# wait_enriched NAME OUT: polls the report (at most 15 s) until it has an
# enrichment section; the report is left in OUT.
wait_enriched() {
  local id i
  id=$(capture_id "$1")
  [ -n "$id" ] || return 1
  for i in $(seq 1 150); do
    curl -sS --max-time 5 -o "$2" "$API/api/captures/$id/report" &&
      python3 -c 'import json,sys; sys.exit(0 if "enrichment" in json.load(open(sys.argv[1])) else 1)' "$2" 2>/dev/null &&
      return 0
    sleep 0.1
  done
  return 1
}
q() { en_j "$@" 2>/dev/null; }

# ---- table: name | stapled status | fetched status | codes present | error codes
CASES="good|good|good||
revoked|None|revoked|REVOKED OCSP_NO_STAPLE|
garbage|None|None|OCSP_NO_STAPLE|ENRICH_CRL_FETCH_FAILED ENRICH_OCSP_FETCH_FAILED
silent|None|None|OCSP_NO_STAPLE|ENRICH_CRL_FETCH_FAILED ENRICH_OCSP_FETCH_FAILED"
while IFS='|' read -r name stapled fetched present errors; do
  curl_px "$name"
  px_check "$name: curl gets 200 through the proxy (got $CODE)" test "$CODE" = 200
  px_check "$name: curl not delayed by the enrichment (${MS} ms < 3000)" test "$MS" -lt 3000
  if ! wait_enriched "$name" "$T/$name.report"; then
    px_fail "$name: report enriched within 15 s"
    continue
  fi
  px_ok "$name: report enriched"
  px_check "$name: stapled $stapled" test "$(q "$T/$name.report" \
    'd["revocation"]["stapled_ocsp"] and d["revocation"]["stapled_ocsp"]["cert_status"]')" = "$stapled"
  px_check "$name: fetched $fetched" test "$(q "$T/$name.report" \
    'd["revocation"]["fetched_ocsp"] and d["revocation"]["fetched_ocsp"]["cert_status"]')" = "$fetched"
  for c in $present; do
    px_check "$name: finding $c" bash -c "en_codes '$T/$name.report' | grep -qx $c"
  done
  px_check "$name: enrichment errors [$errors]" test \
    "$(q "$T/$name.report" '" ".join(sorted(e["code"] for e in d["enrichment"]["errors"]))')" = "$errors"
done <<< "$CASES"

# The API's error list carries the failed fetches, naming the host:port.
curl -sS --max-time 5 "$API/api/captures" > "$T/list.json"
px_check "API errors list the silent responder's timeout" test "$(q "$T/list.json" \
  'any(e["code"] == "ENRICH_OCSP_FETCH_FAILED" and e["port"] == '"${PORT[silent]}"' and "timed out" in e["message"] for e in d["errors"])')" = True
px_check "API: the revoked capture's worst severity became error" test \
  "$(px_capture_field "${PORT[revoked]}" worst < "$T/list.json")" = error
px_check "API: the good capture stays without error" test \
  "$(px_capture_field "${PORT[good]}" worst < "$T/list.json")" != error

# What the enrichment found is used for the next connections too: once the
# fetch has shown the revocation, a browser that acts on it (Firefox: OCSP
# "revoked" is a hard failure) gets the 502 page naming it; curl (OpenSSL
# checks no revocation) is let through; the good upstream keeps passing.
page=$(curl -sS -w '\n%{http_code}' --max-time 20 -x "$API" --proxy-cacert "$CA" --cacert "$CA" \
  -A "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0" \
  "https://127.0.0.1:${PORT[revoked]}/" 2>/dev/null)
px_check "revoked, next connection: 502 (got $(tail -n 1 <<<"$page"))" test "$(tail -n 1 <<<"$page")" = 502
px_check "revoked, next connection: the page names REVOKED" grep -q REVOKED <<<"$page"
curl_px good
px_check "good, next connection: still 200 (got $CODE)" test "$CODE" = 200

# A chain seen again is not enriched again: the report and the responders'
# request counts do not change.
before=$(grep -c '"GET ' "$T/httpd.log")
id=$(capture_id good)
cp "$T/home/captures/$id/report.json" "$T/good.before"
for i in 1 2 3; do curl_px good; done
sleep 1
px_check "again: the report is unchanged" cmp -s "$T/home/captures/$id/report.json" "$T/good.before"
px_check "again: no new fetch" test "$(grep -c '"GET ' "$T/httpd.log")" = "$before"

# ---- --no-fetch: the probe only ----
px_proxy nofetch --trust "$T/root.pem" --no-fetch --store "$T/store2" || exit 1
API="http://127.0.0.1:$PPORT"
before=$(grep -c '"GET ' "$T/httpd.log")
curl_px good
px_check "--no-fetch: curl gets 200 (got $CODE)" test "$CODE" = 200
if wait_enriched good "$T/nofetch.report"; then
  px_check "--no-fetch: staple seen, nothing fetched" test "$(q "$T/nofetch.report" \
    '(d["revocation"]["stapled_ocsp"]["cert_status"], d["enrichment"]["fetch"], d["revocation"]["fetched_ocsp"], d["revocation"]["crl"])')" = \
    "('good', False, None, None)"
else
  px_fail "--no-fetch: report enriched within 15 s"
fi
px_check "--no-fetch: no HTTP request reached the server" test "$(grep -c '"GET ' "$T/httpd.log")" = "$before"

# ---- bad options fail fast with a reason ----
echo '{"not": "a log list"}' > "$T/bad_list.json"
"$CS_BIN" proxy --port 0 --home "$T/home" --log-list "$T/bad_list.json" > "$T/badlist.log" 2>&1
rc=$?
px_check "--log-list with a malformed list: exit 1 (got $rc) naming it" bash -c \
  "[ $rc = 1 ] && grep -q 'log-list' '$T/badlist.log'"
"$CS_BIN" proxy --fetch-timeout 0 > /dev/null 2>&1
px_check "--fetch-timeout 0: usage error" test $? = 2

px_done
