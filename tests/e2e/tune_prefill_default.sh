#!/usr/bin/env bash
# tune_prefill_default.sh QWENC CONFIG.json OUT: qwenc tune, given no
# --prefill-math, tunes the prefill math that qwenc compiles by default for
# the host (bf16-dot for bf16 weights on AVX512-BF16 hosts, int16-dot for
# int8 weights on AVX2 hosts; f32 elsewhere), so that the tiles it
# writes are the ones a default object uses; but f32 where that is
# int8-dot, which tune cannot JIT-compile.
set -eu
qwenc=$1 config=$2 out=$3
"$qwenc" tune "$config" -o "$out.json" --rounds 1 --prefill-tokens 16 --quiet
"$qwenc" "$config" -o "$out.so" --quiet
tuned=$(grep -o '"prefill_math": *"[a-z0-9-]*"' "$out.json" | head -1 | sed 's/.*"\([a-z0-9-]*\)"$/\1/')
compiled=$("$(dirname "$0")/manifest_field.sh" "$out.so" prefill_math)
[ -n "$compiled" ] || { echo "error: no prefill_math in $out.so's manifest"; exit 1; }
expected=$compiled
[ "$compiled" = int8-dot ] && expected=f32
[ "$tuned" = "$expected" ] || { echo "error: tune timed prefill on '$tuned', a default object computes it on '$compiled'"; exit 1; }
echo "ok: tune timed prefill on $tuned, a default object computes it on $compiled"
