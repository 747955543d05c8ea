# Helpers for the web UI's browser tests (sourced by tests/e2e/test_web_*.sh
# after tests/lib/proxy_e2e_lib.sh).

# web_require_browser: sets WEB_PYTHON to a python3 that imports selenium,
# and checks chromium and chromedriver. Prints what to install and returns
# 1 when something is missing: CI installs them, so absence is a failure.
web_require_browser() {
  local p missing=""
  WEB_PYTHON=""
  for p in /usr/bin/python3 python3; do
    if command -v "$p" > /dev/null 2>&1 && "$p" -c 'import selenium' 2> /dev/null; then
      WEB_PYTHON=$(command -v "$p")
      break
    fi
  done
  [ -n "$WEB_PYTHON" ] || missing="$missing python3-selenium"
  command -v chromium > /dev/null 2>&1 || missing="$missing chromium"
  command -v chromedriver > /dev/null 2>&1 || missing="$missing chromium-driver"
  if [ -n "$missing" ]; then
    echo "FAIL: the web UI tests need headless Chromium; missing:$missing" >&2
    echo "      install with: apt-get install -y chromium chromium-driver python3-selenium" >&2
    return 1
  fi
  export WEB_PYTHON
}

# web_sct_hex MS...: hex of an SCT-list extension value (DER OCTET STRING
# around the RFC 6962 TLS list) with one v1 SCT per timestamp; log ids are
# 0x11.., 0x22.., signatures are placeholders (no log list is given).
web_sct_hex() {
  python3 - "$@" <<'PY'
import struct, sys
def sct(ts, i):
    sig = bytes([0x30, 6, 2, 1, 1, 2, 1, 1])
    b = b"\0" + bytes([i]) * 32 + struct.pack(">Q", ts) + b"\0\0\4\3" + struct.pack(">H", len(sig)) + sig
    return struct.pack(">H", len(b)) + b
body = b"".join(sct(int(ts), 0x11 * (k + 1)) for k, ts in enumerate(sys.argv[1:]))
tls = struct.pack(">H", len(body)) + body
print((bytes([4, len(tls)]) + tls).hex())
PY
}
