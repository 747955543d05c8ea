#!/usr/bin/env bash
# Loop detection of certskew proxy against every spelling of "this proxy"
# (issue #16, item 1), in intercept and --passthrough mode:
#  - IP literals that reach the listening port -- 0.0.0.0, ::, IPv4-mapped
#    IPv6 in both spellings -- are refused by name (508);
#  - names and numeric forms the resolver turns into such an address (0,
#    "localhost.", 127.1) are refused after resolution (502 UPSTREAM_LOOP);
#  - the nested self-tunnel attack (one client CONNECTing through the
#    proxy to the proxy, again and again) gets no further than the first
#    CONNECT, and the proxy's file descriptors stay bounded.
source "$CS_SRC/tests/lib/proxy_e2e_lib.sh"
T=$PX_TMP
cd "$T" || exit 1

# nest.py PORT TARGET DEPTH: CONNECTs to TARGET, and inside each accepted
# tunnel CONNECTs again (plaintext: what passthrough relays byte for byte),
# up to DEPTH. Prints "<levels accepted> <last status line>".
cat > "$T/nest.py" <<'PY'
import socket, sys
port, target, depth = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
f = s.makefile("rb")
levels, last = 0, "-"
for _ in range(depth):
    s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target)).encode())
    line = f.readline().decode("latin1").strip()
    while True:
        l = f.readline()
        if l in (b"", b"\r\n", b"\n"):
            break
    last = line or "EOF"
    if " 200 " not in line + " ":
        break
    levels += 1
print(levels, last.replace(" ", "_"))
PY

# raw.py PORT TARGET: one CONNECT; for 200 in intercept mode, TLS inside and
# a GET. Prints "<status> <inner status or -> <X-Certskew-Error or ->".
cat > "$T/raw.py" <<'PY'
import socket, ssl, sys
port, target, tls = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "tls"
def head(f):
    lines = []
    while True:
        l = f.readline()
        if l in (b"", b"\r\n", b"\n"):
            return lines
        lines.append(l.decode("latin1").strip())
def status_and_code(lines):
    st = lines[0].split()[1] if lines else "-"
    code = [l.split(":", 1)[1].strip() for l in lines if l.lower().startswith("x-certskew-error:")]
    return st, code[0] if code else "-"
s = socket.create_connection(("127.0.0.1", port), timeout=20)
s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target)).encode())
f = s.makefile("rb")
lines = head(f)
st, code = status_and_code(lines)
inner = "-"
if st == "200" and tls:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    t = ctx.wrap_socket(s, server_hostname="loop.test")
    t.sendall(b"GET / HTTP/1.1\r\nHost: loop.test\r\n\r\n")
    inner, code = status_and_code(head(t.makefile("rb")))
elif st == "502":
    body = f.read(2000).decode("latin1")
    code = "UPSTREAM_LOOP" if "UPSTREAM_LOOP" in body else code
print(st, inner, code)
PY

fds() { ls "/proc/$1/fd" | wc -l; }
SELFNAME=""
n=$(hostname 2>/dev/null)
if [ -n "$n" ] && getent ahosts "$n" | awk '{print $1}' | grep -qxF -f <(ip -o addr show | awk '{print $4}' | cut -d/ -f1; echo 127.0.0.1; echo ::1); then
  SELFNAME=$n
else
  echo "note: $(hostname) does not resolve to a local address; the by-name case is skipped"
fi

for mode in intercept passthrough; do
  args=()
  [ "$mode" = passthrough ] && args=(--passthrough)
  px_proxy "loop-$mode" "${args[@]}" --max-conns 64 || exit 1
  P=$PPORT; PID=$PPID_LAST
  if [ "$mode" = intercept ]; then late="200 502 UPSTREAM_LOOP"; else late="502 - UPSTREAM_LOOP"; fi
  # target | expected "<status> <inner> <code>"
  CASES="0.0.0.0:$P|508 - -
[::]:$P|508 - -
[::ffff:127.0.0.1]:$P|508 - -
[::ffff:7f00:1]:$P|508 - -
[::ffff:7f00:2]:$P|508 - -
[::ffff:0.0.0.0]:$P|508 - -
127.0.0.1:$P|508 - -
0:$P|$late
127.1:$P|$late"
  # A name resolving to a local address (this machine's own name, when
  # /etc/hosts or DNS maps it to one): refused after resolution.
  [ -n "$SELFNAME" ] && CASES+=$'\n'"$SELFNAME:$P|$late"
  # Every local interface address on our port is refused by name as well.
  for ip in $(ip -o addr show 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | grep -v '^fe80' | head -4); do
    case $ip in *:*) CASES+=$'\n'"[$ip]:$P|508 - -" ;; *) CASES+=$'\n'"$ip:$P|508 - -" ;; esac
  done
  before=$(fds "$PID")
  while IFS='|' read -r target want; do
    got=$(timeout 30 python3 "$T/raw.py" "$P" "$target" "$([ "$mode" = intercept ] && echo tls)" 2>&1)
    px_check "$mode: CONNECT $target -> $want (got $got)" test "$got" = "$want"
  done <<< "$CASES"
  # The nested attack, for each spelling: no level gets through.
  # (In intercept mode a loop found after resolution is answered 200 and a
  # 502 page inside the TLS session, so the plaintext CONNECT that follows
  # ends the connection: one level, never a self-tunnel.)
  for target in "0.0.0.0:$P" "0:$P" "[::ffff:127.0.0.1]:$P" "[::ffff:7f00:1]:$P" ${SELFNAME:+"$SELFNAME:$P"}; do
    got=$(timeout 30 python3 "$T/nest.py" "$P" "$target" 1024 2>&1)
    max=0
    case $target in 0:*|"$SELFNAME":*) [ "$mode" = intercept ] && max=1 ;; esac
    px_check "$mode: nested CONNECT $target stops at level $max (got $got)" test "${got%% *}" -le "$max"
  done
  # 20 attackers at once, then the fd count and a normal request.
  attackers=()
  for i in $(seq 1 20); do
    timeout 30 python3 "$T/nest.py" "$P" "0.0.0.0:$P" 1024 > /dev/null 2>&1 &
    attackers+=($!)
  done
  peak=0
  for i in $(seq 1 20); do
    n=$(fds "$PID"); [ "$n" -gt "$peak" ] && peak=$n
    sleep 0.05
  done
  wait "${attackers[@]}"
  sleep 0.5
  after=$(fds "$PID")
  px_check "$mode: fds bounded during the attack (before $before, during $peak)" test "$peak" -le $((before + 60))
  px_check "$mode: fds back after the attack (before $before, after $after)" test "$after" -le $((before + 2))
  got=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/api/captures")
  px_check "$mode: still serving new clients (got $got)" test "$got" = 200
  echo "fds $mode: before $before, during 20 attackers $peak, after $after"
done
px_done
