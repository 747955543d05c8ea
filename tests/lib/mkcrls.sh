#!/usr/bin/env bash
# Makes CRLs with real `openssl ca -gencrl` for the CRL history tests, into DIR.
#
#   mkcrls.sh DIR
#
# thisUpdate of the n-th CRL made is 2026-11-01T00:00Z + n hours (old-tu.crl: 2026-10-31T23Z).
# One CA (ca.pem, ca.key) issues six leaves, all revoked: c1..c3 valid 2026-2027,
# c4 expired 2026-06-01, c5 expires exactly at full-2's thisUpdate (2026-11-01T01Z)
# and c6 one second before it. c1 c2 c5 c6 name http://crl.test/1.crl in their
# CRLDP, c3 c4 http://crl.test/2.crl. Then:
#   full-1.crl    every leaf revoked (CRL number 1)
#   full-2.crl    index shrunk to c3 and c4: c1 c2 c5 c6 removed (number 2)
#   full-3.crl    the index back to full-1's, number 3
#   back.crl      made with crlnumber 1 again after full-3 (number goes back)
#   old-tu.crl    full-1's index with -crl_lastupdate 2026-01-01: thisUpdate earlier
#   exp.crl       c1 c2 c3 listed (c4 c5 c6, expired, removed)
#   short.crl     every leaf, nextUpdate 2026-11-02 (before full-3's)
#   before/1.crl  shard 1 (IDP http://crl.test/1.crl): c1 c2    (separate index)
#   before/2.crl  shard 2 (IDP http://crl.test/2.crl): c3 c4
#   after/1.crl   shard 1: c2                 after/2.crl  shard 2: c1 c3 c4
#   noidp.crl     c1 without an IDP
#   other/ca.pem  another CA; other/full.crl its CRL (mismatched issuer)
# Exits non-zero with openssl's message on any failure.
set -euo pipefail
dir=$1
mkdir -p "$dir"; cd "$dir"
log=mkcrls.log; : > $log
run() { "$@" >>$log 2>&1 || { echo "mkcrls.sh: failed: $*" >&2; cat $log >&2; exit 1; }; }

mkca() { # dir cn
  mkdir -p "$1/new"; : > "$1/index.txt"; echo 1000 > "$1/serial"; echo 01 > "$1/crlnumber"
  cat > "$1/ca.cnf" <<CNF
[ca]
default_ca = this
[this]
dir = $1
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
default_crl_days = 7
policy = any
unique_subject = no
[any]
commonName = supplied
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf1]
basicConstraints = critical,CA:false
crlDistributionPoints = URI:http://crl.test/1.crl
[leaf2]
basicConstraints = critical,CA:false
crlDistributionPoints = URI:http://crl.test/2.crl
[idp1]
issuingDistributionPoint = critical,@idp1_dp
[idp1_dp]
fullname = URI:http://crl.test/1.crl
[idp2]
issuingDistributionPoint = critical,@idp2_dp
[idp2_dp]
fullname = URI:http://crl.test/2.crl
CNF
  run openssl ecparam -name prime256v1 -genkey -noout -out "$1/ca.key"
  run openssl req -new -x509 -key "$1/ca.key" -subj "/CN=$2" -days 3650 -out "$1/ca.pem" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
}

mkca ca "certskew crl test CA"
cp ca/ca.pem ca.pem; cp ca/ca.key ca.key
leaf() { # name ext start end
  run openssl ecparam -name prime256v1 -genkey -noout -out "$1.key"
  run openssl req -new -key "$1.key" -subj "/CN=$1.test" -out "$1.csr"
  run openssl ca -batch -config ca/ca.cnf -cert ca.pem -keyfile ca.key -in "$1.csr" \
    -startdate "$3" -enddate "$4" -extensions "$2" -notext -out "$1.pem"
}
leaf c1 leaf1 20260101000000Z 20270101000000Z
leaf c2 leaf1 20260101000000Z 20270101000000Z
leaf c3 leaf2 20260101000000Z 20270101000000Z
leaf c4 leaf2 20250101000000Z 20260601000000Z
leaf c5 leaf1 20260101000000Z 20261101010000Z
leaf c6 leaf1 20260101000000Z 20261101005959Z
for c in c1 c2 c3 c4 c5 c6; do run openssl ca -config ca/ca.cnf -cert ca.pem -keyfile ca.key -revoke $c.pem; done
cp ca/index.txt full.index
hour=0
gen() { # out [extra args]: thisUpdate 2026-11-01T00Z + one hour per CRL, nextUpdate +7 days
  local out=$1; shift
  local tu nu
  tu=${TU:-$(printf '202611%02d%02d0000Z' $((1 + hour / 24)) $((hour % 24)))}
  nu=${NU:-$(printf '202611%02d%02d0000Z' $((8 + hour / 24)) $((hour % 24)))}
  hour=$((hour + 1))
  run openssl ca -gencrl -config ca/ca.cnf -cert ca.pem -keyfile ca.key -out "$out.pem" \
    -crl_lastupdate "$tu" -crl_nextupdate "$nu" "$@"
  run openssl crl -in "$out.pem" -outform DER -out "$out"
  rm -f "$out.pem"
}
gen full-1.crl
sn() { openssl x509 -in "$1.pem" -noout -serial | cut -d= -f2; }
only() { # the index lines of the named leaves
  for c in "$@"; do awk -F'\t' -v s="$(sn $c)" '$4 == s' full.index; done
}
only c3 c4 > ca/index.txt
gen full-2.crl
cp full.index ca/index.txt
gen full-3.crl
echo 01 > ca/crlnumber
gen back.crl
echo 05 > ca/crlnumber
TU=20261031230000Z gen old-tu.crl # before every other CRL
only c1 c2 c3 > ca/index.txt
gen exp.crl
cp full.index ca/index.txt
NU=20261102000000Z gen short.crl # nextUpdate before full-3's
# Shards: a separate index per shard, each CRL with its IDP.
shard() { # out ext serial-of...
  local out=$1 ext=$2; shift 2
  only "$@" > ca/index.txt
  gen "$out" -crlexts "$ext"
}
mkdir -p before after
shard before/1.crl idp1 c1 c2
shard before/2.crl idp2 c3 c4
shard after/1.crl idp1 c2
shard after/2.crl idp2 c1 c3 c4
only c1 > ca/index.txt
gen noidp.crl
cp full.index ca/index.txt
mkca other "certskew other CA"
run openssl ca -gencrl -config other/ca.cnf -cert other/ca.pem -keyfile other/ca.key -out other/full.pem
run openssl crl -in other/full.pem -outform DER -out other/full.crl
