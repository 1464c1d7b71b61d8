// ARM64 NEON (and any other 128-bit SIMD target): 32 q registers of 4 f32
// lanes.
#include "isa_schedules.h"

namespace qwenc {

IsaFamily arm64_neon_family() {
    CpuTiles t;  // 32 q registers of 4 f32 lanes; the defaults otherwise
    t.vector = 4;
    return {"arm64-neon", t};
}

}  // namespace qwenc
