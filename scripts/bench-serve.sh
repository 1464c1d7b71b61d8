#!/usr/bin/env bash
# Load benchmark of qwenserve: starts it on a free loopback port over a
# compiled model and runs 1, 4, 8 and 16 concurrent streaming clients
# (scripts/bench_serve.cjs: aggregate tok/s, time to first token and
# inter-token latency p50/p99), then stops it. Bounded: each client sends
# REQUESTS requests of TOKENS tokens, each a chat prompt of WORDS words
# (~3.5 tokens a word with Qwen's tokenizer, beside the template's).
# Usage: scripts/bench-serve.sh MODEL.so MODEL_DIR [LEVELS=1,4,8,16] [REQUESTS=1] [TOKENS=64] [THREADS=2] [WORDS=40] [QWENSERVE FLAGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
so=$1 dir=$2 levels=${3:-1,4,8,16} requests=${4:-1} tokens=${5:-64} threads=${6:-2} words=${7:-40}
shift $(( $# < 7 ? $# : 7 ))
max=$(echo "$levels" | tr ',' '\n' | sort -n | tail -1)
log=$(mktemp)
source scripts/start-qwenserve.sh
server=
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$log"' EXIT
start_qwenserve build/bin/qwenserve "$log" --model "$so" --weights "$dir" --threads "$threads" --max-batch "$max" --max-context 512 "$@"
model=$(basename "$dir")
echo "# qwenserve $so, $threads threads, max-batch $max: $levels clients x $requests requests x $tokens tokens, prompts of $words words"
timeout 3600 node scripts/bench_serve.cjs "$url" "$model" "$levels" "$requests" "$tokens" "$words"
