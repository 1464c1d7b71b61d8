#include "bench/huge_pages.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

namespace qwenc {

double huge_page_fraction(const std::vector<std::pair<const void *, size_t>> &ranges) {
    std::ifstream smaps("/proc/self/smaps");
    if (!smaps) return -1;
    double total = 0, huge = 0;
    bool counted = false;  // the current VMA holds one of the ranges
    std::string line;
    while (std::getline(smaps, line)) {
        unsigned long long lo = 0, hi = 0;
        char dash = 0;
        // A VMA header: "start-end perms offset dev inode [path]".
        if (std::sscanf(line.c_str(), "%llx%c%llx", &lo, &dash, &hi) == 3 && dash == '-' && line.find(':') > line.find(' ')) {
            counted = false;
            for (const auto &[p, n] : ranges) {
                const auto a = uint64_t(reinterpret_cast<uintptr_t>(p));
                if (a < hi && a + n > lo) counted = true;
            }
            if (counted) total += double(hi - lo);
            continue;
        }
        unsigned long long kb = 0;
        if (counted && (std::sscanf(line.c_str(), "FilePmdMapped: %llu kB", &kb) == 1 ||
                        std::sscanf(line.c_str(), "AnonHugePages: %llu kB", &kb) == 1))
            huge += double(kb) * 1024.0;
    }
    return total > 0 ? huge / total : -1;
}

}  // namespace qwenc
