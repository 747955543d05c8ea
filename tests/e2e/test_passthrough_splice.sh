#!/usr/bin/env bash
# The passthrough relay's zero-copy mode (net/splice_relay.c): once the
# observer has the handshake it captures, a tunnel's bytes move with
# splice(2). Against real peers on loopback: large downloads and uploads
# intact over TLS 1.2 and 1.3, a half-close passed on in each direction, 16
# tunnels at once, a client that never reads while its server pushes (the
# proxy keeps serving others, its memory does not grow with the backlog), and
# no pipe descriptor left behind once the tunnels are gone.
source "$CS_SRC/tests/lib/proxy_e2e_lib.sh"
T=$PX_TMP
cd "$T" || exit 1

px_ca_cnf "$T"
px_root "$T" root || exit 1
px_issue "$T" root leaf leaf_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1
mkdir -p "$T/www"
head -c 40000000 /dev/urandom > "$T/www/big.bin"
head -c 20000000 /dev/urandom > "$T/up.bin"
head -c 4000000 /dev/urandom > "$T/www/small.bin"

px_proxy pass --trust "$T/root.pem" --passthrough --verbose || exit 1
PASS=$PPORT
PXPID=$PPID_LAST
curl_pt() { curl -sS --max-time 60 -x "http://127.0.0.1:$PASS" --cacert "$T/root.pem" "$@"; }
fds() { ls "/proc/$PXPID/fd" | wc -l; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$PXPID/status"; }
spliced() { grep -c "relaying with splice(2)" "$T/pass.log"; }
FDS0=$(fds)

# ---- downloads, TLS 1.2 and 1.3 ----
for ver in -tls1_2 -tls1_3; do
  (cd "$T/www" && exec openssl s_server -accept 127.0.0.1:0 -cert "$T/leaf.pem" -key "$T/leaf.key" \
     -cert_chain "$T/root.pem" $ver -WWW > "$T/s$ver.log" 2>&1) &
  PX_PIDS+=($!)
  port=""
  for i in $(seq 1 100); do
    port=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/s$ver.log" | head -1)
    [ -n "$port" ] && break; sleep 0.1
  done
  before=$(spliced)
  curl_pt -o "$T/out$ver" "https://127.0.0.1:$port/big.bin"
  px_check "$ver: 40 MB download intact" cmp -s "$T/out$ver" "$T/www/big.bin"
  px_check "$ver: the tunnel was spliced" test "$(spliced)" -gt "$before"
  [ "$ver" = -tls1_2 ] && PORT12=$port
done

# ---- an upload, and a half-close each way, through a python3 peer ----
cat > "$T/peer.py" <<'PY'
# Real peers for the tunnel, over TLS (python3's ssl, i.e. OpenSSL) or raw TCP.
#   server-upload CERT KEY PORTFILE: TLS; reads an HTTP POST, answers the body's sha256
#   server-halfclose PORTFILE: TCP; reads to EOF, answers sha256 + 4 MB, closes
#   client-halfclose PROXYPORT PORT FILE: CONNECT, sends FILE, half-closes, prints what came back
import hashlib, socket, ssl, sys, threading
def serve(sock, handle):
    while True:
        c, _ = sock.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()
def listen(portfile):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
    open(portfile, "w").write(str(s.getsockname()[1]))
    return s
mode = sys.argv[1]
if mode == "server-upload":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    def handle(c):
        t = ctx.wrap_socket(c, server_side=True)
        f = t.makefile("rb")
        length = 0
        while True:
            line = f.readline()
            if line in (b"\r\n", b""): break
            if line.lower().startswith(b"content-length:"): length = int(line.split(b":")[1])
        h = hashlib.sha256(); left = length
        while left > 0:
            b = f.read(min(left, 65536))
            if not b: break
            h.update(b); left -= len(b)
        body = h.hexdigest().encode()
        t.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        t.close()
    serve(listen(sys.argv[4]), handle)
elif mode == "server-halfclose":
    def handle(c):
        h = hashlib.sha256()
        while True:
            b = c.recv(65536)
            if not b: break
            h.update(b)
        c.sendall(h.hexdigest().encode() + b"\n" + hashlib.sha256(b"tail").digest() * 125000)
        c.close()
    serve(listen(sys.argv[2]), handle)
elif mode == "client-halfclose":
    c = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
    c.sendall(b"CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: x\r\n\r\n" % sys.argv[3].encode())
    head = b""
    while b"\r\n\r\n" not in head: head += c.recv(1)
    if b" 200 " not in head.split(b"\r\n")[0]: sys.exit("CONNECT refused: %r" % head)
    c.sendall(open(sys.argv[4], "rb").read())
    c.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = c.recv(65536)
        if not b: break
        got += b
    line, _, rest = got.partition(b"\n")
    print(line.decode(), len(rest), hashlib.sha256(rest).hexdigest())
PY
python3 "$T/peer.py" server-upload "$T/leaf.pem" "$T/leaf.key" "$T/up.port" &
PX_PIDS+=($!)
python3 "$T/peer.py" server-halfclose "$T/hc.port" &
PX_PIDS+=($!)
px_wait_file "$T/up.port" && px_wait_file "$T/hc.port" || { echo "python peers did not start" >&2; exit 1; }
before=$(spliced)
got=$(curl_pt --data-binary @"$T/up.bin" -H "Content-Type: application/octet-stream" \
  "https://127.0.0.1:$(cat "$T/up.port")/")
px_check "20 MB upload intact (server's sha256 $got)" test "$got" = "$(sha256sum < "$T/up.bin" | cut -d' ' -f1)"
px_check "upload: the tunnel was spliced" test "$(spliced)" -gt "$before"

# Raw TCP (the observer gives up on a tunnel without TLS at once): the
# client's half-close reaches the server, which answers and closes.
before=$(spliced)
read -r hash taillen tailhash < <(python3 "$T/peer.py" client-halfclose "$PASS" "$(cat "$T/hc.port")" "$T/up.bin")
px_check "half-close: the server read the client's 20 MB to its end" \
  test "$hash" = "$(sha256sum < "$T/up.bin" | cut -d' ' -f1)"
want_tail=$(python3 -c 'import hashlib; print(hashlib.sha256(hashlib.sha256(b"tail").digest() * 125000).hexdigest())')
px_check "half-close: the 4 MB answer after it arrived whole, then the server's close ($taillen bytes)" \
  test "$tailhash" = "$want_tail"
px_check "half-close: the tunnel was spliced" test "$(spliced)" -gt "$before"

# ---- 16 tunnels at once ----
(cd "$T/www" && exec openssl s_server -accept 127.0.0.1:0 -cert "$T/leaf.pem" -key "$T/leaf.key" \
   -cert_chain "$T/root.pem" -WWW > "$T/s_many.log" 2>&1) &
PX_PIDS+=($!)
for i in $(seq 1 100); do
  MPORT=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/s_many.log" | head -1)
  [ -n "$MPORT" ] && break; sleep 0.1
done
pids=()
for i in $(seq 1 16); do
  curl_pt -o "$T/many_$i" "https://127.0.0.1:$MPORT/small.bin" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
ok=0
for i in $(seq 1 16); do cmp -s "$T/many_$i" "$T/www/small.bin" && ok=$((ok + 1)); done
px_check "16 parallel tunnels: all 16 bodies intact (got $ok)" test "$ok" = 16

# ---- a client that never reads while its server pushes 40 MB ----
RSS0=$(rss_kb)
python3 - "$PASS" "$PORT12" > "$T/stall.log" 2>&1 <<'PY' &
import socket, ssl, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
c.sendall(b"CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: x\r\n\r\n" % sys.argv[2].encode())
head = b""
while b"\r\n\r\n" not in head: head += c.recv(1)
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(c, server_hostname="127.0.0.1")
t.sendall(b"GET /big.bin HTTP/1.0\r\n\r\n")
t.recv(100)  # the response has begun: from here on, never read again
print("stalled", flush=True)
time.sleep(60)
PY
STALL=$!
PX_PIDS+=($STALL)
for i in $(seq 1 100); do grep -q stalled "$T/stall.log" && break; sleep 0.1; done
sleep 1
curl_pt -o "$T/during_stall" "https://127.0.0.1:$MPORT/small.bin"
px_check "a never-reading client: others are still served" cmp -s "$T/during_stall" "$T/www/small.bin"
RSS1=$(rss_kb)
px_check "a never-reading client: the proxy's memory did not take the backlog (${RSS0} kB -> ${RSS1} kB)" \
  test $((RSS1 - RSS0)) -lt 16384
kill "$STALL" 2>/dev/null; wait "$STALL" 2>/dev/null

# ---- every tunnel gone: the same descriptors as before (no pipe left) ----
for i in $(seq 1 100); do [ "$(fds)" -le "$FDS0" ] && break; sleep 0.1; done
px_check "no descriptor left behind ($FDS0 before, $(fds) after)" test "$(fds)" -le "$FDS0"
px_done
