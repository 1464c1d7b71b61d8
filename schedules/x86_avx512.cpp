// x86-64 with AVX-512 (Skylake-X, Ice Lake, Sapphire Rapids, Zen 4): 32
// zmm registers hold 16 rows of 16-lane partial sums in decode.
#include "isa_schedules.h"

namespace qwenc {

std::unique_ptr<Schedule> make_x86_avx512_schedule() {
    CpuTiles t;
    t.vector = 16;
    t.rows = 4;
    t.tokens = 3;
    t.decode_rows = 16;  // measured best of 4/8/16/32 on Zen 4 (bench/RESULTS.md)
    t.parallel_rows = 64;
    return std::make_unique<CpuGenericSchedule>(t, "x86-avx512");
}

}  // namespace qwenc
