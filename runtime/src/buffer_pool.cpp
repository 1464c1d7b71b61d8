#include "buffer_pool.h"

#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>

namespace qwenc {

namespace {

// Each block starts with a header (inside the alignment padding) holding
// its capacity; the caller's pointer is kPoolAlignment bytes in.
struct Header {
    size_t capacity;
};
static_assert(sizeof(Header) <= kPoolAlignment);

std::mutex g_mutex;
std::multimap<size_t, void *> g_free;  // capacity -> block start
size_t g_kept = 0;

// Sizes rounded up to eighths of a power of two (at most 12.5% unused), so
// that prompts of nearby lengths share blocks.
size_t size_class(size_t size) {
    if (size < kPoolMinBlock) return size;
    size_t top = 1;
    while ((top << 1) <= size) top <<= 1;
    const size_t step = top / 8;
    return (size + step - 1) / step * step;
}

}  // namespace

void *pool_malloc(void *, size_t size) {
    const size_t capacity = size_class(size);
    if (capacity >= kPoolMinBlock) {
        std::lock_guard<std::mutex> lock(g_mutex);
        auto it = g_free.find(capacity);
        if (it != g_free.end()) {
            void *block = it->second;
            g_free.erase(it);
            g_kept -= capacity;
            return static_cast<char *>(block) + kPoolAlignment;
        }
    }
    void *block = std::aligned_alloc(kPoolAlignment, kPoolAlignment + (capacity + kPoolAlignment - 1) / kPoolAlignment * kPoolAlignment);
    if (!block) return nullptr;
    static_cast<Header *>(block)->capacity = capacity;
    return static_cast<char *>(block) + kPoolAlignment;
}

void pool_free(void *, void *ptr) {
    if (!ptr) return;
    void *block = static_cast<char *>(ptr) - kPoolAlignment;
    const size_t capacity = static_cast<Header *>(block)->capacity;
    if (capacity >= kPoolMinBlock) {
        std::lock_guard<std::mutex> lock(g_mutex);
        if (g_kept + capacity <= kPoolMaxKept) {
            g_free.emplace(capacity, block);
            g_kept += capacity;
            return;
        }
    }
    std::free(block);
}

size_t pool_kept_bytes() {
    std::lock_guard<std::mutex> lock(g_mutex);
    return g_kept;
}

}  // namespace qwenc
