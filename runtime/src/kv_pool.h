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
    KvPool(const ModelConfig &c, int64_t tokens);
    int64_t tokens() const { return tokens_; }
    int64_t free_tokens() const { return free_total_; }
    // The start of a range of n positions, or none if no free range is that long.
    std::optional<int64_t> reserve(int64_t n);
    void release(int64_t start);
    // Layer `layer`'s K or V at position `start` of the pool.
    float *k(int64_t layer, int64_t start) const { return kv_.get() + (2 * layer) * layer_ + start * head_dim_; }
    float *v(int64_t layer, int64_t start) const { return kv_.get() + (2 * layer + 1) * layer_ + start * head_dim_; }
    int64_t head_stride() const { return tokens_ * head_dim_; }  // floats from one kv head to the next
    // The range from `start` as one sequence's cache.
    CacheView view(int64_t start) const { return {kv_.get(), layer_, head_stride(), start * head_dim_}; }

private:
    int64_t tokens_, head_dim_, layer_;  // layer_: floats per layer per K or V
    std::unique_ptr<float[], void (*)(void *)> kv_{nullptr, std::free};
    std::map<int64_t, int64_t> free_, used_;  // start -> length
    int64_t free_total_;
};

}  // namespace qwenc
