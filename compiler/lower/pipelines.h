// Builds each compiled stage of a Qwen2 model as a Halide pipeline with all
// model dimensions constant, scheduled by the given Schedule.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <Halide.h>

#include "manifest.h"
#include "model_config.h"
#include "schedule.h"

namespace qwenc {

struct StagePipeline {
    Halide::Pipeline pipeline;
    std::vector<Halide::Argument> args;  // inputs, in a fixed order; outputs follow
    // The same inputs by name, so a JIT caller (the stage tests) can bind them.
    std::map<std::string, Halide::ImageParam> buffers;
    std::map<std::string, Halide::Param<int32_t>> scalars;
};

// math: how the stage's matrix products take their operands (see MatMath);
// the embedding gather ignores it.
// kv_cache: the KV cache's element type (Manifest::kv_cache_dtype).
StagePipeline build_stage(Stage stage, const ModelConfig &c, DType weight_dtype, Schedule &schedule,
                          MatMath math = MatMath::F32, DType kv_cache = DType::F32);

// Whether `stage` in `stage_math` builds exactly the pipeline of its
// prefill twin (graph_stage) in `twin_math`: a batch stage's schedule sees
// prefill unless its math has batch tiles of its own. The object then
// carries that pipeline once, under both entry points.
bool builds_as_prefill_twin(Stage stage, MatMath stage_math, MatMath twin_math);

}  // namespace qwenc
