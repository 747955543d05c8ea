#!/usr/bin/env bash
# Regenerates the CRL history fuzz seeds (fuzz/corpus/fuzz_crl_history/) from
# the CRLs tests/lib/mkcrls.sh makes with `openssl ca -gencrl`: pairs OLD+NEW
# (DER back to back) for every finding of crl-diff and the shard checks, and
# single CRLs, whole and truncated; and one sharded CRL with its issuer for
# fuzz_crl. Usage: fuzz/make_seeds_crl_history.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/corpus/fuzz_crl_history"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash "$here/../tests/lib/mkcrls.sh" "$work" > /dev/null
cd "$work"
pair() { cat "$1" "$2" > "$out/$3"; }
pair full-1.crl full-2.crl dropped
pair full-3.crl back.crl number-back
pair full-1.crl back.crl number-reused
pair full-3.crl old-tu.crl this-update-back
pair full-3.crl short.crl next-update-back
pair full-3.crl exp.crl expired-removed
pair before/1.crl after/1.crl shard-1-drift
pair before/1.crl after/2.crl two-shards
pair before/1.crl before/2.crl two-scopes
pair noidp.crl before/2.crl no-idp
pair full-1.crl other/full.crl other-issuer
for f in full-1 noidp before/1 after/2; do
  cp "$f.crl" "$out/single-${f//\//-}"
  head -c $(( $(stat -c %s "$f.crl") - 7 )) "$f.crl" > "$out/truncated-${f//\//-}"
done
# fuzz_crl reads CRLs with the same reader: a sharded CRL (critical IDP) and its issuer.
openssl x509 -in ca.pem -outform DER -out ca.der
cat before/1.crl ca.der > "$here/corpus/fuzz_crl/idp-shard-with-issuer"
echo "wrote $(ls "$out" | wc -l) seeds to $out"
