// `qwenrun --bench`: prefill and decode speed, time to first token, load
// time and peak RSS of a compiled model on its weights, beside the
// machine's read bandwidth measured in the same run.
#pragma once
#include <string>
#include <vector>

#include "model.h"
#include "bench/batch_bench.h"
#include "bench/compute_peak.h"
#include "bench/read_bandwidth.h"

namespace qwenc {

struct BenchOptions {
    std::vector<int64_t> prefill_lengths = {128, 512};
    int64_t decode_tokens = 128;    // generated after a prefill of the first length
    int64_t ttft_prompt_tokens = 26; // a short chat prompt
    int repeats = 3;                // best of, for each figure
    int threads = 1;                // for the bandwidth measurement
    bool measure_bandwidth = true;  // and the compute peak
};

// One decode run, and the read bandwidth measured just before and just
// after it (the mean of the two): the machine's bandwidth on a shared host
// moves by 2x within a minute, so decode is compared with its own moment.
struct DecodeRun {
    double tok_s = 0;
    double read_bw_gbs = 0;
};

// Decode steps alternating one by one with passes of a read probe (see
// ReadProbe) over as many bytes as a step reads, so that both meet the same
// moments of the host; the bandwidth is the probe's over all its passes.
struct InterleavedDecode {
    int64_t steps = 0;
    size_t probe_bytes = 0;  // read by each probe pass
    double tok_s = 0;
    double read_bw_gbs = 0;
    double bw_fraction = 0;  // weights streamed per second / read_bw_gbs
};

struct BenchResult {
    std::vector<std::pair<int64_t, double>> prefill_tok_s;  // (length, tok/s)
    double decode_tok_s = 0, ttft_s = 0, load_s = 0;  // decode: the best run
    std::vector<DecodeRun> decode_runs;
    // Median over the decode runs of (weights streamed / bandwidth around the run).
    double decode_bw_fraction = 0;
    InterleavedDecode decode_interleaved;  // steps 0: not measured
    double peak_rss_mb = 0;
    double decode_bytes_per_token = 0;  // weights streamed by one decode step
    double prefill_flops_per_token = 0; // 2 x the layers' matrix elements (the head runs for the last token only)
    ComputePeak peak;
    double weights_huge_page_fraction = -1;  // of the weight files' mappings, after the runs
    ReadBandwidth bandwidth;
    std::vector<BatchBenchRun> batch;  // --bench-batch
    double batch_peak_rss_mb = 0;       // after the largest batch
};

// The process's peak resident set so far.
double peak_rss_mb();

BenchResult run_model_bench(const Model &model, const BenchOptions &opts, double load_s);

// The human-readable table (several lines) and the one-line JSON summary.
std::string bench_table(const BenchResult &r, const Model &model, const BenchOptions &opts);
std::string bench_json(const BenchResult &r, const Model &model, const BenchOptions &opts);

}  // namespace qwenc
