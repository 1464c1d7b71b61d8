#!/usr/bin/env bash
# quant4_default_math.sh QWENC E2E_DIR OUT_DIR: the decode math qwenc picks
# for 4-bit weights when --decode-math is not given, read from each
# object's manifest: int8-dot for GPTQ-layout groups of 32 (gptq_tied,
# int4_tied) on AVX2 and AVX-512 targets (Skylake's, without VNNI); f32
# for AWQ's layout and for groups of 8. The int8-dot objects sum on
# vpmaddubsw; the f32 one has none.
set -eu
qwenc=$1 e2e=$2 out=$3
mkdir -p "$out"
avx2=x86-64-linux-avx-avx2-f16c-fma-sse41
avx512=x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41
math_of() { "$(dirname "$0")/manifest_field.sh" "$1" decode_math; }
expect() {  # expect MATH CASE TARGET
  local want=$1 obj=$out/$2-$3.so target
  [ "$3" = avx2 ] && target=$avx2 || target=$avx512
  "$qwenc" "$e2e/$2/config.json" -o "$obj" --target "$target" --quiet
  local got; got=$(math_of "$obj")
  [ "$got" = "$want" ] || { echo "error: $2 for $3 -> decode_math '$got', expected '$want'"; exit 1; }
  echo "ok: $2 for $3 -> $got"
}
expect int8-dot gptq_tied avx2
expect int8-dot int4_tied avx2
expect int8-dot gptq_tied avx512
expect f32 awq_tied avx2
expect f32 gptq_v2_asym_untied avx2
count() { objdump -d "$1" | grep -c vpmaddubsw || true; }
n=$(count "$out/gptq_tied-avx2.so")
[ "$n" -gt 0 ] || { echo "error: no vpmaddubsw in the AVX2 int8-dot object"; exit 1; }
n512=$(count "$out/gptq_tied-avx512.so")
[ "$n512" -gt 0 ] || { echo "error: no vpmaddubsw in the AVX-512 int8-dot object"; exit 1; }
f=$(count "$out/awq_tied-avx2.so")
[ "$f" -eq 0 ] || { echo "error: $f vpmaddubsw in the f32 (AWQ) object"; exit 1; }
echo "ok: vpmaddubsw $n in gptq_tied's AVX2 object, $n512 in its AVX-512 one, $f in awq_tied's"
