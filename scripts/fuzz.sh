#!/usr/bin/env bash
# Runs every libFuzzer target (fuzz/fuzz_*.c) for a bounded time, starting
# from its committed seed corpus, with ASan+UBSan. Fails on any finding.
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET [TARGET...]]   (default 60, all)
# New inputs go to a scratch corpus; crashers are kept in build-fuzz/crashes/.
# A crash, a sanitizer report, a leak, an input running over 10 s or using
# over 2 GB is a finding. Per-target executions and coverage (libFuzzer's
# "cov", edges of the project's own instrumented code: system libraries such
# as mbedTLS and cJSON are not instrumented) go to build-fuzz/fuzz_summary.txt.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
only=("$@")
dir=$root/build-fuzz
CC=clang cmake -S "$root" -B "$dir" -DCERTSKEW_FUZZ=ON -DCERTSKEW_SANITIZE=ON -DCERTSKEW_TESTS=OFF >/dev/null
cmake --build "$dir" -j"$(nproc)" >/dev/null
mkdir -p "$dir/crashes"
summary=$dir/fuzz_summary.txt
printf 'target\tseconds\truns\tcov\tft\tcorpus\n' > "$summary"
status=0
for bin in "$dir"/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  if [ ${#only[@]} -gt 0 ] && [[ " ${only[*]} " != *" $name "* ]]; then continue; fi
  scratch=$(mktemp -d)
  log=$dir/$name.log
  if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/crashes/$name-" \
       "$scratch" "$root/fuzz/corpus/$name" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | tr -dc 0-9)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | tr -dc 0-9)
    corp=$(grep -o 'corp: [0-9]*' "$log" | tail -n 1 | tr -dc 0-9)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$secs" "$runs" "$cov" "$ft" "$corp" >> "$summary"
    echo "fuzz ok   $name: $runs runs in ${secs}s, cov $cov, ft $ft, corpus $corp"
  else
    echo "fuzz FAIL $name (see $log)"; grep -E "ERROR|runtime error|SUMMARY" "$log" | head -5
    status=1
  fi
  rm -rf "$scratch"
done
exit $status
