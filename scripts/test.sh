#!/usr/bin/env bash
# Builds certskew and runs the whole test suite with ctest.
#   bash scripts/test.sh              gcc, Debug
#   bash scripts/test.sh --sanitize   clang, AddressSanitizer + UndefinedBehaviorSanitizer
#   bash scripts/test.sh --tsan       clang, ThreadSanitizer: the proxy's end-to-end tests
#                                     with the proxy forced to 2 workers (CERTSKEW_WORKERS=2)
# Build trees: build-test/, build-asan/ and build-tsan/ in the source tree.
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
filter=()
if [ "${1:-}" = "--tsan" ]; then
  dir=$root/build-tsan
  args+=(-DCERTSKEW_TSAN=ON)
  export CC=${CC:-clang}
  # Every race is a failure; the proxy runs 2 event loops on 2 threads.
  # tests/tsan.supp: descriptor-reuse reports that are no data race.
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp}
  export CERTSKEW_WORKERS=2
  filter=(-R "proxy|passthrough|reliability|security|lab|web")
  # One test at a time: the load tests' clients, upstreams and two workers
  # already fill both cores, and TSan slows each several times.
  jobs=1
fi
cmake -S "$root" -B "$dir" "${args[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j"${jobs:-$(nproc)}" "${filter[@]}"
