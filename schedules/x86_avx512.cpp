// x86-64 with AVX-512 (Skylake-X, Ice Lake, Sapphire Rapids, Zen 4).
#include "isa_schedules.h"

namespace qwenc {

IsaFamily x86_avx512_family() {
    CpuTiles t;  // see CpuTiles for the defaults
    t.vector = 16;
    t.tokens = 6;  // 4 x 6 tiles: 24 zmm accumulators; 3 tokens gave 56 tok/s, 6 give 65 on 1.5B
    t.int8_tokens = 4;  // int8 weights, 128-token prefill: +11% on 0.5B, +9% on 1.5B against 6
    // Decode keeps the default one row x 4 vectors: it beat 16 x 1, 8 x 2 and
    // 4 x 4 tiles on Zen 4 (bench/HISTORY.md).
    return {"x86-avx512", t};
}

}  // namespace qwenc
