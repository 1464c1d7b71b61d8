// A KV cache: per layer, K and V for `tokens` positions in the layout the
// stages take, (head_dim, position, kv head). A session's is one range of
// its own; a batched engine's is shared, each sequence owning one
// contiguous range of positions, reserved first-fit when it is admitted and
// returned the moment it finishes. The stages see a range as a cache of its
// own (same strides, another base).
#pragma once
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>

#include "forward.h"
#include "model_config.h"

namespace qwenc {

class KvPool {
public:
    // Elements of `dtype` (Manifest::kv_cache_dtype: f32, bf16 or f16).
    KvPool(const ModelConfig &c, DType dtype, int64_t tokens);
    int64_t tokens() const { return tokens_; }
    int64_t free_tokens() const { return free_total_; }
    int64_t bytes() const { return bytes_; }
    // The start of a range of n positions, or none if no free range is that long.
    std::optional<int64_t> reserve(int64_t n);
    void release(int64_t start);
    // Keeps the first n positions of a reserved range, the rest back to the pool.
    void shrink(int64_t start, int64_t n);
    // The range from `start` as one sequence's cache.
    CacheView view(int64_t start) const;

private:
    void give_back(int64_t begin, int64_t length);
    CacheView whole_;  // the pool from position 0
    int64_t tokens_, bytes_;
    std::unique_ptr<uint8_t[], void (*)(void *)> kv_{nullptr, std::free};
    std::map<int64_t, int64_t> free_, used_;  // start -> length
    int64_t free_total_;
};

}  // namespace qwenc
