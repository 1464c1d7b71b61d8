// Compiles every stage of a model into one shared object (the stage
// pipelines without runtime, exactly one Halide runtime, and the manifest,
// linked with the system or cross C compiler driver), or into a static
// library plus a C header for linking a model into a program.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <Halide.h>

#include "dtype.h"
#include "mat_math.h"
#include "model_config.h"
#include "schedule_file.h"

namespace qwenc {

struct EmitOptions {
    std::string output;           // MODEL.so
    // One target, or several of one architecture, most specific first: the
    // object then picks the first its CPU can run (Halide multitarget), and
    // the last is the baseline the runtime checks the CPU against.
    std::vector<Halide::Target> targets;
    DType weight_dtype = DType::BF16;
    std::string cc;               // C compiler driver used to link; empty = pick for the target
    int64_t prefill_max_tokens = 512;
    MatMath prefill_math = MatMath::F32;  // see Manifest::prefill_math
    MatMath decode_math = MatMath::F32;
    DType kv_cache_dtype = DType::F32;    // see Manifest::kv_cache_dtype
    bool keep_temps = false;
    // Static: `output` is libNAME.a, and NAME.h is written beside it; every
    // symbol is prefixed with `name` so several models can share a program.
    bool emit_static = false;
    std::string name = "qwen";
    bool show_progress = true;
    // Tile sizes over the schedule's defaults (qwenc --schedule): applied to
    // the targets of the file's family; an error if no target is of it.
    std::optional<ScheduleFile> schedule_file;
};

void emit_model_object(const ModelConfig &config, const std::string &config_path, const EmitOptions &opts);

}  // namespace qwenc
