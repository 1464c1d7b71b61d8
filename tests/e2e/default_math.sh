#!/usr/bin/env bash
# default_math.sh QWENC MODEL_DIR OUT_DIR: qwenc's maths when
# --decode-math / --prefill-math are not given, read from each object's
# manifest. Decode: bf16x2-dot for bf16 weights when every target has
# avx512_sapphirerapids (AVX512-BF16), f32 for a target without it;
# int16-dot for int8 weights on x86 and arm_dot_prod targets; f32 when the
# config's dimensions are not multiples of 32. Prefill: bf16-dot / int8-dot
# where every target has avx512_sapphirerapids, int16-dot for int8 weights
# on other x86 targets unless one has AVX-512 without AVX512-BF16, else
# f32. Batched steps: decode's own math. And what a flag says when it is
# given.
set -eu
qwenc=$1 model=$2 out=$3
mkdir -p "$out"
bf16_target=x86-64-linux-avx-avx2-avx512-avx512_cannonlake-avx512_sapphirerapids-avx512_skylake-f16c-fma-sse41
avx2_target=x86-64-linux-avx-avx2-f16c-fma-sse41
skx_target=x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41
field_of() { "$(dirname "$0")/manifest_field.sh" "$1" "$2"; }
math_of() { field_of "$1" decode_math; }
expect() {  # expect DECODE/PREFILL/BATCH OBJECT ARGS...
  local want=$1 obj=$out/$2; shift 2
  "$qwenc" "$model/config.json" -o "$obj" --quiet "$@"
  local got; got="$(math_of "$obj")/$(field_of "$obj" prefill_math)/$(field_of "$obj" batch_math)"
  [ "$got" = "$want" ] || { echo "error: $* -> decode/prefill/batch math '$got', expected '$want'"; exit 1; }
  echo "ok: ${*:-(no flags)} -> $got"
}
expect bf16x2-dot/bf16-dot/bf16x2-dot bf16.so --target "$bf16_target"
expect f32/f32/f32 avx2.so --target "$avx2_target"
expect f32/f32/f32 list.so --target "$bf16_target,$avx2_target"
expect bf16-dot/bf16-dot/bf16-dot asked.so --target "$bf16_target" --decode-math bf16-dot
expect bf16x2-dot/f32/bf16x2-dot exact.so --target "$bf16_target" --prefill-math f32
expect f32/f32/f32 f16.so --target "$bf16_target" --weight-dtype f16
expect int16-dot/int8-dot/int16-dot int8.so --target "$bf16_target" --weight-dtype int8
expect int16-dot/int16-dot/int16-dot int8-avx2.so --target "$avx2_target" --weight-dtype int8
expect int16-dot/int16-dot/int16-dot int8-list.so --target "$bf16_target,$avx2_target" --weight-dtype int8
expect int16-dot/f32/int16-dot int8-exact.so --target "$avx2_target" --weight-dtype int8 --prefill-math f32
expect int16-dot/f32/int16-dot int8-skx.so --target "$skx_target" --weight-dtype int8
expect int16-dot/f32/int16-dot int8-skx-list.so --target "$skx_target,$avx2_target" --weight-dtype int8
expect int8-dot/int8-dot/int8-dot int8-asked.so --target "$bf16_target" --weight-dtype int8 --decode-math int8-dot
# A batch stage whose math has no batch tiles of its own (f32) is its
# prefill twin's pipeline, compiled once under both names; the bf16 and
# int16 dot products batch on tiles of their own.
entries() {  # entries OBJECT QKV_BATCH_FN HEAD_BATCH_FN
  local got; got="$(field_of "$out/$1" qkv_batch) $(field_of "$out/$1" head_batch)"
  [ "$got" = "$2 $3" ] || { echo "error: $1: qkv_batch/head_batch run '$got', expected '$2 $3'"; exit 1; }
  echo "ok: $1: qkv_batch/head_batch run $got"
}
entries avx2.so qwen_qkv_prefill qwen_head_prefill
entries int8-avx2.so qwen_qkv_batch qwen_head_batch
entries int8.so qwen_qkv_batch qwen_head_batch
entries bf16.so qwen_qkv_batch qwen_head_batch
# ARM (a static library: no cross linker needed): int16-dot as two sdots
# per group; prefill f32.
expect int16-dot/f32/int16-dot libint8_arm.a --target arm-64-linux-arm_dot_prod --weight-dtype int8 --emit static
# Dimensions bf16x2-dot cannot take (hidden_size 48): f32, not an error.
sed 's/"hidden_size": *64/"hidden_size": 48/' "$model/config.json" >"$out/config.json"
for wd in bf16 int8; do
  "$qwenc" "$out/config.json" -o "$out/odd-$wd.so" --target "$bf16_target" --weight-dtype $wd --quiet
  got="$(math_of "$out/odd-$wd.so")/$(field_of "$out/odd-$wd.so" prefill_math)"
  [ "$got" = f32/f32 ] || { echo "error: hidden_size 48, $wd -> decode/prefill $got"; exit 1; }
  echo "ok: hidden_size 48, $wd weights -> f32/f32"
done
