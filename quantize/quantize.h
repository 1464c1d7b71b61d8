// `qwenc quantize MODEL_DIR OUT_DIR`: writes a new Hugging Face model
// directory whose matrices are int8 with one f32 scale per output row
// (symmetric, round to nearest): for every matrix "X.weight" [out, in] the
// checkpoint holds "X.weight" as I8 and "X.weight_scale" as F32 [out], with
// X.weight[o][i] ~= X.weight_scale[o] * q[o][i]. Norm weights and biases are
// copied unchanged; config.json gains
// "quantization_config": {"quant_method": "qwenc-int8", ...}, and the
// tokenizer and generation files are copied beside it.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoint.h"
#include "model_config.h"
#include "quant4.h"
#include "random_model/safetensors_writer.h"
#include "tensors.h"

namespace qwenc {

struct QuantizeOptions {
    int shards = 1;
    bool show_progress = true;
    // Quant4Format::None: qwenc's int8. Gptq / Awq: those checkpoints'
    // 4-bit layouts (quantize/quant4_writer.h), with these settings.
    Quant4 quant4;
};

// Throws InputError (bad input) or std::runtime_error (cannot write).
void quantize_model_dir(const std::string &in_dir, const std::string &out_dir, const QuantizeOptions &opts);

// For the writers: the float checkpoint to quantize. Refuses (InputError)
// a config that is already quantized, an out_dir that is in_dir, and
// tensors that are not float tensors of the shape config.json implies.
class FloatSource {
public:
    FloatSource(const std::string &in_dir, const std::string &out_dir);
    const std::string cfg_path;
    nlohmann::json cfg;  // to edit into the output's config.json
    const ModelConfig config;
    // The tensor of model_tensor_specs(config, ...) named by `spec`, checked.
    const TensorView &tensor(const TensorSpec &spec) const;
    // The tensor written as it is, in `dtype`.
    TensorToWrite copy(const TensorSpec &spec, DType dtype) const;

private:
    Checkpoint checkpoint_;
};

// For the writers: creates out_dir, writes `tensors`, then config.json
// (`cfg`) and copies of the tokenizer and generation files.
void write_quantized_dir(const std::string &in_dir, const std::string &out_dir, const std::vector<TensorToWrite> &tensors,
                         const nlohmann::json &cfg, const QuantizeOptions &opts);

}  // namespace qwenc
