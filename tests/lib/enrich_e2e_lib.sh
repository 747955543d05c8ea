# Shared fixtures for the enrichment e2e tests (tests/e2e/test_enrich_*.sh),
# on top of proxy_e2e_lib.sh: a root -> intermediate -> leaves PKI whose
# leaves name an OCSP responder, a CRL and caIssuers on 127.0.0.1, and the
# peers answering there: `openssl ocsp -port`, python3's http.server, and
# two hostile ones (garbage bytes; accepts and never answers).
source "$CS_SRC/tests/lib/proxy_e2e_lib.sh"

# A free 127.0.0.1 port (bind 0, read, close).
en_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# en_pki DIR: builds the PKI; needs OCSP_PORT HTTP_PORT BAD_PORT SILENT_PORT.
# Leaves (all by inter, SAN 127.0.0.1/localhost): good, revoked (listed in
# the index and the CRL), garbage (OCSP and CRL at BAD_PORT), silent (OCSP
# and CRL at SILENT_PORT). DIR/www holds inter.der and inter.crl.
en_pki() {
  local d=$1
  mkdir -p "$d/newcerts" "$d/www"; : > "$d/index.txt"; echo 1000 > "$d/serial"; echo 01 > "$d/crlnumber"
  local san="subjectAltName = IP:127.0.0.1,DNS:localhost"
  local leaf="basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
$san"
  cat > "$d/ca.cnf" <<CNF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = $d
database = $d/index.txt
new_certs_dir = $d/newcerts
serial = $d/serial
crlnumber = $d/crlnumber
default_md = sha256
default_crl_days = 7
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
[ inter_ext ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
[ good_ext ]
$leaf
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$OCSP_PORT/,caIssuers;URI:http://127.0.0.1:$HTTP_PORT/inter.der
crlDistributionPoints = URI:http://127.0.0.1:$HTTP_PORT/inter.crl
[ garbage_ext ]
$leaf
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$BAD_PORT/
crlDistributionPoints = URI:http://127.0.0.1:$BAD_PORT/inter.crl
[ silent_ext ]
$leaf
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$SILENT_PORT/
crlDistributionPoints = URI:http://127.0.0.1:$SILENT_PORT/inter.crl
CNF
  px_root "$d" root || return 1
  px_issue "$d" root inter inter_ext "$(px_date -864000)" "$(px_date 8640000)" || return 1
  px_issue "$d" inter good good_ext "$(px_date -3600)" "$(px_date 864000)" || return 1
  px_issue "$d" inter revoked good_ext "$(px_date -3600)" "$(px_date 864000)" || return 1
  px_issue "$d" inter garbage garbage_ext "$(px_date -3600)" "$(px_date 864000)" || return 1
  px_issue "$d" inter silent silent_ext "$(px_date -3600)" "$(px_date 864000)" || return 1
  openssl ca -batch -config "$d/ca.cnf" -cert "$d/inter.pem" -keyfile "$d/inter.key" \
    -revoke "$d/revoked.pem" -crl_reason keyCompromise 2>/dev/null || return 1
  openssl ca -batch -config "$d/ca.cnf" -cert "$d/inter.pem" -keyfile "$d/inter.key" -gencrl \
    -out "$d/inter.crl.pem" 2>/dev/null || return 1
  openssl crl -in "$d/inter.crl.pem" -outform DER -out "$d/www/inter.crl" || return 1
  openssl x509 -in "$d/inter.pem" -outform DER -out "$d/www/inter.der" || return 1
  # Staples made now by openssl ocsp, valid one day.
  local n
  for n in good revoked; do
    openssl ocsp -index "$d/index.txt" -rsigner "$d/inter.pem" -rkey "$d/inter.key" \
      -CA "$d/inter.pem" -issuer "$d/inter.pem" -cert "$d/$n.pem" -ndays 1 \
      -respout "$d/$n.ocsp" > /dev/null 2>&1 || return 1
  done
}

# en_wait_log LOG TEXT: up to 10 s for TEXT to appear in LOG.
en_wait_log() {
  local i
  for i in $(seq 1 100); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# en_peers DIR: starts the OCSP responder, the HTTP server and the hostile
# peers on their ports (logs in DIR/*.log).
en_peers() {
  local d=$1
  openssl ocsp -index "$d/index.txt" -port "$OCSP_PORT" -rsigner "$d/inter.pem" \
    -rkey "$d/inter.key" -CA "$d/inter.pem" -nmin 10 > "$d/ocspd.log" 2>&1 &
  PX_PIDS+=($!)
  (cd "$d/www" && exec python3 -u -m http.server --bind 127.0.0.1 "$HTTP_PORT") \
    > "$d/httpd.log" 2>&1 &
  PX_PIDS+=($!)
  # Garbage: raw non-HTTP bytes for OCSP, HTTP 200 with a junk body for the CRL.
  python3 -u -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); print("ready", flush=True)
while True:
    c, _ = s.accept(); req = c.recv(65536)
    if b"crl" in req.split(b"\r\n")[0]:
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 16\r\nConnection: close\r\n\r\n\x30\x82junk-not-a-crl")
    else:
        c.sendall(b"\x00\xff\x13garbage, not HTTP at all\r\n\r\n")
    c.close()' "$BAD_PORT" > "$d/bad.log" 2>&1 &
  PX_PIDS+=($!)
  # Silent: accepts, reads, never answers (connections kept open).
  python3 -u -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); print("ready", flush=True)
held = []
while True:
    c, _ = s.accept(); held.append(c)' "$SILENT_PORT" > "$d/silent.log" 2>&1 &
  PX_PIDS+=($!)
  en_wait_log "$d/ocspd.log" "waiting for OCSP client" || { echo "ocsp responder: $(cat "$d/ocspd.log")" >&2; return 1; }
  en_wait_log "$d/httpd.log" "Serving HTTP" || { echo "httpd: $(cat "$d/httpd.log")" >&2; return 1; }
  en_wait_log "$d/bad.log" ready && en_wait_log "$d/silent.log" ready
}

# en_j FILE EXPR: evaluates a python expression over the JSON in FILE as d.
en_j() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$1" "$2"
}
# en_codes FILE: the report's finding codes, one per line.
en_codes() { en_j "$1" '"\n".join(f["code"] for f in d["findings"])'; }
export -f en_j en_codes
