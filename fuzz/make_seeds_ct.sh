#!/usr/bin/env bash
# Regenerates the seed corpora of fuzz_loglist and fuzz_sct_list from the
# project's own CT lab (tests/unit/test_ct_seeds.c, deterministic RNG).
# Usage: fuzz/make_seeds_ct.sh [build-dir]   (default: build)
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$src/build}"
cmake --build "$build" --target test_ct_seeds >/dev/null
for t in fuzz_loglist fuzz_sct_list; do
  mkdir -p "$src/fuzz/corpus/$t"
  rm -f "$src/fuzz/corpus/$t"/*
done
CS_CT_SEED_DIR="$src/fuzz/corpus" "$build/tests/test_ct_seeds"
ls -l "$src/fuzz/corpus/fuzz_loglist" "$src/fuzz/corpus/fuzz_sct_list"
