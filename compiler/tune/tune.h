// qwenc tune: measures candidate prefill tiles of the host's schedule on
// one model's shapes and writes the fastest as a schedule file (see
// schedules/schedule_file.h) for `qwenc --schedule`.
//
// Each candidate's prefill stages (qkv, attn_mlp) are JIT-compiled for the
// host and run on random weights held in memory (2 MB pages), over one
// layer and a block of tokens. Candidates run round-robin, each round in its
// own order, and each is compared with the defaults round by round, so that
// a host whose speed drifts treats them alike.
//
// Decode is not tuned. A harness like this one (decode steps over several
// layer copies in memory, the same generated code) ranked decode tiles
// differently from the runtime on the same machine: 2 vectors of partial
// sums per row 11% faster than 4 there, equal (-2..0%) in the runtime's
// A/B. Decode tiles should be timed through the runtime, on the model's own
// mmapped weights.
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
    int threads = 0;            // 0: every core
    int prefill_tokens = 128;   // tokens of the prefill measurement
    int rounds = 7;             // round-robin rounds over the candidates
    bool show_progress = true;
};

void tune_schedule(const Qwen2Config &config, const std::string &config_path, const TuneOptions &opts);

}  // namespace qwenc
