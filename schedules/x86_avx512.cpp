// x86-64 with AVX-512 (Skylake-X, Ice Lake, Sapphire Rapids, Zen 4).
#include "isa_schedules.h"

namespace qwenc {

std::unique_ptr<Schedule> make_x86_avx512_schedule() {
    CpuTiles t;
    t.vector = 16;
    t.rows = 4;
    t.tokens = 6;
    t.decode_rows = 1;
    t.decode_vectors = 4;  // 1 x 4 beat 16 x 1, 8 x 2, 4 x 4 on Zen 4 (bench/RESULTS.md)
    t.parallel_rows = 64;
    return std::make_unique<CpuGenericSchedule>(t, "x86-avx512");
}

}  // namespace qwenc
