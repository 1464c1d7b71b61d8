// x86-64 with AVX2 + FMA (Haswell and later, Zen 1-3): 16 ymm registers.
#include "isa_schedules.h"

namespace qwenc {

std::unique_ptr<Schedule> make_x86_avx2_schedule() {
    CpuTiles t;  // the defaults are sized for 16 ymm registers
    t.vector = 8;
    return std::make_unique<CpuGenericSchedule>(t, "x86-avx2");
}

}  // namespace qwenc
