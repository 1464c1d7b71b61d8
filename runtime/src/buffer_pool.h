// Memory for the Halide intermediates of compiled stages, kept for reuse.
//
// A stage allocates its intermediates on every call: for a 512-token 1.5B
// prefill, gate's and up's outputs are 18 MB each. From malloc, glibc maps
// blocks that large fresh each time (above its mmap threshold), so every
// call faulted them in and the kernel zeroed them again, a noticeable part of
// a prefill (bench/HISTORY.md). The pool keeps freed blocks by size class and hands them out
// again; model objects get it through their qwenc_set_allocator helper.
#pragma once
#include <cstddef>

namespace qwenc {

// halide_malloc_t / halide_free_t. Blocks are aligned to kPoolAlignment.
void *pool_malloc(void *user_context, size_t size);
void pool_free(void *user_context, void *ptr);

constexpr size_t kPoolAlignment = 128;  // >= halide_malloc_alignment() on every target
// Blocks below this go straight back to malloc/free; larger ones are kept,
// up to kPoolMaxKept bytes in all (beyond, freed blocks return to the OS).
constexpr size_t kPoolMinBlock = size_t(256) << 10;
constexpr size_t kPoolMaxKept = size_t(1) << 30;

// Bytes currently kept for reuse (for tests).
size_t pool_kept_bytes();

}  // namespace qwenc
