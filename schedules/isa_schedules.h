// One family per ISA, each in its own file: its name and tile sizes.
// registry.cpp picks one from the target. A new ISA is a new file here,
// nothing else changes.
#pragma once
#include "cpu_generic.h"

namespace qwenc {

struct IsaFamily {
    const char *name;
    CpuTiles tiles;
};

IsaFamily x86_avx512_family();
IsaFamily x86_avx2_family();
IsaFamily simd128_family();

}  // namespace qwenc
