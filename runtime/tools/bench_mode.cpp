// qwenrun --bench.
#include <algorithm>
#include <cstdio>
#include <thread>

#include "bench/model_bench.h"
#include "qwenrun_modes.h"

namespace qwenc {

int run_bench(const CliArgs &args) {
    BenchOptions opts;
    if (args.has("bench-prefill")) {
        opts.prefill_lengths.clear();
        for (int32_t n : parse_int_list("bench-prefill", args.get("bench-prefill"))) {
            if (n < 1) throw UsageError("--bench-prefill: lengths must be >= 1");
            opts.prefill_lengths.push_back(n);
        }
    }
    opts.decode_tokens = args.get_int("bench-decode", opts.decode_tokens, 0, 1 << 20);
    opts.repeats = int(args.get_int("bench-repeats", opts.repeats, 1, 100));
    LoadOptions lo;
    lo.num_threads = int(args.get_int("threads", 0, 0, 1024));
    lo.show_progress = !args.has("quiet");
    opts.threads = lo.num_threads > 0 ? lo.num_threads : int(std::max(1u, std::thread::hardware_concurrency()));
    const auto t_load = Clock::now();
    Model model(args.get("model"), args.get("weights"), lo);
    const double load_s = since(t_load);
    if (!args.has("quiet")) std::fprintf(stderr, "benchmarking...\n");
    BenchResult r = run_model_bench(model, opts, load_s);
    if (args.has("bench-batch")) {
        BatchBenchOptions bo;
        for (int32_t n : parse_int_list("bench-batch", args.get("bench-batch"))) {
            if (n < 1 || n > 1024) throw UsageError("--bench-batch: sizes must be in [1, 1024]");
            bo.batch_sizes.push_back(n);
        }
        if (!args.has("quiet")) std::fprintf(stderr, "benchmarking batched decode...\n");
        r.batch = run_batch_bench(model, bo);
        r.batch_peak_rss_mb = peak_rss_mb();
    }
    std::fputs(bench_table(r, model, opts).c_str(), stdout);
    std::printf("%s\n", bench_json(r, model, opts).c_str());
    return 0;
}

}  // namespace qwenc
