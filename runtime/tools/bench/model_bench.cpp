#include "bench/model_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "generate/generator.h"
#include "bench/huge_pages.h"

namespace qwenc {

namespace {

// Deterministic token ids spread over the vocabulary (no tokenizer needed),
// below 151643, where Qwen's special tokens start.
std::vector<int32_t> bench_tokens(int64_t n, int64_t vocab) {
    std::vector<int32_t> ids(static_cast<size_t>(n), 0);
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (auto &id : ids) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        id = int32_t(s % uint64_t(std::min<int64_t>(vocab, 151643)));
    }
    return ids;
}

GenerationResult greedy(Session &session, int64_t prompt_len, int64_t new_tokens) {
    session.truncate(0);
    GenerationRequest req;
    req.sampling.do_sample = false;
    req.max_tokens = new_tokens;
    return generate(session, nullptr, {}, bench_tokens(prompt_len, session.vocab_size()), req, nullptr);
}

// Bytes of weights one decode step reads: every matrix except the
// embedding table, of which only one row is read, unless it is the tied head.
double decode_bytes(const Model &model) {
    double bytes = 0;
    for (const auto &[name, view] : model.weights().matrices())
        if (name != tensor_names::kEmbedding || model.config().tie_word_embeddings) bytes += double(view.nbytes);
    return bytes;
}

// Flops of one prefill token: a multiply-add per element of every layer
// matrix (the embedding is a gather; the head runs for the last token only).
double prefill_flops(const Model &model) {
    double elements = 0;
    for (const auto &[name, view] : model.weights().matrices()) {
        if (name == tensor_names::kEmbedding || name == tensor_names::kLmHead) continue;
        double n = 1;
        for (int64_t d : view.shape) n *= double(d);
        elements += n;
    }
    return 2 * elements;
}

// The peak prefill's products run on: the bf16 dot instruction for a
// bf16-dot object, f32 FMAs otherwise (0: none measured for int8-dot).
double prefill_peak_gflops(const BenchResult &r, const Manifest &m) {
    switch (m.prefill_math) {
    case MatMath::Bf16Dot: return r.peak.bf16_dot_gflops;
    case MatMath::F32: return r.peak.fma_f32_gflops;
    case MatMath::Int8Dot:
    case MatMath::Bf16x2Dot:
    case MatMath::Int16Dot: break;  // int8-dot: none measured; the others: decode only
    }
    return 0;
}

// The probe's array: as large as the weights one step reads, but far larger
// than the caches (small models) and at most 4 GiB (large ones).
size_t probe_bytes(double step_bytes) { return size_t(std::clamp(step_bytes, double(256 << 20), double(size_t(4) << 30))); }

// Greedy decode steps after a prompt, each followed by one probe pass. The
// argmax is the sampler's greedy choice, without its bookkeeping.
InterleavedDecode interleaved_decode(Session &session, int64_t prompt_len, int64_t steps, double step_bytes, int threads) {
    ReadProbe probe(threads, probe_bytes(step_bytes));
    const std::vector<int32_t> prompt = bench_tokens(prompt_len, session.vocab_size());
    std::vector<float> logits(static_cast<size_t>(session.vocab_size()));
    session.truncate(0);
    session.eval(prompt.data(), prompt_len, logits.data(), false);
    double decode_s = 0, probe_s = 0;
    for (int64_t i = 0; i < steps; i++) {
        const int32_t next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
        const auto t0 = std::chrono::steady_clock::now();
        session.eval(&next, 1, logits.data(), false);
        decode_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        probe_s += probe.pass_seconds();
    }
    InterleavedDecode r;
    r.steps = steps;
    r.probe_bytes = probe.bytes();
    r.tok_s = double(steps) / decode_s;
    r.read_bw_gbs = double(steps) * double(probe.bytes()) / probe_s / 1e9;
    r.bw_fraction = r.tok_s * step_bytes / 1e9 / r.read_bw_gbs;
    return r;
}

}  // namespace

double peak_rss_mb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}


BenchResult run_model_bench(const Model &model, const BenchOptions &opts, double load_s) {
    BenchResult r;
    r.load_s = load_s;
    r.decode_bytes_per_token = decode_bytes(model);
    r.prefill_flops_per_token = prefill_flops(model);
    int64_t need = opts.ttft_prompt_tokens + 1;
    for (int64_t n : opts.prefill_lengths) need = std::max(need, n + 1);
    if (!opts.prefill_lengths.empty()) need = std::max(need, opts.prefill_lengths[0] + opts.decode_tokens + 1);
    Session session(model, std::min<int64_t>(model.config().max_position_embeddings, need));

    greedy(session, 8, 2);  // warm-up: faults in every page of the weights once
    r.ttft_s = 1e30;
    for (int i = 0; i < opts.repeats; i++) r.ttft_s = std::min(r.ttft_s, greedy(session, opts.ttft_prompt_tokens, 1).ttft_s);
    for (const int64_t n : opts.prefill_lengths) {
        double best = 0;
        for (int i = 0; i < opts.repeats; i++) best = std::max(best, double(n) / greedy(session, n, 1).prefill_s);
        r.prefill_tok_s.push_back({n, best});
    }
    if (opts.decode_tokens > 0) {
        // Decode after a real prompt (the first prefill length), each run
        // between two short bandwidth probes.
        const int64_t prompt = opts.prefill_lengths.empty() ? opts.ttft_prompt_tokens : opts.prefill_lengths[0];
        auto probe = [&] { return measure_read_bandwidth(opts.threads, size_t(1) << 30, 3, false).gbs_n_threads; };
        double before = opts.measure_bandwidth ? probe() : 0;
        std::vector<double> fractions;
        for (int i = 0; i < opts.repeats; i++) {
            const GenerationResult g = greedy(session, prompt, opts.decode_tokens + 1);
            DecodeRun run{double(g.decode_steps) / g.decode_s, 0};
            if (opts.measure_bandwidth) {
                const double after = probe();
                run.read_bw_gbs = (before + after) / 2;
                before = after;
                fractions.push_back(run.tok_s * r.decode_bytes_per_token / 1e9 / run.read_bw_gbs);
            }
            r.decode_runs.push_back(run);
            r.decode_tok_s = std::max(r.decode_tok_s, run.tok_s);
        }
        if (!fractions.empty()) {
            std::sort(fractions.begin(), fractions.end());
            r.decode_bw_fraction = fractions[fractions.size() / 2];
        }
        if (opts.measure_bandwidth)
            r.decode_interleaved = interleaved_decode(session, prompt, opts.decode_tokens, r.decode_bytes_per_token, opts.threads);
    }
    std::vector<std::pair<const void *, size_t>> weights;
    for (const auto &[name, view] : model.weights().matrices()) weights.emplace_back(view.data, view.nbytes);
    r.weights_huge_page_fraction = huge_page_fraction(weights);
    r.peak_rss_mb = peak_rss_mb();  // before the bandwidth probe, which runs in a child anyway
    if (opts.measure_bandwidth) {
        r.bandwidth = measure_read_bandwidth(opts.threads);
        r.peak = measure_compute_peak(opts.threads);
    }
    return r;
}

std::string bench_table(const BenchResult &r, const Model &model, const BenchOptions &opts) {
    const ModelConfig &c = model.config();
    const Manifest &m = model.object().manifest();
    char buf[512];
    std::string s;
    auto line = [&](const char *fmt, auto... v) {
        std::snprintf(buf, sizeof buf, fmt, v...);
        s += buf;
    };
    const double gb = r.decode_bytes_per_token / 1e9;
    line("model      hidden %lld, layers %lld, vocab %lld, weights %s, %.2f GB read per decode step\n",
         (long long)c.hidden_size, (long long)c.num_hidden_layers, (long long)c.vocab_size, dtype_name(m.weight_dtype), gb);
    line("target     %s, %d threads, %s KV cache\n", m.target.c_str(), opts.threads, dtype_flag_name(m.kv_cache_dtype));
    line("load       %8.3f s\n", r.load_s);
    line("ttft       %8.3f s   (%lld-token prompt, first token sampled)\n", r.ttft_s, (long long)opts.ttft_prompt_tokens);
    const double peak = prefill_peak_gflops(r, m);
    for (const auto &[n, tps] : r.prefill_tok_s) {
        line("prefill    %8.1f tok/s (%lld tokens) = %.0f GFLOP/s", tps, (long long)n, tps * r.prefill_flops_per_token / 1e9);
        if (peak > 0) line(", %.0f%% of the %s peak", 100.0 * tps * r.prefill_flops_per_token / 1e9 / peak,
                           m.prefill_math == MatMath::Bf16Dot ? "bf16-dot" : "f32 FMA");
        s += "\n";
    }
    if (opts.decode_tokens > 0) {
        line("decode     %8.2f tok/s (%lld tokens) = %.1f GB/s of weights", r.decode_tok_s, (long long)opts.decode_tokens,
             r.decode_tok_s * gb);
        s += "\n";
        if (r.decode_bw_fraction > 0) {
            line("           %.0f%% of the read bandwidth measured around each run (median; runs:", 100.0 * r.decode_bw_fraction);
            for (const DecodeRun &run : r.decode_runs)
                line(" %.2f tok/s at %.1f GB/s,", run.tok_s, run.read_bw_gbs);
            s.back() = ')';
            s += "\n";
        }
        const InterleavedDecode &d = r.decode_interleaved;
        if (d.steps > 0)
            line("           %.0f%% of the read bandwidth measured between its steps (%lld steps, each followed by a pass over "
                 "%.2f GB: %.2f tok/s against %.1f GB/s)\n",
                 100.0 * d.bw_fraction, (long long)d.steps, double(d.probe_bytes) / 1e9, d.tok_s, d.read_bw_gbs);
    }
    line("peak RSS   %8.0f MB\n", r.peak_rss_mb);
    for (const BatchBenchRun &run : r.batch)
        line("batched decode, %3lld in flight %8.2f tok/s (%.2fx one)\n", (long long)run.sequences, run.decode_tok_s,
             r.batch.front().decode_tok_s > 0 ? run.decode_tok_s / r.batch.front().decode_tok_s : 0.0);
    if (!r.batch.empty()) line("peak RSS with %lld in flight %8.0f MB\n", (long long)r.batch.back().sequences, r.batch_peak_rss_mb);
    if (r.weights_huge_page_fraction >= 0)
        line("weights    %8.0f%% mapped in 2 MB pages%s\n", 100.0 * r.weights_huge_page_fraction,
             r.weights_huge_page_fraction < 0.9 ? " (cached in 4 KB pages before this run: see docs/performance.md)" : "");
    if (r.peak.fma_f32_gflops > 0) {
        line("peak       %8.0f GFLOP/s f32 FMA (%d thread%s)", r.peak.fma_f32_gflops, r.peak.threads, r.peak.threads == 1 ? "" : "s");
        if (r.peak.bf16_dot_gflops > 0) line(", %.0f GFLOP/s bf16 dot products", r.peak.bf16_dot_gflops);
        s += "\n";
    }
    if (r.bandwidth.gbs_n_threads > 0)
        line("read bw    %8.1f GB/s (%d threads), %.1f GB/s (1 thread); decode limit %.2f tok/s\n", r.bandwidth.gbs_n_threads,
             r.bandwidth.threads, r.bandwidth.gbs_1_thread, r.bandwidth.gbs_n_threads / gb);
    return s;
}

std::string bench_json(const BenchResult &r, const Model &model, const BenchOptions &opts) {
    const Manifest &m = model.object().manifest();
    nlohmann::json j;
    for (const auto &[n, tps] : r.prefill_tok_s) j["prefill_" + std::to_string(n) + "_tok_s"] = tps;
    j["prefill_tok_s"] = r.prefill_tok_s.empty() ? 0.0 : r.prefill_tok_s.back().second;
    j["decode_tok_s"] = r.decode_tok_s;
    j["decode_gbs"] = r.decode_tok_s * r.decode_bytes_per_token / 1e9;
    j["ttft_s"] = r.ttft_s;
    j["load_s"] = r.load_s;
    j["peak_rss_mb"] = r.peak_rss_mb;
    j["read_bw_gbs"] = r.bandwidth.gbs_n_threads;
    j["read_bw_1t_gbs"] = r.bandwidth.gbs_1_thread;
    j["decode_bw_fraction"] = r.decode_bw_fraction;
    j["decode_runs"] = nlohmann::json::array();
    for (const DecodeRun &run : r.decode_runs)
        j["decode_runs"].push_back({{"tok_s", run.tok_s}, {"read_bw_gbs", run.read_bw_gbs}});
    j["decode_interleaved_tok_s"] = r.decode_interleaved.tok_s;
    j["decode_interleaved_read_bw_gbs"] = r.decode_interleaved.read_bw_gbs;
    j["decode_interleaved_bw_fraction"] = r.decode_interleaved.bw_fraction;
    j["weights_huge_page_fraction"] = r.weights_huge_page_fraction;
    j["fma_f32_gflops"] = r.peak.fma_f32_gflops;
    j["bf16_dot_gflops"] = r.peak.bf16_dot_gflops;
    const double gflops = r.prefill_tok_s.empty() ? 0.0 : r.prefill_tok_s.back().second * r.prefill_flops_per_token / 1e9;
    j["prefill_gflops"] = gflops;
    j["prefill_peak_fraction"] = prefill_peak_gflops(r, m) > 0 ? gflops / prefill_peak_gflops(r, m) : 0.0;
    if (!r.batch.empty()) {
        nlohmann::json b = nlohmann::json::object();
        for (const BatchBenchRun &run : r.batch) b[std::to_string(run.sequences)] = run.decode_tok_s;
        j["batch_decode_tok_s"] = b;
        j["batch_peak_rss_mb"] = r.batch_peak_rss_mb;
    }
    j["threads"] = opts.threads;
    j["weight_dtype"] = dtype_name(m.weight_dtype);
    j["kv_cache_dtype"] = dtype_flag_name(m.kv_cache_dtype);
    j["target"] = m.target;
    j["hidden_size"] = m.config.hidden_size;
    j["num_layers"] = m.config.num_hidden_layers;
    return j.dump();
}

}  // namespace qwenc
