#!/usr/bin/env bash
# Writes the seed corpus of fuzz_api_replay: POST /api/replay bodies. "@ID"
# stands for the id of the capture the target stores (see fuzz_api_replay.c).
set -eu
out="$(cd "$(dirname "$0")" && pwd)/corpus/fuzz_api_replay"
mkdir -p "$out"
seed() { printf '%s' "$2" > "$out/$1.json"; }
seed minimal        '{"capture":"@ID"}'
seed clocks_at      '{"capture":"@ID","clocks":["exact","trustd","skew:-2s,trunc:1s"],"at":"2026-11-23T21:03:03.219Z"}'
seed profiles       '{"capture":"@ID","clocks":["openssl-ct","minute","day","no-rtc-1970","-90s","+1h","ceil:1s"],"at":"2026-11-23T21:03:03Z"}'
seed fixed_boot     '{"capture":"@ID","clocks":["fixed:2026-11-23T21:03:02Z","boot:2020-01-01T00:00:00Z@2026-11-23T21:00:00Z"],"at":null}'
seed epoch_at       '{"capture":"@ID","clocks":[],"at":"1795467783095"}'
seed unknown_id     '{"capture":"example.com_443_0011223344556677","clocks":["exact"]}'
seed traversal_id   '{"capture":"../../etc","clocks":["exact"]}'
seed bad_clock      '{"capture":"@ID","clocks":["skew:+9999999999999d"]}'
seed bad_types      '{"capture":7,"clocks":"exact","at":5}'
seed clock_not_str  '{"capture":"@ID","clocks":[1,{"a":1}]}'
seed too_many       '{"capture":"@ID","clocks":["exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact","exact"]}'
seed not_object     '["@ID"]'
seed truncated      '{"capture":"@ID","clocks":["exa'
seed deep           '{"capture":"@ID","x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}'
seed far_future     '{"capture":"@ID","at":"9999-12-31T23:59:59.999Z","clocks":["trunc:1m","day"]}'
seed before_epoch   '{"capture":"@ID","at":"1960-01-01T00:00:00Z","clocks":["exact"]}'
