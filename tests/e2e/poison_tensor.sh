#!/usr/bin/env bash
# poison_tensor.sh SRC_DIR DST_DIR TENSOR: copies a single-file model
# directory and overwrites the first element of TENSOR (bf16) with NaN, to
# feed tools a checkpoint with a non-finite weight.
set -euo pipefail
src=$1 dst=$2 tensor=$3
rm -rf "$dst" && mkdir -p "$dst" && cp "$src"/config.json "$src"/model.safetensors "$dst"/
file=$dst/model.safetensors
hlen=$(od -An -t u8 -N8 "$file" | tr -d ' ')
begin=$(head -c $((8 + hlen)) "$file" | tail -c "$hlen" | grep -o "\"$tensor\":{[^}]*}" | grep -o '"data_offsets":\[[0-9]*' | grep -o '[0-9]*$')
printf '\xc0\x7f' | dd of="$file" bs=1 seek=$((8 + hlen + begin)) conv=notrunc status=none
