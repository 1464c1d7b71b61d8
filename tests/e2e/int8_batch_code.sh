#!/bin/bash
# int8_batch_code.sh MODEL.so: the code of an int8 object's batched steps
# (stages qkv_batch, out_mlp, head_batch) on int16-dot. A step's few tokens
# are quantized without a parallel loop of their own (its thread-pool round
# trip cost more than the work), and every stage's tiles prefetch their
# weights (asked on the tile's loop, Halide emitted none in qkv_batch):
# together 1.2-1.5x the aggregate decode of 8 sequences (bench/RESULTS.md).
set -euo pipefail
so=$1
dis=$(objdump -d --no-show-raw-insn "$so")
batch='qwen_(qkv_batch|out_mlp|head_batch)_par_for_'
parallel_amax=$(grep -cE "^[0-9a-f]+ <${batch}[a-z_0-9]*amax" <<<"$dis" || true)
if [ "$parallel_amax" != 0 ]; then
    echo "FAIL: $parallel_amax parallel loops quantize a batched step's inputs" >&2
    exit 1
fi
for stage in qkv_batch out_mlp head_batch; do
    n=$(awk -v p="<qwen_${stage}" '/^[0-9a-f]+ </ { inside = index($2, p) == 1 } inside && /prefetch/ { n++ } END { print n + 0 }' <<<"$dis")
    if [ "$n" = 0 ]; then
        echo "FAIL: no prefetch in stage $stage" >&2
        exit 1
    fi
    echo "$stage: $n prefetches"
done
echo "ok"
