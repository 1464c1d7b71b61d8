// huge_page_fraction (the benchmark's "weights mapped in 2 MB pages") reads
// what the kernel reports in /proc/self/smaps for the mappings it is given.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <sys/mman.h>

#include "bench/huge_pages.h"

using namespace qwenc;

namespace {
bool thp_enabled() {
    std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string s;
    std::getline(f, s);
    return s.find("[always]") != std::string::npos || s.find("[madvise]") != std::string::npos;
}
}  // namespace

TEST_CASE("memory that is not mapped has no fraction") {
    CHECK(huge_page_fraction({{reinterpret_cast<const void *>(uintptr_t(4096)), 16}}) == -1);
}

TEST_CASE("small pages count as 0, 2 MB pages as 1") {
    const size_t n = size_t(16) << 20;
    void *p = mmap(nullptr, n + (2 << 20), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    // A 2 MB-aligned region inside the mapping.
    auto *a = reinterpret_cast<char *>((reinterpret_cast<uintptr_t>(p) + (2 << 20) - 1) & ~uintptr_t((2 << 20) - 1));
    SECTION("no huge pages asked for") {
        madvise(a, n, MADV_NOHUGEPAGE);
        std::memset(a, 1, n);
        CHECK(huge_page_fraction({{a, n}}) == 0);
    }
    SECTION("huge pages asked for") {
        if (!thp_enabled()) {
            WARN("transparent huge pages are off in this kernel: only the small-page case is checked");
        } else {
            madvise(a, n, MADV_HUGEPAGE);
            std::memset(a, 1, n);
            // The whole mapping (including the unaligned slack) is the VMA;
            // its aligned 16 MB are huge.
            CHECK(huge_page_fraction({{a, n}}) > 0.5);
        }
    }
    munmap(p, n + (2 << 20));
}
