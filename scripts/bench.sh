#!/usr/bin/env bash
# Benchmarks qwenc on random-weight Qwen2.5-0.5B and 1.5B (their configs
# in models/configs/, bf16, written once under work/) with
# `qwenrun --bench`, in up to six builds each: the default (bf16 weights,
# f32 activations; decode on bf16x2-dot where the CPU has AVX512-BF16), and
# there f32 decode and --prefill-math/--decode-math bf16-dot too; int8
# weights from `qwenc quantize` (decode on int16-dot on x86), with f32
# decode, and with --decode-math/--prefill-math int8-dot; the int8 builds'
# prefill logits are also compared with bf16's over a fixed 64-token
# sequence. Writes bench/RESULTS.md: the machine, a summary, the commands
# and their output, and what `qwenc tune` measures on the 1.5B shapes.
# Needs a build (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIGS=models/configs
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
  echo "Read bandwidth is measured in the same run as the model: a sum over an"
  echo "array in 2 MB pages, in a child process. On this shared VM it moves"
  echo "between ~30 and ~60 GB/s on 2 threads within seconds, so decode is"
  echo "compared with it two ways: each decode run against the mean of two short"
  echo "probes (best of 3 passes) just before and after it, the median over the"
  echo "runs (\"around runs\"); and decode steps alternating one by one with single"
  echo "probe passes over as many bytes as a step reads, total against total"
  echo "(\"between steps\"), which meets the same moments of the host. Each model's weight"
  echo "files are first dropped from the page cache (\`dd iflag=nocache count=0\`)"
  echo "so the runtime maps them back in 2 MB pages (docs/performance.md)."
} >"$OUT"
summary="$tmp/summary"
: >"$summary"

bench() {  # title, object, weights dir
  local cmd="build/bin/qwenrun --model $2 --weights $3 --bench --threads $THREADS"
  echo "== $cmd" >&2
  $cmd --quiet >"$tmp/out"
  cat "$tmp/out" >&2
  { echo; echo "### $1"; echo; echo "\`$cmd\`"; echo; echo '```'; cat "$tmp/out"; echo '```'; } >>"$OUT"
  local json; json=$(tail -1 "$tmp/out")
  num() { echo "$json" | grep -o "\"$1\":[0-9.e+-]*" | head -1 | cut -d: -f2; }
  awk -v size="$size" -v build="$4" -v p128="$(num prefill_128_tok_s)" -v p512="$(num prefill_512_tok_s)" \
    -v ttft="$(num ttft_s)" -v dec="$(num decode_tok_s)" -v gbs="$(num decode_gbs)" -v frac="$(num decode_bw_fraction)" \
    -v pk="$(num prefill_peak_fraction)" -v ifrac="$(num decode_interleaved_bw_fraction)" \
    'BEGIN { printf "| %s | %s | %.1f | %.1f | %s | %.3f | %.2f | %.1f | %.0f%% | %.0f%% |\n", size, build, p128, p512,
             (pk > 0 ? sprintf("%.0f%%", 100 * pk) : "-"), ttft, dec, gbs, 100 * frac, 100 * ifrac }' >>"$summary"
}

# The weights back into the page cache in 2 MB pages (see MappedFile).
recache() { for f in "$1"/*.safetensors; do dd if="$f" iflag=nocache count=0 status=none; done; }

compare() {  # title, object, weights dir: logits of a fixed sequence against bf16's
  build/bin/qwenrun --model "$2" --weights "$3" --tokens "$ids" --max-tokens 0 --dump-logits "$tmp/other.bin" --quiet
  {
    echo; echo "### $1 against bf16 logits (64 fixed tokens)"; echo
    echo "\`qwenc-compare-logits bf16.bin other.bin --vocab $vocab\` (\`qwenrun --tokens ... --dump-logits\` of each):"; echo
    echo '```'; build/bin/qwenc-compare-logits "$tmp/bf16.bin" "$tmp/other.bin" --vocab "$vocab" | head -1; echo '```'
  } >>"$OUT"
}

for size in $MODELS; do
  dir=work/qwen2.5-$size-random
  if [ ! -f "$dir/model.safetensors" ]; then
    build/bin/qwenc-random-model --output "$dir" --config "$CONFIGS/qwen2.5-${size,,}/config.json" \
      --generation-config "$CONFIGS/qwen2.5-${size,,}/generation_config.json"
  fi
  [ -f "$dir-int8/model.safetensors" ] || build/bin/qwenc quantize "$dir" "$dir-int8" --quiet
  echo -e "\n## Qwen2.5-$size-Instruct shapes, random weights, $THREADS threads" >>"$OUT"
  recache "$dir"
  recache "$dir-int8"
  build/bin/qwenc "$dir/config.json" -o "work/qwen2.5-$size.so" --quiet
  bench "bf16 weights (default: \`qwenc $dir/config.json -o work/qwen2.5-$size.so\`)" "work/qwen2.5-$size.so" "$dir" "bf16"
  if [ "$has_bf16" = 1 ]; then
    # The default decodes bf16 weights with bf16x2-dot here; f32 activations for comparison.
    build/bin/qwenc "$dir/config.json" -o "work/qwen2.5-$size-f32.so" --decode-math f32 --quiet
    bench "bf16 weights, f32 decode (\`qwenc ... --decode-math f32\`)" "work/qwen2.5-$size-f32.so" "$dir" "bf16, f32 decode"
    build/bin/qwenc "$dir/config.json" -o "work/qwen2.5-$size-dot.so" --prefill-math bf16-dot --decode-math bf16-dot --quiet
    bench "bf16 weights, bf16-dot (\`qwenc ... --prefill-math bf16-dot --decode-math bf16-dot\`)" "work/qwen2.5-$size-dot.so" "$dir" "bf16, bf16-dot"
  fi
  build/bin/qwenc "$dir-int8/config.json" -o "work/qwen2.5-$size-int8.so" --quiet
  bench "int8 weights (\`qwenc quantize $dir $dir-int8\`, then \`qwenc $dir-int8/config.json\`; decode on int16-dot)" "work/qwen2.5-$size-int8.so" "$dir-int8" "int8 (int16-dot decode)"
  build/bin/qwenc "$dir-int8/config.json" -o "work/qwen2.5-$size-int8-f32.so" --decode-math f32 --quiet
  bench "int8 weights, f32 decode (\`qwenc $dir-int8/config.json ... --decode-math f32\`)" "work/qwen2.5-$size-int8-f32.so" "$dir-int8" "int8, f32 decode"
  build/bin/qwenc "$dir-int8/config.json" -o "work/qwen2.5-$size-int8dot.so" --decode-math int8-dot --prefill-math int8-dot --quiet
  bench "int8 weights, int8-dot (\`qwenc $dir-int8/config.json ... --decode-math int8-dot --prefill-math int8-dot\`)" \
    "work/qwen2.5-$size-int8dot.so" "$dir-int8" "int8, int8-dot"

  # The accuracy cost of int8 weights (and activations): a fixed sequence's logits against bf16's.
  ids=$(seq -s, 17 2371 150000 | cut -d, -f1-64)
  vocab=$(grep -o '"vocab_size": *[0-9]*' "$dir/config.json" | grep -o '[0-9]*$')
  build/bin/qwenrun --model "work/qwen2.5-$size.so" --weights "$dir" --tokens "$ids" --max-tokens 0 --dump-logits "$tmp/bf16.bin" --quiet
  compare "int8" "work/qwen2.5-$size-int8.so" "$dir-int8"
  compare "int8-dot" "work/qwen2.5-$size-int8dot.so" "$dir-int8"
done
# What qwenc tune measures here on the 1.5B model: its prefill and decode candidates
# and whether any beat the defaults by 5% (docs/performance.md).
tune_size=${TUNE_MODEL:-1.5B}
if [[ " $MODELS " == *" $tune_size "* ]]; then
  cmd="build/bin/qwenc tune work/qwen2.5-$tune_size-random/config.json --weights work/qwen2.5-$tune_size-random -o work/qwen2.5-$tune_size.schedule.json --threads $THREADS"
  echo "== $cmd" >&2
  $cmd 2>&1 | grep -v 'compiling' | tee "$tmp/tune.out" >&2
  { echo; echo "## \`qwenc tune\`, Qwen2.5-$tune_size-Instruct shapes"; echo; echo "\`$cmd\`"; echo
    echo '```'; cat "$tmp/tune.out"; echo '```'; } >>"$OUT"
fi
{
  echo; echo "## Summary"; echo
  echo "| model | build | prefill 128 tok/s | prefill 512 tok/s | of compute peak | TTFT s (26 tokens) | decode tok/s | decode GB/s | of read bandwidth, around runs | between steps |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  cat "$summary"
} >>"$OUT"
echo "wrote $OUT" >&2
