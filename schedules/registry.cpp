// Maps a Halide target to the schedule for its ISA family.
#include "cpu_generic.h"

namespace qwenc {

std::unique_ptr<Schedule> schedule_for_target(const Halide::Target &target) {
    CpuTiles tiles;
    if (target.arch == Halide::Target::X86) {
        // f32 lanes of the widest vector unit the target enables.
        tiles.vector = target.has_feature(Halide::Target::AVX512) ? 16 : target.has_feature(Halide::Target::AVX) ? 8 : 4;
        return std::make_unique<CpuGenericSchedule>(tiles, tiles.vector == 16 ? "x86-avx512" : "x86-avx2");
    }
    tiles.vector = 4;  // ARM NEON, and anything else with 128-bit vectors
    return std::make_unique<CpuGenericSchedule>(tiles, "cpu-generic-128");
}

}  // namespace qwenc
