// ARM64 NEON (and any other 128-bit SIMD target): 32 q registers of 4 f32
// lanes.
#include "isa_schedules.h"

namespace qwenc {

std::unique_ptr<Schedule> make_arm64_neon_schedule() {
    CpuTiles t;  // 32 q registers of 4 f32 lanes; the defaults otherwise
    t.vector = 4;
    return std::make_unique<CpuGenericSchedule>(t, "arm64-neon");
}

}  // namespace qwenc
