#!/usr/bin/env bash
# Runs every libFuzzer target (fuzz/fuzz_*.c) for a bounded time, starting
# from its committed seed corpus, with ASan+UBSan. Fails on any finding.
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 60)
# New inputs go to a scratch corpus; crashers are kept in build-fuzz/crashes/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
dir=$root/build-fuzz
CC=clang cmake -S "$root" -B "$dir" -DCERTSKEW_FUZZ=ON -DCERTSKEW_SANITIZE=ON -DCERTSKEW_TESTS=OFF >/dev/null
cmake --build "$dir" -j"$(nproc)" >/dev/null
mkdir -p "$dir/crashes"
status=0
for bin in "$dir"/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  scratch=$(mktemp -d)
  log=$dir/$name.log
  if "$bin" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$dir/crashes/$name-" \
       "$scratch" "$root/fuzz/corpus/$name" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    echo "fuzz ok   $name: $runs runs in ${secs}s, $cov"
  else
    echo "fuzz FAIL $name (see $log)"; grep -E "ERROR|runtime error|SUMMARY" "$log" | head -5
    status=1
  fi
  rm -rf "$scratch"
done
exit $status
