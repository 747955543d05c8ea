#!/usr/bin/env bash
# Seeds for fuzz_repro_script: the shipped example scripts, a chain script
# and a few invalid ones the repro tests use (all written by this project).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out="$src/fuzz/corpus/fuzz_repro_script"
mkdir -p "$out"
for f in "$src"/examples/*.json; do cp "$f" "$out/example_$(basename "$f")"; done
printf '%s' '{"chain":"chain.pem","trust":["trust.pem"],"log_list":"l.json","ocsp":"o.der","ocsp_stapled":true,"crl":"c.der","cases":[{"clocks":["exact","skew:-2s,trunc:1s"],"at":"issued-1ms","material":{"crl":false},"expect":{"verdict":"fail","codes_include":["SCT_IN_FUTURE"],"warnings_include":["X"]}}]}' > "$out/chain_mode.json"
printf '%s' '{"scenario":"fresh","cases":[{"clock":"exact","at":"issued","expect":{"verdikt":"pass"}}]}' > "$out/bad_key.json"
printf '%s' '{"scenario":' > "$out/truncated.json"
