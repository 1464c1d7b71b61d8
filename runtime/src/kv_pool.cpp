#include "kv_pool.h"

#include <climits>
#include <stdexcept>
#include <string>

#include "input_error.h"
#include "model_object.h"

namespace qwenc {

KvPool::KvPool(const ModelConfig &c, DType dtype, int64_t tokens) : tokens_(tokens), free_total_(tokens) {
    if (tokens <= 0) throw InputError("the KV cache must hold at least one position");
    whole_.type = kv_cache_buffer_type(dtype);
    whole_.head_dim = c.head_dim();
    whole_.kv_heads = c.num_key_value_heads;
    whole_.head_stride = tokens * whole_.head_dim;
    whole_.layer_elems = c.num_key_value_heads * whole_.head_stride;
    // The stages address a layer's cache through 32-bit Halide strides.
    if (whole_.layer_elems > INT32_MAX)
        throw InputError("a KV cache of " + std::to_string(tokens) + " positions makes each layer's K and V " +
                         std::to_string(whole_.layer_elems) + " elements, over the 2^31-1 a Halide buffer holds; use fewer "
                         "positions (a smaller context or cache)");
    const size_t elems = size_t(2 * c.num_hidden_layers) * size_t(whole_.layer_elems);
    bytes_ = int64_t(elems * whole_.type.bytes());
    // calloc: pages are only touched (and resident) as positions fill.
    kv_.reset(static_cast<uint8_t *>(std::calloc(elems, whole_.type.bytes())));
    if (!kv_) throw std::runtime_error("cannot allocate a KV cache of " + std::to_string(bytes_ >> 20) + " MiB");
    whole_.base = kv_.get();
    free_[0] = tokens;
}

CacheView KvPool::view(int64_t start) const {
    CacheView v = whole_;
    v.offset = start * whole_.head_dim;
    return v;
}

std::optional<int64_t> KvPool::reserve(int64_t n) {
    if (n <= 0) throw std::invalid_argument("a KV range holds at least one position");
    for (auto it = free_.begin(); it != free_.end(); ++it) {
        if (it->second < n) continue;
        const int64_t start = it->first, rest = it->second - n;
        free_.erase(it);
        if (rest > 0) free_[start + n] = rest;
        used_[start] = n;
        free_total_ -= n;
        return start;
    }
    return std::nullopt;
}

void KvPool::release(int64_t start) {
    auto it = used_.find(start);
    if (it == used_.end()) throw std::logic_error("releasing a KV range that is not reserved");
    const int64_t length = it->second;
    used_.erase(it);
    give_back(start, length);
}

void KvPool::shrink(int64_t start, int64_t n) {
    auto it = used_.find(start);
    if (it == used_.end() || n <= 0 || n > it->second) throw std::logic_error("shrinking a KV range that is not reserved, or to no size");
    const int64_t rest = it->second - n;
    it->second = n;
    if (rest > 0) give_back(start + n, rest);
}

// Positions back to the free ranges, merged with their free neighbours so
// that long ranges come back.
void KvPool::give_back(int64_t begin, int64_t length) {
    free_total_ += length;
    auto next = free_.find(begin + length);
    if (next != free_.end()) length += next->second, free_.erase(next);
    auto after = free_.lower_bound(begin);
    if (after != free_.begin()) {
        auto prev = std::prev(after);
        if (prev->first + prev->second == begin) begin = prev->first, length += prev->second, free_.erase(prev);
    }
    free_[begin] = length;
}

}  // namespace qwenc
