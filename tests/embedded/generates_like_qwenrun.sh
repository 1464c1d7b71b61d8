#!/usr/bin/env bash
# generates_like_qwenrun.sh EMBEDDED QWENRUN MODEL.so MODEL_DIR: the program
# with the model linked in must not load libqwenrt or any model object
# dynamically, and must answer a question with the text qwenrun gives for
# the same question (chat template, tokenizer and the model's own sampling
# defaults, seed 0), streamed.
set -euo pipefail
embedded=$1 qwenrun=$2 object=$3 dir=$4
# (Captured first: grep -q closing a pipe early would fail the pipeline under pipefail.)
dynamic=$(readelf -d "$embedded")
symbols=$(nm "$embedded")
if grep -q 'libqwenrt' <<<"$dynamic"; then echo "FAIL: $embedded links libqwenrt dynamically"; exit 1; fi
if ! grep -q ' qwen_model_symbols$' <<<"$symbols"; then echo "FAIL: the model is not linked into $embedded"; exit 1; fi
for question in "Hello!" "讲个笑话，关于 \"引号\" 和 🐍"; do
  want=$("$qwenrun" --model "$object" --weights "$dir" --prompt "$question" --max-tokens 16 --quiet)
  got=$("$embedded" "$dir" "$question" 16 2>/dev/null)
  if [ "$want" != "$got" ]; then printf 'FAIL: %s\n  qwenrun:  %q\n  embedded: %q\n' "$question" "$want" "$got"; exit 1; fi
  [ -n "$got" ] || { echo "FAIL: no text for $question"; exit 1; }
  printf 'ok: %s -> %q\n' "$question" "$got"
done
