#!/usr/bin/env bash
# Builds certskew and runs the whole test suite with ctest.
#   bash scripts/test.sh              gcc, Debug
#   bash scripts/test.sh --sanitize   clang, AddressSanitizer + UndefinedBehaviorSanitizer
# Build trees: build-test/ and build-asan/ in the source tree.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/build-test
args=(-DCMAKE_BUILD_TYPE=Debug)
if [ "${1:-}" = "--sanitize" ]; then
  dir=$root/build-asan
  args+=(-DCERTSKEW_SANITIZE=ON)
  export CC=${CC:-clang}
  # Abort on the first report, with stacks; leaks are errors.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
cmake -S "$root" -B "$dir" "${args[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)"
