// The tensors a checkpoint of a supported family holds, under the names transformers gives
// them, with their shapes as safetensors stores them (row-major, [out, in]
// for projections).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "dtype.h"
#include "model_config.h"

namespace qwenc {

enum class TensorKind {
    Matrix,  // streamed by the pipelines from the mmapped file, in the compiled weight dtype
    Vector,  // norm weights and biases: tiny, any float dtype, widened to f32 at load
    Packed,  // a 4-bit projection's qweight, qzeros or scales (models/quant4.h): in place, in `dtype`
    GroupIndex,  // GPTQ's g_idx: checked at load to be input / group_size, then unused
};

struct TensorSpec {
    std::string name;
    std::vector<int64_t> shape;
    TensorKind kind;
    DType dtype = DType::F32;  // Packed and GroupIndex: the dtype the format stores
};

// Tensor names as transformers gives them, declared once: the tensor list
// below, the stages' signatures (models/stage_signature.cpp) and the tools
// use these. Per-layer names are suffixes for layer_tensor_name.
namespace tensor_names {
constexpr const char *kEmbedding = "model.embed_tokens.weight";
constexpr const char *kFinalNorm = "model.norm.weight";
constexpr const char *kLmHead = "lm_head.weight";
constexpr const char *kInputNorm = "input_layernorm.weight";
constexpr const char *kQ = "self_attn.q_proj.weight";
constexpr const char *kQBias = "self_attn.q_proj.bias";
constexpr const char *kK = "self_attn.k_proj.weight";
constexpr const char *kKBias = "self_attn.k_proj.bias";
constexpr const char *kV = "self_attn.v_proj.weight";
constexpr const char *kVBias = "self_attn.v_proj.bias";
constexpr const char *kO = "self_attn.o_proj.weight";
constexpr const char *kQNorm = "self_attn.q_norm.weight";  // the qk_norm trait: [head_dim]
constexpr const char *kKNorm = "self_attn.k_norm.weight";
constexpr const char *kPostAttentionNorm = "post_attention_layernorm.weight";
constexpr const char *kGate = "mlp.gate_proj.weight";
constexpr const char *kUp = "mlp.up_proj.weight";
constexpr const char *kDown = "mlp.down_proj.weight";
}  // namespace tensor_names

// The matrix the head multiplies by: lm_head.weight, or with tied
// embeddings the embedding table.
const char *head_tensor_name(const ModelConfig &c);

// Every tensor the model needs, in checkpoint order (biases and q/k norms as
// the config's traits ask). With tied embeddings
// there is no lm_head.weight (the embedding is used in its place). With int8
// matrices each "X.weight" has a "X.weight_scale" beside it. With 4-bit
// layers (c.quant4) each projection "X.weight" of a layer is its qweight,
// qzeros, scales (and GPTQ's g_idx) instead.
std::vector<TensorSpec> model_tensor_specs(const ModelConfig &c, DType matrix_dtype);

// int8 checkpoints (`qwenc quantize`): the f32 [out] per-output-channel scale
// of matrix `name`, so that w[o][i] = scale[o] * q[o][i].
std::string weight_scale_name(const std::string &matrix_name);

// Per-layer tensor names, e.g. layer_tensor_name(3, "self_attn.q_proj.weight").
std::string layer_tensor_name(int64_t layer, const std::string &suffix);

}  // namespace qwenc
