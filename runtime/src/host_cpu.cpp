#include "host_cpu.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

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

std::set<std::string> host_cpu_features() {
    if (const char *env = std::getenv("QWENRT_CPU_FEATURES")) return split_words(env);
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
