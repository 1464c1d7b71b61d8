// qwenc tune: measures candidate tile sizes of the host's schedule on one
// model's shapes and writes the fastest as a schedule file (see
// schedules/schedule_file.h) for `qwenc --schedule`.
//
// Each candidate's stages are JIT-compiled for the host and run on random
// weights held in memory: decode as a step over enough layers' weights to
// stream from DRAM (plus the head), prefill as one layer over a block of
// tokens. Candidates are timed round-robin and each keeps its median, so
// that a machine whose bandwidth drifts treats them alike.
#pragma once
#include <string>

#include "../../models/dtype.h"
#include "../../models/mat_math.h"
#include "../../models/qwen2/config.h"

namespace qwenc {

struct TuneOptions {
    std::string output;  // SCHEDULE.json
    DType weight_dtype = DType::BF16;
    MatMath prefill_math = MatMath::F32;
    MatMath decode_math = MatMath::F32;
    int threads = 0;            // 0: every core
    int prefill_tokens = 128;   // tokens of the prefill measurement
    int rounds = 7;             // round-robin rounds over the candidates
    bool show_progress = true;
};

void tune_schedule(const Qwen2Config &config, const std::string &config_path, const TuneOptions &opts);

}  // namespace qwenc
