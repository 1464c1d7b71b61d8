#include "tune/tune.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <thread>

#include <sys/mman.h>

#include <Halide.h>

#include "file_io.h"
#include "schedule.h"
#include "schedule_file.h"
#include "lower/pipelines.h"
#include "tune/runtime_decode.h"

namespace qwenc {

namespace {

using Halide::Buffer;
using Clock = std::chrono::steady_clock;
using Tiles = std::map<std::string, int>;  // the fields a candidate sets
using Inputs = std::map<std::string, Buffer<>>;

constexpr double kMinRoundSeconds = 0.15;  // each candidate's time per round, at least

std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

std::string describe(const Tiles &t) {
    std::string s;
    for (const auto &[name, value] : t) s += (s.empty() ? "" : " ") + name + "=" + std::to_string(value);
    return s;
}

// Contents a stage can run on: f32 in [-1, 1); 16-bit floats (bf16 or f16,
// packed in pairs or not) between 2^-15 and 2 in magnitude; int8 any byte.
void fill_random(Buffer<> &b, bool int8_weights, uint64_t seed) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    auto next = [&] {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    };
    uint8_t *p = b.raw_buffer()->host;
    const size_t bytes = b.raw_buffer()->size_in_bytes();
    if (b.type() == Halide::Float(32)) {
        for (size_t i = 0; i < bytes / 4; i++) {
            const float v = float(int32_t(next() >> 32)) * (1.0f / 2147483648.0f);
            std::memcpy(p + 4 * i, &v, 4);
        }
    } else if (int8_weights) {
        for (size_t i = 0; i < bytes; i++) p[i] = uint8_t(next() >> 56);
    } else {
        for (size_t i = 0; i < bytes / 2; i++) {
            const uint64_t v = next() >> 40;
            const uint16_t h = uint16_t(0x3800 | (v & 0x7ff) | ((v >> 11) & 1) << 15);
            std::memcpy(p + 2 * i, &h, 2);
        }
    }
}

// Memory for the inputs: in 2 MB pages where the kernel gives them, as the
// runtime asks for the mmapped weights.
struct HugePageMemory {
    std::vector<std::unique_ptr<void, void (*)(void *)>> blocks;
    void *allocate(size_t bytes) {
        constexpr size_t kHuge = size_t(2) << 20;
        const size_t size = (bytes + kHuge - 1) / kHuge * kHuge;
        void *p = std::aligned_alloc(kHuge, size);
        if (!p) throw std::bad_alloc();
        madvise(p, size, MADV_HUGEPAGE);
        blocks.emplace_back(p, std::free);
        return p;
    }
};

// A buffer for input p: its constant extents, `keys` positions for the
// caches, `tokens` for the last dimension of the activations.
Buffer<> input_buffer(const Halide::ImageParam &p, int tokens, int keys, HugePageMemory &memory) {
    std::vector<int> shape;
    size_t elements = 1;
    for (int i = 0; i < p.dimensions(); i++) {
        const Halide::Expr e = p.parameter().extent_constraint(i);
        const int64_t *c = e.defined() ? Halide::Internal::as_const_int(e) : nullptr;
        if (c) shape.push_back(int(*c));
        else if ((p.name() == "k_cache" || p.name() == "v_cache") && i == 1) shape.push_back(keys);
        else if (i == p.dimensions() - 1) shape.push_back(tokens);
        else throw std::logic_error("qwenc tune: no size for input " + p.name() + " dimension " + std::to_string(i));
        elements *= size_t(shape.back());
    }
    return Buffer<>(p.type(), memory.allocate(elements * size_t(p.type().bytes())), shape);
}

// A weight matrix input (or its int8 scale).
bool is_weight(const std::string &name) { return name[0] == 'w'; }

// One stage, JIT-compiled for the host with a candidate's tiles, and its outputs.
struct StageRun {
    StagePipeline sp;
    std::vector<Buffer<>> outputs;
    Halide::Target target;

    void run(const Inputs &inputs, int pos0) {
        for (auto &[name, p] : sp.buffers) p.set(inputs.at(name));
        for (auto &[name, s] : sp.scalars) s.set(pos0);
        Halide::Realization r(outputs);
        sp.pipeline.realize(r, target);
    }
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

struct Candidate {
    Tiles tiles;
    std::function<double()> step;  // one unit of work; returns the tokens it made
    std::vector<double> rates;     // tokens/s, one per round
    double speedup = 1;            // against the defaults: the median of the rounds' ratios
    double median_rate() const { return median(rates); }
};

// One phase of the search: the tiles it varies (over the tiles chosen so
// far), how a candidate is made runnable, and what its rate counts.
struct PhaseSpec {
    std::string name;
    std::vector<std::pair<std::string, std::vector<int>>> axes;
    std::function<std::function<double()>(const CpuTiles &)> make;  // compiles (and loads) a candidate
    std::string unit;      // "tokens/s through one layer", "decoded tokens/s"
    std::string rate_key;  // the rate's key in the file's "measured"
    std::function<bool(const CpuTiles &)> admissible = {};  // others are skipped (the defaults never)
};

// The candidate sets of one phase: the defaults first, then every other
// combination of the given values.
std::vector<Tiles> combinations(const std::vector<std::pair<std::string, std::vector<int>>> &axes, const CpuTiles &defaults) {
    Tiles def;
    for (const auto &[name, values] : axes) def[name] = get_tile(defaults, name);
    std::vector<Tiles> out{{}};
    for (const auto &[name, values] : axes) {
        std::vector<Tiles> next;
        for (const Tiles &t : out)
            for (int v : values) {
                Tiles n = t;
                n[name] = v;
                next.push_back(n);
            }
        out = next;
    }
    out.erase(std::remove(out.begin(), out.end(), def), out.end());
    out.insert(out.begin(), def);
    return out;
}

// A candidate replaces the defaults only when it is this much faster:
// closer than that, two runs on one VM disagreed about the same pair of
// prefill tiles.
constexpr double kMargin = 0.05;

// Times every candidate's `step` round-robin, and compares each with the
// defaults (cands[0]) round by round: the host's bandwidth drifts by more
// than the candidates differ, but little within one round. Returns the
// index of the candidate with the highest median ratio, or 0 unless that
// ratio beats 1 by kMargin.
size_t race(std::vector<Candidate> &cands, int rounds) {
    for (Candidate &c : cands) c.step();  // warm up: first-touch pages, thread pool
    // Each round in its own order, so that no candidate always follows the same one.
    std::vector<size_t> order(cands.size());
    for (size_t i = 0; i < order.size(); i++) order[i] = i;
    std::mt19937 rng(1);
    for (int r = 0; r < rounds; r++) {
        std::shuffle(order.begin(), order.end(), rng);
        for (size_t i : order) {
            Candidate &c = cands[i];
            const auto t0 = Clock::now();
            double secs = 0, work = 0;
            do {
                work += c.step();
                secs = std::chrono::duration<double>(Clock::now() - t0).count();
            } while (secs < kMinRoundSeconds);
            c.rates.push_back(work / secs);
        }
    }
    size_t best = 0;
    for (Candidate &c : cands) {
        std::vector<double> ratios;
        for (int r = 0; r < rounds; r++) ratios.push_back(c.rates[size_t(r)] / cands[0].rates[size_t(r)]);
        c.speedup = median(ratios);
    }
    for (size_t i = 0; i < cands.size(); i++)
        if (cands[i].speedup > cands[best].speedup) best = i;
    return cands[best].speedup > 1 + kMargin ? best : 0;
}

class Tuner {
public:
    Tuner(const ModelConfig &c, const TuneOptions &o, Halide::Target target)
        : c_(c), o_(o), target_(std::move(target)), tiles_(tiles_for_target(target_)) {}

    // Runs one phase over the tiles chosen so far and keeps its winner.
    void tune(const PhaseSpec &phase) {
        std::vector<Candidate> cands;  // the defaults first
        for (const Tiles &t : combinations(phase.axes, tiles_)) {
            const CpuTiles tiles = with_tiles(tiles_, t);
            if (!cands.empty() && phase.admissible && !phase.admissible(tiles)) continue;
            say("compiling " + phase.name + ": " + describe(t));
            cands.push_back({t, phase.make(tiles), {}, 1});
        }
        say("timing " + phase.name + ": " + std::to_string(o_.rounds) + " rounds");
        const size_t best = race(cands, o_.rounds);
        nlohmann::json list = nlohmann::json::array();
        for (const Candidate &cand : cands) {
            const double rate = cand.median_rate();
            say(phase.name + " " + describe(cand.tiles) + ": " + fixed(rate, rate < 100 ? 2 : 0) + " " + phase.unit + ", " +
                fixed(cand.speedup, 3) + "x the defaults");
            nlohmann::json j(cand.tiles);
            j[phase.rate_key] = rate;
            j["speedup"] = cand.speedup;
            list.push_back(j);
        }
        measured_[phase.name] = list;
        if (best == 0)
            say(phase.name + ": the defaults stay (" + describe(cands[best].tiles) + "); no candidate was " +
                fixed(100 * kMargin, 0) + "% faster");
        else
            say(phase.name + ": " + describe(cands[best].tiles) + ", " +
                fixed(100 * (cands[best].speedup - 1), 1) + "% faster than the defaults");
        for (const auto &[name, value] : cands[best].tiles) chosen_[name] = value;
        tiles_ = with_tiles(tiles_, cands[best].tiles);
    }

    // A prefill candidate: its qkv and attn_mlp stages, JIT-compiled; a
    // step is one layer's prefill of a block of tokens at position 0.
    std::function<double()> prefill_candidate(const CpuTiles &tiles) {
        const int T = o_.prefill_tokens;
        auto stages = std::make_shared<std::vector<StageRun>>();
        for (Stage s : {Stage::QkvPrefill, Stage::AttnMlpPrefill}) stages->push_back(build(s, tiles, T));
        return [this, stages, T] {
            for (StageRun &r : *stages) r.run(inputs_for(r, T), 0);
            return double(T);
        };
    }

    void say(const std::string &line) const {
        if (o_.show_progress) std::fprintf(stderr, "qwenc tune: %s\n", line.c_str());
    }

    const CpuTiles &tiles() const { return tiles_; }
    const Tiles &chosen() const { return chosen_; }
    const nlohmann::json &measured() const { return measured_; }

private:
    // A prefill stage with these tiles, JIT-compiled, with outputs for `tokens` tokens.
    StageRun build(Stage stage, const CpuTiles &tiles, int tokens) {
        auto schedule = schedule_with_tiles(target_, tiles);
        StageRun r{build_stage(stage, c_, o_.weight_dtype, *schedule, o_.prefill_math), {}, target_};
        const int hd = int(c_.head_dim()), H = int(c_.hidden_size), kv = int(c_.num_key_value_heads);
        if (stage == Stage::QkvPrefill)
            r.outputs = {Buffer<float>(hd, int(c_.num_attention_heads), tokens), Buffer<float>(hd, tokens, kv), Buffer<float>(hd, tokens, kv)};
        else if (stage == Stage::AttnMlpPrefill)
            r.outputs = {Buffer<float>(H, tokens)};
        else
            throw std::logic_error(std::string("qwenc tune: no outputs for stage ") + stage_name(stage));
        r.sp.pipeline.compile_jit(target_);
        return r;
    }

    // Inputs for a stage over `tokens` tokens at position 0 (as many keys):
    // made on first use, random, shared by every candidate.
    const Inputs &inputs_for(const StageRun &r, int tokens) {
        Inputs &in = inputs_[tokens];
        for (const auto &[name, p] : r.sp.buffers) {
            if (in.count(name)) continue;
            in[name] = input_buffer(p, tokens, tokens, memory_);
            fill_random(in[name], is_weight(name) && o_.weight_dtype == DType::I8 && p.type() != Halide::Float(32),
                        uint64_t(int(name.size()) * 7 + name[0]));
            if (name == "positions")  // one sequence's tokens from position 0
                for (int i = 0; i < tokens; i++) reinterpret_cast<int32_t *>(in[name].raw_buffer()->host)[i] = i;
        }
        return in;
    }

    const ModelConfig &c_;
    const TuneOptions &o_;
    Halide::Target target_;
    CpuTiles tiles_;   // the defaults, then each phase's choice
    Tiles chosen_;     // the fields the phases set
    nlohmann::json measured_ = nlohmann::json::object();
    HugePageMemory memory_;        // declared before the buffers over it
    std::map<int, Inputs> inputs_;  // by tokens
};

}  // namespace

void tune_schedule(const ModelConfig &c, const std::string &config_path, const TuneOptions &opts) {
    // Prefill runs JIT-compiled, and Halide's JIT asks LLVM for the Sapphire
    // Rapids CPU model, which brings instructions other AVX-512 CPUs lack
    // (the VEX vpdpbusd Zen 4 has not: emit/object_writer.h); decode runs
    // through objects, which are written for exactly the target's features.
    if (opts.prefill_math == MatMath::Int8Dot)
        throw std::invalid_argument("qwenc tune times prefill JIT-compiled, which int8-dot cannot be on every AVX-512 CPU; "
                                    "tune int8-dot decode with --prefill-math f32");
    if (opts.decode_math != MatMath::F32 && opts.weights_dir.empty())
        throw std::invalid_argument(std::string("qwenc tune: --decode-math ") + mat_math_name(opts.decode_math) +
                                    " is timed through the runtime; give --weights MODEL_DIR");
    // Refused before a minute of measuring, not after; an existing file stays
    // as it was until the new one is complete.
    AtomicFile schedule_out(opts.output);
    if (opts.threads > 0) setenv("HL_NUM_THREADS", std::to_string(opts.threads).c_str(), 1);
    Halide::Target target = Halide::get_host_target();
    // Of prefill's maths, only bf16-dot needs that feature.
    if (opts.prefill_math != MatMath::Bf16Dot) target = target.without_feature(Halide::Target::AVX512_SapphireRapids);
    Tuner tuner(c, opts, target);
    const std::string family = schedule_name_for_target(target);
    tuner.say("tuning the " + family + " schedule for " + config_path + " on " + target.to_string());

    // The register tile of prefill's products (rows x tokens, or for
    // bf16-dot rows x vectors of tokens; int16-dot's tokens are a field of
    // their own, so that tuning them leaves f32 prefill's alone). A tile
    // may hold most of the vector registers as accumulators: 16 ymm on
    // AVX2, 32 zmm or q registers otherwise.
    const int registers = tuner.tiles().vector == 8 ? 16 : 32;
    auto prefill = [&](const CpuTiles &t) { return tuner.prefill_candidate(t); };
    const std::string per_layer = "tokens/s through one layer";
    if (opts.prefill_math == MatMath::Bf16Dot)
        tuner.tune({"prefill", {{"dot_rows", {4, 8}}, {"dot_token_vectors", {1, 2}}}, prefill, per_layer, "layer_tok_s",
                    [&](const CpuTiles &t) { return t.dot_rows * t.dot_token_vectors <= registers - 4; }});
    else if (opts.prefill_math == MatMath::Int16Dot) {
        // Its own tokens (0: prefill's `tokens`); a candidate with the
        // defaults' tile under another name is not timed twice.
        const CpuTiles defaults = tuner.tiles();
        tuner.tune({"prefill", {{"rows", {2, 4}}, {"int16_tokens", {3, 4, 5, 6}}}, prefill, per_layer, "layer_tok_s",
                    [&](const CpuTiles &t) {
                        const int tokens = t.int16_prefill_tokens();
                        return t.rows * tokens <= registers - 4 &&
                               !(t.rows == defaults.rows && tokens == defaults.int16_prefill_tokens());
                    }});
    } else if (opts.weight_dtype == DType::I8)
        tuner.tune({"prefill", {{"rows", {2, 4, 8}}, {"int8_tokens", {3, 4, 6}}}, prefill, per_layer, "layer_tok_s",
                    [&](const CpuTiles &t) { return t.rows * t.int8_tokens <= registers - 4; }});
    else
        tuner.tune({"prefill", {{"rows", {2, 4, 8}}, {"tokens", {3, 4, 6}}}, prefill, per_layer, "layer_tok_s",
                    [&](const CpuTiles &t) { return t.rows * t.tokens <= registers - 4; }});

    // Decode, through the runtime on the model's weights (see tune.h):
    // vectors of partial sums per row x rows per parallel task; then, for
    // f32, bf16x2-dot and int16-dot decode with rows longer than
    // long_row_inputs (down_proj), the tiles of rows that share each load of
    // the input.
    if (!opts.weights_dir.empty()) {
        EmitOptions base;
        base.targets = {Halide::get_host_target()};
        base.weight_dtype = opts.weight_dtype;
        base.prefill_math = opts.prefill_math;
        base.decode_math = opts.decode_math;
        RuntimeDecodeCandidates decode(c, config_path, opts.weights_dir, base, opts.threads, family);
        auto make = [&](const CpuTiles &t) { return decode.make(t); };
        std::pair<std::string, std::vector<int>> vectors = {"decode_vectors", {2, 4}};
        if (opts.decode_math == MatMath::Int8Dot || opts.decode_math == MatMath::Int16Dot) vectors = {"int_dot_decode_vectors", {2, 4}};
        if (opts.decode_math == MatMath::Bf16Dot || opts.decode_math == MatMath::Bf16x2Dot) vectors = {"dot_decode_vectors", {8, 16}};
        tuner.tune({"decode", {vectors, {"parallel_rows", {32, 64, 128}}}, make, "decoded tokens/s", "tok_s"});
        if ((opts.decode_math == MatMath::F32 || opts.decode_math == MatMath::Bf16x2Dot || opts.decode_math == MatMath::Int16Dot) &&
            c.intermediate_size > tuner.tiles().long_row_inputs)
            tuner.tune({"decode long rows", {{"long_rows", {4, 8}}, {"long_row_vectors", {1, 2}}}, make, "decoded tokens/s", "tok_s"});
    } else {
        tuner.say("decode: not tuned (it is timed through the runtime on the model's weights: --weights MODEL_DIR)");
    }

    nlohmann::json out = schedule_file_json(family, tuner.chosen());
    out["tuned_on"] = {{"config", config_path},
                       {"host_target", target.to_string()},
                       {"threads", opts.threads > 0 ? opts.threads : int(std::thread::hardware_concurrency())},
                       {"weight_dtype", dtype_flag_name(opts.weight_dtype)},
                       {"prefill_math", mat_math_name(opts.prefill_math)},
                       {"decode_math", mat_math_name(opts.decode_math)},
                       {"weights", opts.weights_dir},
                       {"prefill_tokens", opts.prefill_tokens}};
    out["measured"] = tuner.measured();
    schedule_out.write(out.dump(2) + "\n");
    schedule_out.commit();
    tuner.say("wrote " + opts.output + ": " + describe(tuner.chosen()));
}

}  // namespace qwenc
