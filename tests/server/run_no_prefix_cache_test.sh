#!/usr/bin/env bash
# qwenserve --no-enable-prefix-caching: the same chat twice, each prompt
# computed in full (no cached tokens in usage or /metrics), the same answer.
# Usage: run_no_prefix_cache_test.sh BIN_DIR MODEL_DIR WORK_DIR
set -euo pipefail
bin=$1 model_dir=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
source "$here/start_server.sh"
start_server "$bin" "$model_dir/model.so" "$model_dir" "$work/server.log" --no-enable-prefix-caching
body='{"model": "'$(basename "$model_dir")'", "messages": [{"role": "user", "content": "Hello! Who are you?"}], "max_tokens": 6, "temperature": 0}'
for i in 1 2; do
  timeout 60 curl -sf "$url/v1/chat/completions" -H 'Content-Type: application/json' -d "$body" > "$work/reply$i.json"
done
timeout 10 curl -sf "$url/metrics" > "$work/metrics.txt"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
a, b = (json.load(open(f"{work}/reply{i}.json")) for i in (1, 2))
assert a["choices"][0]["message"]["content"] == b["choices"][0]["message"]["content"], "the same answer twice"
for r in (a, b):
    assert r["usage"]["prompt_tokens_details"]["cached_tokens"] == 0, r["usage"]
hits = [l for l in open(f"{work}/metrics.txt") if l.startswith("qwenc:prefix_cache_hits_total ")]
assert hits and float(hits[0].split()[1]) == 0, hits
PY
kill -TERM $server
wait $server
trap - EXIT
echo "no prefix cache test passed"
