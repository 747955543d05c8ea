#!/usr/bin/env bash
# certskew diagnose enriches what it captures: against openssl s_server
# (stapling a response made by `openssl ocsp`), an `openssl ocsp -port`
# responder, python3's http.server (CRL, caIssuers) and two hostile peers,
# all on 127.0.0.1. The report's revocation section and findings must show
# the staple, the fetched answer (good / revoked), the CRL, the fetched
# intermediate; --no-fetch must fetch nothing; failures are error entries.
source "$CS_SRC/tests/lib/enrich_e2e_lib.sh"
T=$PX_TMP
cd "$T" || exit 1
OCSP_PORT=$(en_free_port); HTTP_PORT=$(en_free_port)
BAD_PORT=$(en_free_port); SILENT_PORT=$(en_free_port)
en_pki "$T" || { echo "PKI setup failed" >&2; exit 1; }
en_peers "$T" || exit 1

# name | s_server certificate/chain/staple arguments
SERVERS="good|-cert good.pem -key good.key -cert_chain inter.pem -status_file good.ocsp
revoked|-cert revoked.pem -key revoked.key -cert_chain inter.pem
noint|-cert good.pem -key good.key
garbage|-cert garbage.pem -key garbage.key -cert_chain inter.pem
silent|-cert silent.pem -key silent.key -cert_chain inter.pem
tls13|-cert good.pem -key good.key -cert_chain inter.pem -tls1_3"
declare -A PORT
while IFS='|' read -r name args; do
  # -www: s_server answers HTTP itself and never reads stdin.
  # shellcheck disable=SC2086
  px_s_server "$T/s_$name.log" -www $args || exit 1
  PORT[$name]=$SPORT
done <<< "$SERVERS"

diag() { # diag NAME OUT ARGS...: runs diagnose --json, sets RC and SECS
  local name=$1 out=$2; shift 2
  local t0=$(date +%s%N)
  "$CS_BIN" diagnose "127.0.0.1:${PORT[$name]}" --trust "$T/root.pem" --no-store --json \
    --timeout 2s "$@" > "$out" 2> "$out.err"
  RC=$?
  SECS=$(( ($(date +%s%N) - t0) / 1000000 ))
}
q() { en_j "$@" 2>/dev/null; }
has_code() { en_codes "$1" | grep -qx "$2"; }
httpd_requests() { grep -c '"GET ' "$T/httpd.log"; }

# ---- table: name | exit | stapled status | fetched status | CRL lists leaf | codes present | codes absent
CASES="good|0|good|good|False|OCSP_PRODUCED_IN_FUTURE|REVOKED OCSP_NO_STAPLE MISSING_INTERMEDIATE
revoked|1|None|revoked|True|REVOKED OCSP_NO_STAPLE|MISSING_INTERMEDIATE
noint|1|None|good|False|MISSING_INTERMEDIATE OCSP_NO_STAPLE|REVOKED"
while IFS='|' read -r name want stapled fetched listed present absent; do
  diag "$name" "$T/$name.json"
  px_check "$name: exit $want (got $RC)" test "$RC" = "$want"
  px_check "$name: stapled cert_status $stapled" test "$(q "$T/$name.json" \
    'd["revocation"]["stapled_ocsp"] and d["revocation"]["stapled_ocsp"]["cert_status"]')" = \
    "$( [ "$stapled" = None ] && echo None || echo "$stapled")"
  px_check "$name: fetched cert_status $fetched" test \
    "$(q "$T/$name.json" 'd["revocation"]["fetched_ocsp"]["cert_status"]')" = "$fetched"
  px_check "$name: fetched response signed by the issuer" test \
    "$(q "$T/$name.json" 'd["revocation"]["fetched_ocsp"]["signature_ok"]')" = True
  px_check "$name: CRL leaf_listed $listed" test \
    "$(q "$T/$name.json" 'd["revocation"]["crl"]["leaf_listed"]')" = "$listed"
  px_check "$name: probe ok, observable" test \
    "$(q "$T/$name.json" '(d["enrichment"]["probe"]["state"], d["revocation"]["stapling_observable"])')" = "('ok', True)"
  px_check "$name: no enrichment errors" test "$(q "$T/$name.json" 'd["enrichment"]["errors"]')" = "[]"
  for c in $present; do px_check "$name: finding $c" has_code "$T/$name.json" "$c"; done
  for c in $absent; do px_check "$name: no finding $c" bash -c "! en_codes '$T/$name.json' | grep -qx $c"; done
done <<< "$CASES"

# The staple in the report is the one s_server sent: its producedAt as openssl reads it.
produced=$(openssl ocsp -respin "$T/good.ocsp" -resp_text -noverify 2>/dev/null |
  sed -n 's/^ *Produced At: //p' | head -1)
px_check "staple's producedAt equals openssl's reading ($produced)" test \
  "$(q "$T/good.json" 'd["revocation"]["stapled_ocsp"]["produced_at"]["rfc3339"]')" = \
  "$(date -u -d "$produced" +%Y-%m-%dT%H:%M:%S.000Z)"
px_check "revoked: fetched answer's revocation reason is keyCompromise (1)" test \
  "$(q "$T/revoked.json" 'd["revocation"]["fetched_ocsp"]["revocation_reason"]')" = 1
px_check "noint: caIssuers fetched the intermediate" test \
  "$(q "$T/noint.json" '(d["enrichment"]["aia"]["state"], d["enrichment"]["aia"]["issuer"])')" = \
  "('ok', 'CN=certskew test inter')"
px_check "good: caIssuers not fetched (issuer served)" test \
  "$(q "$T/good.json" 'd["enrichment"]["aia"]["state"]')" = skipped

# ---- hostile responders: error entries, never a failed diagnosis ----
diag garbage "$T/garbage.json"
px_check "garbage: still judged (exit 0, got $RC)" test "$RC" = 0
px_check "garbage: OCSP and CRL failures are error entries" test \
  "$(q "$T/garbage.json" 'sorted(e["code"] for e in d["enrichment"]["errors"])')" = \
  "['ENRICH_CRL_FETCH_FAILED', 'ENRICH_OCSP_FETCH_FAILED']"
px_check "garbage: no fetched response, no CRL in the revocation section" test \
  "$(q "$T/garbage.json" '(d["revocation"]["fetched_ocsp"], d["revocation"]["crl"])')" = "(None, None)"
diag silent "$T/silent.json"
px_check "silent: exit 0 (got $RC) within the 2 s timeout plus slack (${SECS} ms)" \
  test "$RC" = 0 -a "$SECS" -lt 6000
px_check "silent: the OCSP fetch timed out" bash -c \
  "en_j '$T/silent.json' 'd[\"enrichment\"][\"ocsp\"][\"detail\"]' | grep -q 'timed out'"

# ---- TLS 1.3 only: mbedTLS 2.28 cannot negotiate it; the chain comes from the
# TLS 1.3 capture probe and is judged like any other ----
diag tls13 "$T/tls13.json"
px_check "tls13: judged, exit 0 (got $RC: $(head -c 200 "$T/tls13.json.err"))" test "$RC" = 0
px_check "tls13: the served chain (leaf and intermediate) is in the report" test \
  "$(q "$T/tls13.json" 'd["chain"]["count"]')" = 2

# ---- --no-fetch: the probe only ----
before=$(httpd_requests)
diag good "$T/nofetch.json" --no-fetch
px_check "--no-fetch: exit 0 (got $RC)" test "$RC" = 0
px_check "--no-fetch: staple still seen" test \
  "$(q "$T/nofetch.json" 'd["revocation"]["stapled_ocsp"]["cert_status"]')" = good
px_check "--no-fetch: nothing fetched" test \
  "$(q "$T/nofetch.json" '(d["enrichment"]["fetch"], d["enrichment"]["ocsp"]["state"], d["enrichment"]["crl"]["state"], d["revocation"]["fetched_ocsp"], d["revocation"]["crl"])')" = \
  "(False, 'not_run', 'not_run', None, None)"
diag noint "$T/nofetch2.json" --no-fetch
px_check "--no-fetch: no HTTP request reached the server" test "$(httpd_requests)" = "$before"
diag silent "$T/nofetch3.json" --no-fetch --timeout 5s
px_check "--no-fetch: a silent responder costs nothing (${SECS} ms)" test "$SECS" -lt 3000

# ---- shared analysis options and the text output ----
"$CS_BIN" diagnose "127.0.0.1:${PORT[revoked]}" --trust "$T/root.pem" --no-store > "$T/text.out" 2>&1
RC=$?
px_check "text: exit 1 for a revoked leaf (got $RC)" test "$RC" = 1
px_check "text: names REVOKED and the enrichment steps" bash -c \
  "grep -qE '^  firefox +FAIL +REVOKED' '$T/text.out' && grep -q 'ocsp   ok http://127.0.0.1:$OCSP_PORT/' '$T/text.out'"
diag good "$T/host.json" --host other.test
px_check "--host: the name is checked (HOSTNAME_MISMATCH, exit $RC)" \
  bash -c "[ $RC = 1 ] && en_codes '$T/host.json' | grep -qx HOSTNAME_MISMATCH"
diag good "$T/clocks.json" --clock day --clock -2h
px_check "--clock: exact first, then each model" test \
  "$(q "$T/clocks.json" '[c["clock"] for c in d["clocks"]]')" = "['exact', 'day', '-2h']"
diag good "$T/notrust.json" --no-trust
px_check "--no-trust: no trust section, exit 0 (got $RC)" test \
  "$RC:$(q "$T/notrust.json" 'd["trust"]')" = "0:None"
"$CS_BIN" diagnose "127.0.0.1:${PORT[good]}" --no-such-option > /dev/null 2>&1
px_check "unknown option: exit 2" test $? = 2
"$CS_BIN" diagnose "127.0.0.1:${PORT[good]}" --log-list "$T/missing.json" > /dev/null 2>&1
px_check "unreadable --log-list: exit 3" test $? = 3

# ---- the stored capture holds the enriched report ----
"$CS_BIN" diagnose "127.0.0.1:${PORT[good]}" --trust "$T/root.pem" --store "$T/store" > /dev/null 2>&1
px_check "--store: report.json carries the enrichment" bash -c \
  "python3 -c 'import json,glob,sys; d=json.load(open(glob.glob(\"$T/store/*/report.json\")[0])); sys.exit(0 if d[\"enrichment\"][\"probe\"][\"state\"]==\"ok\" and d[\"revocation\"][\"stapled_ocsp\"] else 1)'"

px_done
