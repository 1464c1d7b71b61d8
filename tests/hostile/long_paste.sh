#!/usr/bin/env bash
# long_paste.sh EXPECT_ERROR QWENRUN MODEL.so DIR WORK: a prompts file whose
# line is 300 KB of one letter (one pre-tokenizer piece). BPE over it was
# quadratic (100 KB: 26 s, 200 KB: 180 s); now it is tokenized in a moment
# and refused for the context, well within the test's timeout.
set -euo pipefail
expect_error=$1 qwenrun=$2 model=$3 dir=$4 work=$5
mkdir -p "$work"
python3 -c 'print("a" * 300000)' > "$work/paste.txt"
exec "$expect_error" "paste.txt: line 1: prompt of [0-9]+ tokens exceeds the context of 4096" "$qwenrun" --model "$model" --weights "$dir" --max-context 4096 \
  --prompts-file "$work/paste.txt" --raw
