#!/usr/bin/env bash
# The main job end to end: set up, write a small random-weight Qwen2 model in
# the Hugging Face layout, compile it for this CPU, and generate from it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
MODEL=work/demo-model
build/bin/qwenc-random-model --output "$MODEL" --hidden-size 512 --intermediate-size 1536 \
  --num-heads 8 --num-kv-heads 2 --num-layers 8 --vocab-size 32000 --seed 42
build/bin/qwenc "$MODEL/config.json" -o "$MODEL/model.so"
build/bin/qwenrun --model "$MODEL/model.so" --weights "$MODEL" \
  --tokens 151,9,2023,77,4096,12 --max-tokens 64 --ignore-eos
