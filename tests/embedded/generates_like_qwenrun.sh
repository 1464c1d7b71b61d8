#!/usr/bin/env bash
# generates_like_qwenrun.sh EMBEDDED QWENRUN MODEL.so MODEL_DIR: the program
# with the model linked in must not load libqwenrt or any model object
# dynamically, and must produce qwenrun's greedy tokens for the same prompt.
set -euo pipefail
embedded=$1 qwenrun=$2 object=$3 dir=$4
# (Captured first: grep -q closing a pipe early would fail the pipeline under pipefail.)
dynamic=$(readelf -d "$embedded")
symbols=$(nm "$embedded")
if grep -q 'libqwenrt' <<<"$dynamic"; then echo "FAIL: $embedded links libqwenrt dynamically"; exit 1; fi
if ! grep -q ' qwen_model_symbols$' <<<"$symbols"; then echo "FAIL: the model is not linked into $embedded"; exit 1; fi
for prompt in 5,6,7 1,2,3,4,5,6,7,8,9,10; do
  want=$("$qwenrun" --model "$object" --weights "$dir" --tokens "$prompt" --max-tokens 12 --ignore-eos --temperature 0 --quiet)
  got=$("$embedded" "$dir" "$prompt" 12)
  if [ "$want" != "$got" ]; then echo "FAIL: prompt $prompt: qwenrun '$want', embedded '$got'"; exit 1; fi
  echo "ok: prompt $prompt -> $got"
done
