#!/usr/bin/env bash
# Seeds for fuzz/fuzz_tls13_messages.c: the plaintext TLS 1.3 server
# messages (ServerHello, HelloRetryRequest, EncryptedExtensions, Certificate,
# CertificateVerify) of real openssl s_server and gnutls-serv flights, as
# tests/unit/test_probe_tls13.c records and decrypts them (it replays each
# flight into a client with the same deterministic RNG, so the handshake keys
# are the same). One file per message: 1 selector byte, then the body.
#
# usage: fuzz/make_seeds_tls13.sh [BUILD_DIR] [OUTDIR]
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
OUT=${2:-$SRC/fuzz/corpus/fuzz_tls13_messages}
if [ ! -x "$BUILD/tests/test_probe_tls13" ]; then
  echo "no $BUILD/tests/test_probe_tls13: build the tests first" >&2
  exit 1
fi
mkdir -p "$OUT"
# HelloRetryRequest flights, whole, also seed fuzz_tls_probe's client mode.
CS_WRITE_SEEDS="$OUT" CS_WRITE_FLIGHTS="$SRC/fuzz/corpus/fuzz_tls_probe" \
  "$BUILD/tests/test_probe_tls13" > /dev/null 2>&1
ls "$OUT" | wc -l
