// `qwenrun --bench --bench-batch 1,2,4,8`: aggregate decode speed with that
// many sequences in flight through the batched engine, as
// llama-batched-bench reports S_TG: every sequence reads its prompt first
// (not timed), then the steps in which all of them generate are timed.
#pragma once
#include <cstdint>
#include <vector>

#include "model.h"

namespace qwenc {

struct BatchBenchOptions {
    std::vector<int64_t> batch_sizes;
    int64_t prompt_tokens = 128;
    int64_t generate_tokens = 64;  // per sequence
};

struct BatchBenchRun {
    int64_t sequences = 0;
    double decode_tok_s = 0;  // all sequences' tokens over the timed steps' time
    int64_t steps = 0;        // timed
};

std::vector<BatchBenchRun> run_batch_bench(const Model &model, const BatchBenchOptions &opts);

}  // namespace qwenc
