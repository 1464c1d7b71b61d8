// x86-64 with AVX2 + FMA (Haswell and later, Zen 1-3): 16 ymm registers.
#include "isa_schedules.h"

namespace qwenc {

IsaFamily x86_avx2_family() {
    CpuTiles t;
    t.vector = 8;
    // Prefill register tiles of 2 rows x 4 tokens: on an AVX2-only Zen,
    // faster than the shared default of 4 x 3 at every length measured, and
    // most at the few tokens of a batched step (bench/HISTORY.md).
    t.rows = 2;
    t.tokens = 4;
    // int8 weights (f32 activations) in the same tiles: widened from int8
    // elements they take one register a row, and qwenc tune found 2 x 4
    // fastest (bench/HISTORY.md).
    t.int8_tokens = 4;
    // int16-dot prefill: 2 rows x 5 tokens, 10 int32 sums; faster than
    // 2 x 4 in five interleaved rounds (bench/HISTORY.md).
    t.int16_tokens = 5;
    // int16-dot's batched steps in tiles of 1 row x 8 tokens: with each
    // block's lanes summed in int32 (layers.cpp), a step is one widened
    // weight vector, 8 products and 8 adds into 8 int32 sums, and a step of
    // 8 sequences reads each weight once; faster than 2 x 4 and 4 x 2 at 8
    // sequences (bench/HISTORY.md).
    t.int_batch_rows = 1;
    t.int_batch_tokens = 8;
    IsaFamily f{"x86-avx2", t};
    f.lowering_passes = add_maddubs_pass;  // vpmaddubsw: bench/HISTORY.md
    f.quant4_int8_dot = true;
    return f;
}

}  // namespace qwenc
