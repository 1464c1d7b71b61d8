#!/usr/bin/env bash
# default_decode_math.sh QWENC MODEL_DIR OUT_DIR: qwenc's decode math when
# --decode-math is not given, read from each object's manifest: bf16x2-dot
# for bf16 weights when every target has avx512_sapphirerapids (AVX512-BF16),
# f32 for a target without it; int16-dot for int8 weights on x86 targets,
# f32 on ARM; f32 when the config's dimensions are not multiples of 32; and
# what --decode-math says when it is given.
set -eu
qwenc=$1 model=$2 out=$3
mkdir -p "$out"
bf16_target=x86-64-linux-avx-avx2-avx512-avx512_cannonlake-avx512_sapphirerapids-avx512_skylake-f16c-fma-sse41
avx2_target=x86-64-linux-avx-avx2-f16c-fma-sse41
math_of() { grep -ao '"decode_math":"[a-z0-9-]*"' "$1" | head -1 | cut -d'"' -f4; }
expect() {  # expect MATH OBJECT ARGS...
  local want=$1 obj=$out/$2; shift 2
  "$qwenc" "$model/config.json" -o "$obj" --quiet "$@"
  local got; got=$(math_of "$obj")
  [ "$got" = "$want" ] || { echo "error: $* -> decode_math '$got', expected '$want'"; exit 1; }
  echo "ok: ${*:-(no flags)} -> $got"
}
expect bf16x2-dot bf16.so --target "$bf16_target"
expect f32 avx2.so --target "$avx2_target"
expect f32 list.so --target "$bf16_target,$avx2_target"
expect bf16-dot asked.so --target "$bf16_target" --decode-math bf16-dot
expect f32 f16.so --target "$bf16_target" --weight-dtype f16
expect int16-dot int8.so --target "$bf16_target" --weight-dtype int8
expect int16-dot int8-avx2.so --target "$avx2_target" --weight-dtype int8
expect int8-dot int8-asked.so --target "$bf16_target" --weight-dtype int8 --decode-math int8-dot
# ARM (a static library: no cross linker needed): int16-dot is not measured there.
expect f32 libint8_arm.a --target arm-64-linux-arm_dot_prod --weight-dtype int8 --emit static
# Dimensions bf16x2-dot cannot take (hidden_size 48): f32, not an error.
sed 's/"hidden_size": *64/"hidden_size": 48/' "$model/config.json" >"$out/config.json"
for wd in bf16 int8; do
  "$qwenc" "$out/config.json" -o "$out/odd-$wd.so" --target "$bf16_target" --weight-dtype $wd --quiet
  [ "$(math_of "$out/odd-$wd.so")" = f32 ] || { echo "error: hidden_size 48, $wd -> $(math_of "$out/odd-$wd.so")"; exit 1; }
  echo "ok: hidden_size 48, $wd weights -> f32"
done
