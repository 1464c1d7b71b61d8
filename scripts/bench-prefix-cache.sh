#!/usr/bin/env bash
# Prefix caching in qwenserve: one conversation of TURNS turns (a system
# prompt of WORDS words, then short questions, each turn resending the
# whole conversation as chat clients do), greedy, TOKENS tokens a reply,
# against a server with prefix caching (the default) and one with
# --no-enable-prefix-caching, alternately ROUNDS times. Prints each turn's
# prompt and cached tokens and its time to first token.
# Usage: scripts/bench-prefix-cache.sh MODEL.so MODEL_DIR [WORDS=300] [TURNS=3] [TOKENS=32] [ROUNDS=1] [THREADS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
so=$1 dir=$2 words=${3:-300} turns=${4:-3} tokens=${5:-32} rounds=${6:-1} threads=${7:-2}
source scripts/start-qwenserve.sh
log=$(mktemp)
server=
trap '[ -n "$server" ] && kill -TERM $server 2>/dev/null; rm -f "$log"' EXIT
for round in $(seq 1 "$rounds"); do
  for mode in on off; do
    flags=()
    [ "$mode" = off ] && flags=(--no-enable-prefix-caching)
    start_qwenserve build/bin/qwenserve "$log" --model "$so" --weights "$dir" --threads "$threads" --max-context 4096 "${flags[@]}"
    timeout 3600 python3 - "$url" "$(basename "$dir")" "$words" "$turns" "$tokens" "$round" "$mode" <<'PY'
import json, sys, time, urllib.request
url, model, words, turns, tokens, rnd, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7]
topics = ["rivers", "stars", "bread", "trains", "forests", "engines", "music", "salt"]
system = " ".join(f"{topics[i % 8]}{i}" for i in range(words))
messages = [{"role": "system", "content": "Remember these words: " + system}]
for turn in range(1, turns + 1):
    messages.append({"role": "user", "content": f"Question {turn}: which word comes {turn * 7}th?"})
    body = json.dumps({"model": model, "messages": messages, "max_tokens": tokens, "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True}}).encode()
    req = urllib.request.Request(url + "/v1/chat/completions", body, {"Content-Type": "application/json"})
    start, first, text, usage = time.monotonic(), None, "", None
    with urllib.request.urlopen(req, timeout=3600) as r:
        for line in r:
            line = line.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]": continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"): usage = chunk["usage"]
            for c in chunk["choices"]:
                piece = c["delta"].get("content") or ""
                if piece and first is None: first = time.monotonic()
                text += piece
    messages.append({"role": "assistant", "content": text})
    ttft = (first or time.monotonic()) - start
    print(f"round {rnd} prefix caching {mode}: turn {turn} prompt {usage['prompt_tokens']} tokens, "
          f"cached {usage['prompt_tokens_details']['cached_tokens']}, time to first token {ttft:.3f} s", flush=True)
PY
    kill -TERM $server
    wait $server || true
    server=
  done
done
