// Maps a Halide target to the schedule for its ISA family.
#include "isa_schedules.h"
#include "schedule_file.h"

#include "input_error.h"

namespace qwenc {

namespace {
IsaFamily family_for_target(const Halide::Target &target) {
    if (target.arch == Halide::Target::X86) {
        if (target.has_feature(Halide::Target::AVX512)) return x86_avx512_family();
        if (target.has_feature(Halide::Target::AVX)) return x86_avx2_family();
    }
    if (target.arch == Halide::Target::ARM && target.bits == 64) return arm64_neon_family();
    return simd128_family();  // SSE-only x86 and anything else with 128-bit vectors
}
}  // namespace

std::string schedule_name_for_target(const Halide::Target &target) { return family_for_target(target).name; }

// The x86-avx2 family also serves AVX-only targets, whose integer vectors
// are 128 bits wide: not measured, so not fast.
bool fast_quant4_int8_dot(const Halide::Target &target) {
    return family_for_target(target).quant4_int8_dot && target.has_feature(Halide::Target::AVX2);
}

CpuTiles tiles_for_target(const Halide::Target &target, const ScheduleFile *file) {
    const IsaFamily family = family_for_target(target);
    if (!file) return family.tiles;
    if (file->schedule != family.name)
        throw InputError(file->path + ": tiles for the " + file->schedule + " schedule; target '" + target.to_string() +
                         "' uses " + family.name);
    return with_tiles(family.tiles, file->tiles);
}

std::unique_ptr<Schedule> schedule_with_tiles(const Halide::Target &target, const CpuTiles &tiles) {
    const IsaFamily family = family_for_target(target);
    // vpdpbusd: Halide selects it for avx512_sapphirerapids targets (Zen 4 included).
    const bool quad_dot = target.arch == Halide::Target::X86 && target.has_feature(Halide::Target::AVX512_SapphireRapids);
    return std::make_unique<CpuGenericSchedule>(tiles, family.name, family.int8_signs, family.lowering_passes, quad_dot);
}

std::unique_ptr<Schedule> schedule_for_target(const Halide::Target &target, const ScheduleFile *file) {
    return schedule_with_tiles(target, tiles_for_target(target, file));
}

}  // namespace qwenc
