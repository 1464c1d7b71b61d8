// A weight matrix as a pipeline input: a 2-D buffer over the mmapped
// checkpoint data, dims (in, out) since safetensors stores [out, in]
// row-major. Elements are widened to f32 where they are read.
#pragma once
#include <Halide.h>

#include "../../models/dtype.h"

namespace qwenc {

// How a checkpoint dtype is held in a Halide buffer (see weight_storage).
Halide::Type halide_storage_type(DType t);

class WeightMatrix {
public:
    WeightMatrix(const std::string &name, DType dtype, int64_t in_dim, int64_t out_dim);
    // Element (i, o) as f32, whatever the storage.
    Halide::Expr operator()(const Halide::Expr &i, const Halide::Expr &o) const;
    // Packed pairs (bf16): elements (2 * i2, o) and (2 * i2 + 1, o) as f32.
    bool packed_pairs() const { return pack_ == 2; }
    Halide::Expr even(const Halide::Expr &i2, const Halide::Expr &o) const;
    Halide::Expr odd(const Halide::Expr &i2, const Halide::Expr &o) const;
    const Halide::ImageParam &param() const { return param_; }
    int64_t in_dim() const { return in_; }
    int64_t out_dim() const { return out_; }

private:
    Halide::ImageParam param_;
    DType dtype_;
    int64_t in_, out_;
    int pack_;
};

// A 1-D f32 input (norm weights, biases) of known length.
Halide::ImageParam vector_input(const std::string &name, int64_t n);

}  // namespace qwenc
