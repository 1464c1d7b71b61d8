#!/usr/bin/env bash
# Compiles the Qwen2.5-1.5B-Instruct config (models/configs/), writes random weights of
# that shape (3.1 GB bf16, once), and generates from a 26-token prompt,
# printing compile time, load time, prefill and decode tokens/s.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIGS=models/configs/qwen2.5-1.5b
DIR=work/qwen2.5-1.5B-random
THREADS=${THREADS:-2}
[ -f "$DIR/model.safetensors" ] || build/bin/qwenc-random-model --output "$DIR" \
  --config $CONFIGS/config.json --generation-config $CONFIGS/generation_config.json
build/bin/qwenc "$DIR/config.json" -o work/qwen2.5-1.5B.so   # prints its compile time
build/bin/qwenrun --model work/qwen2.5-1.5B.so --weights "$DIR" --threads "$THREADS" \
  --tokens "$(seq -s, 100 1000 26000)" --max-tokens 32 --ignore-eos
