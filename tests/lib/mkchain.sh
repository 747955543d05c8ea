#!/usr/bin/env bash
# Makes a root -> intermediate -> leaf chain with real openssl (`openssl ca`,
# so every validity bound is exactly the one asked for) into DIR.
#
#   mkchain.sh DIR [NAME=VALUE ...]
#     ROOT_NB ROOT_NA INT_NB INT_NA LEAF_NB LEAF_NA   YYYYMMDDHHMMSSZ (UTC)
#     LEAF_SCT_HEX   hex of the SCT-list extnValue content (DER OCTET STRING
#                    wrapping the TLS list); omitted: no SCT extension
#     LEAF_CN        leaf common name and DNS SAN (default: leaf.test)
#     LEAF_EXT       one more openssl extension line for the leaf, e.g.
#                    "1.3.6.1.4.1.11129.2.4.3 = critical,ASN1:NULL" (CT poison)
#
# Writes root.pem int.pem leaf.pem chain.pem (leaf+int) full.pem (leaf+int+root)
# and the keys. Exits non-zero with openssl's message on any failure.
set -euo pipefail
dir=$1; shift
ROOT_NB=20200101000000Z ROOT_NA=20400101000000Z
INT_NB=20200101000000Z INT_NA=20390101000000Z
LEAF_NB=20260101000000Z LEAF_NA=20270101000000Z
LEAF_SCT_HEX= LEAF_CN=leaf.test LEAF_EXT=
for kv in "$@"; do
  case $kv in
    ROOT_NB=*|ROOT_NA=*|INT_NB=*|INT_NA=*|LEAF_NB=*|LEAF_NA=*|LEAF_SCT_HEX=*|LEAF_CN=*|LEAF_EXT=*) eval "${kv%%=*}=\${kv#*=}" ;;
    *) echo "mkchain.sh: unknown setting $kv" >&2; exit 2 ;;
  esac
done
mkdir -p "$dir"; cd "$dir"
log=mkchain.log; : > $log

mkca() { # name
  mkdir -p "ca-$1/new"; : > "ca-$1/index.txt"; echo 1000 > "ca-$1/serial"
  cat > "ca-$1/ca.cnf" <<CNF
[ca]
default_ca = this
[this]
dir = ca-$1
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_leaf]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:$LEAF_CN
authorityKeyIdentifier = keyid
CNF
}

run() { "$@" >>$log 2>&1 || { echo "mkchain.sh: failed: $*" >&2; cat $log >&2; exit 1; }; }

for n in root int leaf; do run openssl ecparam -name prime256v1 -genkey -noout -out $n.key; done
mkca root; mkca int
run openssl req -new -key root.key -subj "/CN=certskew test root" -out root.csr
run openssl ca -batch -config ca-root/ca.cnf -selfsign -keyfile root.key -in root.csr \
  -startdate "$ROOT_NB" -enddate "$ROOT_NA" -extensions v3_ca -notext -out root.pem
run openssl req -new -key int.key -subj "/CN=certskew test intermediate" -out int.csr
run openssl ca -batch -config ca-root/ca.cnf -cert root.pem -keyfile root.key -in int.csr \
  -startdate "$INT_NB" -enddate "$INT_NA" -extensions v3_ca -notext -out int.pem
run openssl req -new -key leaf.key -subj "/CN=$LEAF_CN" -out leaf.csr
if [ -n "$LEAF_SCT_HEX" ] || [ -n "$LEAF_EXT" ]; then
  leaf_ext=$(sed -n '/^\[v3_leaf\]/,$p' ca-int/ca.cnf | tail -n +2)
  printf '[v3_leaf_more]\n%s\n' "$leaf_ext" >> ca-int/ca.cnf
  [ -z "$LEAF_SCT_HEX" ] || printf '1.3.6.1.4.1.11129.2.4.2 = DER:%s\n' "$LEAF_SCT_HEX" >> ca-int/ca.cnf
  [ -z "$LEAF_EXT" ] || printf '%s\n' "$LEAF_EXT" >> ca-int/ca.cnf
  ext=v3_leaf_more
else
  ext=v3_leaf
fi
run openssl ca -batch -config ca-int/ca.cnf -cert int.pem -keyfile int.key -in leaf.csr \
  -startdate "$LEAF_NB" -enddate "$LEAF_NA" -extensions $ext -notext -out leaf.pem
cat leaf.pem int.pem > chain.pem
cat leaf.pem int.pem root.pem > full.pem
