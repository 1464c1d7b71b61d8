// ARM64 NEON (and any other 128-bit SIMD target): 32 q registers of 4 f32
// lanes.
#include "isa_schedules.h"

namespace qwenc {

std::unique_ptr<Schedule> make_arm64_neon_schedule() {
    CpuTiles t;
    t.vector = 4;
    t.rows = 4;
    t.tokens = 3;
    t.decode_rows = 1;
    t.decode_vectors = 4;
    t.parallel_rows = 64;
    return std::make_unique<CpuGenericSchedule>(t, "arm64-neon");
}

}  // namespace qwenc
