#!/usr/bin/env bash
# Regenerates the CRL fuzz seeds with openssl (fuzz/corpus/fuzz_crl/). Each
# seed is a CRL, optionally followed by a certificate that fuzz_crl uses as
# the issuer for cs_crl_verify (DER after DER, PEM after PEM), so the seeds
# reach every branch of the wrapper: entries found by serial with their
# revocation dates, signatures that verify (ECDSA, RSA PKCS#1 v1.5 with
# SHA-1/256/384/512, RSA-PSS), that do not (same name, other key), and
# issuers of another name. Usage: fuzz/make_seeds_crl.sh
set -euo pipefail
out="$(cd "$(dirname "$0")" && pwd)/corpus/fuzz_crl"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# mkca NAME KEYARGS...: a CA directory NAME/ with ca.crt, ca.key and 3 revoked leaves.
mkca() {
  local d=$1; shift
  mkdir -p "$d/newcerts"; : > "$d/index.txt"; echo 1000 > "$d/serial"; echo 01 > "$d/crlnumber"
  cat > "$d/ca.cnf" <<CNF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = $d
certificate = $d/ca.crt
private_key = $d/ca.key
database = $d/index.txt
new_certs_dir = $d/newcerts
serial = $d/serial
crlnumber = $d/crlnumber
default_md = sha256
policy = policy_any
default_days = 30
default_crl_days = 7
unique_subject = no
crl_extensions = crl_ext
[ policy_any ]
commonName = supplied
[ crl_ext ]
authorityKeyIdentifier = keyid:always
CNF
  openssl req -x509 "$@" -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -subj "/CN=Seed CRL CA $d" \
    -days 365 2>/dev/null
  local i
  for i in 1 2 3; do
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/l$i.key" \
      -out "$d/l$i.csr" -subj "/CN=leaf $i" 2>/dev/null
    openssl ca -batch -config "$d/ca.cnf" -in "$d/l$i.csr" -out "$d/l$i.crt" -notext 2>/dev/null
  done
  openssl ca -config "$d/ca.cnf" -revoke "$d/l1.crt" -crl_reason keyCompromise 2>/dev/null
  openssl ca -config "$d/ca.cnf" -revoke "$d/l2.crt" -crl_reason certificateHold \
    -crl_hold holdInstructionReject 2>/dev/null
  openssl ca -config "$d/ca.cnf" -revoke "$d/l3.crt" -crl_compromise 20240101000000Z 2>/dev/null
}
# crl CA OUTNAME [gencrl args...]: DER CRL + DER issuer, and PEM + PEM.
crl() {
  local d=$1 name=$2; shift 2
  openssl ca -gencrl -config "$d/ca.cnf" -out "$work/$name.pem" "$@" 2>/dev/null
  openssl crl -in "$work/$name.pem" -outform DER -out "$work/$name.der"
  openssl x509 -in "$d/ca.crt" -outform DER -out "$work/$d.crt.der"
  cat "$work/$name.der" "$work/$d.crt.der" > "$out/$name+issuer.der"
  cat "$work/$name.pem" "$d/ca.crt" > "$out/$name+issuer.pem"
}
mkca ec -newkey ec -pkeyopt ec_paramgen_curve:P-256
mkca rsa -newkey rsa:2048
mkca ec384 -newkey ec -pkeyopt ec_paramgen_curve:P-384
crl ec ec_sha256
crl ec384 ec384_sha384 -md sha384
crl rsa rsa_sha256
crl rsa rsa_sha1 -md sha1
crl rsa rsa_sha512 -md sha512
crl rsa rsa_pss -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32
# Plain CRLs without an issuer appended, one without CRL extensions.
cp "$work/ec_sha256.der" "$out/ec_sha256.der"
sed -i -e "s/^crl_extensions = crl_ext$//" -e "/^crlnumber = /d" ec/ca.cnf
openssl ca -gencrl -config ec/ca.cnf -out "$work/no_ext.pem" 2>/dev/null
openssl crl -in "$work/no_ext.pem" -outform DER -out "$out/no_crl_ext.der"
# The EC CRL with the RSA CA's certificate: a name mismatch.
cat "$work/ec_sha256.der" "$work/rsa.crt.der" > "$out/ec_sha256+wrong_issuer.der"
# Same name, another key: the signature must not verify.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
  -out other.crt -subj "/CN=Seed CRL CA ec" -days 365 2>/dev/null
openssl x509 -in other.crt -outform DER -out other.der
cat "$work/ec_sha256.der" other.der > "$out/ec_sha256+other_key.der"
