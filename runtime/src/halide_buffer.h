// A halide_buffer_t over memory the runtime owns or maps, with up to four
// dimensions given innermost first as (extent, stride) pairs.
#pragma once
#include <initializer_list>
#include <utility>

#include <HalideRuntime.h>

namespace qwenc {

// The element types of the runtime's buffers.
constexpr halide_type_t kF32{halide_type_float, 32, 1};
constexpr halide_type_t kI32{halide_type_int, 32, 1};

class HalideBuffer {
public:
    HalideBuffer() = default;
    HalideBuffer(const void *host, halide_type_t type, std::initializer_list<std::pair<int64_t, int64_t>> dims) {
        reset(host, type, dims);
    }
    HalideBuffer(const HalideBuffer &) = delete;
    HalideBuffer &operator=(const HalideBuffer &) = delete;

    void reset(const void *host, halide_type_t type, std::initializer_list<std::pair<int64_t, int64_t>> dims) {
        buf_ = halide_buffer_t{};
        buf_.host = static_cast<uint8_t *>(const_cast<void *>(host));
        buf_.type = type;
        buf_.dim = dim_;
        int i = 0;
        for (auto [extent, stride] : dims) dim_[i++] = halide_dimension_t{0, int32_t(extent), int32_t(stride), 0};
        buf_.dimensions = i;
    }
    halide_buffer_t *get() { return &buf_; }

private:
    halide_buffer_t buf_{};
    halide_dimension_t dim_[4]{};
};

}  // namespace qwenc
