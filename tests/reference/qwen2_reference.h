// An independent Qwen2 forward pass for checking the compiled model: plain
// loops in double precision, its own safetensors and config reading, no
// KV cache (every position attends over the full prefix, recomputed), and
// no code shared with the Halide lowering or the runtime.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace qwen2_reference {

// Logits for every position of `tokens`, row-major [n_tokens][vocab].
std::vector<double> forward(const std::string &model_dir, const std::vector<int32_t> &tokens, int64_t *vocab_out);

}  // namespace qwen2_reference
