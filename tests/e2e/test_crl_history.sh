#!/usr/bin/env bash
# CRL history end to end: `certskew crl-diff` and `crl-shards` over CRLs made
# by real `openssl ca -gencrl` (tests/lib/mkcrls.sh) and over the lab's
# crl-dropped-entry and crl-shard-drift scenarios fetched with curl; the
# precert-no-final scenario through openssl ocsp and `certskew replay`.
# `openssl crl -text` is the independent reading of every serial list.
set -euo pipefail
source "$CS_SRC/tests/e2e/lib.sh"
T=$E2E_TMP
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
wait_file() { local i; for i in $(seq 1 100); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

bash "$CS_SRC/tests/lib/mkcrls.sh" "$T/c" > /dev/null
C=$T/c
# run CMD... : sets RC and OUT (stdout), ERR (stderr)
run() { set +e; "$@" > "$T/out" 2> "$T/err"; RC=$?; set -e; OUT=$(cat "$T/out"); ERR=$(cat "$T/err"); }
codes() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
print(" ".join(sorted(f["code"] for f in r["findings"])))' "$T/out"; }
serials() { # FILE -> openssl's reading, sorted
  openssl crl -inform DER -in "$1" -noout -text | awk '/Serial Number:/ {print $3}' | sort | tr '\n' ' '
}
certs=(); for c in c1 c2 c3 c4 c5 c6; do certs+=(--cert "$C/$c.pem"); done

# ---- crl-diff over openssl's CRLs ----
run "$CS_BIN" crl-diff "$C/full-1.crl" "$C/full-2.crl" "${certs[@]}" --issuer "$C/ca.pem" --json
check "crl-diff: dropped entries exit 1" test "$RC" = 1
check "crl-diff: CRL_ENTRY_DROPPED for c1 c2 c5, not c6" test "$(codes)" = "CRL_ENTRY_DROPPED CRL_ENTRY_DROPPED CRL_ENTRY_DROPPED"
removed=$(comm -23 <(serials "$C/full-1.crl" | tr ' ' '\n' | sed '/^$/d') <(serials "$C/full-2.crl" | tr ' ' '\n' | sed '/^$/d') | tr '\n' ' ')
check "crl-diff: removed serials = openssl's reading" test \
  "$(jget "$T/out" '" ".join(sorted(d["removed"]))+" "')" = "$removed"
check "crl-diff: new serial list = openssl's reading" test \
  "$(jget "$T/out" '" ".join(sorted(d["new"]["serials"]))+" "')" = "$(serials "$C/full-2.crl")"
run "$CS_BIN" crl-diff "$C/full-1.crl" "$C/full-2.crl"
check "crl-diff: without --cert only an info, exit 0" test "$RC" = 0
check "crl-diff: text lists the removals" grep -q "removed: 4" "$T/out"
run "$CS_BIN" crl-diff "$C/full-3.crl" "$C/back.crl" --json
check "crl-diff: CRL number back, exit 1" test "$RC-$(codes)" = "1-CRL_NUMBER_WENT_BACK"
run "$CS_BIN" crl-diff "$C/full-3.crl" "$C/old-tu.crl" --json
check "crl-diff: thisUpdate back, exit 1" test "$RC-$(codes)" = "1-CRL_THIS_UPDATE_WENT_BACK"
run "$CS_BIN" crl-diff "$C/full-3.crl" "$C/exp.crl" "${certs[@]}" --json
check "crl-diff: expired removals are fine, exit 0" test "$RC-$(codes)" = "0-"
run "$CS_BIN" crl-diff "$C/full-1.crl" "$C/other/full.crl"
check "crl-diff: another issuer exits 3" test "$RC" = 3
check "crl-diff: ... saying so" grep -q "different issuers" "$T/err"
run "$CS_BIN" crl-diff "$C/before/1.crl" "$C/before/2.crl"
check "crl-diff: another scope (IDP) exits 3" test "$RC" = 3
run "$CS_BIN" crl-diff "$C/full-1.crl" "$C/full-2.crl" --issuer "$C/other/ca.pem"
check "crl-diff: --issuer of another CA exits 3" test "$RC" = 3
printf 'garbage' > "$T/garbage.crl"
run "$CS_BIN" crl-diff "$C/full-1.crl" "$T/garbage.crl"
check "crl-diff: a malformed CRL exits 3 with a reason" test "$RC" = 3 -a -n "$ERR"
run "$CS_BIN" crl-diff "$C/full-1.crl" "$T/missing.crl"
check "crl-diff: a missing file exits 3" test "$RC" = 3
run "$CS_BIN" crl-diff "$C/full-1.crl" --bogus "$C/full-2.crl"
check "crl-diff: unknown option exits 2" test "$RC" = 2
run "$CS_BIN" crl-diff "$C/full-1.crl"
check "crl-diff: one CRL exits 2" test "$RC" = 2

# ---- crl-shards over openssl's shards ----
U=http://crl.test
run "$CS_BIN" crl-shards --url $U/1.crl "$C/before/1.crl" --url $U/2.crl "$C/before/2.crl" "${certs[@]}" --issuer "$C/ca.pem" --json --at 2026-11-01T00:00:00Z
check "crl-shards: consistent shards exit 0" test "$RC-$(codes)" = "0-"
run "$CS_BIN" crl-shards --url $U/1.crl "$C/after/1.crl" --url $U/2.crl "$C/after/2.crl" "${certs[@]}" --json --at 2026-11-01T00:00:00Z
check "crl-shards: c1 in the wrong shard: CRL_SHARD_MISMATCH" test "$RC-$(codes)" = "1-CRL_SHARD_MISMATCH"
run "$CS_BIN" crl-shards --url $U/2.crl "$C/before/1.crl" --url $U/1.crl "$C/before/2.crl" --json
check "crl-shards: published at another URL: CRL_SHARD_IDP_MISMATCH" test "$RC-$(codes)" = "1-CRL_SHARD_IDP_MISMATCH CRL_SHARD_IDP_MISMATCH"
run "$CS_BIN" crl-shards "$C/before/1.crl" "$C/after/2.crl" --json
check "crl-shards: one serial in two shards" test "$RC-$(codes)" = "1-CRL_SERIAL_IN_TWO_SHARDS"
run "$CS_BIN" crl-shards "$C/noidp.crl" "$C/before/2.crl" --json
check "crl-shards: a shard without IDP" test "$RC-$(codes)" = "1-CRL_SHARD_IDP_MISSING"
run "$CS_BIN" crl-shards --before "$C/before" --after "$C/after" --json
check "crl-shards: --before/--after: CRL_SHARD_DRIFT" test "$RC-$(codes)" = "1-CRL_SHARD_DRIFT"
run "$CS_BIN" crl-shards "$C/full-1.crl" "$C/other/full.crl"
check "crl-shards: two issuers exit 3" test "$RC" = 3
run "$CS_BIN" crl-shards "$C/before/1.crl" --url $U/1.crl
check "crl-shards: a dangling --url exits 2" test "$RC" = 2
run "$CS_BIN" crl-shards --before "$C/before"
check "crl-shards: --before without --after exits 2" test "$RC" = 2

# ---- the lab ----
start_lab() { # SCENARIO [DIR-SUFFIX]
  local d="$T/$1${2:-}" sc=$1
  "$CS_BIN" lab "$sc" --out "$d" --duration 120s > "$T/lab_$sc.log" 2>&1 &
  PIDS+=($!)
  wait_file "$d/lab.env" || { echo "lab did not start: $(cat "$T/lab_$sc.log")"; return 1; }
  # shellcheck disable=SC1090
  source "$d/lab.env"
  D=$d
}
leaf_serial() { openssl x509 -in "$D/chain.pem" -noout -serial | cut -d= -f2; }

start_lab crl-dropped-entry
curl -sS -o "$D/prev.crl" "http://$LAB_HTTP/crl-prev.der"
curl -sS -o "$D/cur.crl" "$LAB_CRL_URL"
S=$(leaf_serial)
check "crl-dropped-entry: openssl reads the leaf in the previous CRL" grep -q "$S" <(serials "$D/prev.crl")
check "crl-dropped-entry: openssl does not read it in the current CRL" bash -c "! grep -q '$S' <(openssl crl -inform DER -in '$D/cur.crl' -noout -text)"
run "$CS_BIN" crl-diff "$D/prev.crl" "$D/cur.crl" --cert "$D/chain.pem" --issuer "$D/intermediate.pem" --json
check "crl-dropped-entry: crl-diff names CRL_ENTRY_DROPPED only" test "$RC-$(codes)" = "1-CRL_ENTRY_DROPPED"
check "crl-dropped-entry: ... for the leaf's serial" test "$(jget "$T/out" 'd["removed"][0]')" = "$S"

start_lab crl-shard-drift
curl -sS -o "$D/s1.crl" "http://$LAB_HTTP/crl/1.crl"
curl -sS -o "$D/s2.crl" "http://$LAB_HTTP/crl/2.crl"
S=$(leaf_serial)
check "crl-shard-drift: openssl reads the leaf in shard 2" grep -q "$S" <(serials "$D/s2.crl")
check "crl-shard-drift: and not in shard 1, which its CRLDP names" bash -c "! grep -q '$S' <(openssl crl -inform DER -in '$D/s1.crl' -noout -text) && openssl x509 -in '$D/chain.pem' -noout -text | grep -q 'URI:http://$LAB_HTTP/crl/1.crl'"
run "$CS_BIN" crl-shards --url "http://$LAB_HTTP/crl/1.crl" "$D/s1.crl" --url "http://$LAB_HTTP/crl/2.crl" "$D/s2.crl" --cert "$D/chain.pem" --issuer "$D/intermediate.pem" --json
check "crl-shard-drift: crl-shards at the IDP URLs: CRL_SHARD_MISMATCH only" test "$RC-$(codes)" = "1-CRL_SHARD_MISMATCH"
run "$CS_BIN" crl-shards --before "$D/before" --after "$D/crl" --json
check "crl-shard-drift: --before/--after: CRL_SHARD_DRIFT only" test "$RC-$(codes)" = "1-CRL_SHARD_DRIFT"
run "$CS_BIN" replay "$D/chain.pem" --crl "$D/s1.crl" --trust "$D/trust.pem" --clock exact --now --json
check "crl-shard-drift: the sharded CRL (critical IDP) reads in replay --crl" python3 -c '
import json,sys; r=json.load(open(sys.argv[1])); c={f["code"] for f in r["findings"]}
sys.exit(1 if c & {"CRL_MALFORMED","REVOKED","CRL_BAD_SIGNATURE"} else 0)' "$T/out"

start_lab precert-no-final
openssl x509 -in "$D/chain.pem" -out "$D/leaf.pem"
check "precert-no-final: openssl sees the poison" grep -q "CT Precertificate Poison" <(openssl x509 -in "$D/leaf.pem" -noout -text)
openssl ocsp -issuer "$D/intermediate.pem" -cert "$D/leaf.pem" -url "$LAB_OCSP_URL" -respout "$D/o.der" > "$D/ocsp.out" 2>&1 || true
check "precert-no-final: openssl ocsp: unauthorized" grep -q "unauthorized" "$D/ocsp.out"
rcodes() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
print(" ".join(sorted(f["code"] for f in r["findings"] if f["severity"]=="error")))' "$T/out"; }
run "$CS_BIN" replay "$D/chain.pem" --ocsp "$D/o.der" --clock exact --at $((LAB_ISSUED_MS + 3600000)) --json
check "precert-no-final: an hour on, OCSP_PRECERT_UNAVAILABLE" bash -c "[[ ' $(rcodes) ' == *' OCSP_PRECERT_UNAVAILABLE '* && ' $(rcodes) ' != *' OCSP_UNAUTHORIZED '* ]]"
run "$CS_BIN" replay "$D/chain.pem" --ocsp "$D/o.der" --clock exact --at $((LAB_ISSUED_MS + 60000)) --json
check "precert-no-final: a minute on, still OCSP_NOT_PROVISIONED" bash -c "[[ ' $(rcodes) ' == *' OCSP_NOT_PROVISIONED '* && ' $(rcodes) ' != *' OCSP_PRECERT_UNAVAILABLE '* ]]"
start_lab ocsp-unauthorized
run "$CS_BIN" replay "$D/chain.pem" --ocsp "$D/ocsp.der" --clock exact --at $((LAB_ISSUED_MS + 3600000)) --json
check "ocsp-unauthorized (a final certificate): OCSP_UNAUTHORIZED, not the precert code" bash -c "[[ ' $(rcodes) ' == *' OCSP_UNAUTHORIZED '* && ' $(rcodes) ' != *' OCSP_PRECERT_UNAVAILABLE '* ]]"

# ---- the proxy's enrichment keeps fetched CRLs per URL and diffs each fetch ----
start_lab crl-dropped-entry -proxy
H=$T/home
hist="$H/crl-history/$(printf %s "$LAB_CRL_URL" | openssl dgst -sha256 -r | cut -c1-64)"
mkdir -p "$hist"; cp "$D/crl-prev.der" "$hist/cur.der" # the proxy's earlier fetch of this URL
CERTSKEW_HOME=$H "$CS_BIN" proxy --port 0 --port-file "$T/px.port" --trust "$D/trust.pem" > "$T/px.log" 2>&1 &
PIDS+=($!)
wait_file "$T/px.port" || { echo "proxy did not start: $(cat "$T/px.log")"; exit 1; }
API="http://127.0.0.1:$(cat "$T/px.port")"
curl -sS --max-time 20 -o /dev/null -x "$API" --proxy-cacert "$H/ca.pem" --cacert "$H/ca.pem" \
  "https://localhost:${LAB_TLS##*:}/" || true
report=$T/report.json
for i in $(seq 1 150); do
  id=$(curl -sS --max-time 5 "$API/api/captures" | python3 -c 'import json,sys
d=json.load(sys.stdin); c=d["captures"] if isinstance(d,dict) else d; print(c[0]["id"] if c else "")' 2>/dev/null || true)
  if [ -n "$id" ] && curl -sS --max-time 5 -o "$report" "$API/api/captures/$id/report" &&
    python3 -c 'import json,sys; sys.exit(0 if "enrichment" in json.load(open(sys.argv[1])) else 1)' "$report" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
check "proxy: the capture's report flags CRL_ENTRY_DROPPED (the current CRL does not list the leaf)" python3 -c '
import json,sys; r=json.load(open(sys.argv[1])); c={f["code"] for f in r["findings"]}
sys.exit(0 if "CRL_ENTRY_DROPPED" in c and r["revocation"]["crl"]["leaf_listed"] is False else 1)' "$report"
check "proxy: history rotated: prev.der is the earlier fetch" cmp "$hist/prev.der" "$D/crl-prev.der"
check "proxy: history rotated: cur.der is the new fetch" cmp "$hist/cur.der" "$D/crl.der"
check "proxy: history names the URL" grep -qxF "$LAB_CRL_URL" <(cat "$hist/url"; echo)
finish
