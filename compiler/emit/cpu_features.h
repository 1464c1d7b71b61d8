// The CPU features a Halide target needs, named as Linux reports them in
// /proc/cpuinfo ("avx2", "avx512_bf16", "asimddp"), so the runtime can check
// them before running any code.
#pragma once
#include <string>
#include <vector>

#include <Halide.h>

namespace qwenc {

std::vector<std::string> required_cpu_features(const Halide::Target &target);
std::string arch_name(const Halide::Target &target);

}  // namespace qwenc
