// `qwenc quantize --format gptq|awq`: writes a float checkpoint's layer
// projections in the 4-bit layouts Qwen's GPTQ-Int4 and AWQ checkpoints use
// (models/quant4.h), quantized to nearest with each format's own rules
// (AutoGPTQ's quantizer grid, AutoAWQ's pseudo_quantize_tensor), not with
// their calibration: for tests and for running those layouts from a model
// that has no published 4-bit checkpoint. The embedding, lm_head, norms and
// biases are written as f16, as Qwen ships them.
#pragma once
#include <string>

#include "quantize.h"

namespace qwenc {

// Throws InputError (bad input) or std::runtime_error (cannot write).
void quantize_model_dir_4bit(const std::string &in_dir, const std::string &out_dir, const QuantizeOptions &opts);

}  // namespace qwenc
