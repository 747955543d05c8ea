#!/usr/bin/env bash
# certskew lab end to end: every scenario served on 127.0.0.1 and checked by
# real clients — openssl s_client (-ct, -status), openssl ocsp, openssl
# verify -crl_check, curl through certskew proxy — and certskew's own report
# (diagnose for what a TLS capture shows, replay over what the clients
# fetched) naming the scenario's cause. Also checks the lab's OCSP responses
# and CRLs against openssl (signature, status, times).
set -euo pipefail
source "$CS_SRC/tests/e2e/lib.sh"
T=$E2E_TMP
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT

wait_file() { local i; for i in $(seq 1 100); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

# The proxy, trusting nothing but what each check gives curl: it judges the
# upstream against the lab root (restarted per trust file below).
start_proxy() { # NAME TRUST [proxy options]
  local name=$1 trust=$2; shift 2
  CERTSKEW_HOME="$T/home_$name" "$CS_BIN" proxy --port 0 --port-file "$T/px_$name.port" --trust "$trust" \
    "$@" > "$T/px_$name.log" 2>&1 &
  PIDS+=($!)
  wait_file "$T/px_$name.port" || { echo "proxy did not start: $(cat "$T/px_$name.log")"; return 1; }
  PXPORT=$(cat "$T/px_$name.port")
}

start_lab() { # SCENARIO [lab options]
  local d="$T/$1" sc=$1; shift
  "$CS_BIN" lab "$sc" --out "$d" --duration 120s "$@" > "$T/lab_$sc.log" 2>&1 &
  PIDS+=($!)
  wait_file "$d/lab.env" || { echo "lab did not start: $(cat "$T/lab_$sc.log")"; return 1; }
  # shellcheck disable=SC1090
  source "$d/lab.env"
  D=$d
}

s_client() { # TRUST [extra args]
  local trust=$1; shift
  openssl s_client -connect "$LAB_TLS" -servername localhost -verify_hostname localhost \
    -CAfile "$trust" -showcerts "$@" < /dev/null 2>&1 || true
}

# What the clients fetch from the lab's HTTP server.
fetch_all() {
  s_client "$D/trust.pem" > "$D/sc.out"
  awk '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/' "$D/sc.out" > "$D/served.pem"
  openssl x509 -in "$D/served.pem" -out "$D/leaf.pem"
  openssl ocsp -issuer "$D/intermediate.pem" -cert "$D/leaf.pem" -url "$LAB_OCSP_URL" \
    -CAfile "$D/trust.pem" -VAfile "$D/intermediate.pem" -respout "$D/fetched_ocsp.der" \
    > "$D/ocsp.out" 2>&1 || true
  curl -sS --max-time 10 -o "$D/fetched_crl.der" "$LAB_CRL_URL"
  openssl crl -inform DER -in "$D/fetched_crl.der" -out "$D/fetched_crl.pem"
}

# certskew's report over what the clients saw, at the real clock.
replay_codes() { # [extra args]
  "$CS_BIN" replay "$D/served.pem" --trust "$D/trust.pem" --log-list "$D/log_list.json" \
    --crl "$D/fetched_crl.der" --host localhost --now --clock exact --json "$@" > "$D/report.json" || true
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
print(" ".join(sorted({f["code"] for f in r["findings"] if f["severity"]=="error"})))' "$D/report.json"
}
# certskew's own capture of the scenario: diagnose with its stapling probe
# and its OCSP/CRL/AIA fetches from the lab's URLs, the lab's logs and trust.
diagnose_codes() {
  "$CS_BIN" diagnose "$LAB_TLS" --trust "$D/trust.pem" --log-list "$D/log_list.json" \
    --host localhost --no-store --json > "$D/diag_full.json" 2>"$D/diag_full.err" || true
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
print(" ".join(sorted({f["code"] for f in r["findings"] if f["severity"]=="error"})))' "$D/diag_full.json"
}
has_codes() { # EXPECTED... (each must be in $CODES)
  local c; for c in "$@"; do [[ " $CODES " == *" $c "* ]] || { echo "missing $c in: $CODES"; return 1; }; done
}

openssl_verify_crl() { # -> openssl verify output with the fetched CRL
  openssl verify -crl_check -CRLfile "$D/fetched_crl.pem" -CAfile "$D/trust.pem" \
    -untrusted "$D/intermediate.pem" "$D/leaf.pem" 2>&1 || true
}

# ---- fresh: everything verifies; the lab does not staple ----
# openssl judges SCTs at its session time, whole seconds (the truncated-clock
# bug itself): within the issuance second it calls them future. Issuing 2 s
# ago makes this check deterministic; sct-future below shows the failure.
start_lab fresh --issued-ago 2s
fetch_all
check "fresh: s_client verifies chain and name" grep -q "Verify return code: 0 (ok)" "$D/sc.out"
s_client "$D/trust.pem" -ct -ctlogfile "$D/ct_logs.cnf" -status > "$D/ct.out"
check "fresh: s_client -ct: 2 SCTs, both valid" test "$(grep -c "SCT validation status: valid" "$D/ct.out")" = 2
check "fresh: s_client -status: no staple (mbedTLS cannot staple)" grep -q "OCSP response: no response sent" "$D/ct.out"
check "fresh: openssl ocsp verifies the lab response" grep -q "Response verify OK" "$D/ocsp.out"
check "fresh: openssl ocsp: good" grep -q "leaf.pem: good" "$D/ocsp.out"
check "fresh: openssl crl verifies the lab CRL" openssl crl -in "$D/fetched_crl.pem" -CAfile "$D/intermediate.pem" -noout
check "fresh: openssl verify -crl_check: OK" grep -q ": OK" <(openssl_verify_crl)
CODES=$(replay_codes --ocsp "$D/fetched_ocsp.der")
check "fresh: certskew: no error at an exact clock now" test -z "$CODES"
check "fresh: AIA caIssuers serves the intermediate" cmp <(curl -sS "$LAB_CA_ISSUERS_URL") "$D/intermediate.der"
start_proxy lab "$D/trust.pem"
check "fresh: curl through the proxy gets the page" grep -q "certskew lab: fresh" \
  <(curl -sS --max-time 20 -x "http://127.0.0.1:$PXPORT" --cacert "$T/home_lab/ca.pem" "https://$LAB_TLS/")
# A -90s clock model is a report row, not a reason to block: the browser's
# profile (here Chrome by its User-Agent, and curl as openssl) decides.
start_proxy slow "$D/trust.pem" --clock -90s
check "fresh: proxy with a -90s model: Chrome gets 200" test "$(curl -sS -o /dev/null -w '%{http_code}' \
  --max-time 20 -x "http://127.0.0.1:$PXPORT" --cacert "$T/home_slow/ca.pem" \
  -A "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36" \
  "https://$LAB_TLS/")" = 200
check "fresh: diagnose: valid" "$CS_BIN" diagnose "$LAB_TLS" --trust "$D/trust.pem" --no-store
set +e; "$CS_BIN" diagnose "$LAB_TLS" --trust "$D/trust.pem" --no-store --clock trustd --json > "$D/diag.json"; set -e
check "fresh: diagnose report replays trustd" grep -q '"trustd"' "$D/diag.json"

# ---- time scenarios: s_client, curl through the proxy, diagnose ----
CHROME_UA="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
proxy_page() { # NAME [curl options] -> the proxy's answer for the lab server (502 page on failure)
  local name=$1; shift
  curl -sS --max-time 20 -x "http://127.0.0.1:$PXPORT" --cacert "$T/home_$name/ca.pem" "$@" "https://$LAB_TLS/" 2>&1 || true
}
proxy_status() { # NAME [curl options] -> the HTTP status through the proxy
  local name=$1; shift
  curl -sS -o /dev/null -w '%{http_code}' --max-time 20 -x "http://127.0.0.1:$PXPORT" \
    --cacert "$T/home_$name/ca.pem" "$@" "https://$LAB_TLS/" 2>/dev/null || true
}
start_lab future-notbefore
fetch_all
check "future-notbefore: s_client: not yet valid" grep -q "certificate is not yet valid" "$D/sc.out"
start_proxy fnb "$D/trust.pem"
check "future-notbefore: curl via proxy: page names NOT_YET_VALID" grep -q "NOT_YET_VALID" <(proxy_page fnb)
check "future-notbefore: diagnose names NOT_YET_VALID" grep -q "NOT_YET_VALID" \
  <("$CS_BIN" diagnose "$LAB_TLS" --trust "$D/trust.pem" --no-store || true)
CODES=$(replay_codes --ocsp "$D/fetched_ocsp.der"); check "future-notbefore: report" has_codes NOT_YET_VALID
CODES=$(diagnose_codes); check "future-notbefore: diagnose (own probe and fetches) names it" has_codes NOT_YET_VALID

start_lab sct-future --issued-ago 2s
fetch_all
check "sct-future: s_client verifies the chain" grep -q "Verify return code: 0 (ok)" "$D/sc.out"
s_client "$D/trust.pem" -ct -ctlogfile "$D/ct_logs.cnf" > "$D/ct.out"
check "sct-future: s_client -ct: log A's SCT is a future timestamp" grep -q "sct future timestamp" "$D/ct.out"
check "sct-future: s_client -ct: one valid, one invalid" test \
  "$(grep -c 'SCT validation status: valid' "$D/ct.out") $(grep -c 'SCT validation status: invalid' "$D/ct.out")" = "1 1"
start_proxy sctf "$D/trust.pem"
check "sct-future: Chrome via proxy: 502 page names the log clock and SCT_IN_FUTURE" \
  grep -q "SCT_LOG_CLOCK_AHEAD -&gt; SCT_IN_FUTURE" <(proxy_page sctf -A "$CHROME_UA")
check "sct-future: curl (openssl: no CT) via proxy: 200" test "$(proxy_status sctf)" = 200
check "sct-future: diagnose names SCT_IN_FUTURE" grep -q "SCT_IN_FUTURE" \
  <("$CS_BIN" diagnose "$LAB_TLS" --trust "$D/trust.pem" --no-store || true)
CODES=$(replay_codes --ocsp "$D/fetched_ocsp.der"); check "sct-future: report" has_codes SCT_IN_FUTURE
CODES=$(diagnose_codes); check "sct-future: diagnose (own probe and fetches) names it" has_codes SCT_IN_FUTURE

start_lab expired-intermediate
fetch_all
check "expired-intermediate: s_client: expired" grep -q "certificate has expired" "$D/sc.out"
start_proxy exi "$D/trust.pem"
check "expired-intermediate: curl via proxy: page names EXPIRED" grep -q "EXPIRED" <(proxy_page exi)
CODES=$(replay_codes); check "expired-intermediate: report" has_codes EXPIRED INTERMEDIATE_EXPIRED
CODES=$(diagnose_codes); check "expired-intermediate: diagnose (own probe and fetches) names it" has_codes EXPIRED INTERMEDIATE_EXPIRED

start_lab expired-root-cross-sign --issued-ago 5s # past the first second: no SCT in the future for whole-second clocks
s_client "$D/legacy-trust.pem" > "$D/sc.out"
awk '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/' "$D/sc.out" > "$D/served.pem"
check "expired-root-cross-sign: 3 certificates served" test "$(grep -c 'BEGIN CERT' "$D/served.pem")" = 3
check "expired-root-cross-sign: old client (legacy root): expired" grep -q "certificate has expired" "$D/sc.out"
curl -sS -o "$D/fetched_crl.der" "$LAB_CRL_URL"
CODES=$("$CS_BIN" replay "$D/served.pem" --trust "$D/legacy-trust.pem" --now --clock exact --json \
  | python3 -c 'import json,sys; print(" ".join(sorted({f["code"] for f in json.load(sys.stdin)["findings"] if f["severity"]=="error"})))' || true)
check "expired-root-cross-sign: report" has_codes EXPIRED INTERMEDIATE_EXPIRED
# A 2021 store (current and legacy root): every current client takes the
# alternative path; only OpenSSL 1.0.2 follows the served cross-sign.
cat "$D/trust.pem" "$D/legacy-trust.pem" > "$D/both.pem"
start_proxy xs "$D/both.pem"
check "expired-root-cross-sign: curl via proxy: 200" test "$(proxy_status xs)" = 200
check "expired-root-cross-sign: Chrome via proxy: 200" test "$(proxy_status xs -A "$CHROME_UA")" = 200
"$CS_BIN" replay "$D/served.pem" --trust "$D/both.pem" --now --json > "$D/xs.json" || true
check "expired-root-cross-sign: only openssl-1.0.2 fails, with CROSS_SIGN_EXPIRED" test "$(python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))
print(" ".join(c["name"]+"="+(c["root_cause"] or "pass") for c in d["clients"]))' "$D/xs.json")" = \
  "chrome=pass safari=pass firefox=pass openssl=pass openssl-1.0.2=CROSS_SIGN_EXPIRED"

# ---- CT: precertificate mismatch ----
start_lab precert-mismatch
fetch_all
s_client "$D/trust.pem" -ct -ctlogfile "$D/ct_logs.cnf" > "$D/ct.out"
check "precert-mismatch: s_client -ct: both SCTs invalid" test "$(grep -c 'SCT validation status: invalid' "$D/ct.out")" = 2
CODES=$(replay_codes --ocsp "$D/fetched_ocsp.der"); check "precert-mismatch: report" has_codes SCT_SIGNATURE_INVALID_ALL
CODES=$(diagnose_codes); check "precert-mismatch: diagnose (own probe and fetches) names it" has_codes SCT_SIGNATURE_INVALID_ALL

# ---- chain: missing intermediate, fetched from AIA ----
start_lab missing-intermediate
fetch_all
check "missing-intermediate: s_client: no local issuer" grep -q "unable to get local issuer certificate" "$D/sc.out"
CODES=$(replay_codes); check "missing-intermediate: report" has_codes MISSING_INTERMEDIATE
check "missing-intermediate: the finding names the caIssuers URL" grep -q "caIssuers URL is $LAB_CA_ISSUERS_URL" "$D/report.json"
CODES=$(diagnose_codes); check "missing-intermediate: diagnose (own probe and fetches) names it" has_codes MISSING_INTERMEDIATE
check "missing-intermediate: report names the AIA URL" grep -q "$LAB_CA_ISSUERS_URL" "$D/report.json"
curl -sS -o "$D/aia.der" "$LAB_CA_ISSUERS_URL"
check "missing-intermediate: with the AIA certificate openssl verifies" grep -q ": OK" \
  <(openssl verify -CAfile "$D/trust.pem" -untrusted <(openssl x509 -inform DER -in "$D/aia.der") "$D/leaf.pem" 2>&1)

# ---- revocation ----
start_lab ocsp-unauthorized
fetch_all
check "ocsp-unauthorized: openssl ocsp: unauthorized" grep -q "Responder Error: unauthorized (6)" "$D/ocsp.out"
CODES=$(replay_codes --ocsp "$D/fetched_ocsp.der"); check "ocsp-unauthorized: report" has_codes OCSP_NOT_PROVISIONED
CODES=$(diagnose_codes); check "ocsp-unauthorized: diagnose (own probe and fetches) names it" has_codes OCSP_NOT_PROVISIONED
start_proxy ou "$D/trust.pem"
check "ocsp-unauthorized: curl via proxy: 200 (every client soft-fails OCSP)" test "$(proxy_status ou)" = 200
check "ocsp-unauthorized: Chrome via proxy: 200" test "$(proxy_status ou -A "$CHROME_UA")" = 200

start_lab ocsp-stale
fetch_all
check "ocsp-stale: openssl ocsp: signature OK" grep -q "Response verify OK" "$D/ocsp.out"
check "ocsp-stale: openssl ocsp: status times invalid" grep -q "Status times invalid" "$D/ocsp.out"
CODES=$(replay_codes --ocsp "$D/fetched_ocsp.der"); check "ocsp-stale: report" has_codes OCSP_STALE
CODES=$(diagnose_codes); check "ocsp-stale: diagnose (own probe and fetches) names it" has_codes OCSP_STALE

start_lab crl-stale
fetch_all
check "crl-stale: openssl verify -crl_check: CRL has expired" grep -q "CRL has expired" <(openssl_verify_crl)
CODES=$(replay_codes --ocsp "$D/fetched_ocsp.der"); check "crl-stale: report" has_codes CRL_STALE
CODES=$(diagnose_codes); check "crl-stale: diagnose (own probe and fetches) names it" has_codes CRL_STALE

start_lab revoked
fetch_all
check "revoked: openssl ocsp: revoked" grep -q "leaf.pem: revoked" "$D/ocsp.out"
check "revoked: openssl ocsp: reason keyCompromise" grep -q "Reason: keyCompromise" "$D/ocsp.out"
check "revoked: openssl verify -crl_check: revoked" grep -q "certificate revoked" <(openssl_verify_crl)
CODES=$(replay_codes --ocsp "$D/fetched_ocsp.der"); check "revoked: report" has_codes REVOKED
CODES=$(diagnose_codes); check "revoked: diagnose (own probe and fetches) names it" has_codes REVOKED

# ---- bad usage ----
set +e; "$CS_BIN" lab nope > /dev/null 2>&1; rc=$?; set -e
check "unknown scenario exits 2" test "$rc" = 2
set +e; "$CS_BIN" lab fresh --listen 0.0.0.0:0 > /dev/null 2>&1; rc=$?; set -e
check "a non-loopback address is refused" test "$rc" = 2
check "--list names every scenario" test "$("$CS_BIN" lab --list | wc -l)" = 14
finish
