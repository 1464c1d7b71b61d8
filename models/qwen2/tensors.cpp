#include "tensors.h"

namespace qwenc {

std::string layer_tensor_name(int64_t layer, const std::string &suffix) {
    return "model.layers." + std::to_string(layer) + "." + suffix;
}

std::string weight_scale_name(const std::string &matrix_name) { return matrix_name + "_scale"; }

std::vector<TensorSpec> qwen2_tensor_specs(const Qwen2Config &c, DType matrix_dtype) {
    const int64_t H = c.hidden_size, I = c.intermediate_size, Q = c.q_dim(), KV = c.kv_dim();
    std::vector<TensorSpec> t;
    t.push_back({"model.embed_tokens.weight", {c.vocab_size, H}, TensorKind::Matrix});
    for (int64_t l = 0; l < c.num_hidden_layers; l++) {
        auto add = [&](const std::string &s, std::vector<int64_t> shape, TensorKind k) {
            t.push_back({layer_tensor_name(l, s), std::move(shape), k});
        };
        add("input_layernorm.weight", {H}, TensorKind::Vector);
        add("self_attn.q_proj.weight", {Q, H}, TensorKind::Matrix);
        add("self_attn.q_proj.bias", {Q}, TensorKind::Vector);
        add("self_attn.k_proj.weight", {KV, H}, TensorKind::Matrix);
        add("self_attn.k_proj.bias", {KV}, TensorKind::Vector);
        add("self_attn.v_proj.weight", {KV, H}, TensorKind::Matrix);
        add("self_attn.v_proj.bias", {KV}, TensorKind::Vector);
        add("self_attn.o_proj.weight", {H, Q}, TensorKind::Matrix);
        add("post_attention_layernorm.weight", {H}, TensorKind::Vector);
        add("mlp.gate_proj.weight", {I, H}, TensorKind::Matrix);
        add("mlp.up_proj.weight", {I, H}, TensorKind::Matrix);
        add("mlp.down_proj.weight", {H, I}, TensorKind::Matrix);
    }
    t.push_back({"model.norm.weight", {H}, TensorKind::Vector});
    if (!c.tie_word_embeddings) t.push_back({"lm_head.weight", {c.vocab_size, H}, TensorKind::Matrix});
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
