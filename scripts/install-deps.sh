#!/usr/bin/env bash
# Installs what certskew needs to build, run and test on Debian 12 (bookworm).
# Run as root, or as a user with sudo. Safe to run again.
set -euo pipefail
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
packages=(
  build-essential cmake pkg-config clang          # toolchains (clang: libFuzzer, second compiler)
  libmbedtls-dev libuv1-dev libcjson-dev node-llhttp   # libraries (llhttp: C sources, compiled by us)
  openssl curl python3 ca-certificates            # real peers and helpers used by the tests
  gnutls-bin                                      # gnutls-serv: a second TLS 1.3 server for the tests
  chromium chromium-driver python3-selenium       # the web UI tests (headless browser)
  libssl-dev                                      # libcrypto: the relay's record AEAD (mbedTLS 2.28's is ~10x slower); the benchmark's peers
)
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "install-deps: ok (${#packages[@]} packages)"
