// x86-64 with AVX-512 (Skylake-X, Ice Lake, Sapphire Rapids, Zen 4).
#include "isa_schedules.h"

namespace qwenc {

IsaFamily x86_avx512_family() {
    CpuTiles t;  // see CpuTiles for the defaults
    t.vector = 16;
    t.tokens = 6;       // 4 x 6 tiles: 24 of the 32 zmm registers accumulate, each weight load feeds 6 tokens
    t.int8_tokens = 4;  // int8 weights: tuned when their widening took registers too; not re-measured since (bench/HISTORY.md)
    t.attention_accumulators = 24;  // of the 32 zmm registers
    // Decode keeps the default one row x 4 vectors: it beat 16 x 1, 8 x 2 and
    // 4 x 4 tiles on Zen 4 (bench/HISTORY.md).
    IsaFamily f{"x86-avx512", t};
    // 4-bit x int8 sums on pmaddubsw, as with AVX2 (in ymm halves), where
    // the target has no VNNI (else on vpdpbusd: Schedule::int8_quad_dot): on
    // Zen 4, 4-bit decode so ran 1.3-1.8x faster than on f32 activations,
    // the default before (bench/RESULTS.md).
    f.lowering_passes = add_maddubs_pass;
    f.quant4_int8_dot = true;
    return f;
}

}  // namespace qwenc
