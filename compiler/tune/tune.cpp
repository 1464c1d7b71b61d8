#include "tune.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <thread>

#include <Halide.h>

#include "../../schedules/schedule.h"
#include "../../schedules/schedule_file.h"
#include "../lower/pipelines.h"

namespace qwenc {

namespace {

using Halide::Buffer;
using Clock = std::chrono::steady_clock;
using Tiles = std::map<std::string, int>;  // the fields a candidate sets
using Inputs = std::map<std::string, Buffer<>>;

// Decode streams at least this many bytes of layer weights per step (or
// every layer, if the model is smaller), so that it reads from DRAM as a
// real decode step does rather than from the last-level cache.
constexpr int64_t kDecodeStreamBytes = int64_t(384) << 20;
constexpr int kDecodeContext = 256;    // keys in the cache at the measured decode step
constexpr double kMinRoundSeconds = 0.02;  // each candidate's time per round, at least

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

// A buffer for input p: its constant extents, `keys` positions for the
// caches, `tokens` for the last dimension of the activations.
Buffer<> input_buffer(const Halide::ImageParam &p, int tokens, int keys) {
    std::vector<int> shape;
    for (int i = 0; i < p.dimensions(); i++) {
        const Halide::Expr e = p.parameter().extent_constraint(i);
        const int64_t *c = e.defined() ? Halide::Internal::as_const_int(e) : nullptr;
        if (c) shape.push_back(int(*c));
        else if ((p.name() == "k_cache" || p.name() == "v_cache") && i == 1) shape.push_back(keys);
        else if (i == p.dimensions() - 1) shape.push_back(tokens);
        else throw std::logic_error("qwenc tune: no size for input " + p.name() + " dimension " + std::to_string(i));
    }
    return Buffer<>(p.type(), shape);
}

// A weight matrix input (or its int8 scale): one per layer copy.
bool is_weight(const std::string &name) { return name[0] == 'w' || name == "lm_head"; }

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

class Tuner {
public:
    Tuner(const Qwen2Config &c, const TuneOptions &o, Halide::Target target)
        : c_(c), o_(o), target_(std::move(target)), defaults_(tiles_for_target(target_)) {}

    // A stage with these tiles, JIT-compiled, with outputs for `tokens` tokens.
    StageRun build(Stage stage, const CpuTiles &tiles, int tokens) {
        auto schedule = schedule_with_tiles(target_, tiles);
        const bool decode = stage == Stage::QkvDecode || stage == Stage::AttnMlpDecode || stage == Stage::HeadDecode;
        StageRun r{build_stage(stage, c_, o_.weight_dtype, *schedule, decode ? o_.decode_math : o_.prefill_math), {}, target_};
        const int hd = int(c_.head_dim()), H = int(c_.hidden_size);
        if (stage == Stage::QkvDecode || stage == Stage::QkvPrefill)
            r.outputs = {Buffer<float>(hd, int(c_.num_attention_heads), tokens), Buffer<float>(hd, tokens, int(c_.num_key_value_heads)),
                         Buffer<float>(hd, tokens, int(c_.num_key_value_heads))};
        else if (stage == Stage::HeadDecode || stage == Stage::HeadPrefill)
            r.outputs = {Buffer<float>(int(c_.vocab_size), tokens)};
        else
            r.outputs = {Buffer<float>(H, tokens)};
        r.sp.pipeline.compile_jit(target_);
        return r;
    }

    // Inputs for a stage: weights from copy `layer` of `weights` (made on
    // first use), activations shared.
    const Inputs &inputs_for(const StageRun &r, int layer, int tokens, int keys) {
        Inputs &in = inputs_[{layer, tokens}];
        for (const auto &[name, p] : r.sp.buffers) {
            if (in.count(name)) continue;
            const bool weight = is_weight(name);
            Inputs &owner = weight ? in : shared_[tokens];
            if (!owner.count(name)) {
                owner[name] = input_buffer(p, tokens, keys);
                fill_random(owner[name], weight && o_.weight_dtype == DType::I8 && p.type() != Halide::Float(32),
                            uint64_t(layer * 1000 + int(name.size()) * 7 + name[0]));
                if (weight) bytes_[layer] += int64_t(owner[name].raw_buffer()->size_in_bytes());
            }
            in[name] = owner[name];
        }
        return in;
    }

    int64_t layer_bytes(int layer) const { return bytes_.count(layer) ? bytes_.at(layer) : 0; }

    const Qwen2Config &c_;
    const TuneOptions &o_;
    Halide::Target target_;
    CpuTiles defaults_;

private:
    std::map<std::pair<int, int>, Inputs> inputs_;  // (layer copy, tokens)
    std::map<int, Inputs> shared_;                 // activations, by tokens
    std::map<int, int64_t> bytes_;
};

CpuTiles with_tiles(CpuTiles t, const Tiles &set) {
    for (const auto &[name, value] : set) set_tile(t, name, value);
    return t;
}

struct Candidate {
    Tiles tiles;
    std::vector<StageRun> stages;
    std::vector<double> rates;  // one per round
    double median() const {
        std::vector<double> r = rates;
        std::sort(r.begin(), r.end());
        return r.empty() ? 0 : r[r.size() / 2];
    }
};

// The candidate sets of one phase: every combination of the given values,
// plus the defaults, without repeats.
std::vector<Tiles> combinations(const std::vector<std::pair<std::string, std::vector<int>>> &axes, const CpuTiles &defaults) {
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
    Tiles def;
    for (const auto &[name, values] : axes) def[name] = get_tile(defaults, name);
    if (std::find(out.begin(), out.end(), def) == out.end()) out.insert(out.begin(), def);
    return out;
}

// The candidate whose tiles are `defaults`' (combinations() includes it).
size_t index_of(const std::vector<Candidate> &cands, const CpuTiles &defaults) {
    for (size_t i = 0; i < cands.size(); i++) {
        bool same = true;
        for (const auto &[name, value] : cands[i].tiles) same = same && get_tile(defaults, name) == value;
        if (same) return i;
    }
    throw std::logic_error("qwenc tune: the defaults are not among the candidates");
}

// A candidate replaces the defaults only when its median is this much
// faster: closer than that, two runs on a drifting host disagree.
constexpr double kMargin = 0.03;

// Times every candidate's `step` round-robin; returns the index of the
// fastest by median rate (higher is better), or of `defaults` when none
// beats it by kMargin.
template <typename Step>
size_t race(std::vector<Candidate> &cands, size_t defaults, int rounds, Step step) {
    for (Candidate &c : cands) step(c);  // warm up: first-touch pages, thread pool
    for (int r = 0; r < rounds; r++)
        for (Candidate &c : cands) {
            const auto t0 = Clock::now();
            double secs = 0, work = 0;
            do {
                work += step(c);
                secs = std::chrono::duration<double>(Clock::now() - t0).count();
            } while (secs < kMinRoundSeconds);
            c.rates.push_back(work / secs);
        }
    size_t best = defaults;
    for (size_t i = 0; i < cands.size(); i++)
        if (cands[i].median() > cands[best].median()) best = i;
    return cands[best].median() > cands[defaults].median() * (1 + kMargin) ? best : defaults;
}

}  // namespace

void tune_schedule(const Qwen2Config &c, const std::string &config_path, const TuneOptions &opts) {
    if (opts.prefill_math == MatMath::Int8Dot || opts.decode_math == MatMath::Int8Dot)
        throw std::invalid_argument("qwenc tune measures f32 and bf16-dot products; int8-dot is not tuned yet");
    if (opts.threads > 0) setenv("HL_NUM_THREADS", std::to_string(opts.threads).c_str(), 1);
    Halide::Target target = Halide::get_host_target();
    // Sapphire Rapids' CPU model (which Halide's JIT asks LLVM for) brings
    // instructions other AVX-512 CPUs lack (see emit/object_writer.h); only
    // bf16-dot needs the feature.
    if (opts.prefill_math != MatMath::Bf16Dot && opts.decode_math != MatMath::Bf16Dot)
        target = target.without_feature(Halide::Target::AVX512_SapphireRapids);
    Tuner tuner(c, opts, target);
    const std::string family = schedule_name_for_target(target);
    auto say = [&](const std::string &line) {
        if (opts.show_progress) std::fprintf(stderr, "qwenc tune: %s\n", line.c_str());
    };
    say("tuning the " + family + " schedule for " + config_path + " on " + target.to_string());

    // Decode: vectors of partial sums per row and rows per parallel task.
    std::vector<Candidate> decode;
    for (const Tiles &t : combinations({{"decode_vectors", {2, 4}}, {"parallel_rows", {32, 64, 128}}}, tuner.defaults_)) {
        const CpuTiles tiles = with_tiles(tuner.defaults_, t);
        say("compiling decode: " + describe(t));
        decode.push_back({t, {tuner.build(Stage::QkvDecode, tiles, 1), tuner.build(Stage::AttnMlpDecode, tiles, 1),
                              tuner.build(Stage::HeadDecode, tiles, 1)}, {}});
    }
    tuner.inputs_for(decode[0].stages[0], 0, 1, kDecodeContext);
    tuner.inputs_for(decode[0].stages[1], 0, 1, kDecodeContext);
    const int64_t one_layer = tuner.layer_bytes(0);
    const int copies = int(std::clamp<int64_t>((kDecodeStreamBytes + one_layer - 1) / one_layer, 1, c.num_hidden_layers));
    int64_t step_bytes = 0;
    auto decode_step = [&](Candidate &cand) {
        int64_t bytes = 0;
        for (int layer = 0; layer < copies; layer++) {
            cand.stages[0].run(tuner.inputs_for(cand.stages[0], layer, 1, kDecodeContext), kDecodeContext - 1);
            cand.stages[1].run(tuner.inputs_for(cand.stages[1], layer, 1, kDecodeContext), kDecodeContext - 1);
            bytes += tuner.layer_bytes(layer);
        }
        // The head's weights are copy `copies` (a layer index no stage uses).
        cand.stages[2].run(tuner.inputs_for(cand.stages[2], copies, 1, kDecodeContext), 0);
        bytes += tuner.layer_bytes(copies);
        step_bytes = bytes;
        return double(bytes);
    };
    say("timing decode steps over " + std::to_string(copies) + " layer(s) and the head, " + std::to_string(opts.rounds) +
        " rounds");
    const size_t best_decode = race(decode, index_of(decode, tuner.defaults_), opts.rounds, decode_step);
    nlohmann::json measured_decode = nlohmann::json::array();
    for (const Candidate &cand : decode) {
        say("decode " + describe(cand.tiles) + ": " + fixed(cand.median() / 1e9, 1) + " GB/s of weights");
        nlohmann::json j(cand.tiles);
        j["weights_gb_s"] = cand.median() / 1e9;
        measured_decode.push_back(j);
    }
    auto verdict = [&](const char *phase, const std::vector<Candidate> &cands, size_t best, size_t defaults) {
        if (best == defaults)
            say(std::string(phase) + ": the defaults stay (" + describe(cands[best].tiles) + "); no candidate was " +
                fixed(100 * kMargin, 0) + "% faster");
        else
            say(std::string(phase) + ": " + describe(cands[best].tiles) + ", " +
                fixed(100 * (cands[best].median() / cands[defaults].median() - 1), 1) + "% faster than the defaults");
    };
    verdict("decode", decode, best_decode, index_of(decode, tuner.defaults_));
    Tiles chosen = decode[best_decode].tiles;
    decode.clear();

    // Prefill: the register tile of its products (rows x tokens, or for
    // bf16-dot rows x vectors of tokens), with decode's choice in place.
    const CpuTiles base = with_tiles(tuner.defaults_, chosen);
    std::vector<std::pair<std::string, std::vector<int>>> axes;
    if (opts.prefill_math == MatMath::Bf16Dot) axes = {{"dot_rows", {4, 8}}, {"dot_token_vectors", {1, 2}}};
    else axes = {{"rows", {2, 4, 8}}, {"tokens", {3, 4, 6}}};
    // Accumulators a tile may hold: most of the vector registers (16 ymm on
    // AVX2, 32 zmm or q registers otherwise).
    const int registers = base.vector == 8 ? 16 : 32;
    const int T = opts.prefill_tokens;
    std::vector<Candidate> prefill;
    Tiles prefill_defaults;
    for (const auto &axis : axes) prefill_defaults[axis.first] = get_tile(base, axis.first);
    for (const Tiles &t : combinations(axes, base)) {
        const CpuTiles tiles = with_tiles(base, t);
        const int accumulators = opts.prefill_math == MatMath::Bf16Dot ? tiles.dot_rows * tiles.dot_token_vectors
                                                                       : tiles.rows * tiles.tokens;
        if (accumulators > registers - 4 && t != prefill_defaults) continue;
        say("compiling prefill: " + describe(t));
        prefill.push_back({t, {tuner.build(Stage::QkvPrefill, tiles, T), tuner.build(Stage::AttnMlpPrefill, tiles, T)}, {}});
    }
    auto prefill_step = [&](Candidate &cand) {
        cand.stages[0].run(tuner.inputs_for(cand.stages[0], 0, T, T), 0);
        cand.stages[1].run(tuner.inputs_for(cand.stages[1], 0, T, T), 0);
        return double(T);
    };
    say("timing prefill of " + std::to_string(T) + " tokens through one layer, " + std::to_string(opts.rounds) + " rounds");
    const size_t best_prefill = race(prefill, index_of(prefill, base), opts.rounds, prefill_step);
    nlohmann::json measured_prefill = nlohmann::json::array();
    for (const Candidate &cand : prefill) {
        say("prefill " + describe(cand.tiles) + ": " + fixed(cand.median(), 0) + " tokens/s through one layer");
        nlohmann::json j(cand.tiles);
        j["layer_tok_s"] = cand.median();
        measured_prefill.push_back(j);
    }
    verdict("prefill", prefill, best_prefill, index_of(prefill, base));
    for (const auto &[name, value] : prefill[best_prefill].tiles) chosen[name] = value;

    nlohmann::json out = schedule_file_json(family, chosen);
    out["tuned_on"] = {{"config", config_path},
                       {"host_target", target.to_string()},
                       {"threads", opts.threads > 0 ? opts.threads : int(std::thread::hardware_concurrency())},
                       {"weight_dtype", dtype_flag_name(opts.weight_dtype)},
                       {"prefill_math", mat_math_name(opts.prefill_math)},
                       {"decode_math", mat_math_name(opts.decode_math)},
                       {"decode_step_weight_bytes", step_bytes},
                       {"prefill_tokens", T}};
    out["measured"] = {{"decode", measured_decode}, {"prefill", measured_prefill}};
    std::ofstream f(opts.output);
    if (!f) throw std::runtime_error(opts.output + ": cannot write the schedule file");
    f << out.dump(2) << "\n";
    if (!f.flush()) throw std::runtime_error(opts.output + ": cannot write the schedule file");
    say("wrote " + opts.output + ": " + describe(chosen));
}

}  // namespace qwenc
