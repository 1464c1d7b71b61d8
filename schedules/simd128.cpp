// Targets with 128-bit vectors and no family of their own: x86 with SSE
// only (no AVX), 32-bit ARM.
#include "isa_schedules.h"

namespace qwenc {

IsaFamily simd128_family() {
    CpuTiles t;  // 4 f32 lanes; the defaults otherwise
    t.vector = 4;
    return {"simd128", t};
}

}  // namespace qwenc
