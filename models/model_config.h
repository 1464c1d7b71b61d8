// A decoder as a Hugging Face config.json describes it: the fields every
// supported family shares, the traits by which families differ (each
// family's own rules, in models/<family>/family.cpp, set them), validation
// (every unsupported feature refused by name) and the fingerprint that ties
// a compiled object to the config it was compiled from.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "json_input.h"
#include "quant4.h"

namespace qwenc {

// quantization_config.quant_method of a directory written by `qwenc quantize`.
constexpr const char *kQwencInt8Method = "qwenc-int8";

struct ModelConfig {
    std::string model_type = "qwen2";  // the family (models/families.h)
    // The family's traits: what its layers compute beyond the decoder every
    // family shares (Qwen2's). Stage signatures, tensors, the lowering and
    // the reference read these, never the family's name.
    bool qkv_bias = true;  // q/k/v projections add a bias
    bool qk_norm = false;  // RMSNorm over head_dim on each head of q and k, before RoPE
    int64_t hidden_size = 0;
    int64_t intermediate_size = 0;
    int64_t num_attention_heads = 0;
    int64_t num_key_value_heads = 0;
    int64_t num_hidden_layers = 0;
    int64_t vocab_size = 0;
    int64_t max_position_embeddings = 0;
    double rms_norm_eps = 0;
    double rope_theta = 0;
    bool tie_word_embeddings = false;
    std::string torch_dtype;             // "bfloat16" etc.; informational
    // "qwenc-int8" for a directory written by `qwenc quantize` (int8
    // matrices with per-output-channel scales); empty for a plain checkpoint.
    // Not part of the fingerprint: the weight dtype is the object's choice.
    // "gptq" / "awq": 4-bit projections in the checkpoint's own layout
    // (quant4), which the compiled code reads as it is, so that layout is
    // part of the fingerprint; the embedding and lm_head stay dense.
    std::string quant_method;
    Quant4 quant4;
    std::vector<int64_t> eos_token_ids;  // from config.json (generation_config may add more)
    int64_t bos_token_id = -1;

    // config.json's head_dim when it gives one (transformers reads it so),
    // else hidden_size / num_attention_heads.
    int64_t head_dim_field = 0;
    int64_t head_dim() const { return head_dim_field > 0 ? head_dim_field : hidden_size / num_attention_heads; }
    int64_t q_dim() const { return num_attention_heads * head_dim(); }
    int64_t kv_dim() const { return num_key_value_heads * head_dim(); }
    int64_t group_size() const { return num_attention_heads / num_key_value_heads; }

    // The architecture fields that determine the compiled code, in a fixed
    // order; the fingerprint is a hash of this.
    nlohmann::json canonical_json() const;
    std::string fingerprint() const;
};

// `source` names the file in error messages. The family is config.json's
// model_type; its own rules (models/families.h) read what only it has.
ModelConfig parse_model_config(const nlohmann::json &j, const std::string &source);
ModelConfig load_model_config(const std::string &path);

}  // namespace qwenc
