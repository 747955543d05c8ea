#!/usr/bin/env bash
# Security defaults of certskew proxy, against real peers on loopback:
#  - it listens on loopback only unless told otherwise;
#  - requests that would loop back into it are refused with 508 (by IP,
#    name and port), and loops through other names stay bounded;
#  - a CA private key readable by group or others is refused at start;
#  - the API rejects foreign Host headers (DNS rebinding: 421) and foreign
#    Origins (cross-origin writes: 403), while its own page still works;
#  - --verbose logs and the capture store hold no secret: not the CA key,
#    not the upstream's key, not cookies, Authorization values, bodies or
#    the TLS session secrets of the tunnel.
source "$CS_SRC/tests/lib/proxy_e2e_lib.sh"
T=$PX_TMP
cd "$T" || exit 1

px_ca_cnf "$T"
px_root "$T" root || exit 1
px_issue "$T" root leaf leaf_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1

# An HTTPS upstream that echoes each request (head and body) back.
cat > "$T/echo.py" <<'PY'
import http.server, ssl, sys
class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.requestline.encode() + b"\n" + bytes(self.headers) + self.rfile.read(n)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "srv_session=SRVCOOKIE-7d1e0a55c2; HttpOnly")
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = answer
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("PORT", srv.server_address[1], flush=True)
srv.serve_forever()
PY
python3 "$T/echo.py" "$T/leaf.pem" "$T/leaf.key" > "$T/echo.log" 2>&1 &
PX_PIDS+=($!)
for i in $(seq 1 100); do
  SPORT=$(sed -n 's/^PORT \([0-9]*\)/\1/p' "$T/echo.log"); [ -n "$SPORT" ] && break; sleep 0.1
done
[ -n "$SPORT" ] || { echo "echo server did not start: $(cat "$T/echo.log")"; exit 1; }

px_proxy sec --trust "$T/root.pem" --verbose || exit 1
P=$PPORT
PROXY_PID=$PPID_LAST
CA="$T/home/ca.pem"
curl_px() { curl -sS --max-time 20 -x "http://127.0.0.1:$P" --proxy-cacert "$CA" --cacert "$CA" "$@"; }

# ---- loopback only by default ----
# /proc/net/tcp{,6}: every listening socket (state 0A) on our port is 127.0.0.1.
listeners=$(awk -v p="$(printf '%04X' "$P")" 'FNR > 1 && $4 == "0A" {split($2, a, ":"); if (a[2] == p) print a[1]}' \
  /proc/net/tcp /proc/net/tcp6 | sort -u | tr '\n' ' ')
px_check "default listen is 127.0.0.1 only (listeners: $listeners)" test "$listeners" = "0100007F "
px_check "startup log names 127.0.0.1:$P" grep -q "listening on 127.0.0.1:$P" "$T/sec.log"

# ---- loops ----
# raw.py PROXY METHOD TARGET: sends the request as written (curl would
# normalise "127.1"), and for a CONNECT answered 200 speaks TLS through the
# tunnel (the minted leaf is not checked: only the answer matters here).
# Prints "<proxy status> <inner status or -> <X-Certskew-Error or ->".
cat > "$T/raw.py" <<'PY'
import socket, ssl, sys
port, method, target = int(sys.argv[1]), sys.argv[2], sys.argv[3]
extra = sys.argv[4] + "\r\n" if len(sys.argv) > 4 and sys.argv[4] else ""
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
host = target.split("/")[2] if "://" in target else target
s.sendall(("%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (method, target, host, extra)).encode())
f = s.makefile("rb")
st, code = status_and_code(head(f))
inner = "-"
if method == "CONNECT" and st == "200":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    t = ctx.wrap_socket(s, server_hostname="loop.test")
    t.sendall(b"GET / HTTP/1.1\r\nHost: loop.test\r\n\r\n")
    inner, code = status_and_code(head(t.makefile("rb")))
print(st, inner, code)
PY
# method | target | extra header | expected "<status> <inner> <code>"
LOOPS="CONNECT|127.0.0.1:$P||508 - -
CONNECT|localhost:$P||508 - -
CONNECT|LOCALHOST:$P||508 - -
CONNECT|[::1]:$P||508 - -
CONNECT|127.0.0.2:$P||508 - -
GET|http://127.0.0.1:$SPORT/|Via: 1.1 certskew|508 - -
GET|http://127.1:$P/x||502 - UPSTREAM_LOOP
GET|http://2130706433:$P/x||502 - UPSTREAM_LOOP
CONNECT|127.1:$P||200 502 UPSTREAM_LOOP
CONNECT|0x7f.1:$P||200 502 UPSTREAM_LOOP"
while IFS='|' read -r method target extra want; do
  got=$(timeout 30 python3 "$T/raw.py" "$P" "$method" "$target" "$extra" 2>&1)
  px_check "loop: $method $target $extra -> $want (got $got)" test "$got" = "$want"
done <<< "$LOOPS"
px_check "the proxy still serves after the loops" \
  test "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/api/captures")" = 200

# ---- API: Host and Origin (method | path | extra curl args | expected) ----
body='{"capture":"nope","clocks":["exact"]}'
API_CASES="GET|/api/captures||200
GET|/api/captures|-H@Host: localhost:$P|200
GET|/api/captures|-H@Host: [::1]:$P|200
GET|/api/captures|-H@Host: attacker.example:$P|421
GET|/api/captures|-H@Host: attacker.example|421
GET|/api/captures|-H@Host: 127.0.0.1|421
GET|/api/captures|-H@Host: 127.0.0.1:1|421
GET|/api/captures|-H@Host:|421
GET|/api/ca.pem|-H@Host: attacker.example:$P|421
GET|/|-H@Host: attacker.example:$P|421
GET|/api/captures|-H@Origin: http://attacker.example|403
POST|/api/replay||404
POST|/api/replay|-H@Origin: http://127.0.0.1:$P|404
POST|/api/replay|-H@Origin: http://localhost:$P|404
POST|/api/replay|-H@Origin: http://attacker.example|403
POST|/api/replay|-H@Origin: null|403
POST|/api/replay|-H@Origin: http://127.0.0.1:$P.attacker.example|403
POST|/api/replay|-H@Origin: https://127.0.0.1:$P|403
POST|/api/replay|-H@Origin: http://127.0.0.1:$((P + 1))|403
POST|/api/replay|-H@Host: attacker.example:$P|421"
while IFS='|' read -r method path extra want; do
  args=()
  [ -n "$extra" ] && args=("${extra%%@*}" "${extra#*@}")
  data=()
  [ "$method" = POST ] && data=(-H "Content-Type: application/json" --data "$body")
  got=$(curl -sS --max-time 10 -o "$T/api.out" -w '%{http_code}' -X "$method" "${args[@]}" \
    "${data[@]}" "http://127.0.0.1:$P$path")
  px_check "api: $method $path ${extra#*@} -> $want (got $got)" test "$got" = "$want"
done <<< "$API_CASES"
# curl --resolve: what a DNS-rebinding page looks like to the proxy.
got=$(curl -sS -o /dev/null -w '%{http_code}' --resolve "rebind.example:$P:127.0.0.1" \
  "http://rebind.example:$P/api/captures")
px_check "api: a rebound name is refused (got $got)" test "$got" = 421
curl -sS -o "$T/refused.json" -H "Host: attacker.example:$P" "http://127.0.0.1:$P/api/captures"
px_check "api: the refusal says why" grep -q "DNS rebinding" "$T/refused.json"
got=$(curl -sS -o /dev/null -w '%{http_code}' -x "http://127.0.0.1:$P" "http://127.0.0.1:$P/api/captures")
px_check "api through the proxy (absolute form) still works (got $got)" test "$got" = 200

# ---- no secrets in logs: a session with cookies, auth and a body ----
export SSLKEYLOGFILE="$T/client-keys.log"
SECRETS=(BEARER-5f0c2e7a9d41 COOKIE-b7e3a1c90f22 BODY-e4d2c8a6f019 "$(printf 'alice:PW-91ab3c7e' | base64)"
  SRVCOOKIE-7d1e0a55c2)
curl_px -o "$T/echoed.txt" -H "Authorization: Bearer ${SECRETS[0]}" -H "Cookie: sid=${SECRETS[1]}" \
  --data "secret=${SECRETS[2]}" "https://127.0.0.1:$SPORT/post"
curl_px -o "$T/echoed2.txt" -u alice:PW-91ab3c7e "https://127.0.0.1:$SPORT/basic"
unset SSLKEYLOGFILE
px_check "the tunnel carried the Authorization header" grep -q "${SECRETS[0]}" "$T/echoed.txt"
px_check "the tunnel carried the body" grep -q "${SECRETS[2]}" "$T/echoed.txt"
px_check "the tunnel carried basic auth" grep -q "${SECRETS[3]}" "$T/echoed2.txt"
px_check "curl logged TLS session secrets" grep -q CLIENT_RANDOM "$T/client-keys.log"
# Strings that must not appear: each secret, every base64 line of the CA
# key and the upstream key, and each TLS master secret of the session.
: > "$T/needles"
printf '%s\n' "${SECRETS[@]}" PW-91ab3c7e "PRIVATE KEY" >> "$T/needles"
grep -hv -- '-----' "$T/home/ca-key.pem" "$T/leaf.key" >> "$T/needles"
awk '{print $3; print $2}' "$T/client-keys.log" | sort -u >> "$T/needles"
kill -TERM "$PROXY_PID"; wait "$PROXY_PID"
px_check "proxy exits 0 on SIGTERM" test $? = 0
px_check "verbose log is not empty ($(wc -l < "$T/sec.log") lines)" test -s "$T/sec.log"
leaks=$(grep -F -f "$T/needles" "$T/sec.log" | head -3)
px_check "no secret in the verbose log ${leaks:+($leaks)}" test -z "$leaks"
leaks=$(find "$T/home/captures" -type f -print0 | xargs -0 grep -l -F -f "$T/needles" | head -3)
px_check "no secret in the capture store ${leaks:+($leaks)}" test -z "$leaks"

# ---- the CA key's mode: mode | starts? ----
MODES="644|no
640|no
604|no
660|no
620|no
600|yes
400|yes"
while IFS='|' read -r mode ok; do
  chmod "$mode" "$T/home/ca-key.pem"
  rm -f "$T/mode.port"
  CERTSKEW_HOME="$T/home" timeout 10 "$CS_BIN" proxy --port 0 --port-file "$T/mode.port" \
    > "$T/mode.log" 2>&1 &
  pid=$!
  if [ "$ok" = yes ]; then
    px_check "key mode $mode: proxy starts" px_wait_file "$T/mode.port"
    kill -TERM "$pid"; wait "$pid"
  else
    wait "$pid"; rc=$?
    px_check "key mode $mode: proxy refuses to start (exit $rc)" test "$rc" = 1
    px_check "key mode $mode: the message names the mode and the fix" \
      grep -q "mode $mode.*chmod 600 $T/home/ca-key.pem" "$T/mode.log"
  fi
done <<< "$MODES"
chmod 644 "$T/home/ca-key.pem"
CERTSKEW_HOME="$T/home" "$CS_BIN" ca export > /dev/null 2> "$T/export.log"
px_check "ca export refuses the readable key too" grep -q "chmod 600" "$T/export.log"
chmod 600 "$T/home/ca-key.pem"
px_done
