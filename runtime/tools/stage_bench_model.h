// The model a stage benchmark (qwenc-attention-bench, qwenc-batch-stage-bench)
// times: MODEL.so and WEIGHTS, its first two arguments, on 2 threads, as
// bench/ takes its figures.
#pragma once
#include <cstdio>
#include <memory>

#include "model.h"

namespace qwenc {

// Null, after `usage` on stderr, when the two arguments are missing.
inline std::unique_ptr<Model> load_stage_bench_model(int argc, char **argv, const char *usage) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s\n", usage);
        return nullptr;
    }
    LoadOptions opts;
    opts.num_threads = 2;
    return std::make_unique<Model>(argv[1], argv[2], opts);
}

}  // namespace qwenc
