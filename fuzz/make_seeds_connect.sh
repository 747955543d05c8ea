#!/usr/bin/env bash
# Writes the seed corpus of fuzz_connect: request heads the proxy handles
# (the first byte of each seed is the feed step used by the target).
set -eu
out="$(cd "$(dirname "$0")" && pwd)/corpus/fuzz_connect"
mkdir -p "$out"
seed() { printf '%b' "$2" > "$out/$1"; }
seed connect_host   '\x07CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'
seed connect_ipv6   '\x3fCONNECT [::1]:8443 HTTP/1.1\r\n\r\n\x16\x03\x01\x00\x05hello'
seed absolute_get   '\x01GET http://127.0.0.1:8000/a?b=c HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nProxy-Connection: keep-alive\r\n\r\n'
seed api_list       '\x10GET /api/captures HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n'
seed api_report     '\x10GET /api/captures/example.com_443_0011223344556677/report HTTP/1.1\r\nHost: localhost:8080\r\n\r\n'
seed api_replay     '\x20POST /api/replay HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nOrigin: http://127.0.0.1:8080\r\nContent-Length: 62\r\n\r\n{"capture":"x","clocks":["exact","skew:-2s"],"at":"2026-01-01T00:00:00Z"}'
seed static_trav    '\x05GET /../%2e%2e/etc/passwd HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n'
seed empty_header   '\x02GET / HTTP/1.1\r\nHost: [::1]:8080\r\nX-Empty:\r\nX-Next: v\r\n\r\n'
seed chunked_post   '\x09POST /api/replay HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n'
seed via_loop       '\x0bGET http://a/ HTTP/1.1\r\nVia: 1.1 certskew\r\n\r\n'
seed garbage        '\x03\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'
seed rebind_host    '\x11GET /api/captures HTTP/1.1\r\nHost: attacker.example:8080\r\n\r\n'
seed foreign_origin '\x13POST /api/replay HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nOrigin: http://attacker.example\r\nContent-Length: 2\r\n\r\n{}'
seed null_origin    '\x17POST /api/replay HTTP/1.1\r\nHost: localhost:8080\r\nOrigin: null\r\nContent-Length: 2\r\n\r\n{}'
