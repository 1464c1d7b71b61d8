// Qwen2 and Qwen2.5 (transformers' Qwen2ForCausalLM): the decoder every
// family shares, with biases on the q/k/v projections.
#include "families.h"

namespace qwenc {
namespace {

void read_qwen2(const nlohmann::json &j, const std::string &source, ModelConfig &c) {
    // transformers' Qwen2Attention always adds the biases; a config that
    // turns them off describes a model Qwen2's code would not run.
    if (!config_bool(j, source, "attention_bias", true))
        throw InputError(source + ": unsupported 'attention_bias': false (Qwen2 has q/k/v biases)");
    c.qkv_bias = true;
    c.qk_norm = false;
}

// Nothing beyond the shared fields, so Qwen2 fingerprints stay as they were.
void write_qwen2(const ModelConfig &, nlohmann::json &) {}

}  // namespace

extern const ModelFamily kQwen2Family{"qwen2", "Qwen2ForCausalLM", 0, read_qwen2, write_qwen2};

}  // namespace qwenc
