// One family per ISA, each in its own file: its name and tile sizes.
// registry.cpp picks one from the target. A new ISA is a new file here,
// nothing else changes.
#pragma once
#include "cpu_generic.h"

namespace qwenc {

struct IsaFamily {
    const char *name;
    CpuTiles tiles;
    Int8DotSigns int8_signs = Int8DotSigns::UnsignedBySigned;  // x86's vpdpbusd
    // Custom lowering passes the family's code needs (Schedule::add_lowering_passes).
    void (*lowering_passes)(Halide::Pipeline &) = nullptr;
    // Whether 4-bit x int8 sums (int8-dot decode of 4-bit weights) have
    // fast code here, which makes them 4-bit decode's default.
    bool quant4_int8_dot = false;
};

// x86_maddubs.cpp: 4-bit x int8 sums on pmaddubsw (x86 with AVX2, AVX-512 too).
void add_maddubs_pass(Halide::Pipeline &p);

IsaFamily x86_avx512_family();
IsaFamily x86_avx2_family();
IsaFamily simd128_family();
IsaFamily arm64_neon_family();

}  // namespace qwenc
