// Qwen3 dense models (transformers' Qwen3ForCausalLM): Qwen2's decoder with
// an RMSNorm over head_dim on each head of q and k before RoPE, q/k/v biases
// only when attention_bias says so, and head_dim 128 unless given (as
// transformers' Qwen3Config defaults them).
#include "families.h"

namespace qwenc {
namespace {

void read_qwen3(const nlohmann::json &j, const std::string &source, ModelConfig &c) {
    c.qkv_bias = config_bool(j, source, "attention_bias", false);
    c.qk_norm = true;
}

// attention_bias and head_dim always: their defaults are not Qwen2's.
void write_qwen3(const ModelConfig &c, nlohmann::json &j) {
    j["attention_bias"] = c.qkv_bias;
    j["head_dim"] = c.head_dim();
}

}  // namespace

extern const ModelFamily kQwen3Family{"qwen3", "Qwen3ForCausalLM", 128, read_qwen3, write_qwen3};

}  // namespace qwenc
