// How much of some mapped memory the kernel maps with 2 MB pages (read from
// /proc/self/smaps), so a benchmark can say why decode reached what it did.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

namespace qwenc {

// Of the mappings (VMAs) that hold any of `ranges`, the fraction of bytes
// mapped with huge pages (file or anonymous); -1 when smaps is unreadable.
double huge_page_fraction(const std::vector<std::pair<const void *, size_t>> &ranges);

}  // namespace qwenc
