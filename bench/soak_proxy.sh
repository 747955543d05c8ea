#!/usr/bin/env bash
# The full soak of certskew proxy, on demand (never in ctest): the same mix
# as tests/e2e/test_reliability_load.sh -- 1,000 tunnels open at once, every
# body checked, 100 slow-loris clients, 20 never-reading clients, upstreams
# resetting mid-handshake and mid-body, DNS failures -- with 100,000
# requests instead of 20,000. Loopback only.
#
# usage: bench/soak_proxy.sh [BUILD_DIR] [REQUESTS] [TUNNELS]
#   BUILD_DIR   default build/; an ASan build (build-asan/, -DCERTSKEW_SANITIZE=ON)
#               adds LeakSanitizer's check at the proxy's exit
# Prints the checks, then writes the driver's JSON results with the RSS/fd
# summary to bench/soak_proxy_results.json (or $SOAK_OUT).
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
export CS_BIN=$BUILD/certskew CS_SRC=$SRC
export CS_LOAD_REQUESTS=${2:-100000} CS_LOAD_TUNNELS=${3:-1000}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
out=${SOAK_OUT:-$SRC/bench/soak_proxy_results.json}
mkdir -p "$(dirname "$out")"
log=$(mktemp)
start=$(date +%s)
bash "$SRC/tests/e2e/test_reliability_load.sh" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
python3 - "$log" "$out" "$BUILD" "$status" "$(( $(date +%s) - start ))" <<'PY'
import json, re, sys
log, out, build, status, secs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
text = open(log).read()
res = next((json.loads(l) for l in text.splitlines() if l.startswith("{")), {})
res.pop("loris", None)  # 100 near-identical entries; the checks summarise them
summary = [l for l in text.splitlines() if l.startswith("proxy RSS:")]
res.update({"build": build, "exit_status": status, "wall_seconds": secs,
            "rss_summary": summary[0] if summary else None,
            "checks_failed": [l[6:] for l in text.splitlines() if l.startswith("FAIL: ")]})
json.dump(res, open(out, "w"), indent=2)
print("wrote", out)
PY
rm -f "$log"
exit "$status"
