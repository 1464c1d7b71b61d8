#!/usr/bin/env bash
# The main job end to end: set up, write a small random-weight Qwen2 model in
# the Hugging Face layout (with the real Qwen tokenizer, a ChatML chat
# template and Qwen2.5's sampling defaults), compile it for this CPU, and
# generate text from a chat prompt.
# The weights are random, so the text is too; the path is the real one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
MODEL=work/demo-model
build/bin/qwenc-random-model --output "$MODEL" --hidden-size 512 --intermediate-size 1536 \
  --num-heads 8 --num-kv-heads 2 --num-layers 8 --vocab-size 151936 --seed 42 \
  --bos-token-id 151643 --eos-token-id 151645 \
  --tokenizer work/tokenizers/qwen/tokenizer.json \
  --chat-template models/chat_templates/chatml.jinja \
  --generation-config models/configs/qwen2.5-1.5b/generation_config.json
build/bin/qwenc "$MODEL/config.json" -o "$MODEL/model.so"
build/bin/qwenrun --model "$MODEL/model.so" --weights "$MODEL" \
  --system "You are a helpful assistant." --prompt "跟我讲讲股市运行的逻辑" \
  --temperature 0.7 --top-p 0.8 --repetition-penalty 1.05 --max-tokens 64 --seed 1
