// x86-64 with AVX2 + FMA (Haswell and later, Zen 1-3): 16 ymm registers.
#include "isa_schedules.h"

namespace qwenc {

std::unique_ptr<Schedule> make_x86_avx2_schedule() {
    CpuTiles t;
    t.vector = 8;
    t.rows = 4;
    t.tokens = 3;
    t.decode_rows = 1;
    t.decode_vectors = 4;
    t.parallel_rows = 64;
    return std::make_unique<CpuGenericSchedule>(t, "x86-avx2");
}

}  // namespace qwenc
