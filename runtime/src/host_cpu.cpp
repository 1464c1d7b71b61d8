#include "host_cpu.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace qwenc {

std::string host_arch() {
#if defined(__x86_64__)
    return "x86-64";
#elif defined(__aarch64__)
    return "arm-64";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv-64";
#else
    return "unknown";
#endif
}

namespace {
std::set<std::string> split_words(const std::string &s) {
    std::set<std::string> out;
    std::string w;
    for (char ch : s + " ") {
        if (ch == ' ' || ch == ',' || ch == '\t' || ch == '\n') {
            if (!w.empty()) out.insert(w);
            w.clear();
        } else {
            w += ch;
        }
    }
    return out;
}
}  // namespace

#if defined(__x86_64__)
// The CPU as the code will see it: CPUID, plus XGETBV for whether the OS
// saves the AVX / AVX-512 registers. More direct than /proc/cpuinfo, and
// right under emulators (qemu-user passes the host's /proc/cpuinfo through).
// Names are Linux's flag names, as the manifest lists them.
std::set<std::string> x86_cpuid_features() {
    std::set<std::string> f;
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    const unsigned c1 = c, d1 = d;
    auto bit = [](unsigned reg, int i) { return (reg >> i) & 1u; };
    if (bit(d1, 25)) f.insert("sse");
    if (bit(d1, 26)) f.insert("sse2");
    if (bit(c1, 0)) f.insert("pni");
    if (bit(c1, 9)) f.insert("ssse3");
    if (bit(c1, 19)) f.insert("sse4_1");
    if (bit(c1, 20)) f.insert("sse4_2");
    if (bit(c1, 23)) f.insert("popcnt");
    // AVX state (xmm+ymm) and AVX-512 state (opmask, zmm) enabled by the OS.
    uint64_t xcr0 = 0;
    if (bit(c1, 27)) {  // OSXSAVE
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = (uint64_t(hi) << 32) | lo;
    }
    const bool avx_os = (xcr0 & 0x6) == 0x6, avx512_os = (xcr0 & 0xe6) == 0xe6;
    if (avx_os) {
        if (bit(c1, 28)) f.insert("avx");
        if (bit(c1, 12)) f.insert("fma");
        if (bit(c1, 29)) f.insert("f16c");
    }
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        const unsigned b7 = b, c7 = c;
        if (avx_os && bit(b7, 5)) f.insert("avx2");
        if (avx512_os) {
            const std::pair<int, const char *> ebx[] = {{16, "avx512f"}, {17, "avx512dq"}, {21, "avx512ifma"}, {26, "avx512pf"},
                                                        {27, "avx512er"}, {28, "avx512cd"}, {30, "avx512bw"}, {31, "avx512vl"}};
            for (const auto &[i, name] : ebx)
                if (bit(b7, i)) f.insert(name);
            if (bit(c7, 1)) f.insert("avx512vbmi");
            if (bit(c7, 11)) f.insert("avx512_vnni");
            if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && bit(a, 5)) f.insert("avx512_bf16");
        }
    }
    return f;
}
#endif

#if defined(__aarch64__)
// The kernel's hardware capability bits (what the code may use, and right
// under qemu-user, which reports the emulated CPU there), with the names
// /proc/cpuinfo's "Features" line uses.
std::set<std::string> arm64_hwcap_features() {
    std::set<std::string> f;
    const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    const std::pair<unsigned long, const char *> bits[] = {{HWCAP_FP, "fp"},         {HWCAP_ASIMD, "asimd"},
                                                          {HWCAP_FPHP, "fphp"},     {HWCAP_ASIMDHP, "asimdhp"},
                                                          {HWCAP_ASIMDDP, "asimddp"}, {HWCAP_SVE, "sve"}};
    for (const auto &[mask, name] : bits)
        if (hw & mask) f.insert(name);
#ifdef HWCAP2_SVE2
    if (hw2 & HWCAP2_SVE2) f.insert("sve2");
#endif
    (void)hw2;
    return f;
}
#endif

std::set<std::string> host_cpu_features() {
    if (const char *env = std::getenv("QWENRT_CPU_FEATURES")) return split_words(env);
#if defined(__x86_64__)
    return x86_cpuid_features();
#elif defined(__aarch64__)
    return arm64_hwcap_features();
#endif
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        // x86 lists "flags", arm64 "Features"; the first CPU's line is enough.
        if (line.rfind("flags", 0) == 0 || line.rfind("Features", 0) == 0) {
            auto colon = line.find(':');
            if (colon != std::string::npos) return split_words(line.substr(colon + 1));
        }
    }
    return {};
}

std::vector<std::string> missing_cpu_features(const std::vector<std::string> &required) {
    const std::set<std::string> have = host_cpu_features();
    std::vector<std::string> missing;
    for (const std::string &f : required)
        if (!have.count(f)) missing.push_back(f);
    return missing;
}

}  // namespace qwenc
