#include "tensors.h"

namespace qwenc {

std::string layer_tensor_name(int64_t layer, const std::string &suffix) {
    return "model.layers." + std::to_string(layer) + "." + suffix;
}

std::string weight_scale_name(const std::string &matrix_name) { return matrix_name + "_scale"; }

const char *head_tensor_name(const ModelConfig &c) {
    return c.tie_word_embeddings ? tensor_names::kEmbedding : tensor_names::kLmHead;
}

std::vector<TensorSpec> model_tensor_specs(const ModelConfig &c, DType matrix_dtype) {
    using namespace tensor_names;
    const int64_t H = c.hidden_size, I = c.intermediate_size, Q = c.q_dim(), KV = c.kv_dim();
    std::vector<TensorSpec> t;
    // A matrix in the layout its checkpoint stores it: dense, or 4-bit.
    auto matrix = [&](const std::string &w, int64_t out, int64_t in, bool quant4) {
        if (!quant4) return t.push_back({w, {out, in}, TensorKind::Matrix});
        const Quant4Shapes q = quant4_shapes(c.quant4, in, out);
        t.push_back({quant4_qweight_name(w), q.qweight, TensorKind::Packed, DType::I32});
        if (!q.qzeros.empty()) t.push_back({quant4_qzeros_name(w), q.qzeros, TensorKind::Packed, DType::I32});
        t.push_back({quant4_scales_name(w), q.scales, TensorKind::Packed, DType::F16});
        if (!q.g_idx.empty()) t.push_back({quant4_g_idx_name(w), q.g_idx, TensorKind::GroupIndex, DType::I32});
    };
    matrix(kEmbedding, c.vocab_size, H, c.quant4.whole_model());
    for (int64_t l = 0; l < c.num_hidden_layers; l++) {
        auto add = [&](const std::string &s, std::vector<int64_t> shape, TensorKind k) {
            t.push_back({layer_tensor_name(l, s), std::move(shape), k});
        };
        auto projection = [&](const std::string &s, int64_t out, int64_t in) {
            matrix(layer_tensor_name(l, s), out, in, c.quant4.active());
        };
        add(kInputNorm, {H}, TensorKind::Vector);
        projection(kQ, Q, H);
        if (c.qkv_bias) add(kQBias, {Q}, TensorKind::Vector);
        projection(kK, KV, H);
        if (c.qkv_bias) add(kKBias, {KV}, TensorKind::Vector);
        projection(kV, KV, H);
        if (c.qkv_bias) add(kVBias, {KV}, TensorKind::Vector);
        projection(kO, H, Q);
        if (c.qk_norm) {
            add(kQNorm, {c.head_dim()}, TensorKind::Vector);
            add(kKNorm, {c.head_dim()}, TensorKind::Vector);
        }
        add(kPostAttentionNorm, {H}, TensorKind::Vector);
        projection(kGate, I, H);
        projection(kUp, I, H);
        projection(kDown, H, I);
    }
    t.push_back({kFinalNorm, {H}, TensorKind::Vector});
    if (!c.tie_word_embeddings) matrix(kLmHead, c.vocab_size, H, c.quant4.whole_model());
    if (matrix_dtype == DType::I8) {
        std::vector<TensorSpec> with_scales;
        for (const TensorSpec &s : t) {
            with_scales.push_back(s);
            if (s.kind == TensorKind::Matrix) with_scales.push_back({weight_scale_name(s.name), {s.shape[0]}, TensorKind::Vector});
        }
        return with_scales;
    }
    return t;
}

}  // namespace qwenc
