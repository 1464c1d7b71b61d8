// Targets with 128-bit vectors: ARM64 NEON, and x86 with SSE only (no AVX).
// The tiles are sized for NEON's 32 q registers of 4 f32 lanes.
#include "isa_schedules.h"

namespace qwenc {

IsaFamily simd128_family() {
    CpuTiles t;  // 32 q registers of 4 f32 lanes; the defaults otherwise
    t.vector = 4;
    return {"simd128", t};
}

}  // namespace qwenc
