// Deterministic random weights for a Qwen2 config, scaled so that
// activations stay O(1) through the layers and logits have a std near 1.
#pragma once
#include <cstdint>
#include <vector>

#include "model_config.h"
#include "random_model/safetensors_writer.h"

namespace qwenc {

// Each tensor's values depend only on (seed, tensor name, element index), so
// sharding or reordering does not change the model.
std::vector<TensorToWrite> random_model_tensors(const ModelConfig &c, DType dtype, uint64_t seed);

}  // namespace qwenc
