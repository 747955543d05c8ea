#!/usr/bin/env bash
# The capture store when writes fail or files are damaged (issue #16,
# items 3 and 4), against real upstreams on loopback:
#  - a full 2 MB tmpfs (space for a few captures only), then space returns,
#    then a restart: relaying never fails; every listed capture has
#    chain.pem, report.json and meta.json and its report is served (200);
#    the API says store_error while the disk is full; captures that failed
#    are written whole on their next sighting; a read-only store lists none;
#  - hand-corrupted meta.json (1e300, -5, 1e20, strings, first after last),
#    a missing chain.pem, a corrupt report.json: skipped with a log line (or
#    refused with 500), never undefined behaviour (the ASan+UBSan build runs
#    this test too).
# tmpfs needs mount(2) (root in CI); without it the full-disk part is skipped
# and says so.
source "$CS_SRC/tests/lib/proxy_e2e_lib.sh"
T=$PX_TMP
cd "$T" || exit 1
N=30

px_ca_cnf "$T"
px_root "$T" root || exit 1
mkdir -p "$T/certs"
for i in $(seq 0 $((N - 1))); do
  px_issue "$T" root "leaf$i" leaf_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1
  cp "$T/leaf$i.pem" "$T/leaf$i.key" "$T/certs/"
done
cp "$T/leaf0.pem" "$T/certs/resetleaf.pem"; cp "$T/leaf0.key" "$T/certs/resetleaf.key"
python3 "$CS_SRC/bench/soak_load.py" serve "$T/certs" "$N" > "$T/serve.json" 2> "$T/serve.err" &
PX_PIDS+=($!)
px_wait_file "$T/serve.json" || { echo "upstreams did not start: $(cat "$T/serve.err")"; exit 1; }
PORTS=$(python3 -c 'import json,sys; print(",".join(map(str, json.load(open(sys.argv[1]))["ok_ports"])))' "$T/serve.json")

# capture PROXYPORT: one CONNECT per upstream; prints how many got 200.
capture() {
  timeout 120 python3 "$CS_SRC/bench/soak_load.py" capture "$1" "$PORTS" 1 8 | grep -c '^OK'
}
# check_listed NAME PROXYPORT STOREDIR: every listed capture is complete on
# disk and served; prints "<listed> <broken>".
cat > "$T/check.py" <<'PY'
import json, os, sys, urllib.request
name, port, store = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def get(path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
st, body = get("/api/captures")
data = json.loads(body)
json.dump(data, open(name + ".json", "w"))
broken = 0
for c in data["captures"]:
    d = os.path.join(store, c["id"])
    files = [f for f in ("chain.pem", "report.json", "meta.json") if os.path.isfile(os.path.join(d, f))]
    rst, rbody = get("/api/captures/%s/report" % c["id"])
    ok = len(files) == 3 and rst == 200
    if ok:
        json.loads(rbody)
    else:
        broken += 1
        print("broken:", c["id"], files, rst, file=sys.stderr)
print(len(data["captures"]), broken)
PY
listed() { python3 "$T/check.py" "$T/$1" "$2" "$3"; }
api_field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print("null" if v is None else v)' "$T/$1.json" "$2"; }
proxy_stop() { kill -TERM "$1"; wait "$1"; }

# ---- full disk ----
S=$T/tmpfs
mkdir -p "$S"
if mount -t tmpfs -o size=2m,mode=0700 tmpfs "$S" 2>/dev/null; then
  trap 'umount "$S" 2>/dev/null; px_cleanup' EXIT
  # Leave room for about two captures: the rest fail part-way.
  dd if=/dev/zero of="$S/filler" bs=4k count=10000 2>/dev/null
  free_kb=$(df -k --output=avail "$S" | tail -1)
  px_check "tmpfs is full (free ${free_kb} kB)" test "$free_kb" -lt 8
  rm -f "$S/filler"; dd if=/dev/zero of="$S/filler" bs=1k count=$((2048 - 40)) 2>/dev/null
  mkdir -p "$S/captures"
  px_proxy full --trust "$T/root.pem" --store "$S/captures" --no-enrich || exit 1
  ok=$(capture "$PPORT")
  px_check "full disk: every tunnel still answered ($ok of $N)" test "$ok" = "$N"
  read -r n broken <<< "$(listed full "$PPORT" "$S/captures")"
  px_check "full disk: only complete captures listed ($n listed, $broken broken)" test "$broken" = 0
  px_check "full disk: some captures could not be stored ($n of $N)" test "$n" -lt "$N"
  px_check "full disk: store_error in the API ($(api_field full store_error))" \
    grep -q 'No space left' <(api_field full store_error)
  px_check "full disk: failed writes counted ($(api_field full store_failed_writes))" \
    test "$(api_field full store_failed_writes)" -gt 0
  px_check "full disk: the log says so" grep -q 'capture store:.*No space left' "$T/full.log"
  px_check "full disk: no directory lacks a file" \
    test -z "$(for d in "$S/captures"/*/; do [ -f "$d/meta.json" ] && [ -f "$d/chain.pem" ] && [ -f "$d/report.json" ] || echo "$d"; done)"
  # Space returns: the same upstreams again, now stored whole.
  rm -f "$S/filler"
  ok=$(capture "$PPORT")
  px_check "space back: every tunnel answered ($ok of $N)" test "$ok" = "$N"
  read -r n broken <<< "$(listed back "$PPORT" "$S/captures")"
  px_check "space back: all $N captures listed, none broken ($n, $broken)" test "$n $broken" = "$N 0"
  px_check "space back: store_error cleared ($(api_field back store_error))" test "$(api_field back store_error)" = null
  px_check "space back: the last error is still reported" grep -q 'No space' <(api_field back store_last_error)
  proxy_stop "$PPID_LAST"
  # Restart on the same store.
  px_proxy restart --trust "$T/root.pem" --store "$S/captures" --no-enrich || exit 1
  read -r n broken <<< "$(listed restart "$PPORT" "$S/captures")"
  px_check "restart: all $N captures listed, none broken ($n, $broken)" test "$n $broken" = "$N 0"
  px_check "restart: nothing skipped" test -z "$(grep skipping "$T/restart.log")"
  proxy_stop "$PPID_LAST"
  # A read-only store: relaying works, nothing is listed, the error is shown.
  rm -rf "${S:?}/captures"/*
  mount -o remount,ro "$S"
  px_proxy ro --trust "$T/root.pem" --store "$S/captures" --no-enrich || exit 1
  ok=$(capture "$PPORT")
  px_check "read-only: every tunnel answered ($ok of $N)" test "$ok" = "$N"
  read -r n broken <<< "$(listed ro "$PPORT" "$S/captures")"
  px_check "read-only: nothing listed ($n, $broken)" test "$n $broken" = "0 0"
  px_check "read-only: store_error in the API" grep -q 'Read-only' <(api_field ro store_error)
  proxy_stop "$PPID_LAST"
  umount "$S"
else
  echo "SKIP: full-disk part (mount -t tmpfs is not allowed here)"
fi

# ---- damaged files ----
D=$T/store
px_proxy good --trust "$T/root.pem" --store "$D" --no-enrich || exit 1
ok=$(capture "$PPORT")
px_check "captured $ok of $N" test "$ok" = "$N"
proxy_stop "$PPID_LAST"
mapfile -t IDS < <(ls "$D")
# id index | what is done to it | expected: skip (not listed) | 500 (listed, report refused)
edit() { python3 - "$D/${IDS[$1]}/meta.json" "$2" "$3" <<'PY'
import json, sys
p, key, val = sys.argv[1], sys.argv[2], sys.argv[3]
m = json.load(open(p))
text = json.dumps(m).replace(json.dumps(key) + ": " + json.dumps(m[key]), json.dumps(key) + ": " + val)
open(p, "w").write(text)
PY
}
edit 0 first_seen_ms 1e300
edit 1 seen_count -5
edit 2 port 1e20
edit 3 last_seen_ms -1e300
edit 4 first_seen_ms 1.5
edit 5 seen_count '"many"'
edit 6 port 0
edit 7 first_seen_ms 99999999999999999
edit 8 chain_sha256 '"zz"'
edit 9 seen_count 1e19
printf '{"host": ' > "$D/${IDS[10]}/meta.json"
rm "$D/${IDS[11]}/chain.pem"
rm "$D/${IDS[12]}/report.json"
printf '{"not json' > "$D/${IDS[13]}/report.json"
px_proxy damaged --trust "$T/root.pem" --store "$D" --no-enrich || exit 1
curl -sS "http://127.0.0.1:$PPORT/api/captures" > "$T/damaged.json"
for i in $(seq 0 12); do
  px_check "damaged ${IDS[$i]} is not listed" test -z "$(grep -F "\"${IDS[$i]}\"" "$T/damaged.json")"
  px_check "damaged ${IDS[$i]} skipped with a log line" grep -qF "skipping $D/${IDS[$i]}" "$T/damaged.log"
done
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["captures"]))' "$T/damaged.json")
px_check "the $((N - 13)) intact captures are listed (got $n)" test "$n" = $((N - 13))
got=$(curl -sS -o "$T/corrupt.out" -w '%{http_code}' "http://127.0.0.1:$PPORT/api/captures/${IDS[13]}/report")
px_check "a corrupt report.json is refused with 500, not served (got $got)" test "$got" = 500
px_check "the corrupt report is logged" grep -q "report.json of ${IDS[13]} is not valid JSON" "$T/damaged.log"
got=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PPORT/api/captures/${IDS[14]}/report")
px_check "an intact report is served (got $got)" test "$got" = 200
got=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
  --data "{\"capture\":\"${IDS[11]}\"}" "http://127.0.0.1:$PPORT/api/replay")
px_check "replay of the capture without chain.pem: 404, as it is not listed (got $got)" test "$got" = 404
px_done
