#include "weight_matrix.h"

namespace qwenc {

using namespace Halide;

Type halide_storage_type(DType t) {
    const WeightStorage s = weight_storage(t);
    switch (s.code) {
    case WeightStorage::Int: return Int(s.bits);
    case WeightStorage::UInt: return UInt(s.bits);
    case WeightStorage::Float: return Float(s.bits);
    }
    return Float(32);
}

WeightMatrix::WeightMatrix(const std::string &name, DType dtype, int64_t in_dim, int64_t out_dim)
    : param_(halide_storage_type(dtype), 2, name), dtype_(dtype), in_(in_dim), out_(out_dim),
      pack_(weight_storage(dtype).pack) {
    if (in_dim % pack_ != 0)
        throw std::invalid_argument(std::string(dtype_flag_name(dtype)) + " weights need an even input dimension; " + name +
                                    " has " + std::to_string(in_dim));
    // Exact, constant shapes and strides: the checkpoint's row-major layout.
    param_.dim(0).set_bounds(0, int(in_dim / pack_)).set_stride(1);
    param_.dim(1).set_bounds(0, int(out_dim)).set_stride(int(in_dim / pack_));
}

namespace {
// The f32 whose upper 16 bits are the bf16 `bits` (in the word's low or high half).
Expr bf16_low(const Expr &word) { return reinterpret(Float(32), word << 16); }
Expr bf16_high(const Expr &word) { return reinterpret(Float(32), word & Expr(uint32_t(0xffff0000u))); }
}  // namespace

Expr WeightMatrix::operator()(const Expr &i, const Expr &o) const {
    if (pack_ == 2) {
        Expr word = param_(i / 2, o);
        return select(i % 2 == 0, bf16_low(word), bf16_high(word));
    }
    return cast(Float(32), param_(i, o));
}

Expr WeightMatrix::even(const Expr &i2, const Expr &o) const { return bf16_low(param_(i2, o)); }
Expr WeightMatrix::odd(const Expr &i2, const Expr &o) const { return bf16_high(param_(i2, o)); }

ImageParam vector_input(const std::string &name, int64_t n) {
    ImageParam p(Float(32), 1, name);
    p.dim(0).set_bounds(0, int(n)).set_stride(1);
    return p;
}

}  // namespace qwenc
