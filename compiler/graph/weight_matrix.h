// A weight matrix as a pipeline input: a 2-D buffer over the mmapped
// checkpoint data, dims (in, out) since safetensors stores [out, in]
// row-major. Elements are widened to f32 where they are read.
#pragma once
#include <Halide.h>

#include "dtype.h"
#include "mat_math.h"
#include "quant4.h"

namespace qwenc {

// How a checkpoint dtype is held in a Halide buffer (see weight_storage).
Halide::Type halide_storage_type(DType t);

// f16 bits (a uint16 Expr) widened to f32, exactly: infinities, NaNs and
// subnormals included.
Halide::Expr f16_bits_to_f32(const Halide::Expr &h);

class WeightMatrix {
public:
    // A dot-product math (bf16-dot, int8-dot) takes the matrix as elements of
    // its own type (BFloat(16), Int(8)), dims (in, out): see raw().
    // int8_signs: how the target's int8 dot product takes its operands (int8-dot only).
    // int16_lanes: int16-dot's lanes per activation block (Schedule::int16_dot_lanes).
    WeightMatrix(const std::string &name, DType dtype, int64_t in_dim, int64_t out_dim, MatMath math = MatMath::F32,
                 Int8DotSigns int8_signs = Int8DotSigns::UnsignedBySigned, int int16_lanes = kInt16Lanes);
    // A 4-bit projection in its checkpoint's own layout (models/quant4.h):
    // the qweight, then qzeros_arg_name(name) (but rows') and qscales_arg_name(name).
    // With int8-dot (quant4_int8_dot) the qweight comes as bytes: quant4_byte.
    // int8_quad_dot: the target's (Schedule::int8_quad_dot), which decides how
    // GPTQ's int8-dot sums are written (quant4_int8_linear).
    WeightMatrix(const std::string &name, const Quant4 &q, int64_t in_dim, int64_t out_dim, MatMath math = MatMath::F32,
                 bool int8_quad_dot = false);
    bool int8_quad_dot() const { return int8_quad_dot_; }
    bool quant4() const { return q4_.active(); }
    // qwenc-int4's rows: in f32 a packed matrix of pack() == 8 (lane() is a
    // 4-bit value less kQuant4RowsZero, before its group's scale); with int8-dot
    // quant4_row_byte.
    bool quant4_rows() const { return q4_.format == Quant4Format::Rows; }
    // Rows with int8-dot: byte b of output o's row (uint8), which holds
    // inputs 2 b (low nibble) and 2 b + 1 (high).
    Halide::Expr quant4_row_byte(const Halide::Expr &b, const Halide::Expr &o) const { return param_(b, o); }
    const Quant4 &quant4_format() const { return q4_; }
    int64_t quant4_group() const { return q4_.group(in_); }
    // 4-bit: the qweight word at (col, row) of its stored [rows, cols]
    // (GPTQ: col an output, row 8 inputs; AWQ: col 8 outputs, row an
    // input), value n of a word in [0, 15] (uint32), the nibble of a word
    // that holds output o (AWQ), and group g's zero (with the format's
    // offset) and scale of output o as f32: w = scale * (q - zero).
    Halide::Expr quant4_word(const Halide::Expr &col, const Halide::Expr &row) const { return param_(col, row); }
    // GPTQ with int8-dot: byte b of output o's word in word row `row` (uint8), which
    // holds inputs 8 row + 2 b (low nibble) and 8 row + 2 b + 1 (high).
    Halide::Expr quant4_byte(const Halide::Expr &o, const Halide::Expr &b, const Halide::Expr &row) const {
        return param_(kQuant4WordBytes * o + b, row);
    }
    // AWQ with int8-dot: byte c of input row `row` (uint8), byte c % 4 of
    // word c / 4: its nibbles 2 (c % 4) and 2 (c % 4) + 1.
    Halide::Expr quant4_awq_byte(const Halide::Expr &c, const Halide::Expr &row) const { return param_(c, row); }
    static Halide::Expr quant4_nibble(const Halide::Expr &word, const Halide::Expr &n);
    static Halide::Expr awq_nibble_of_output(const Halide::Expr &o);
    Halide::Expr quant4_zero(const Halide::Expr &g, const Halide::Expr &o) const;
    Halide::Expr quant4_scale(const Halide::Expr &g, const Halide::Expr &o) const;
    // Element (i, o) as f32, whatever the storage, scale included.
    Halide::Expr operator()(const Halide::Expr &i, const Halide::Expr &o) const;
    // Storage words hold pack() consecutive inputs: lane(k, iw, o) is element
    // (iw * pack() + k, o) as f32, before the row scale (int8) is applied.
    int pack() const { return pack_; }
    Halide::Expr lane(int k, const Halide::Expr &iw, const Halide::Expr &o) const;
    // int8: the per-output-row scale (an input named "<name>_scale"); for other
    // dtypes there is none and rows need no scaling.
    bool has_scale() const { return dtype_ == DType::I8; }
    MatMath math() const { return math_; }
    Int8DotSigns int8_dot_signs() const { return int8_signs_; }
    int int16_lanes() const { return int16_lanes_; }
    // Element (i, o) as stored, for the dot-product maths.
    Halide::Expr raw(const Halide::Expr &i, const Halide::Expr &o) const { return param_(i, o); }
    Halide::Expr scale(const Halide::Expr &o) const { return scale_(o); }
    // The pipeline inputs: the matrix, then its scale if it has one.
    std::vector<Halide::ImageParam> params() const;
    const Halide::ImageParam &param() const { return param_; }
    int64_t in_dim() const { return in_; }
    int64_t out_dim() const { return out_; }

private:
    Halide::ImageParam param_, scale_;
    Halide::ImageParam q4_zeros_, q4_scales_;
    Quant4 q4_;
    DType dtype_;
    int64_t in_, out_;
    int pack_;
    MatMath math_ = MatMath::F32;
    Int8DotSigns int8_signs_ = Int8DotSigns::UnsignedBySigned;
    bool int8_quad_dot_ = false;
    int int16_lanes_ = kInt16Lanes;
};

// A 1-D f32 input (norm weights, biases) of known length.
Halide::ImageParam vector_input(const std::string &name, int64_t n);

}  // namespace qwenc
