#!/usr/bin/env bash
# Benchmarks qwenc on random-weight Qwen2.5-0.5B and 1.5B (the real configs
# from ../shared/qwen2/configs/, bf16, written once under work/) with
# `qwenrun --bench`, and writes bench/RESULTS.md: the machine, the commands
# and their output. Needs a build (scripts/setup.sh). THREADS defaults to 2.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIGS=../shared/qwen2/configs
THREADS=${THREADS:-2}
MODELS=${MODELS:-"0.5B 1.5B"}
OUT=bench/RESULTS.md
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|f16c|avx512f|avx512_bf16|avx512_vnni|avx512bw|asimddp)$' | tr '\n' ' ')
{
  echo "# Benchmark results"
  echo
  echo "Written by \`bash scripts/bench.sh\` on $(date -u +%Y-%m-%d). Earlier figures and how they"
  echo "moved: [HISTORY.md](HISTORY.md)."
  echo
  echo "## Machine"
  echo
  echo "- CPU: $cpu, $(nproc) cores visible, $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "- SIMD flags: $flags"
  echo "- $(build/bin/qwenc --version)"
  echo
  echo "Read bandwidth is measured in the same run as the model (a sum over a"
  echo "2 GiB array in a child process, best of 5). On this shared VM it swings"
  echo "between ~30 and ~60 GB/s on 2 threads from one minute to the next, so"
  echo "decode's fraction of it is only as steady as the neighbours are."
} >"$OUT"

for size in $MODELS; do
  dir=work/qwen2.5-$size-random
  if [ ! -f "$dir/model.safetensors" ]; then
    build/bin/qwenc-random-model --output "$dir" --config "$CONFIGS/Qwen2.5-$size-Instruct.config.json" \
      --generation-config "$CONFIGS/Qwen2.5-$size-Instruct.generation_config.json"
  fi
  build/bin/qwenc "$dir/config.json" -o "work/qwen2.5-$size.so" --quiet
  cmd="build/bin/qwenrun --model work/qwen2.5-$size.so --weights $dir --bench --threads $THREADS"
  echo "== $cmd" >&2
  $cmd --quiet | tee "$tmp"
  {
    echo
    echo "## Qwen2.5-$size-Instruct shapes, random bf16 weights, $THREADS threads"
    echo
    echo "\`$cmd\`"
    echo
    echo '```'
    cat "$tmp"
    echo '```'
  } >>"$OUT"
done
echo "wrote $OUT" >&2
