#!/usr/bin/env bash
# Load and backpressure through certskew proxy, with real peers on loopback:
#  - 200 concurrent intercepted tunnels (curl --parallel) to a threaded
#    Python/OpenSSL HTTPS server, 1 MB bodies each, byte-exact;
#  - a client that stops reading a 256 MB download: the proxy's memory stays
#    bounded (it stops reading upstream), and the download completes once
#    the client reads again.
source "$CS_SRC/tests/lib/proxy_e2e_lib.sh"
T=$PX_TMP
cd "$T" || exit 1

px_ca_cnf "$T"
px_root "$T" root || exit 1
px_issue "$T" root leaf leaf_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1
mkdir -p "$T/www"
for i in $(seq 1 200); do head -c 1048576 /dev/urandom > "$T/www/f$i.bin"; done
truncate -s 256M "$T/www/huge.bin"

# A threaded HTTPS server (Python's ssl is OpenSSL): 200 clients at once.
cat > "$T/server.py" <<'PY'
import http.server, ssl, sys, functools
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 512   # 200 clients connect at once
    daemon_threads = True
handler = functools.partial(Quiet, directory=sys.argv[1])
srv = Server(("127.0.0.1", 0), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
# The handshake runs in each connection's thread, not in the accept loop.
srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
print("PORT", srv.server_address[1], flush=True)
srv.serve_forever()
PY
python3 "$T/server.py" "$T/www" "$T/leaf.pem" "$T/leaf.key" > "$T/server.log" 2>&1 &
PX_PIDS+=($!)
for i in $(seq 1 100); do
  SPORT=$(sed -n 's/^PORT \([0-9]*\)/\1/p' "$T/server.log"); [ -n "$SPORT" ] && break; sleep 0.1
done
[ -n "$SPORT" ] || { echo "server did not start: $(cat "$T/server.log")"; exit 1; }

px_proxy load --trust "$T/root.pem" --handshake-timeout 60s || exit 1
CA="$T/home/ca.pem"
PROXY_PID=$PPID_LAST

# ---- 200 concurrent tunnels, 1 MB each ----
args=()
for i in $(seq 1 200); do args+=(-o "$T/got$i.bin" "https://127.0.0.1:$SPORT/f$i.bin"); done
curl -sS --max-time 240 --parallel --parallel-immediate --parallel-max 200 \
  -x "http://127.0.0.1:$PPORT" --proxy-cacert "$CA" --cacert "$CA" "${args[@]}"
px_check "curl --parallel exits 0" test $? = 0
bad=0
for i in $(seq 1 200); do cmp -s "$T/www/f$i.bin" "$T/got$i.bin" || bad=$((bad + 1)); done
px_check "200 concurrent 1 MB bodies byte-exact ($bad differ)" test "$bad" = 0
px_check "one capture for the 200 identical chains" test "$(ls "$T/home/captures" | wc -l)" = 1

# ---- a client that stops reading ----
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$PROXY_PID/status"; }
base=$(rss_kb)
cat > "$T/slow.py" <<'PY'
import socket, ssl, sys, time
proxy, port, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.create_connection(("127.0.0.1", proxy))
s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (port, port))
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(1)
assert b" 200 " in head.split(b"\r\n")[0], head
ctx = ssl.create_default_context(cafile=ca)
t = ctx.wrap_socket(s, server_hostname="127.0.0.1")
t.sendall(b"GET /huge.bin HTTP/1.0\r\nHost: x\r\n\r\n")
t.recv(1024)                      # the response starts
print("PAUSED", flush=True)
time.sleep(float(sys.argv[4]))    # stop reading
total = 0
while True:
    b = t.recv(1 << 16)
    if not b:
        break
    total += len(b)
print("BYTES", total, flush=True)
PY
python3 "$T/slow.py" "$PPORT" "$SPORT" "$CA" 6 > "$T/slow.log" 2>&1 &
SLOW=$!
PX_PIDS+=($SLOW)
sleep 4
peak=$(rss_kb)
grow=$(( (peak - base) / 1024 ))
echo "proxy RSS: base ${base} kB, while the client is stalled ${peak} kB (+${grow} MB)"
px_check "stalled client: proxy memory grows < 48 MB for a 256 MB body (+$grow MB)" test "$grow" -lt 48
wait "$SLOW"
total=$(sed -n 's/^BYTES \([0-9]*\)/\1/p' "$T/slow.log")
# The body after the first recv plus the headers: at least the whole file.
px_check "stalled client: the download completes once it reads again ($total bytes)" \
  test "${total:-0}" -ge $((256 * 1024 * 1024 - 1024))
px_done
