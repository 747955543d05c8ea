#!/usr/bin/env bash
# certskew repro: every examples/*.json passes; a wrong expectation fails
# with a diff naming what differs; invalid scripts are clear errors; a chain
# script over files written by `certskew lab --no-serve` works.
set -euo pipefail
source "$CS_SRC/tests/e2e/lib.sh"
T=$E2E_TMP

for ex in "$CS_SRC"/examples/*.json; do
  check "example $(basename "$ex") passes" "$CS_BIN" repro "$ex" --result "$T/r.json"
done
check "result JSON says ok" jget "$T/r.json" 'd["ok"] is True or exit(1)'

# A wrong expectation: exit 1, a DIFF row and the diff in the JSON result.
cat > "$T/wrong.json" <<'J'
{"scenario": "fresh", "issued": "2026-11-23T21:03:03.157Z", "cases": [
  {"name": "right", "clock": "trustd", "at": "issued+62ms", "expect": {"verdict": "fail", "codes": ["SCT_IN_FUTURE"]}},
  {"name": "wrong", "clock": "trustd", "at": "issued+62ms", "expect": {"verdict": "pass"}}]}
J
set +e
"$CS_BIN" repro "$T/wrong.json" --result "$T/wrong.result.json" > "$T/wrong.out" 2>&1
rc=$?
set -e
check "wrong expectation exits 1" test "$rc" = 1
check "table marks the row DIFF" grep -q "DIFF wrong" "$T/wrong.out"
check "diff says what differs" grep -q "verdict: expected pass, got fail; unexpected SCT_IN_FUTURE" "$T/wrong.out"
check "summary counts it" grep -q "2 cases, 1 as expected, 1 differ" "$T/wrong.out"
check "JSON result has the diff" jget "$T/wrong.result.json" \
  'd["scripts"][0]["cases"][1]["diff"].startswith("verdict: expected pass") or exit(1)'
check "JSON result: ok false" jget "$T/wrong.result.json" 'd["ok"] is False or exit(1)'

# Names are never cut, totals are printed, and no result file is written
# unless asked (the repository must never be rewritten by a run).
long="a case name well over thirty characters long, printed whole"
cat > "$T/long.json" <<J
{"scenario": "fresh", "issued": "2026-11-23T21:03:03.157Z", "cases": [
  {"name": "$long", "clock": "trustd", "at": "issued+62ms", "expect": {"verdict": "fail"}}]}
J
mkdir -p "$T/cwd"
(cd "$T/cwd" && "$CS_BIN" repro "$T/long.json" > "$T/long.out" 2>&1)
check "long case name printed whole" grep -qF "ok   $long" "$T/long.out"
check "totals line" grep -q "^total: 1 script, 1 case, 1 as expected, 0 differ$" "$T/long.out"
check "no result file without --result" test -z "$(ls -A "$T/cwd")"
(cd "$T/cwd" && "$CS_BIN" repro "$T/long.json" "$T/wrong.json" > "$T/two.out" 2>&1) || true
check "totals over two scripts" grep -q "^total: 2 scripts, 3 cases, 2 as expected, 1 differ$" "$T/two.out"

# Invalid scripts: exit 3 with the JSON path.
bad() { # NAME JSON EXPECTED-MESSAGE
  printf '%s' "$2" > "$T/bad.json"
  set +e; "$CS_BIN" repro "$T/bad.json" --no-result > "$T/bad.out" 2>&1; local rc=$?; set -e
  check "invalid: $1 (exit 3)" test "$rc" = 3
  check "invalid: $1 (message)" grep -qF "$3" "$T/bad.out"
}
bad "not JSON" '{"scenario":' "not valid JSON"
bad "unknown scenario" '{"scenario":"nope","cases":[]}' 'no scenario "nope"'
bad "typo in a key" '{"scenario":"fresh","cases":[{"clock":"exact","at":"issued","expect":{"verdikt":"pass"}}]}' 'cases[0].expect: unknown key "verdikt"'
bad "bad clock" '{"scenario":"fresh","cases":[{"clock":"trunc:0s","at":"issued","expect":{"verdict":"pass"}}]}' 'cases[0]: clock "trunc:0s"'
bad "bad time" '{"scenario":"fresh","cases":[{"clock":"exact","at":"yesterday","expect":{"verdict":"pass"}}]}' 'cases[0].at'
bad "no cases" '{"scenario":"fresh","cases":[]}' '$.cases: must be a non-empty array'
bad "both modes" '{"scenario":"fresh","chain":"x.pem","cases":[]}' 'exactly one of'
bad "codes on a pass" '{"scenario":"fresh","cases":[{"clock":"exact","at":"issued","expect":{"verdict":"pass","codes":["X"]}}]}' 'a passing case has no error codes'
bad "missing chain file" '{"chain":"missing.pem","cases":[{"clock":"exact","at":"issued","expect":{"verdict":"pass"}}]}' 'missing.pem'
set +e; "$CS_BIN" repro --bogus > /dev/null 2>&1; rc=$?; set -e
check "unknown option exits 2" test "$rc" = 2

# Chain mode over the lab's files (relative to the script's directory).
"$CS_BIN" lab sct-future --no-serve --out "$T/m" > /dev/null
cat > "$T/m/chain-script.json" <<'J'
{"chain": "chain.pem", "trust": ["trust.pem"], "log_list": "log_list.json", "ocsp": "ocsp.der",
 "crl": "crl.der", "host": "localhost", "cases": [
  {"clock": "exact", "at": "issued", "expect": {"verdict": "pass"}},
  {"clock": "exact", "at": "issued-1ms", "expect": {"verdict": "fail", "codes": ["SCT_IN_FUTURE"]}},
  {"clock": "exact", "at": "issued-5m", "expect": {"verdict": "fail", "codes": ["SCT_IN_FUTURE"]}},
  {"clock": "exact", "at": "issued-1m", "material": {"log_list": false, "crl": false, "ocsp": "none"},
   "expect": {"verdict": "fail", "codes": ["SCT_IN_FUTURE"]}}]}
J
# issued = the latest SCT = log A's, 5 min ahead: log B's SCT is 5 min earlier.
check "chain script over lab files" "$CS_BIN" repro "$T/m/chain-script.json" --no-result
finish
