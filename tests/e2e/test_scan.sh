#!/usr/bin/env bash
# certskew scan over a local fleet on 127.0.0.1: two labs (fresh: valid;
# precert-mismatch), openssl s_servers (expired, untrusted, TLS 1.3 only), a
# refused port, a server that accepts and never answers, a bad line, and
# SNI names on the valid lab. Every host gets one line with the expected
# verdict; a run killed midway and restarted with the same --out loses and
# doubles nothing; shards 1/3 + 2/3 + 3/3 equal the unsharded run.
source "$CS_SRC/tests/lib/enrich_e2e_lib.sh"
T=$PX_TMP
cd "$T" || exit 1

# ---- the fleet ----
px_ca_cnf "$T"
px_root "$T" root || exit 1
px_root "$T" other || exit 1
px_issue "$T" root expired leaf_ext "$(px_date -864000)" "$(px_date -3600)" || exit 1
cp "$T/ca.cnf" "$T/other.cnf"
px_issue "$T" other untrusted leaf_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1
px_issue "$T" root good leaf_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1

lab() { # lab SCENARIO DIR
  "$CS_BIN" lab "$1" --out "$2" --duration 300s > "$2.log" 2>&1 &
  PX_PIDS+=($!)
  px_wait_file "$2/lab.env" || { echo "lab $1 did not start: $(cat "$2.log")" >&2; exit 1; }
  sleep 0.2
}
lab fresh "$T/fresh"
lab precert-mismatch "$T/pm"
FRESH=$(sed -n 's/^LAB_TLS=//p' "$T/fresh/lab.env")
PM=$(sed -n 's/^LAB_TLS=//p' "$T/pm/lab.env")
px_s_server "$T/s_expired.log" -www -cert expired.pem -key expired.key || exit 1; EXPIRED=$SPORT
px_s_server "$T/s_untrusted.log" -www -cert untrusted.pem -key untrusted.key || exit 1; UNTRUSTED=$SPORT
px_s_server "$T/s_tls13.log" -www -cert good.pem -key good.key -tls1_3 || exit 1; TLS13=$SPORT
REFUSED=$(en_free_port)
HANG=$(en_free_port)
python3 -u -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); print("ready", flush=True)
held = []
while True:
    c, _ = s.accept(); held.append(c)' "$HANG" > "$T/hang.log" 2>&1 &
PX_PIDS+=($!)
en_wait_log "$T/hang.log" ready || exit 1

# One trust file and one log list for the whole fleet (both labs' logs).
cat "$T/fresh/trust.pem" "$T/pm/trust.pem" root.pem > "$T/trust.pem"
python3 - "$T/fresh/log_list.json" "$T/pm/log_list.json" > "$T/log_list.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for op in b["operators"]:
    op["name"] += " (second lab)"
a["operators"] += b["operators"]
print(json.dumps(a))
PY

# key | verdict (pass/fail/error) | an error finding's code, or the error code (- for none)
EXPECT="$FRESH localhost|pass|-
$PM localhost|fail|SCT_SIGNATURE_INVALID_ALL
127.0.0.1:$EXPIRED localhost|fail|EXPIRED
127.0.0.1:$UNTRUSTED localhost|fail|MISSING_INTERMEDIATE
127.0.0.1:$TLS13 localhost|pass|-
127.0.0.1:$REFUSED localhost|error|UPSTREAM_REFUSED
127.0.0.1:$HANG localhost|error|UPSTREAM_TIMEOUT
not a host line at all|error|SCAN_BAD_LINE"
{
  echo "# the fleet"
  while IFS='|' read -r key _; do echo "$key"; done <<< "$EXPECT"
  for i in $(seq 1 24); do echo "$FRESH name$i.test"; done # hostname mismatch: fail
} > "$T/hosts.txt"
NHOSTS=$(( $(grep -vc '^#' "$T/hosts.txt") ))

# The labs answer one handshake at a time (slowly under ASan): 8 in flight
# keep every host well inside its timeout; the hanging host costs 4 s.
scan() { # scan OUT ARGS...: sets RC
  local out=$1; shift
  "$CS_BIN" scan "$T/hosts.txt" --trust "$T/trust.pem" --log-list "$T/log_list.json" \
    --timeout 4s --concurrency 8 --out "$out" "$@" 2> "$out.err"
  RC=$?
}
# Sorted "key|verdict|cause" of a JSONL file (error lines: the first error code).
summary() {
  python3 - "$@" <<'PY'
import json, sys
rows = []
for p in sys.argv[1:]:
    for line in open(p):
        d = json.loads(line)
        codes = [d["errors"][0]["code"]] if d["verdict"] is None else d["error_codes"]
        rows.append("%s|%s|%s" % (d["key"], d["verdict"] or "error", " ".join(codes) or "-"))
print("\n".join(sorted(rows)))
PY
}

t0=$(date +%s)
scan "$T/all.jsonl" --client chrome --client safari
px_check "full run: exit 1 (some host fails; got $RC)" test "$RC" = 1
px_check "full run: one line per host ($NHOSTS)" test "$(wc -l < "$T/all.jsonl")" = "$NHOSTS"
px_check "full run: every line is JSON with a key" python3 -c '
import json, sys
for l in open(sys.argv[1]): assert json.loads(l)["key"]' "$T/all.jsonl"
summary "$T/all.jsonl" > "$T/all.sum"
while IFS='|' read -r key verdict cause; do
  got=$(grep -F "$key|" "$T/all.sum" | head -1)
  px_check "$key: $verdict${cause:+ ($cause)} (got $got)" bash -c '
    IFS="|" read -r _ v c <<< "$1"; [ "$v" = "$2" ] && { [ "$3" = - ] || [[ " $c " == *" $3 "* ]]; }' _ "$got" "$verdict" "$cause"
done <<< "$EXPECT"
px_check "SNI names that the leaf does not carry fail" test \
  "$(grep -c "name[0-9]*\.test|fail|" "$T/all.sum")" = 24
px_check "TLS 1.3-only: judged from the TLS 1.3 capture probe's chain" python3 -c '
import json, sys
d = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["key"] == sys.argv[2]][0]
assert d["capture_method"] == "TLS 1.3 capture probe" and d["verdict"] == "pass", d' \
  "$T/all.jsonl" "127.0.0.1:$TLS13 localhost"
px_check "valid host: capture method, leaf expiry, OCSP fetched, per-client verdicts" python3 -c '
import json, sys
d = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["key"] == sys.argv[2]][0]
assert d["capture_method"] and d["leaf"]["not_after"] and d["ocsp"]["fetched"] == "good", d
assert [c["name"] for c in d["clients"]] == ["chrome", "safari"], d["clients"]
assert all(c["verdict"] == d["verdict"] for c in d["clients"]), d["clients"]
assert d["sct"]["count"] >= 2 and d["sct"]["policy_compliant"] is True, d["sct"]' \
  "$T/all.jsonl" "$FRESH localhost"
px_check "precert-mismatch: SCT signatures invalid" python3 -c '
import json, sys
d = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["key"] == sys.argv[2]][0]
assert d["sct"]["signatures_invalid"] >= 1 and d["sct"]["signatures_valid"] == 0, d["sct"]' \
  "$T/all.jsonl" "$PM localhost"
px_check "precert-mismatch: the line's cause and the clients' verdicts come from the report" python3 -c '
import json, sys
d = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["key"] == sys.argv[2]][0]
assert d["root_cause"]["code"] == "SCT_SIGNATURE_INVALID_ALL" and d["fix"], d
v = {c["name"]: c["verdict"] for c in d["clients"]}
assert v == {"chrome": "fail", "safari": "fail"}, v' "$T/all.jsonl" "$PM localhost"
px_check "summary on stderr counts verdicts" grep -q "pass, .* fail, .* error" "$T/all.jsonl.err"
px_check "no sanitizer report" test -z "$(grep -E 'AddressSanitizer|LeakSanitizer|runtime error' "$T/all.jsonl.err")"

# ---- resume: second run with the same --out does nothing ----
scan "$T/all.jsonl"
px_check "rerun with the same --out adds no line" test "$(wc -l < "$T/all.jsonl")" = "$NHOSTS"
px_check "rerun says every host is already there" grep -q "$NHOSTS already in the output" "$T/all.jsonl.err"

# ---- killed midway, then resumed ----
"$CS_BIN" scan "$T/hosts.txt" --trust "$T/trust.pem" --log-list "$T/log_list.json" \
  --timeout 4s --concurrency 1 --out "$T/killed.jsonl" 2> /dev/null &
pid=$!
for i in $(seq 1 200); do
  [ "$(wc -l 2>/dev/null < "$T/killed.jsonl" || echo 0)" -ge 6 ] && break
  sleep 0.05
done
kill -KILL "$pid"; wait "$pid" 2>/dev/null
before=$(wc -l < "$T/killed.jsonl")
px_check "the killed run wrote some but not all lines ($before)" test "$before" -lt "$NHOSTS" -a "$before" -ge 1
printf '{"key":"partial' >> "$T/killed.jsonl" # as if killed inside a write
scan "$T/killed.jsonl" --concurrency 8
px_check "resumed run: exit 1 (got $RC)" test "$RC" = 1
px_check "after resume: every host exactly once" test \
  "$(python3 -c 'import json,sys; print(sorted(json.loads(l)["key"] for l in open(sys.argv[1])) == sorted(json.loads(l)["key"] for l in open(sys.argv[2])))' \
    "$T/killed.jsonl" "$T/all.jsonl")" = True
px_check "after resume: same verdicts as the full run" test "$(summary "$T/killed.jsonl")" = "$(cat "$T/all.sum")"

# ---- shards ----
for k in 1 2 3; do
  scan "$T/shard$k.jsonl" --shard "$k/3"
done
px_check "shards 1/3+2/3+3/3 equal the unsharded run, host for host" test \
  "$(summary "$T/shard1.jsonl" "$T/shard2.jsonl" "$T/shard3.jsonl")" = "$(cat "$T/all.sum")"
px_check "shards are disjoint and not empty" test "$(for k in 1 2 3; do [ -s "$T/shard$k.jsonl" ] && echo y; done | wc -l)" = 3

# ---- stdin, usage ----
px_check "stdin input, stdout output" bash -c \
  "echo '127.0.0.1:$REFUSED' | '$CS_BIN' scan - --no-trust --timeout 1s 2>/dev/null | grep -q UPSTREAM_REFUSED"
"$CS_BIN" scan --shard 4/3 < /dev/null > /dev/null 2>&1; rc=$?
px_check "--shard 4/3 is a usage error (got $rc)" test "$rc" = 2
"$CS_BIN" scan --bogus < /dev/null > /dev/null 2>&1; rc=$?
px_check "unknown option is a usage error (got $rc)" test "$rc" = 2
echo "elapsed: $(( $(date +%s) - t0 )) s"
px_done
