#!/usr/bin/env bash
# Benchmarks qwenc on random-weight Qwen2.5-0.5B and 1.5B (the real configs
# from ../shared/qwen2/configs/, bf16, written once under work/) with
# `qwenrun --bench`, in three builds each: the default (bf16 weights, f32
# activations), --prefill-math bf16-dot (where the CPU has AVX512-BF16), and
# int8 weights from `qwenc quantize`, whose logits are also compared with
# bf16's over a fixed 64-token sequence. Writes bench/RESULTS.md: the
# machine, the commands and their output. Needs a build (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIGS=../shared/qwen2/configs
THREADS=${THREADS:-2}
MODELS=${MODELS:-"0.5B 1.5B"}
OUT=bench/RESULTS.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|f16c|avx512f|avx512_bf16|avx512_vnni|avx512bw|asimddp)$' | tr '\n' ' ')
has_bf16=0
grep -qw avx512_bf16 /proc/cpuinfo && has_bf16=1
{
  echo "# Benchmark results"
  echo
  echo "Written by \`bash scripts/bench.sh\` on $(date -u +%Y-%m-%d). How the figures moved, and"
  echo "the comparison with llama.cpp: [HISTORY.md](HISTORY.md)."
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
  echo "decode's fraction of it is only as steady as the neighbours are (above"
  echo "100%: they got busier between the decode runs and the bandwidth probe)."
} >"$OUT"

bench() {  # title, object, weights dir
  local cmd="build/bin/qwenrun --model $2 --weights $3 --bench --threads $THREADS"
  echo "== $cmd" >&2
  $cmd --quiet >"$tmp/out"
  cat "$tmp/out" >&2
  { echo; echo "### $1"; echo; echo "\`$cmd\`"; echo; echo '```'; cat "$tmp/out"; echo '```'; } >>"$OUT"
}

for size in $MODELS; do
  dir=work/qwen2.5-$size-random
  if [ ! -f "$dir/model.safetensors" ]; then
    build/bin/qwenc-random-model --output "$dir" --config "$CONFIGS/Qwen2.5-$size-Instruct.config.json" \
      --generation-config "$CONFIGS/Qwen2.5-$size-Instruct.generation_config.json"
  fi
  [ -f "$dir-int8/model.safetensors" ] || build/bin/qwenc quantize "$dir" "$dir-int8" --quiet
  echo -e "\n## Qwen2.5-$size-Instruct shapes, random weights, $THREADS threads" >>"$OUT"
  build/bin/qwenc "$dir/config.json" -o "work/qwen2.5-$size.so" --quiet
  bench "bf16 weights (default: \`qwenc $dir/config.json -o work/qwen2.5-$size.so\`)" "work/qwen2.5-$size.so" "$dir"
  if [ "$has_bf16" = 1 ]; then
    build/bin/qwenc "$dir/config.json" -o "work/qwen2.5-$size-dot.so" --prefill-math bf16-dot --quiet
    bench "bf16 weights, bf16-dot prefill (\`qwenc ... --prefill-math bf16-dot\`)" "work/qwen2.5-$size-dot.so" "$dir"
  fi
  build/bin/qwenc "$dir-int8/config.json" -o "work/qwen2.5-$size-int8.so" --quiet
  bench "int8 weights (\`qwenc quantize $dir $dir-int8\`, then \`qwenc $dir-int8/config.json\`)" "work/qwen2.5-$size-int8.so" "$dir-int8"

  # int8's accuracy cost: logits of a fixed sequence against bf16's.
  ids=$(seq -s, 17 2371 150000 | cut -d, -f1-64)
  build/bin/qwenrun --model "work/qwen2.5-$size.so" --weights "$dir" --tokens "$ids" --max-tokens 0 --dump-logits "$tmp/bf16.bin" --quiet
  build/bin/qwenrun --model "work/qwen2.5-$size-int8.so" --weights "$dir-int8" --tokens "$ids" --max-tokens 0 --dump-logits "$tmp/int8.bin" --quiet
  vocab=$(grep -o '"vocab_size": *[0-9]*' "$dir/config.json" | grep -o '[0-9]*$')
  {
    echo; echo "### int8 against bf16 logits (64 fixed tokens)"; echo
    echo "\`qwenc-compare-logits bf16.bin int8.bin --vocab $vocab\` (\`qwenrun --tokens ... --dump-logits\` of each):"; echo
    echo '```'; build/bin/qwenc-compare-logits "$tmp/bf16.bin" "$tmp/int8.bin" --vocab "$vocab" | head -1; echo '```'
  } >>"$OUT"
done
echo "wrote $OUT" >&2
