#include "bench/batch_bench.h"

#include <algorithm>
#include <chrono>

#include "batch/batch_engine.h"

namespace qwenc {

std::vector<BatchBenchRun> run_batch_bench(const Model &model, const BatchBenchOptions &opts) {
    const ModelConfig &c = model.config();
    const int64_t chunk = model.object().manifest().prefill_max_tokens;
    std::vector<BatchBenchRun> runs;
    for (int64_t n : opts.batch_sizes) {
        BatchOptions bo;
        bo.max_batch = n;
        bo.max_context = std::min(c.max_position_embeddings, opts.prompt_tokens + opts.generate_tokens);
        bo.kv_cache_tokens = n * bo.max_context;
        bo.step_tokens = std::min(chunk, std::max<int64_t>(n, opts.prompt_tokens));
        BatchEngine engine(model, bo);
        SequenceSettings s;
        s.sampling.do_sample = false;
        s.max_tokens = opts.generate_tokens;
        s.ignore_eos = true;
        for (int64_t i = 0; i < n; i++) {
            std::vector<int32_t> prompt;
            for (int64_t k = 0; k < opts.prompt_tokens; k++) prompt.push_back(int32_t((k * 131 + i * 17 + 7) % c.vocab_size));
            engine.add(prompt, s);
        }
        // Until every sequence has read its prompt (those done first already generate).
        do engine.step();
        while (engine.waiting() > 0 || engine.last_prefill_tokens() > 0);
        BatchBenchRun run{n, 0, 0};
        int64_t tokens = 0;
        const auto t0 = std::chrono::steady_clock::now();
        while (!engine.idle()) {
            tokens += int64_t(engine.step().size());
            run.steps++;
        }
        const double s_elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        run.decode_tok_s = s_elapsed > 0 ? double(tokens) / s_elapsed : 0;
        runs.push_back(run);
    }
    return runs;
}

}  // namespace qwenc
