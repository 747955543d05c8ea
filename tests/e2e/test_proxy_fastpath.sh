#!/usr/bin/env bash
# The relay's fast record path (net/tls_records.c, libcrypto's AEAD once
# mbedTLS finished the handshakes), end to end: curl through the proxy to
# openssl s_server restricted to each TLS 1.2 AEAD suite downloads a 4 MB
# file intact, both legs say they moved to the fast path; records cut in
# odd pieces across reads arrive intact; a GnuTLS server works the same; a
# CBC-only server still works with its leg on mbedTLS.
source "$CS_SRC/tests/lib/proxy_e2e_lib.sh"
T=$PX_TMP
cd "$T" || exit 1

px_ca_cnf "$T"
px_root "$T" root || exit 1
px_issue "$T" root inter inter_ext "$(px_date -864000)" "$(px_date 8640000)" || exit 1
px_issue "$T" inter valid leaf_ext "$(px_date -3600)" "$(px_date 864000)" || exit 1
cat "$T/valid.pem" "$T/inter.pem" > "$T/valid_chain.pem"
head -c 4000000 /dev/urandom > "$T/big.bin"
want=$(sha256sum < "$T/big.bin" | cut -d' ' -f1)

px_proxy main --trust "$T/root.pem" --verbose || exit 1
CA="$T/home/ca.pem"
curl_px() { curl -sS --max-time 60 -x "http://127.0.0.1:$PPORT" --proxy-cacert "$CA" --cacert "$CA" "$@"; }
# fast_lines PORT LEG: how many times LEG of connections to PORT moved over.
fast_lines() { grep -c "\[127.0.0.1:$1\] $2: records on the fast path" "$T/main.log"; }

# ---- table: openssl cipher (upstream) | curl cipher (client leg) | mbedTLS name ----
CASES="ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-AES128-GCM-SHA256|TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256
ECDHE-ECDSA-AES256-GCM-SHA384|ECDHE-ECDSA-AES256-GCM-SHA384|TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384
ECDHE-ECDSA-CHACHA20-POLY1305|ECDHE-ECDSA-CHACHA20-POLY1305|TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256"
while IFS='|' read -r up cl suite; do
  px_s_server "$T/s_$up.log" -tls1_2 -cipher "$up" -cert "$T/valid.pem" -key "$T/valid.key" \
    -cert_chain "$T/inter.pem" -WWW || exit 1
  got=$(curl_px --tls-max 1.2 --ciphers "$cl" -o "$T/out_$up" -w '%{http_code}' \
    "https://127.0.0.1:$SPORT/big.bin")
  px_check "$up: status 200 (got $got)" test "$got" = 200
  px_check "$up: 4 MB intact (sha256)" test "$(sha256sum < "$T/out_$up" | cut -d' ' -f1)" = "$want"
  px_check "$up: upstream leg on the fast path" test "$(fast_lines "$SPORT" upstream)" -ge 1
  px_check "$up: client leg on the fast path" test "$(fast_lines "$SPORT" client)" -ge 1
  px_check "$up: both legs on $suite" \
    test "$(grep -c "\[127.0.0.1:$SPORT\] .*: records on the fast path ($suite)" "$T/main.log")" = 2
done <<< "$CASES"

# ---- records split across reads: a relay between the proxy and s_server
# forwards the server's bytes in odd pieces (1, 7, 1000, 5 bytes, ...),
# pausing now and then so the proxy reads them apart ----
px_s_server "$T/s_split.log" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -cert "$T/valid.pem" \
  -key "$T/valid.key" -cert_chain "$T/inter.pem" -WWW || exit 1
head -c 1000000 "$T/big.bin" > "$T/mid.bin"
python3 - "$SPORT" "$T/chop.port" <<'PY' > "$T/chop.log" 2>&1 &
import socket, sys, threading, time
up_port, port_file = int(sys.argv[1]), sys.argv[2]
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(8)
open(port_file + ".tmp", "w").write(str(srv.getsockname()[1]))
import os; os.rename(port_file + ".tmp", port_file)
def pipe(a, b, chop):
    sizes, i, n = (1, 7, 1000, 5, 333, 16390), 0, 0
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            while d:
                k = sizes[i % len(sizes)] if chop else len(d)
                b.sendall(d[:k]); d = d[k:]; i += 1; n += 1
                if chop and n % 16 == 0: time.sleep(0.001)
    except OSError: pass
    try: b.shutdown(socket.SHUT_WR)
    except OSError: pass
while True:
    c, _ = srv.accept()
    u = socket.create_connection(("127.0.0.1", up_port))
    for s in (c, u): s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    threading.Thread(target=pipe, args=(c, u, False), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c, True), daemon=True).start()
PY
PX_PIDS+=($!)
px_wait_file "$T/chop.port" || exit 1
CPORT=$(cat "$T/chop.port")
got=$(curl_px -o "$T/out_split" -w '%{http_code}' "https://127.0.0.1:$CPORT/mid.bin")
px_check "split records: status 200 (got $got)" test "$got" = 200
px_check "split records: 1 MB intact" cmp -s "$T/out_split" "$T/mid.bin"
px_check "split records: upstream leg on the fast path" test "$(fast_lines "$CPORT" upstream)" -ge 1

# ---- a GnuTLS server (AES-256-GCM only, TLS 1.2) ----
SPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
gnutls-serv --port "$SPORT" --http --x509certfile "$T/valid_chain.pem" --x509keyfile "$T/valid.key" \
  --priority "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM" > "$T/gnutls.log" 2>&1 &
PX_PIDS+=($!)
for i in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$SPORT") 2>/dev/null && break
  sleep 0.1
done
got=$(curl_px -o "$T/out_gnutls" -w '%{http_code}' "https://127.0.0.1:$SPORT/")
px_check "gnutls: status 200 (got $got)" test "$got" = 200
px_check "gnutls: page served by GnuTLS" grep -qi "gnutls" "$T/out_gnutls"
px_check "gnutls: upstream leg on the fast path" test "$(fast_lines "$SPORT" upstream)" -ge 1

# ---- a CBC-only server: that leg stays on mbedTLS and still works ----
px_s_server "$T/s_cbc.log" -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256 -cert "$T/valid.pem" \
  -key "$T/valid.key" -cert_chain "$T/inter.pem" -WWW || exit 1
got=$(curl_px -o "$T/out_cbc" -w '%{http_code}' "https://127.0.0.1:$SPORT/big.bin")
px_check "cbc: status 200 (got $got)" test "$got" = 200
px_check "cbc: 4 MB intact (sha256)" test "$(sha256sum < "$T/out_cbc" | cut -d' ' -f1)" = "$want"
px_check "cbc: upstream leg stays on mbedTLS" test "$(fast_lines "$SPORT" upstream)" = 0
px_check "cbc: client leg on the fast path" test "$(fast_lines "$SPORT" client)" -ge 1

px_done
