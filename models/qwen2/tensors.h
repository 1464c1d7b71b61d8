// The tensors a Qwen2 checkpoint holds, under the names transformers gives
// them, with their shapes as safetensors stores them (row-major, [out, in]
// for projections).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../dtype.h"
#include "config.h"

namespace qwenc {

enum class TensorKind {
    Matrix,  // streamed by the pipelines from the mmapped file, in the compiled weight dtype
    Vector,  // norm weights and biases: tiny, any float dtype, widened to f32 at load
};

struct TensorSpec {
    std::string name;
    std::vector<int64_t> shape;
    TensorKind kind;
};

// Every tensor the model needs, in checkpoint order. With tied embeddings
// there is no lm_head.weight (the embedding is used in its place). With int8
// matrices each "X.weight" has a "X.weight_scale" beside it.
std::vector<TensorSpec> qwen2_tensor_specs(const Qwen2Config &c, DType matrix_dtype);

// int8 checkpoints (`qwenc quantize`): the f32 [out] per-output-channel scale
// of matrix `name`, so that w[o][i] = scale[o] * q[o][i].
std::string weight_scale_name(const std::string &matrix_name);

// Per-layer tensor names, e.g. layer_tensor_name(3, "self_attn.q_proj.weight").
std::string layer_tensor_name(int64_t layer, const std::string &suffix);

}  // namespace qwenc
