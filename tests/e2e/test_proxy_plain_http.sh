#!/usr/bin/env bash
# Plain-HTTP proxying (absolute-form) parses every request (issue #16,
# item 2), against two python3 http.server upstreams on loopback:
#  - two requests pipelined on one client connection for two different
#    upstreams: each upstream gets only its own request, with Host from the
#    URL and no Proxy-Authorization / Proxy-Connection; both responses come
#    back in order;
#  - bodies (Content-Length and chunked) arrive intact, keep-alive works
#    with curl -x;
#  - smuggling attempts (Content-Length with Transfer-Encoding, two
#    Content-Lengths, obs-fold) are refused with 400 and reach no upstream.
source "$CS_SRC/tests/lib/proxy_e2e_lib.sh"
T=$PX_TMP
cd "$T" || exit 1

# An upstream that logs every request (line, headers, body) to LOG and
# answers with its name, the request line, and the body's length.
cat > "$T/up.py" <<'PY'
import http.server, json, sys
name, log = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def answer(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b""): pass
                    break
                body += self.rfile.read(n); self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with open(log, "a") as f:
            f.write(json.dumps({"line": self.requestline, "headers": dict(self.headers),
                                "body": body.decode("latin1")}) + "\n")
        out = ("%s %s %d" % (name, self.requestline, len(body))).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    do_GET = do_POST = do_PUT = answer
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print("PORT", srv.server_address[1], flush=True)
srv.serve_forever()
PY
start_up() { # start_up NAME: sets UPORT
  python3 "$T/up.py" "$1" "$T/$1.requests" > "$T/$1.out" 2>&1 &
  PX_PIDS+=($!)
  UPORT=""
  for i in $(seq 1 100); do
    UPORT=$(sed -n 's/^PORT \([0-9]*\)/\1/p' "$T/$1.out"); [ -n "$UPORT" ] && return 0; sleep 0.1
  done
  return 1
}
start_up a || exit 1; A=$UPORT
start_up b || exit 1; B=$UPORT
touch "$T/a.requests" "$T/b.requests"
px_proxy plain || exit 1
P=$PPORT

# ---- two pipelined requests for two upstreams ----
got=$(timeout 20 python3 - "$P" "$A" "$B" <<'PY'
import socket, sys
p, a, b = map(int, sys.argv[1:])
s = socket.create_connection(("127.0.0.1", p), timeout=10)
s.sendall(("GET http://127.0.0.1:%d/first HTTP/1.1\r\nHost: wrong.example\r\n"
           "Proxy-Authorization: Basic U0VDUkVULTE=\r\nProxy-Connection: keep-alive\r\n\r\n"
           "POST http://127.0.0.1:%d/second?q=1 HTTP/1.1\r\nHost: other.example\r\n"
           "Proxy-Authorization: Basic U0VDUkVULTI=\r\nContent-Length: 5\r\n\r\nhello" % (a, b)).encode())
f = s.makefile("rb")
out = []
for _ in range(2):
    st = f.readline().decode().strip()
    n = 0
    while True:
        l = f.readline()
        if l in (b"\r\n", b""): break
        if l.lower().startswith(b"content-length:"): n = int(l.split(b":")[1])
    out.append(st.split()[1] + ":" + f.read(n).decode())
print("|".join(out))
PY
)
px_check "pipelined: both answered in order (got $got)" \
  test "$got" = "200:a GET /first HTTP/1.1 0|200:b POST /second?q=1 HTTP/1.1 5"
check_req() { # check_req UPSTREAM PYTHON-EXPR-ON-r
  python3 -c 'import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
r = rs[-1] if rs else None
sys.exit(0 if r is not None and eval(sys.argv[2]) else 1)' "$T/$1.requests" "$2"
}
px_check "upstream a got exactly one request" test "$(wc -l < "$T/a.requests")" = 1
px_check "upstream b got exactly one request" test "$(wc -l < "$T/b.requests")" = 1
px_check "a: its own request line" check_req a 'r["line"] == "GET /first HTTP/1.1"'
px_check "b: its own request line and body" check_req b 'r["line"] == "POST /second?q=1 HTTP/1.1" and r["body"] == "hello"'
px_check "a: Host from the URL" check_req a "r['headers']['Host'] == '127.0.0.1:$A'"
px_check "b: Host from the URL" check_req b "r['headers']['Host'] == '127.0.0.1:$B'"
px_check "no Proxy-Authorization upstream" \
  test -z "$(grep -il 'proxy-authorization\|SECRET' "$T/a.requests" "$T/b.requests")"
px_check "no Proxy-Connection upstream" test -z "$(grep -il 'proxy-connection' "$T/a.requests" "$T/b.requests")"

# ---- curl -x: keep-alive over several URLs, bodies ----
: > "$T/a.requests"; : > "$T/b.requests"
head -c 300000 /dev/urandom | base64 -w0 > "$T/big.txt"
curl -sS --max-time 20 -x "http://127.0.0.1:$P" -o "$T/c1" "http://127.0.0.1:$A/one" \
  --next -x "http://127.0.0.1:$P" -o "$T/c2" "http://127.0.0.1:$B/two" \
  --next -x "http://127.0.0.1:$P" -o "$T/c3" --data-binary "@$T/big.txt" "http://127.0.0.1:$A/big" \
  --next -x "http://127.0.0.1:$P" -o "$T/c4" -H "Transfer-Encoding: chunked" --data-binary "@$T/big.txt" "http://127.0.0.1:$B/chunked" \
  -w '%{num_connects}\n' > "$T/curl.out" 2> "$T/curl.err"
px_check "curl: first response" grep -q "^a GET /one HTTP/1.1 0$" "$T/c1"
px_check "curl: second response, other upstream" grep -q "^b GET /two HTTP/1.1 0$" "$T/c2"
px_check "curl: Content-Length body intact" grep -q "^a POST /big HTTP/1.1 $(stat -c %s "$T/big.txt")$" "$T/c3"
px_check "curl: chunked body intact" grep -q "^b POST /chunked HTTP/1.1 $(stat -c %s "$T/big.txt")$" "$T/c4"
px_check "curl: bodies byte for byte" check_req b "r['body'] == open('$T/big.txt').read()"
px_check "curl: one connection to the proxy for all four (keep-alive; $(tail -1 "$T/curl.out"))" \
  test "$(tail -1 "$T/curl.out")" = 0

# ---- smuggling: refused, nothing reaches an upstream ----
: > "$T/a.requests"
SMUGGLE=("POST http://127.0.0.1:$A/s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
"POST http://127.0.0.1:$A/s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nhello"
"GET http://127.0.0.1:$A/s HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n"
"POST http://127.0.0.1:$A/s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc"
"POST http://127.0.0.1:$A/s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n")
for req in "${SMUGGLE[@]}"; do
  got=$(printf "$req" | timeout 10 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.stdin.buffer.read())
print(s.makefile("rb").readline().decode().split()[1])' "$P" 2>&1)
  px_check "smuggling refused with 400: $(printf '%s' "$req" | head -c 90 | tr '\r\n' '  ') (got $got)" test "$got" = 400
done
px_check "no smuggled request reached the upstream" test ! -s "$T/a.requests"
px_done
