#!/usr/bin/env bash
# quant4_default_math.sh QWENC E2E_DIR OUT_DIR: the decode and prefill
# maths qwenc picks for 4-bit weights when --decode-math / --prefill-math
# are not given, read from each object's manifest: int8-dot decode for
# groups of 32 of GPTQ's and AWQ's layouts (gptq_tied, awq_tied) and of
# qwenc-int4's rows (int4_tied) on AVX2 and AVX-512 targets (Skylake's,
# without VNNI), and int8-dot prefill for the rows; f32 for groups of 8
# and for GPTQ's and AWQ's prefill. The int8-dot objects sum on
# vpmaddubsw, but GPTQ's and the rows' on avx512_sapphirerapids targets
# (VNNI: Zen 4, Sapphire Rapids) on vpdpbusd, two a vector of words (AWQ's
# lanes are outputs: vpmaddubsw there too); the f32 one has neither.
# (Written for vpdpbusd alone, the rows' AVX2 object once had no
# vpmaddubsw at all: bench/HISTORY.md.)
set -eu
qwenc=$1 e2e=$2 out=$3
mkdir -p "$out"
avx2=x86-64-linux-avx-avx2-f16c-fma-sse41
avx512=x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41
vnni=x86-64-linux-avx-avx2-avx512-avx512_cannonlake-avx512_sapphirerapids-avx512_skylake-f16c-fma-sse41
field() { "$(dirname "$0")/manifest_field.sh" "$1" "$2"; }
expect() {  # expect DECODE_MATH PREFILL_MATH CASE TARGET
  local obj=$out/$3-$4.so target
  case $4 in avx2) target=$avx2 ;; vnni) target=$vnni ;; *) target=$avx512 ;; esac
  "$qwenc" "$e2e/$3/config.json" -o "$obj" --target "$target" --quiet
  local decode prefill; decode=$(field "$obj" decode_math) prefill=$(field "$obj" prefill_math)
  [ "$decode $prefill" = "$1 $2" ] || { echo "error: $3 for $4 -> decode $decode, prefill $prefill; expected $1, $2"; exit 1; }
  echo "ok: $3 for $4 -> decode $decode, prefill $prefill"
}
expect int8-dot f32 gptq_tied avx2
expect int8-dot int8-dot int4_tied avx2
expect int8-dot f32 gptq_tied avx512
expect int8-dot int8-dot int4_tied avx512
expect int8-dot f32 gptq_tied vnni
expect int8-dot int8-dot int4_tied vnni
expect int8-dot f32 awq_tied avx2
expect int8-dot f32 awq_tied avx512
expect int8-dot f32 awq_tied vnni
expect f32 f32 gptq_v2_asym_untied avx2
count() { objdump -d "$1" | grep -c "$2" || true; }  # count OBJECT INSTRUCTION
for case in gptq_tied int4_tied awq_tied; do
  n=$(count "$out/$case-avx2.so" vpmaddubsw)
  [ "$n" -gt 0 ] || { echo "error: no vpmaddubsw in $case's AVX2 int8-dot object"; exit 1; }
  n512=$(count "$out/$case-avx512.so" vpmaddubsw)
  [ "$n512" -gt 0 ] || { echo "error: no vpmaddubsw in $case's AVX-512 int8-dot object"; exit 1; }
  if [ "$case" = awq_tied ]; then vnni_sum=vpmaddubsw; else vnni_sum=vpdpbusd; fi
  dots=$(count "$out/$case-vnni.so" $vnni_sum)
  [ "$dots" -gt 0 ] || { echo "error: no $vnni_sum in $case's avx512_sapphirerapids int8-dot object"; exit 1; }
  echo "ok: $case: vpmaddubsw $n in its AVX2 object, $n512 in its AVX-512 one; $vnni_sum $dots in its avx512_sapphirerapids one"
done
f=$(count "$out/gptq_v2_asym_untied-avx2.so" vpmaddubsw)
[ "$f" -eq 0 ] || { echo "error: $f vpmaddubsw in the f32 (groups of 8) object"; exit 1; }
echo "ok: no vpmaddubsw in gptq_v2_asym_untied's f32 object"
