#!/usr/bin/env bash
# Generates the seed corpus of fuzz/fuzz_trust_store.c with the openssl CLI:
# a PEM bundle (root, intermediate, leaf with SAN and AIA), the same chain
# leaf-first, one DER certificate, and a bundle cut in the middle of a block.
# Usage: fuzz/make_seeds_trust.sh [output dir]
set -euo pipefail
out=${1:-"$(cd "$(dirname "$0")" && pwd)/corpus/fuzz_trust_store"}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
key root; key inter; key leaf
openssl req -x509 -new -key root.key -subj "/CN=Seed Root" -days 3650 -out root.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
openssl req -new -key inter.key -subj "/CN=Seed Inter" -out inter.csr 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\nnameConstraints=critical,permitted;DNS:example.test,excluded;IP:10.0.0.0/255.0.0.0\n' > inter.ext
openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -CAcreateserial -days 365 \
  -extfile inter.ext -out inter.pem 2>/dev/null
openssl req -new -key leaf.key -subj "/CN=www.example.test" -out leaf.csr 2>/dev/null
cat > leaf.ext <<'EXT'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:www.example.test,DNS:*.example.test,IP:192.0.2.7
authorityInfoAccess=caIssuers;URI:http://ca.example.test/inter.der
EXT
openssl x509 -req -in leaf.csr -CA inter.pem -CAkey inter.key -CAcreateserial -days 90 \
  -extfile leaf.ext -out leaf.pem 2>/dev/null
cat root.pem inter.pem leaf.pem > "$out/bundle.pem"
cat leaf.pem inter.pem root.pem > "$out/chain.pem"
openssl x509 -in leaf.pem -outform DER -out "$out/leaf.der"
head -c 900 "$out/chain.pem" > "$out/cut.pem"
