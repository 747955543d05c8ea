#!/usr/bin/env bash
# Regenerates the revocation fuzz seeds with openssl and the project's own
# probe test: OCSP responses (good/revoked/unknown/delegated/unauthorized),
# CRLs (DER and PEM) and captured TLS 1.2 server flights.
# Usage: fuzz/make_seeds_revocation.sh [build-dir]   (build dir holds tests/test_probe_stapling)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > ca.cnf <<'CNF'
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = .
certificate = ca.crt
private_key = ca.key
database = index.txt
new_certs_dir = newcerts
serial = serial
crlnumber = crlnumber
default_md = sha256
policy = policy_any
default_days = 30
default_crl_days = 7
unique_subject = no
[ policy_any ]
commonName = supplied
[ ocsp_ext ]
extendedKeyUsage = OCSPSigning
CNF
mkdir newcerts; : > index.txt; echo 1000 > serial; echo 01 > crlnumber
K=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${K[@]}" -keyout ca.key -out ca.crt -subj '/CN=Seed CA' -days 365 2>/dev/null
for n in good revoked ocsp; do openssl req -new "${K[@]}" -keyout $n.key -out $n.csr -subj /CN=$n 2>/dev/null; done
openssl ca -batch -config ca.cnf -in good.csr -out good.crt -notext 2>/dev/null
openssl ca -batch -config ca.cnf -in revoked.csr -out revoked.crt -notext 2>/dev/null
openssl ca -batch -config ca.cnf -extensions ocsp_ext -in ocsp.csr -out ocsp.crt -notext 2>/dev/null
openssl ca -batch -config ca.cnf -revoke revoked.crt -crl_reason keyCompromise 2>/dev/null
out=$src/fuzz/corpus
for c in good revoked; do
  openssl ocsp -index index.txt -rsigner ca.crt -rkey ca.key -CA ca.crt -issuer ca.crt \
    -cert $c.crt -respout "$out/fuzz_ocsp/$c.der" -ndays 1 >/dev/null 2>&1
done
openssl ocsp -index index.txt -rsigner ocsp.crt -rkey ocsp.key -CA ca.crt -issuer ca.crt \
  -cert good.crt -respout "$out/fuzz_ocsp/delegated.der" -ndays 1 -resp_key_id >/dev/null 2>&1
printf 'asn1=SEQUENCE:r\n[r]\ns=ENUMERATED:6\n' > u.cnf
openssl asn1parse -genconf u.cnf -noout -out "$out/fuzz_ocsp/unauthorized.der"
openssl ca -gencrl -config ca.cnf -out crl.pem 2>/dev/null
cp crl.pem "$out/fuzz_crl/crl.pem"
openssl crl -in crl.pem -outform DER -out "$out/fuzz_crl/crl.der"
if [ -x "$build/tests/test_probe_stapling" ]; then
  CS_WRITE_SEEDS="$out/fuzz_tls_probe" "$build/tests/test_probe_stapling" >/dev/null
else
  echo "no $build/tests/test_probe_stapling: TLS flight seeds not refreshed" >&2
fi
