#!/usr/bin/env bash
# Starts qwenserve on a free loopback port over MODEL_DIR's model, writes
# the greedy texts qwenrun makes alone, runs the openai client against the
# server (openai_client.cjs), then stops the server with SIGTERM while a
# streamed request runs: that request must finish and the server exit 0.
# Usage: run_server_test.sh BIN_DIR MODEL_DIR OPENAI_MODULE WORK_DIR
set -euo pipefail
bin=$1 model_dir=$2 openai_module=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)
tools=$here/../data/tools/get_weather.json
rm -rf "$work" && mkdir -p "$work"
key=test-key-$$
model=$(basename "$model_dir")
so=$model_dir/model.so

# What the model says alone (qwenrun, greedy): the server must say the same.
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
chat = [{"role": "user", "content": "Hello! Who are you?"}]
many = [[{"role": "system", "content": "You are terse."}, {"role": "user", "content": f"Question {i}: what is {i} + {i}?"}] for i in range(8)]
json.dump(chat, open(f"{work}/chat.json", "w"))
# The load test's prompts: plain user prompts, as qwenrun --prompt takes them.
with open(f"{work}/load.txt", "w") as f:
    for i in range(64): f.write(f"Load test prompt number {i}: tell me about {['rivers', 'stars', 'bread', 'trains'][i % 4]}.\n")
with open(f"{work}/many.jsonl", "w") as f:
    for m in many: f.write(json.dumps({"messages": m}) + "\n")
PY
"$bin/qwenrun" --model "$so" --weights "$model_dir" --messages "$work/chat.json" --temperature 0 --max-tokens 8 \
  2>/dev/null > "$work/chat.txt"
"$bin/qwenrun" --model "$so" --weights "$model_dir" --raw --prompt "The capital of France is" --temperature 0 \
  --max-tokens 6 2>/dev/null > "$work/completion.txt"
"$bin/qwenrun" --model "$so" --weights "$model_dir" --prompts-file "$work/many.jsonl" --temperature 0 --max-tokens 6 \
  2>/dev/null > "$work/many.out"
"$bin/qwenrun" --model "$so" --weights "$model_dir" --messages "$work/chat.json" --tools "$tools" --temperature 0 \
  --max-tokens 8 2>/dev/null > "$work/tools.txt"
"$bin/qwenrun" --model "$so" --weights "$model_dir" --prompts-file "$work/load.txt" --temperature 0 --max-tokens 5 \
  2>/dev/null > "$work/load.out"
python3 - "$work" "$tools" <<'PY'
import json, sys
work, tools = sys.argv[1], sys.argv[2]
strip = lambda s: s[:-1] if s.endswith("\n") else s  # qwenrun ends its output with a newline
many_in = [json.loads(l) for l in open(f"{work}/many.jsonl")]
many_out = [json.loads(l) for l in open(f"{work}/many.out")]
json.dump({
  "chat": {"messages": json.load(open(f"{work}/chat.json")), "text": strip(open(f"{work}/chat.txt").read())},
  "completion": {"prompt": "The capital of France is", "text": strip(open(f"{work}/completion.txt").read())},
  "many": [{"messages": i["messages"], "text": o["text"]} for i, o in zip(many_in, many_out)],
  "tools": {"tools": json.load(open(tools)), "text": strip(open(f"{work}/tools.txt").read())},
  "load": [{"prompt": p.rstrip("\n"), "text": json.loads(o)["text"]} for p, o in zip(open(f"{work}/load.txt"), open(f"{work}/load.out"))],
}, open(f"{work}/expected.json", "w"))
PY

source "$here/start_server.sh"
start_server "$bin" "$so" "$model_dir" "$work/server.log" --api-key "$key" --max-batch 4

QWENSERVE_URL=$url QWENSERVE_KEY=$key QWENSERVE_MODEL=$model OPENAI_MODULE=$openai_module EXPECTED_JSON=$work/expected.json \
  timeout 150 node "$here/openai_client.cjs"

# SIGTERM with a request in flight: it finishes ([DONE]), new ones are
# refused, and the server exits 0.
curl -sN "$url/v1/chat/completions" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d "{\"model\": \"$model\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 400, \"ignore_eos\": true, \"temperature\": 0, \"stream\": true}" \
  > "$work/in_flight.txt" &
client=$!
for _ in $(seq 1 50); do grep -q '"content"' "$work/in_flight.txt" 2>/dev/null && break; sleep 0.05; done
stop_server $client
[ "$status" = 0 ] || { echo "FAIL: the server exited $status after SIGTERM"; cat "$work/server.log"; exit 1; }
tail -c 200 "$work/in_flight.txt" | grep -q 'data: \[DONE\]' || { echo "FAIL: the request in flight did not finish"; tail -c 400 "$work/in_flight.txt"; exit 1; }
grep -q '"finish_reason":"length"' "$work/in_flight.txt" || { echo "FAIL: the request in flight was cut short"; exit 1; }

# With no grace, SIGTERM cancels what runs: the stream still ends well
# formed, with vLLM's finish_reason "abort", and the server exits 0.
start_server "$bin" "$so" "$model_dir" "$work/server2.log" --shutdown-grace 0
curl -sN "$url/v1/completions" -H 'Content-Type: application/json' \
  -d "{\"model\": \"$model\", \"prompt\": \"Hi\", \"max_tokens\": 3000, \"ignore_eos\": true, \"temperature\": 0, \"stream\": true}" \
  > "$work/aborted.txt" &
client=$!
for _ in $(seq 1 50); do grep -q '"text"' "$work/aborted.txt" 2>/dev/null && break; sleep 0.05; done
stop_server $client
[ "$status" = 0 ] || { echo "FAIL: the server exited $status after SIGTERM without grace"; exit 1; }
grep -q '"finish_reason":"abort"' "$work/aborted.txt" || { echo "FAIL: the cancelled stream has no abort"; tail -c 400 "$work/aborted.txt"; exit 1; }
tail -c 100 "$work/aborted.txt" | grep -q 'data: \[DONE\]' || { echo "FAIL: the cancelled stream did not end"; exit 1; }
echo "server test passed"
