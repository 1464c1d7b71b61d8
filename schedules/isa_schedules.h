// One factory per ISA family, each in its own file; registry.cpp picks one
// from the target. A new ISA is a new file here, nothing else changes.
#pragma once
#include "cpu_generic.h"

namespace qwenc {

std::unique_ptr<Schedule> make_x86_avx512_schedule();
std::unique_ptr<Schedule> make_x86_avx2_schedule();
std::unique_ptr<Schedule> make_arm64_neon_schedule();

}  // namespace qwenc
