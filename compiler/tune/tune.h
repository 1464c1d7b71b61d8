// qwenc tune: measures candidate tiles of the host's schedule on one
// model's shapes and writes the fastest as a schedule file (see
// schedules/schedule_file.h) for `qwenc --schedule`.
//
// Prefill: each candidate's prefill stages (qkv, attn_mlp) are JIT-compiled
// for the host and run on random weights held in memory (2 MB pages), over
// one layer and a block of tokens. Decode (with a weights directory): each
// candidate is compiled into a real model object and decoded through the
// runtime on the model's own mmapped weights (runtime_decode.h). An
// in-memory JIT harness for decode, like the prefill one, ranked decode
// tiles differently from the runtime on the same machine, with the same
// generated loops (bench/HISTORY.md).
//
// Candidates run round-robin, each round in its own order, and each is
// compared with the defaults round by round, so that a host whose speed
// drifts treats them alike.
#pragma once
#include <string>

#include "dtype.h"
#include "mat_math.h"
#include "model_config.h"

namespace qwenc {

struct TuneOptions {
    std::string output;  // SCHEDULE.json
    DType weight_dtype = DType::BF16;
    MatMath prefill_math = MatMath::F32;
    MatMath decode_math = MatMath::F32;
    std::string weights_dir;    // the model directory whose weights decode runs on; empty: decode not tuned
    int threads = 0;            // 0: every core
    int prefill_tokens = 128;   // tokens of the prefill measurement
    int rounds = 7;             // round-robin rounds over the candidates
    bool show_progress = true;
};

void tune_schedule(const ModelConfig &config, const std::string &config_path, const TuneOptions &opts);

}  // namespace qwenc
