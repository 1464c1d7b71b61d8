#!/usr/bin/env bash
# qwenrun --prompts-file keeps the start a prompt shares with the one
# before (here a system prompt) in the cache: the repeated line reads one
# token, the third only what follows the shared start; the answers are
# those of each line alone (the first line, and qwenrun --messages).
# Usage: prompts_file_shared_start.sh BIN_DIR MODEL_DIR PROMPTS_FILE WORK_DIR
set -euo pipefail
bin=$1 dir=$2 prompts=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
run=("$bin/qwenrun" --model "$dir/model.so" --weights "$dir" --max-tokens 4 --temperature 0)
"${run[@]}" --prompts-file "$prompts" > "$work/out.jsonl" 2> "$work/err.txt"
sed -n 3p "$prompts" | python3 -c 'import json,sys; json.dump(json.load(sys.stdin)["messages"], open(sys.argv[1], "w"))' "$work/third.json"
"${run[@]}" --messages "$work/third.json" > "$work/third.txt" 2>/dev/null
python3 - "$work" <<'PY'
import json, re, sys
work = sys.argv[1]
out = [json.loads(l) for l in open(f"{work}/out.jsonl")]
read = [int(n) for n in re.findall(r"\[(\d+) prompt tokens", open(f"{work}/err.txt").read())]
assert len(out) == 3 and len(read) == 3, (out, read)
assert out[0]["text"] == out[1]["text"], "a repeated prompt, the same answer"
third = open(f"{work}/third.txt").read()
assert out[2]["text"] == (third[:-1] if third.endswith("\n") else third), (out[2]["text"], third)
assert all(o["prompt_tokens"] == out[0]["prompt_tokens"] for o in out), "prompt_tokens counts the whole prompt"
assert read[0] == out[0]["prompt_tokens"] and read[1] == 1, read
assert 1 < read[2] < out[2]["prompt_tokens"] - 20, read
print("prompts file shared start ok", read)
PY
