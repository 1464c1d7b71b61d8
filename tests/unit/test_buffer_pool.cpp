// The pool that keeps Halide's large intermediates for reuse between stage
// calls (runtime/src/buffer_pool.h).
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <vector>

#include "buffer_pool.h"

using namespace qwenc;

TEST_CASE("blocks are aligned for Halide and usable to their full size") {
    for (size_t size : {size_t(1), size_t(1000), kPoolMinBlock, size_t(5) << 20}) {
        void *p = pool_malloc(nullptr, size);
        REQUIRE(p != nullptr);
        CHECK(reinterpret_cast<uintptr_t>(p) % kPoolAlignment == 0);
        std::memset(p, 0xab, size);
        pool_free(nullptr, p);
    }
}

TEST_CASE("a freed large block is handed out again, also for a nearby size") {
    const size_t size = size_t(18) << 20;  // 1.5B's gate output, 512 tokens
    void *a = pool_malloc(nullptr, size);
    pool_free(nullptr, a);
    CHECK(pool_kept_bytes() >= size);
    void *b = pool_malloc(nullptr, size);
    CHECK(b == a);
    pool_free(nullptr, b);
    void *c = pool_malloc(nullptr, size - 4096);  // a prompt a few tokens shorter
    CHECK(c == a);
    std::memset(c, 0, size - 4096);
    pool_free(nullptr, c);
}

TEST_CASE("small blocks go back to malloc") {
    const size_t before = pool_kept_bytes();
    void *p = pool_malloc(nullptr, kPoolMinBlock / 4);
    pool_free(nullptr, p);
    CHECK(pool_kept_bytes() == before);
}

TEST_CASE("the pool keeps at most kPoolMaxKept bytes") {
    // Address space only: the blocks are never touched.
    std::vector<void *> blocks;
    for (int i = 0; i < 5; i++) blocks.push_back(pool_malloc(nullptr, kPoolMaxKept / 3));
    for (void *b : blocks) REQUIRE(b != nullptr);
    for (void *b : blocks) pool_free(nullptr, b);
    CHECK(pool_kept_bytes() <= kPoolMaxKept);
    CHECK(pool_kept_bytes() >= 2 * (kPoolMaxKept / 3));
}
