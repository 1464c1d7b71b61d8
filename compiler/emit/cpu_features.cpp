#include "emit/cpu_features.h"

#include <algorithm>

namespace qwenc {

using Halide::Target;

std::vector<std::string> required_cpu_features(const Target &t) {
    std::vector<std::string> f;
    auto need = [&](Target::Feature feature, std::initializer_list<const char *> flags) {
        if (t.has_feature(feature))
            for (const char *flag : flags) f.push_back(flag);
    };
    if (t.arch == Target::X86) {
        need(Target::SSE41, {"sse4_1"});
        need(Target::AVX, {"avx"});
        need(Target::AVX2, {"avx2"});
        need(Target::FMA, {"fma"});
        need(Target::FMA4, {"fma4"});
        need(Target::F16C, {"f16c"});
        need(Target::AVX512, {"avx512f", "avx512cd"});
        need(Target::AVX512_KNL, {"avx512f", "avx512cd", "avx512er", "avx512pf"});
        need(Target::AVX512_Skylake, {"avx512f", "avx512cd", "avx512vl", "avx512bw", "avx512dq"});
        need(Target::AVX512_Cannonlake, {"avx512f", "avx512cd", "avx512vl", "avx512bw", "avx512dq", "avx512ifma", "avx512vbmi"});
        need(Target::AVX512_SapphireRapids,
             {"avx512f", "avx512cd", "avx512vl", "avx512bw", "avx512dq", "avx512ifma", "avx512vbmi", "avx512_bf16", "avx512_vnni"});
    } else if (t.arch == Target::ARM) {
        need(Target::ARMDotProd, {"asimddp"});
        need(Target::ARMFp16, {"asimdhp"});
        need(Target::SVE, {"sve"});
        need(Target::SVE2, {"sve2"});
    }
    std::sort(f.begin(), f.end());
    f.erase(std::unique(f.begin(), f.end()), f.end());
    return f;
}

std::string arch_name(const Target &t) {
    std::string a = t.arch == Target::X86 ? "x86" : t.arch == Target::ARM ? "arm" : t.arch == Target::RISCV ? "riscv" : "other";
    return a + "-" + std::to_string(t.bits);
}

}  // namespace qwenc
