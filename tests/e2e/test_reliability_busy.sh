#!/usr/bin/env bash
# Overload and slow bodies (issue #16, items 5 and 6), on loopback:
#  - at --max-conns, every extra client is answered 503 with the reason
#    (X-Certskew-Error: PROXY_BUSY) and a log line, never a bare reset;
#  - near the file-descriptor limit (ulimit -n 80), likewise with
#    PROXY_FD_LIMIT, and the proxy serves again once clients leave;
#  - a POST /api/replay whose body trickles past the deadline gets 408.
source "$CS_SRC/tests/lib/proxy_e2e_lib.sh"
T=$PX_TMP
cd "$T" || exit 1

# hold.py PORT N: opens N connections (sending nothing), then reads from
# each for up to 3 s. Prints one line per connection: OPEN (still waiting),
# RESET, EOF, or the status and X-Certskew-Error of an answer.
cat > "$T/hold.py" <<'PY'
import select, socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    socks.append(s)
    time.sleep(0.01)
res, data = {}, {s: b"" for s in socks}
end = time.time() + 3
while time.time() < end and len(res) < n:
    r, _, _ = select.select([s for s in socks if s not in res], [], [], 0.2)
    for s in r:
        try:
            chunk = s.recv(4096)
        except ConnectionResetError:
            res[s] = "RESET"; continue
        if not chunk:
            head = data[s].split(b"\r\n\r\n")[0].decode("latin1").split("\r\n")
            if not data[s]:
                res[s] = "EOF"
            else:
                code = [l.split(":", 1)[1].strip() for l in head if l.lower().startswith("x-certskew-error:")]
                res[s] = head[0].split()[1] + " " + (code[0] if code else "-")
        else:
            data[s] += chunk
for s in socks:
    print(res.get(s, "OPEN"))
PY

# ---- --max-conns ----
px_proxy maxc --max-conns 10 || exit 1
timeout 30 python3 "$T/hold.py" "$PPORT" 25 | sort | uniq -c | awk '{c=$1; $1=""; sub(/^ /, ""); print $0"="c}' | tr '\n' ' ' > "$T/maxc.out"
got=$(cat "$T/maxc.out")
px_check "max-conns 10: 10 served, 15 answered 503 PROXY_BUSY (got $got)" \
  test "$got" = "503 PROXY_BUSY=15 OPEN=10 "
px_check "max-conns: the log says why" grep -q "refusing a client with 503: 10 connections open, the --max-conns limit" "$T/maxc.log"
got=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PPORT/api/captures")
px_check "max-conns: serving again once they leave (got $got)" test "$got" = 200

# ---- the file-descriptor limit ----
rm -f "$T/fd.port"
( ulimit -n 80; CERTSKEW_HOME="$T/home" exec "$CS_BIN" proxy --port 0 --port-file "$T/fd.port" \
    --max-conns 1000 > "$T/fd.log" 2>&1 ) &
PX_PIDS+=($!); PX_PROXIES+=("$!:fd")
px_wait_file "$T/fd.port" || { echo "proxy did not start: $(cat "$T/fd.log")"; exit 1; }
FP=$(cat "$T/fd.port")
timeout 30 python3 "$T/hold.py" "$FP" 100 | sort | uniq -c | awk '{c=$1; $1=""; sub(/^ /, ""); print $0"="c}' | tr '\n' ' ' > "$T/fd.out"
got=$(cat "$T/fd.out")
refused=$(grep -o '503 PROXY_FD_LIMIT=[0-9]*' "$T/fd.out" | cut -d= -f2)
px_check "fd limit 80: every client is served or answered 503 PROXY_FD_LIMIT, none reset (got $got)" \
  test -z "$(grep -E 'RESET|EOF' "$T/fd.out")"
px_check "fd limit 80: some refused (${refused:-0})" test "${refused:-0}" -gt 50
px_check "fd limit: the log says why" grep -q "refusing a client with 503: near the file descriptor limit" "$T/fd.log"
px_check "fd limit: libuv never met EMFILE" test -z "$(grep -i 'too many open files' "$T/fd.log")"
got=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FP/api/captures")
px_check "fd limit: serving again once they leave (got $got)" test "$got" = 200

# ---- a slow POST /api/replay body ----
px_proxy slow --handshake-timeout 1s || exit 1
got=$(timeout 20 python3 - "$PPORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(("POST /api/replay HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
           "Content-Length: 100\r\n\r\n{\"capture\"" % port).encode())
t0 = time.time()
data = b""
try:
    while time.time() - t0 < 8:
        s.sendall(b" ")   # one byte now and then: never completes
        time.sleep(0.2)
        s.settimeout(0.01)
        try:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        except socket.timeout:
            pass
        s.settimeout(10)
except (BrokenPipeError, ConnectionResetError):
    pass
print(data.split(b"\r\n")[0].decode() if data else "no answer", round(time.time() - t0))
PY
)
px_check "slow POST body: 408 at the deadline (got $got)" test "${got% *}" = "HTTP/1.1 408 Request Timeout"
px_done
