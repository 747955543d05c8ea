#!/usr/bin/env bash
# Crash safety of the capture store: certskew proxy captures many distinct
# chains concurrently and is killed with SIGKILL at a random moment, three
# times over the same store. After each restart:
#  - every capture the proxy had confirmed before the kill (the client got
#    "200 Connection established", which is sent only after the capture is
#    stored) is listed;
#  - every listed capture is complete and right: chain.pem parses with
#    openssl and is exactly the chain its upstream port serves, report.json
#    and meta.json parse and name the same host, port and chain;
#  - nothing partial is visible: no listed capture lacks a file, and the
#    API serves every listed capture's files.
source "$CS_SRC/tests/lib/proxy_e2e_lib.sh"
T=$PX_TMP
cd "$T" || exit 1
ROUNDS=3
PER_ROUND=30

px_ca_cnf "$T"
px_root "$T" root || exit 1
mkdir -p "$T/certs"
total=$((ROUNDS * PER_ROUND))
for i in $(seq 0 $((total - 1))); do
  px_issue "$T" root "leaf$i" leaf_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1
  cp "$T/leaf$i.pem" "$T/leaf$i.key" "$T/certs/"
done
cp "$T/leaf0.pem" "$T/certs/resetleaf.pem"; cp "$T/leaf0.key" "$T/certs/resetleaf.key"
python3 "$CS_SRC/bench/soak_load.py" serve "$T/certs" "$total" > "$T/serve.json" 2> "$T/serve.err" &
PX_PIDS+=($!)
px_wait_file "$T/serve.json" || { echo "upstreams did not start: $(cat "$T/serve.err")"; exit 1; }
mapfile -t PORTS < <(python3 -c 'import json,sys; print("\n".join(map(str, json.load(open(sys.argv[1]))["ok_ports"])))' "$T/serve.json")
# Which leaf each port serves.
declare -A LEAF_OF
for i in "${!PORTS[@]}"; do LEAF_OF[${PORTS[$i]}]=$i; done

# check_capture.py DIR PORT: meta.json, report.json and chain.pem agree.
cat > "$T/check_capture.py" <<'PY'
import base64, hashlib, json, sys
d, port = sys.argv[1], int(sys.argv[2])
meta = json.load(open(d + "/meta.json"))
report = json.load(open(d + "/report.json"))
pem = open(d + "/chain.pem").read()
der = base64.b64decode("".join(pem.split("-----")[2].split()))
leaf_sha = hashlib.sha256(der).hexdigest()
assert meta["port"] == port and meta["host"] == "127.0.0.1", meta
assert meta["seen_count"] >= 1, meta
certs = report["chain"]["certificates"]
assert report["chain"]["count"] == 1 and certs[0]["sha256"].replace(":", "").lower() == leaf_sha, certs[0]
PY

# check_store NAME CONFIRMED_FILE: restart on the store and check it.
check_store() {
  local name=$1 confirmed=$2 port id leaf bad=0 missing=0 listed
  px_proxy "$name" --trust "$T/root.pem" || return 1
  curl -sS "http://127.0.0.1:$PPORT/api/captures" > "$T/$name.json"
  listed=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["captures"]))' "$T/$name.json")
  # Every confirmed capture is there.
  for port in $(sort -u "$confirmed"); do
    id=$(px_capture_field "$port" id < "$T/$name.json")
    [ -n "$id" ] || { missing=$((missing + 1)); echo "port $port confirmed but not listed"; }
  done
  px_check "$name: all $(sort -u "$confirmed" | wc -l) confirmed captures listed ($missing missing, $listed listed)" \
    test "$missing" = 0
  # Every listed capture is complete and exactly what its port serves.
  while read -r id port; do
    leaf=${LEAF_OF[$port]:-}
    local d="$T/home/captures/$id" api="http://127.0.0.1:$PPORT/api/captures/$id"
    if [ -z "$leaf" ] || [ ! -s "$d/chain.pem" ] || [ ! -s "$d/report.json" ] || [ ! -s "$d/meta.json" ] ||
       ! openssl x509 -in "$d/chain.pem" -noout 2>/dev/null ||
       ! diff -q <(px_fingerprints "$d/chain.pem") <(px_fingerprints "$T/leaf$leaf.pem") > /dev/null ||
       ! curl -sS -f "$api/chain.pem" | cmp -s - "$d/chain.pem" ||
       ! python3 "$T/check_capture.py" "$d" "$port"; then
      bad=$((bad + 1)); echo "capture $id (port $port) incomplete or wrong"
    fi
  done < <(python3 -c 'import json,sys
for c in json.load(open(sys.argv[1]))["captures"]: print(c["id"], c["port"])' "$T/$name.json")
  px_check "$name: every listed capture complete and as served ($bad bad)" test "$bad" = 0
  local partial
  partial=$(find "$T/home/captures" -mindepth 1 -maxdepth 1 -type d ! -exec test -e '{}/meta.json' ';' -print | wc -l)
  echo "$name: $listed listed, $partial unlisted incomplete directories (kept until a minute old)"
  kill -TERM "$PPID_LAST"; wait "$PPID_LAST"
  px_check "$name: proxy exits 0 on SIGTERM" test $? = 0
}

: > "$T/confirmed"
for round in $(seq 1 $ROUNDS); do
  ports=$(printf '%s\n' "${PORTS[@]:$(((round - 1) * PER_ROUND)):$PER_ROUND}" | paste -sd,)
  px_proxy "run$round" --trust "$T/root.pem" || exit 1
  victim=$PPID_LAST
  python3 "$CS_SRC/bench/soak_load.py" capture "$PPORT" "$ports" 2 32 > "$T/client$round.log" 2>&1 &
  client=$!
  # A random moment while captures are being written: once a random number
  # (5..24) of CONNECTs have been confirmed, so the burst is under way.
  want=$(( RANDOM % 20 + 5 ))
  for i in $(seq 1 300); do
    n=$(grep -c '^OK ' "$T/client$round.log" 2>/dev/null || true)
    [ "${n:-0}" -ge "$want" ] && break
    sleep 0.02
  done
  kill -KILL "$victim"
  wait "$victim" 2>/dev/null
  wait "$client"
  grep '^OK ' "$T/client$round.log" | awk '{print $2}' >> "$T/confirmed"
  echo "round $round: killed after $(grep -c '^OK ' "$T/client$round.log") confirmed CONNECTs," \
    "$(grep -c '^FAILED ' "$T/client$round.log") cut off"
  px_check "round $round: the kill landed during the capture burst" \
    grep -q '^FAILED ' "$T/client$round.log"
  check_store "after$round" "$T/confirmed"
done
px_check "captures were confirmed before the kills" test -s "$T/confirmed"
px_done
