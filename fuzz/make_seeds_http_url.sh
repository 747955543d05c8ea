#!/usr/bin/env bash
# Writes the seed corpus of fuzz_http_url: URLs of the shapes certificates
# carry in AIA caIssuers and OCSP responder fields, and malformed ones.
set -eu
out="$(cd "$(dirname "$0")" && pwd)/corpus/fuzz_http_url"
mkdir -p "$out"
seed() { printf '%s' "$2" > "$out/$1"; }
seed aia        'http://crt.sectigo.com/SectigoRSADomainValidationSecureServerCA.crt'
seed ocsp       'http://r3.o.lencr.org'
seed port_path  'http://127.0.0.1:8080/ocsp/abc?x=1'
seed ipv6       'http://[::1]:8888/ca.der'
seed upper      'HTTP://Example.COM/'
seed https      'https://example.com/'
seed no_host    'http:///path'
seed bad_port   'http://example.com:99999/'
seed userinfo   'http://user:pw@example.com/'
seed unclosed6  'http://[::1/'
seed crlf_host  $'http://evil\r\nX-Injected: 1/ocsp'
seed bracket_in 'HTTP://Ex[auple.COM/'
seed plus_port  'http://example.com:+80/'
