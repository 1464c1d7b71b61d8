#include "weight_matrix.h"

namespace qwenc {

using namespace Halide;

Type halide_storage_type(DType t) {
    switch (t) {
    case DType::BF16: return UInt(16);
    case DType::F16: return Float(16);
    case DType::F32: return Float(32);
    case DType::I32: return Int(32);
    }
    return Float(32);
}

WeightMatrix::WeightMatrix(const std::string &name, DType dtype, int64_t in_dim, int64_t out_dim)
    : param_(halide_storage_type(dtype), 2, name), dtype_(dtype), in_(in_dim), out_(out_dim) {
    // Exact, constant shapes and strides: the checkpoint's row-major layout.
    param_.dim(0).set_bounds(0, int(in_dim)).set_stride(1);
    param_.dim(1).set_bounds(0, int(out_dim)).set_stride(int(in_dim));
}

Expr WeightMatrix::operator()(const Expr &i, const Expr &o) const {
    Expr raw = param_(i, o);
    if (dtype_ == DType::BF16) return reinterpret(Float(32), cast(UInt(32), raw) << 16);
    return cast(Float(32), raw);
}

ImageParam vector_input(const std::string &name, int64_t n) {
    ImageParam p(Float(32), 1, name);
    p.dim(0).set_bounds(0, int(n)).set_stride(1);
    return p;
}

}  // namespace qwenc
