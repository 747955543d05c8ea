#!/usr/bin/env bash
# `certskew replay` as a user runs it: exit codes, human output, the JSON
# report read back by an independent parser, and bad input of every kind.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$E2E_TMP"

# A leaf with two SCTs (.095 and .157), notBefore backdated 1 h.
hex=$(python3 - <<'PY'
import struct
def sct(ts, idb):
    sig = bytes([0x30,6,2,1,1,2,1,1])
    body = b'\x00' + bytes([idb])*32 + struct.pack('>Q', ts) + b'\x00\x00' + b'\x04\x03' + struct.pack('>H', len(sig)) + sig
    return struct.pack('>H', len(body)) + body
lst = sct(1795467783095, 0x11) + sct(1795467783157, 0x22)
tls = struct.pack('>H', len(lst)) + lst
print((bytes([4, len(tls)]) + tls).hex())
PY
)
bash "$CS_SRC/tests/lib/mkchain.sh" c LEAF_SCT_HEX="$hex" LEAF_NB=20261123200303Z LEAF_NA=20270221200302Z

check "help lists replay" bash -c '"$CS_BIN" --help | grep -q "replay"'
check "replay --help" bash -c '"$CS_BIN" replay --help | grep -q -- "--sweep FROM..TO"'
check "no args is a usage error (2)" bash -c '"$CS_BIN" replay; [ $? -eq 2 ]'
check "unknown option (2)" bash -c '"$CS_BIN" replay c/chain.pem --bogus; [ $? -eq 2 ]'
check "bad clock model (2) names it" bash -c 'out=$("$CS_BIN" replay c/chain.pem --clock trunc:0s 2>&1); [ $? -eq 2 ] && grep -q "trunc:0s" <<<"$out"'
check "bad --at (2)" bash -c '"$CS_BIN" replay c/chain.pem --at 2026-02-30T00:00:00Z; [ $? -eq 2 ]'

# 62 ms after the later SCT: exact passes, trustd fails -> exit 1.
check "trustd fails 62 ms after issuance (exit 1)" bash -c '
  "$CS_BIN" replay c/chain.pem --at 2026-11-23T21:03:03.219Z --clock exact --clock trustd > out.txt; rc=$?
  [ $rc -eq 1 ] && grep -q "SCT_IN_FUTURE" out.txt'
check "one second later everyone passes (exit 0)" bash -c '
  "$CS_BIN" replay c/chain.pem --trust c/root.pem --host leaf.test --at 2026-11-23T21:03:04.000Z --clock exact --clock trustd'
check "epoch ms --at works" bash -c '"$CS_BIN" replay c/chain.pem --at 1795467783219 --clock trustd; [ $? -eq 1 ]'

"$CS_BIN" replay c/chain.pem --trust c/root.pem --at 2026-11-23T21:03:03.219Z --clock exact --clock trustd \
  --clock skew:-2s,trunc:1s --sweep 2026-11-23T21:03:03Z..2026-11-23T21:03:07Z --json > r.json || true
check "json: schema and version" bash -c '[ "$(jget r.json "d[\"schema_version\"]")" = 2 ]'
check "json: top finding is SCT_IN_FUTURE error" bash -c \
  '[ "$(jget r.json "(d[\"findings\"][0][\"code\"], d[\"findings\"][0][\"severity\"])")" = "('"'"'SCT_IN_FUTURE'"'"', '"'"'error'"'"')" ]'
check "json: trustd passes from 21:03:04.000" bash -c \
  '[ "$(jget r.json "d[\"clocks\"][1][\"passes_for_true_times\"][\"from\"][\"rfc3339\"]")" = 2026-11-23T21:03:04.000Z ]'
check "json: skew:-2s,trunc:1s passes from 21:03:06.000" bash -c \
  '[ "$(jget r.json "d[\"clocks\"][2][\"passes_for_true_times\"][\"from\"][\"rfc3339\"]")" = 2026-11-23T21:03:06.000Z ]'
check "json: trustd verdict fail, exact pass" bash -c \
  '[ "$(jget r.json "[c[\"verdict_at\"] for c in d[\"clocks\"]]")" = "['"'"'pass'"'"', '"'"'fail'"'"', '"'"'fail'"'"']" ]'
check "json: sweep segments for trustd split at 21:03:04" bash -c \
  '[ "$(jget r.json "[(s[\"from\"][\"rfc3339\"][11:23], s[\"verdict\"]) for s in d[\"sweep\"][1][\"segments\"]]")" = "[('"'"'21:03:03.000'"'"', '"'"'fail'"'"'), ('"'"'21:03:04.000'"'"', '"'"'pass'"'"')]" ]'
check "json: chain has 2 certs with 2 SCTs on the leaf" bash -c \
  '[ "$(jget r.json "(d[\"chain\"][\"count\"], len(d[\"chain\"][\"certificates\"][0][\"scts\"]))")" = "(2, 2)" ]'
check "json: issuance estimate is the later SCT" bash -c \
  '[ "$(jget r.json "d[\"issuance\"][\"estimate\"][\"ms\"]")" = 1795467783157 ]'
check "--compact is one line" bash -c '[ "$("$CS_BIN" replay c/chain.pem --json --compact | wc -l)" = 1 ]'
check "stdin input" bash -c '"$CS_BIN" replay - --json < c/chain.pem | grep -Eq "\"count\":[[:space:]]*2"'

# Trust: the system bundle by default (our test root is not in it), --trust,
# --host, --no-trust.
"$CS_BIN" replay c/chain.pem --at 2026-11-23T21:03:04Z --clock exact --json > sys.json || true
# Our root is unknown to the system store: the issuer is missing or untrusted.
check "default system store: the chain is not anchored" bash -c \
  'jget sys.json "[f[\"code\"] for f in d[\"findings\"] if f[\"severity\"] == \"error\"]" | grep -Eq "ANCHOR_NOT_TRUSTED|MISSING_INTERMEDIATE"'
"$CS_BIN" replay c/chain.pem --trust c/root.pem --host other.test --at 2026-11-23T21:03:04Z --clock exact --json > host.json || true
check "--host other.test: HOSTNAME_MISMATCH error" bash -c \
  '[ "$(jget host.json "d[\"findings\"][0][\"code\"]")" = HOSTNAME_MISMATCH ]'
"$CS_BIN" replay c/chain.pem --trust c/root.pem --host leaf.test --at 2026-11-23T21:03:04Z --clock exact --json > good.json
check "--trust with the right host: a usable anchored path" bash -c \
  '[ "$(jget good.json "[(p[\"end\"], p[\"usable\"]) for p in d[\"trust\"][\"paths\"]]")" = "[('"'"'anchor'"'"', True)]" ]'
"$CS_BIN" replay c/chain.pem --no-trust --json > notrust.json
check "--no-trust: trust is null" bash -c '[ "$(jget notrust.json "d[\"trust\"]")" = None ]'
check "--trust missing file -> exit 3" bash -c '"$CS_BIN" replay c/chain.pem --trust /nonexistent 2>/dev/null; [ $? -eq 3 ]'

# Revocation inputs: a malformed OCSP response is a finding, not a crash.
head -c 64 /dev/urandom > junk.ocsp
"$CS_BIN" replay c/chain.pem --no-trust --ocsp junk.ocsp --json > ocsp.json || true
check "garbage --ocsp: OCSP_MALFORMED finding" bash -c \
  'jget ocsp.json "[f[\"code\"] for f in d[\"findings\"]]" | grep -q OCSP_MALFORMED'
check "--crl missing file -> exit 3" bash -c '"$CS_BIN" replay c/chain.pem --crl /nonexistent 2>/dev/null; [ $? -eq 3 ]'

# CT: the log list certskew ships (data/log_list.json, 2025-05-05) loads by
# default; our fixture's lab logs are not in it and its SCTs are newer than
# it, so the list predates them: SCT_LOG_NOT_IN_LIST, not a policy failure.
LIST="$CS_SRC/data/log_list.json"
"$CS_BIN" replay c/chain.pem --json > ct.json || true
check "json: ct section with the shipped log list by default" bash -c \
  '[ "$(jget ct.json "(d[\"ct\"][\"log_list\"][\"version\"], len(d[\"ct\"][\"scts\"]))")" = "('"'"'53.34'"'"', 2)" ]'
check "json: fixture SCTs are from logs newer than the list, policy undetermined" bash -c \
  '[ "$(jget ct.json "(sorted(set(f[\"code\"] for f in d[\"findings\"]) & {\"SCT_LOG_NOT_IN_LIST\", \"SCT_UNKNOWN_LOG\", \"SCT_POLICY_TOO_FEW\"}), d[\"ct\"][\"policy\"][\"undetermined\"])")" = "(['"'"'SCT_LOG_NOT_IN_LIST'"'"'], True)" ]'
CERTSKEW_LOG_LIST=none "$CS_BIN" replay c/chain.pem --json > nolist.json || true
check "CERTSKEW_LOG_LIST=none: no list, CT_NO_LOG_LIST" bash -c \
  'jget nolist.json "[f[\"code\"] for f in d[\"findings\"]]" | grep -q CT_NO_LOG_LIST'
# A real certificate (*.google.com, tests/data/README.md): its two SCTs verify
# against the shipped list with no --log-list, and Chrome's policy is met.
"$CS_BIN" replay "$CS_SRC/tests/data/google-com-chain.pem" --no-trust --json > real.json || true
check "real certificate: both SCTs valid with the shipped list, policy compliant" bash -c \
  '[ "$(jget real.json "([s[\"signature\"] for s in d[\"ct\"][\"scts\"]], d[\"ct\"][\"policy\"][\"compliant\"])")" = "(['"'"'valid'"'"', '"'"'valid'"'"'], True)" ]'
"$CS_BIN" replay "$CS_SRC/tests/data/google-com-chain.pem" --no-trust --at 2026-12-01T00:00:00Z --json > stale.json || true
check "real certificate judged 19 months after the list: CT_LOG_LIST_STALE" bash -c \
  'jget stale.json "[f[\"code\"] for f in d[\"findings\"]]" | grep -q CT_LOG_LIST_STALE'
check "--log-list twice: merged by log id" bash -c \
  '"$CS_BIN" replay c/chain.pem --log-list "'"$LIST"'" --log-list "'"$LIST"'" --json > twice.json; [ "$(jget twice.json "d[\"ct\"][\"log_list\"][\"logs\"]")" = 181 ]'
"$CS_BIN" replay c/chain.pem --trust c/root.pem --host leaf.test --log-list "$LIST" \
  --ocsp junk.ocsp --at 2026-11-23T21:03:04Z --sweep 2026-11-23T21:03:00Z..2026-11-23T21:04:00Z --json > all.json || true
# One encoding of time across every section: {"ms", "rfc3339"} objects.
check "json: every instant in every section is a {ms, rfc3339} object" python3 - all.json <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
bad = []
def walk(v, path):
    if isinstance(v, dict):
        if set(v) == {"ms", "rfc3339"}:
            if not isinstance(v["ms"], (int, float)) or not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", v["rfc3339"]):
                bad.append(path)
            return
        for k, x in v.items():
            walk(x, path + "." + k)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            walk(x, path + "[%d]" % i)
    elif isinstance(v, str) and re.match(r"\d{4}-\d\d-\d\dT\d\d:", v) and not path.endswith(("summary", "explanation", "fix")) and ".evidence." not in path:
        bad.append(path + " = " + v)
walk(d, "$")
for sec in ("ct", "trust", "revocation"):
    assert d[sec] is not None, sec
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
printf '{"version": "1", "operators": [{"name": "x", "logs": [{"key": "!!", "log_id": "x"}]}]}' > badlist.json
check "malformed log list -> exit 3 naming it" bash -c '
  out=$("$CS_BIN" replay c/chain.pem --log-list badlist.json 2>&1); [ $? -eq 3 ] && grep -q "badlist.json" <<<"$out"'

# Bad input: clear message, exit 3, no crash.
printf 'not a certificate\n' > garbage.txt
head -c 300 c/leaf.pem > truncated.pem
openssl x509 -in c/leaf.pem -outform DER | head -c 200 > truncated.der
: > empty.pem
head -c $((50 * 1024 * 1024)) /dev/zero > big.bin
for f in garbage.txt truncated.pem truncated.der empty.pem big.bin /nonexistent .; do
  check "bad input $f -> exit 3 with a message" bash -c '
    out=$("$CS_BIN" replay "'"$f"'" 2>&1 >/dev/null); rc=$?
    [ $rc -eq 3 ] && [ -n "$out" ] && ! grep -qi "sanitizer" <<<"$out"'
done
check "50 MB file: says the limit" bash -c '"$CS_BIN" replay big.bin 2>&1 | grep -q "limit"'
python3 -c 'import sys; d=open("c/leaf.pem").read(); sys.stdout.write(d*10000)' > many.pem
check "10,000 certificates: refused" bash -c '"$CS_BIN" replay many.pem 2>&1 | grep -q "limit"; [ ${PIPESTATUS[0]} -eq 3 ]'
# Unknown arguments are usage errors (exit 2) in every command, never ignored.
for args in "replay c/chain.pem --bogus" "diagnose 127.0.0.1:1 --bogus" "ca --bogus" "ca path extra" \
            "lab --bogus" "lab fresh extra" "proxy --bogus" "repro x.json --bogus" "clocks extra"; do
  check "certskew $args -> exit 2 with a message" bash -c '
    out=$("$CS_BIN" '"$args"' 2>&1 >/dev/null); rc=$?
    [ $rc -eq 2 ] && grep -q "unexpected argument\|unknown option" <<<"$out"'
done
finish
