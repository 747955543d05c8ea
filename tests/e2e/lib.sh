# Shared helpers for e2e tests (sourced). Each test: set -euo pipefail,
# `source lib.sh`, call `check` per assertion, end with `finish`.
: "${CS_BIN:?CS_BIN must point at the certskew binary}"
: "${CS_SRC:?CS_SRC must point at the source tree}"
E2E_PASSED=0 E2E_FAILED=0
E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/certskew-e2e-XXXXXX")
trap 'rm -rf "$E2E_TMP"' EXIT

# check NAME CMD...: runs CMD, counts pass/fail, shows output on failure.
check() {
  local name=$1; shift
  if out=$("$@" 2>&1); then
    E2E_PASSED=$((E2E_PASSED + 1)); echo "ok   $name"
  else
    E2E_FAILED=$((E2E_FAILED + 1)); echo "FAIL $name"; printf '%s\n' "$out" | sed 's/^/     /' | head -40
  fi
}

finish() {
  echo "$E2E_PASSED passed, $E2E_FAILED failed"
  [ "$E2E_FAILED" -eq 0 ]
}

# jq-free JSON queries: python3 is on every Debian machine with the
# toolchain, and json.loads is an independent parser of our output.
export -f jget 2>/dev/null || true
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$@"; }
export -f jget
export CS_BIN
