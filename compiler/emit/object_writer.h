// Writes a Halide module as an object file. Halide 14 hands LLVM the CPU
// "sapphirerapids" for targets with avx512_sapphirerapids, which also turns
// on what those targets do not promise: AVX-VNNI (LLVM then re-encodes
// 256-bit vpdpbusd/vpdpwssd with a VEX prefix), AVX512-FP16 and AMX. Zen 4
// has AVX512-BF16 and AVX512-VNNI but none of those, and died of SIGILL on
// such code. The module's LLVM IR is therefore retargeted to "cannonlake"
// plus exactly the features the runtime checks (avx512_bf16, avx512_vnni).
#pragma once
#include <string>

#include <Halide.h>

namespace qwenc {

// Whether objects for this target need the narrowing above.
bool needs_retargeting(const Halide::Target &t);

void write_object_file(const Halide::Module &module, const std::string &path);

}  // namespace qwenc
