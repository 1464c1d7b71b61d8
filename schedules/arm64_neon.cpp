// 64-bit ARM with NEON (AArch64: Cortex-A55/A76 and later, Neoverse,
// Apple): 32 q registers of 4 f32 lanes. Its int8 dot product (sdot, the
// arm_dot_prod feature) multiplies signed by signed bytes, so int8-dot's
// weights enter as they are.
#include "isa_schedules.h"

namespace qwenc {

IsaFamily arm64_neon_family() {
    CpuTiles t;  // see CpuTiles for the defaults
    t.vector = 4;
    // 32 registers, as AVX-512's: 4 x 6 prefill tiles keep 24 accumulators
    // and leave 8 for the weight loads and the broadcast inputs; int8
    // weights widen to f32 in registers of their own, so 4 tokens. Not
    // measured on ARM hardware (none here): the sizes follow the register
    // count, and `qwenc tune` on the device finds better ones.
    t.tokens = 6;
    t.int8_tokens = 4;
    t.attention_accumulators = 24;
    return {"arm64-neon", t, Int8DotSigns::SignedBySigned};
}

}  // namespace qwenc
