#!/usr/bin/env bash
# deep_json.sh BIN WORK: a JSON value nested a million levels deep in each
# file every tool reads used to overflow the stack (SIGSEGV). Each tool must
# refuse it with one error line naming the file.
set -uo pipefail
bin=$1 work=$2 here=$(dirname "$0")
rm -rf "$work"; mkdir -p "$work"
"$bin/qwenc-random-model" --output "$work/m" --hidden-size 64 --intermediate-size 128 --num-heads 4 --num-kv-heads 2 \
  --num-layers 2 --vocab-size 512 >/dev/null || exit 1
deep=$(python3 -c 'print("{\"a\": " + "[" * 1000000 + "]" * 1000000 + "}")')
mkdir -p "$work/deep"
printf '%s' "$deep" > "$work/deep/config.json"
cp -r "$work/m" "$work/deep_tok"; printf '%s' "$deep" > "$work/deep_tok/tokenizer.json"
fail=0
run() { bash "$here/../expect_error.sh" "$1" "${@:2}" || fail=1; }
run "deep/config.json: JSON nested deeper than 128 levels" "$bin/qwenc" "$work/deep/config.json" -o "$work/x.so"
run "deep/config.json: JSON nested deeper" "$bin/qwenc-random-model" --config "$work/deep/config.json" --output "$work/y"
run "deep/config.json: JSON nested deeper" "$bin/qwenc" quantize "$work/deep" "$work/z" --quiet
run "deep_tok/tokenizer.json: JSON nested deeper" "$bin/qwenrun" --weights "$work/deep_tok" --tokenize hello
exit $fail
