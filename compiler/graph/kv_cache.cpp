#include "graph/kv_cache.h"

#include <stdexcept>

#include "graph/weight_matrix.h"

namespace qwenc {

using namespace Halide;

Type kv_cache_type(DType kv) {
    switch (kv) {
    case DType::F32: return Float(32);
    case DType::BF16:
    case DType::F16: return UInt(16);
    default: throw std::invalid_argument(std::string("a KV cache cannot hold ") + dtype_flag_name(kv));
    }
}

Expr kv_cache_store(const Expr &value, DType kv) {
    switch (kv) {
    case DType::F32: return value;
    case DType::BF16: {
        // Round to nearest even on the bits (as float_to_bf16 in models/dtype.h).
        Expr u = reinterpret<uint32_t>(value);
        return cast<uint16_t>((u + (0x7fff + ((u >> 16) & 1))) >> 16);
    }
    case DType::F16: return reinterpret<uint16_t>(cast(Float(16), value));
    default: throw std::invalid_argument(std::string("a KV cache cannot hold ") + dtype_flag_name(kv));
    }
}

Func kv_cache_load(const ImageParam &cache, DType kv) {
    if (kv == DType::F32) return cache;
    Var d("d"), p("p"), g("g");
    Func f(cache.name() + "_f32");
    Expr bits = cache(d, p, g);
    f(d, p, g) = kv == DType::BF16 ? reinterpret<float>(cast<uint32_t>(bits) << 16) : f16_bits_to_f32(bits);
    return f;
}

}  // namespace qwenc
