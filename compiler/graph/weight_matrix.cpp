#include "graph/weight_matrix.h"

#include "manifest.h"

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

namespace {
Type matrix_type(DType dtype, MatMath math) {
    switch (math) {
    case MatMath::Bf16Dot:
    case MatMath::Bf16x2Dot: return BFloat(16);
    case MatMath::Int8Dot:
    case MatMath::Int16Dot: return Int(8);
    case MatMath::F32: break;
    }
    return halide_storage_type(dtype);
}
}  // namespace

WeightMatrix::WeightMatrix(const std::string &name, DType dtype, int64_t in_dim, int64_t out_dim, MatMath math,
                           Int8DotSigns int8_signs, int int16_lanes)
    : param_(matrix_type(dtype, math), 2, name), dtype_(dtype), in_(in_dim), out_(out_dim),
      pack_(math == MatMath::F32 ? weight_storage(dtype).pack : 1), math_(math), int8_signs_(int8_signs),
      int16_lanes_(int16_lanes) {
    const auto needs = mat_math_weight_dtype(math);
    if (needs && *needs != dtype)
        throw std::invalid_argument(std::string(mat_math_name(math)) + " products need " + dtype_flag_name(*needs) + " weights");
    if (in_dim % pack_ != 0)
        throw std::invalid_argument(std::string(dtype_flag_name(dtype)) + " weights need an input dimension divisible by " +
                                    std::to_string(pack_) + "; " + name + " has " + std::to_string(in_dim));
    // Exact, constant shapes and strides: the checkpoint's row-major layout.
    param_.dim(0).set_bounds(0, int(in_dim / pack_)).set_stride(1);
    param_.dim(1).set_bounds(0, int(out_dim)).set_stride(int(in_dim / pack_));
    if (has_scale()) scale_ = vector_input(scale_arg_name(name), out_dim);
}

namespace {
// A 2-D input of the given type whose dims are the reverse of the stored
// [rows, cols] shape: dim 0 the contiguous one.
ImageParam stored_matrix(Type type, const std::string &name, const std::vector<int64_t> &shape) {
    ImageParam p(type, 2, name);
    p.dim(0).set_bounds(0, int(shape[1])).set_stride(1);
    p.dim(1).set_bounds(0, int(shape[0])).set_stride(int(shape[1]));
    return p;
}

}  // namespace

// f16 bits (uint16) to f32, exactly, in few vector instructions (Halide 14
// widens f16 with integer code of its own even where the target has F16C).
// Sign-extended to 32 bits and shifted left 13, the bits carry the sign at
// bit 31 (with copies at 28-30, masked off) and the exponent and mantissa at
// f32's places; as an f32 that is the value times 2^-112, subnormals
// included, so one multiply rebiases it. Infinities and NaNs (exponent all
// ones) come out with magnitude 2^16 to 2^17, and get f32's all-ones
// exponent back. About half the instructions of the form it replaced, on
// every f16 weight that decode streams (GPTQ/AWQ heads); what that measured
// is in bench/HISTORY.md.
Expr f16_bits_to_f32(const Expr &h) {
    const Expr wide = reinterpret(UInt(32), cast<int32_t>(reinterpret(Int(16), cast<uint16_t>(h))));
    const Expr scaled = reinterpret(Float(32), (wide << 13) & Expr(uint32_t(0x8fffe000))) * float(0x1p112);
    const Expr inf_nan = (wide & uint32_t(0x7c00)) == Expr(uint32_t(0x7c00));
    return reinterpret(Float(32), reinterpret(UInt(32), scaled) | select(inf_nan, Expr(uint32_t(0x7f800000)), Expr(uint32_t(0))));
}

namespace {
constexpr bool awq_nibble_matches_table() {
    for (int m = 0; m < kQuant4Pack; m++)
        if ((m % 2) * 4 + m / 2 != kAwqNibble[m]) return false;
    return true;
}
static_assert(awq_nibble_matches_table(), "awq_nibble_of_output() must compute kAwqNibble");
}  // namespace

WeightMatrix::WeightMatrix(const std::string &name, const Quant4 &q, int64_t in_dim, int64_t out_dim, MatMath math,
                           bool int8_quad_dot)
    : q4_(q), dtype_(DType::I32), in_(in_dim), out_(out_dim), pack_(1), math_(quant4_int8_dot(q, math) ? math : MatMath::F32),
      int8_quad_dot_(int8_quad_dot) {
    // Rows in f32: words of 8 inputs of one row, as the dense packed formats' (lane()).
    if (q.format == Quant4Format::Rows && math_ == MatMath::F32) pack_ = kQuant4Pack;
    const Quant4Shapes shapes = quant4_shapes(q, in_dim, out_dim);
    if (quant4_qweight_bytes(q, math))
        param_ = stored_matrix(UInt(8), name, {shapes.qweight[0], shapes.qweight[1] * kQuant4WordBytes});
    else
        param_ = stored_matrix(Int(32), name, shapes.qweight);
    if (!shapes.qzeros.empty()) q4_zeros_ = stored_matrix(Int(32), qzeros_arg_name(name), shapes.qzeros);
    q4_scales_ = stored_matrix(UInt(16), qscales_arg_name(name), shapes.scales);  // f16 bits, see f16_bits_to_f32
}

Expr WeightMatrix::quant4_nibble(const Expr &word, const Expr &n) {
    return (reinterpret(UInt(32), word) >> cast<uint32_t>(4 * n)) & cast<uint32_t>(15);
}

// AWQ: the nibble of output o % 8 (kAwqNibble), as arithmetic that a vector
// of 8 aligned outputs folds to one constant vector of shifts.
Expr WeightMatrix::awq_nibble_of_output(const Expr &o) { return (o % 2) * 4 + (o % 8) / 2; }

Expr WeightMatrix::quant4_zero(const Expr &g, const Expr &o) const {
    const Expr at = q4_.format == Quant4Format::Awq ? awq_nibble_of_output(o) : o % kQuant4Pack;
    return cast<float>(quant4_nibble(q4_zeros_(o / kQuant4Pack, g), at) + cast<uint32_t>(q4_.zero_offset));
}

Expr WeightMatrix::quant4_scale(const Expr &g, const Expr &o) const {
    return f16_bits_to_f32(quant4_rows() ? q4_scales_(g, o) : q4_scales_(o, g));
}

std::vector<ImageParam> WeightMatrix::params() const {
    if (quant4_rows()) return {param_, q4_scales_};
    if (quant4()) return {param_, q4_zeros_, q4_scales_};
    if (has_scale()) return {param_, scale_};
    return {param_};
}

Expr WeightMatrix::lane(int k, const Expr &iw, const Expr &o) const {
    Expr word = param_(iw, o);
    if (quant4_rows()) return cast<float>(cast<int32_t>(quant4_nibble(word, k)) - kQuant4RowsZero);  // before the group's scale
    if (math_ != MatMath::F32) return cast<float>(word);
    switch (dtype_) {
    case DType::BF16:  // the f32 whose upper 16 bits are the bf16 in the low or high half
        return reinterpret(Float(32), k == 0 ? word << 16 : word & Expr(uint32_t(0xffff0000u)));
    case DType::F16: return f16_bits_to_f32(word);
    default:  // f32, and int8 elements (vpmovsxbd + vcvtdq2ps on x86)
        return cast<float>(word);
    }
}

Expr WeightMatrix::operator()(const Expr &i, const Expr &o) const {
    if (quant4()) {  // a gather (the embedding lookup, only qwenc-int4's is 4-bit): element (i, o) on its own
        if (!quant4_rows()) throw std::logic_error("a 4-bit gather reads qwenc-int4's rows");
        const Expr q = math_ == MatMath::F32 ? quant4_nibble(param_(i / kQuant4Pack, o), i % kQuant4Pack)
                                             : (param_(i / 2, o) >> cast<uint8_t>(4 * (i % 2))) & cast<uint8_t>(15);
        return quant4_scale(i / int(quant4_group()), o) * cast<float>(cast<int32_t>(q) - kQuant4RowsZero);
    }
    // Packed storage (a gather of single elements, the embedding lookup):
    // pick element i's lane of its word.
    const Expr iw = i / pack_, k = i % pack_;
    Expr v = lane(pack_ - 1, iw, o);
    for (int lane_k = pack_ - 2; lane_k >= 0; lane_k--) v = select(k == lane_k, lane(lane_k, iw, o), v);
    return has_scale() ? v * scale_(o) : v;
}

ImageParam vector_input(const std::string &name, int64_t n) {
    ImageParam p(Float(32), 1, name);
    p.dim(0).set_bounds(0, int(n)).set_stride(1);
    return p;
}

}  // namespace qwenc
