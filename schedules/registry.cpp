// Maps a Halide target to the schedule for its ISA family.
#include "isa_schedules.h"

namespace qwenc {

std::unique_ptr<Schedule> schedule_for_target(const Halide::Target &target) {
    if (target.arch == Halide::Target::X86) {
        if (target.has_feature(Halide::Target::AVX512)) return make_x86_avx512_schedule();
        if (target.has_feature(Halide::Target::AVX)) return make_x86_avx2_schedule();
    }
    return make_arm64_neon_schedule();  // ARM NEON, SSE-only x86 and anything with 128-bit vectors
}

}  // namespace qwenc
