// qwenc: compiles a Qwen2 config.json into a specialized model object.
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include <Halide.h>

#include "cli_args.h"
#include "emit/emit_object.h"
#include "manifest.h"
#include "quantize.h"
#include "tune/tune.h"
#include "version.h"

using namespace qwenc;

static const char *kHelp = R"(usage: qwenc CONFIG.json -o MODEL.so [options]
       qwenc quantize MODEL_DIR OUT_DIR [--bits 8|4] [--format int8|int4|gptq|awq] [--shards N] [--quiet]
       qwenc tune CONFIG.json -o SCHEDULE.json [--weights MODEL_DIR] [--threads N] [options]

Compiles the Qwen2 decoder described by a Hugging Face config.json into one
shared object with every model dimension fixed, for qwenrun / libqwenrt.

options:
  -o, --output FILE        the model object to write (required)
  --target T[,T2...]       Halide target string (default: host), e.g.
                           x86-64-linux-avx2-fma-f16c-sse41 or arm-64-linux-arm_dot_prod;
                           a comma-separated list (most specific first) makes
                           one object that picks the best variant at run time
  --weight-dtype D         dtype of the weight matrices in the checkpoint:
                           bf16, f16, f32 or int8 (default: int8 for a
                           `qwenc quantize` directory, else torch_dtype)
  --prefill-chunk N        most tokens per prefill call (default 512)
  --prefill-math M         how prefill multiplies matrices: f32 (activations
                           stay f32, logits match the reference), bf16-dot
                           (bf16 weights, targets with avx512_sapphirerapids:
                           activations rounded to bf16, on vdpbf16ps, as
                           llama.cpp's bf16 path), int8-dot or int16-dot
                           (int8 weights; see --decode-math). Default:
                           bf16-dot / int8-dot where every target has
                           avx512_sapphirerapids; int16-dot for int8 weights
                           on AVX2 targets (not AVX-512 ones without
                           avx512_sapphirerapids); else f32. Batched steps
                           compute as decode does.
  --decode-math M          how decode multiplies matrices: f32; bf16x2-dot
                           (bf16 weights, avx512_sapphirerapids targets: each
                           activation split into two bf16s, as accurate as
                           f32; the default there); bf16-dot (activations
                           rounded to bf16); int16-dot (int8 weights:
                           activations quantized to int16 per block of up
                           to 256 inputs, logits within ~6e-4 of f32's; the
                           default for int8 weights on x86 and
                           arm_dot_prod); int8-dot (int8 weights:
                           activations quantized to int8 per block of 32, as
                           llama.cpp's Q8_0, logits ~0.1 off; also 4-bit
                           GPTQ / AWQ / qwenc-int4 weights with groups of a multiple
                           of 32, as llama.cpp's Q4_0 x Q8_0: the default for
                           them on x86 targets with AVX2 or AVX-512, and for
                           qwenc-int4's prefill there too).
                           Default elsewhere: f32. Measured speed:
                           docs/performance.md
  --kv-cache-dtype D       element type of the KV cache: f32 (default: logits
                           match the reference), bf16 or f16 (half the
                           memory per position; K and V rounded as stored,
                           prefill a few % slower: docs/performance.md)
  --emit shared|static     a shared object for qwenrun / qwenrt_model_load
                           (default), or a static library libNAME.a plus
                           NAME.h beside it, to link the model into a program
  --schedule FILE          tile sizes from `qwenc tune` (a schedule file) over
                           the target's schedule defaults
  --name NAME              symbol prefix of a static model (default: from -o,
                           libNAME.a -> NAME)
  --cc CC                  C compiler driver used to link (default: cc)
  --keep-temps             keep the intermediate objects
  --quiet                  no progress output
  --version, -h/--help

qwenc quantize --bits 4 [--group 32|64|128] writes qwenc's own int4 instead:
every matrix, embedding and lm_head included, 4-bit in groups of --group
inputs (default 32) with an f16 scale each and the zero at 8, stored by
output row (docs/usage.md).

qwenc quantize writes OUT_DIR: a copy of MODEL_DIR whose weight matrices are
int8 with one f32 scale per output row ("X.weight" I8 and "X.weight_scale"
F32 [out]); compile its config.json to get an int8 model object. With
--format gptq or awq it writes the layer projections in the 4-bit layout of
Qwen's GPTQ-Int4 or AWQ checkpoints instead (rounded to nearest on each
format's grid, no calibration), the rest as f16:
  --group-size N           inputs per group (default 128; gptq also -1)
  --asym                   gptq: zero points per group (default symmetric)
  --checkpoint-format F    gptq: "gptq" (zeros stored minus one, the
                           default, as Qwen's) or "gptq_v2"

qwenc tune times candidate tile sizes of the host's schedule on the model's
shapes and writes the fastest (if 5% faster than the defaults) as
SCHEDULE.json for --schedule: prefill's register tiles with JIT-compiled
stages on random weights in memory (--prefill-tokens tokens through one
layer), and, given --weights MODEL_DIR, decode's through the runtime:
each candidate compiled into an object and decoded over the model's own
weights. Candidates run round-robin, each against the defaults in the same
round, median of --rounds. It takes --weight-dtype, --prefill-math (f32,
bf16-dot or int16-dot; default: the compiler's for the host, f32 where
that is int8-dot) and --decode-math as above (without --weights decode
is not tuned), and --threads N (default: every core), --prefill-tokens N
(default 128), --rounds N (default 7), --quiet.
)";

// The first target without AVX512-BF16 (what the bf16 dot-product maths
// need), or null.
static const Halide::Target *target_without_bf16(const EmitOptions &opts) {
    for (const Halide::Target &t : opts.targets)
        if (!t.has_feature(Halide::Target::AVX512_SapphireRapids)) return &t;
    return nullptr;
}

// The first model dimension that matrices take as inputs (hidden_size: q/k/v,
// gate/up, the head; heads x head_dim: o_proj; intermediate_size: down_proj)
// and that is not a multiple of what `math` needs, or nothing.
static std::optional<std::pair<const char *, int64_t>> dim_off_multiple(const ModelConfig &config, MatMath math) {
    const int64_t multiple = mat_math_input_multiple(math);
    for (const auto &[dim, value] : {std::pair{"hidden_size", config.hidden_size}, {"intermediate_size", config.intermediate_size},
                                     {"num_attention_heads x head_dim", config.q_dim()}})
        if (value % multiple != 0) return std::pair{dim, value};
    return std::nullopt;
}

// Decode's math when --decode-math is not given, where the model's
// dimensions allow it: bf16x2-dot for bf16 weights on targets with
// AVX512-BF16, int16-dot for int8 weights on x86 and on ARM targets with
// the dot-product extension (as two sdots per group there). Both are as
// close to the reference as f32 activations, and decode streams the
// weights faster (measured with AVX-512 and AVX2 code; no ARM hardware
// here to measure sdot's). Else f32.
static MatMath default_decode_math(const EmitOptions &opts, const ModelConfig &config) {
    auto fits = [&](MatMath m) { return !dim_off_multiple(config, m); };
    if (config.quant4.active()) {
        // 4-bit weights (every layout): int8 activations, as llama.cpp's Q4_0 x
        // Q8_0, where every target's schedule has fast sums for them
        // (pmaddubsw on x86 with AVX2 or AVX-512); else f32.
        bool fast = !opts.targets.empty();
        for (const Halide::Target &t : opts.targets) fast = fast && fast_quant4_int8_dot(t);
        const bool int8_dot = fast && quant4_int8_dot(config.quant4, MatMath::Int8Dot) &&
                              quant4_groups_fit_int8_dot(config.quant4) && fits(MatMath::Int8Dot);
        return int8_dot ? MatMath::Int8Dot : MatMath::F32;
    }
    const bool bf16_targets = !opts.targets.empty() && !target_without_bf16(opts);
    if (opts.weight_dtype == DType::BF16 && bf16_targets && fits(MatMath::Bf16x2Dot)) return MatMath::Bf16x2Dot;
    const bool x86 = !opts.targets.empty() && opts.targets[0].arch == Halide::Target::X86;
    bool arm_dot = !opts.targets.empty() && opts.targets[0].arch == Halide::Target::ARM;
    for (const Halide::Target &t : opts.targets) arm_dot = arm_dot && t.has_feature(Halide::Target::ARMDotProd);
    if (opts.weight_dtype == DType::I8 && (x86 || arm_dot) && fits(MatMath::Int16Dot)) return MatMath::Int16Dot;
    return MatMath::F32;
}

// Prefill's math when --prefill-math is not given: on targets that all
// have AVX512-BF16 and VNNI (avx512_sapphirerapids), the dot-product units,
// as llama.cpp and vLLM compute there: bf16-dot for bf16 weights, int8-dot
// (Q8_0's numerics) for int8, both faster than f32 activations
// (bench/HISTORY.md). int8 weights on AVX2 targets prefill on decode's
// int16-dot: a vpmaddwd does twice an FMA's multiply-adds, and its logits
// stay within ~6e-4 of f32's, far closer than Q8_0's (AVX2 figures:
// bench/RESULTS.md); but not where a target has AVX-512 without
// AVX512-BF16, whose f32 prefill ran as fast or faster (bench/HISTORY.md).
// Decode keeps its own math, and batched steps decode's numerics
// (Manifest::batch_math). Else f32, which matches the reference;
// --prefill-math f32 asks for it anywhere.
static MatMath default_prefill_math(const EmitOptions &opts, const ModelConfig &config) {
    // qwenc-int4's rows prefill on decode's int8-dot too (int_dot's tiles).
    if (config.quant4.format == Quant4Format::Rows) return default_decode_math(opts, config);
    if (config.quant4.active() || opts.targets.empty()) return MatMath::F32;
    if (target_without_bf16(opts)) {
        bool avx2 = true;  // every target x86, and those without AVX512-BF16 without AVX-512
        for (const Halide::Target &t : opts.targets)
            avx2 = avx2 && t.arch == Halide::Target::X86 &&
                   (t.has_feature(Halide::Target::AVX512_SapphireRapids) || !t.has_feature(Halide::Target::AVX512));
        // (int16-dot decode: int8 weights whose dimensions it takes.)
        return avx2 && default_decode_math(opts, config) == MatMath::Int16Dot ? MatMath::Int16Dot : MatMath::F32;
    }
    for (MatMath m : {MatMath::Bf16Dot, MatMath::Int8Dot})
        if (mat_math_weight_dtype(m) == opts.weight_dtype && !dim_off_multiple(config, m)) return m;
    return MatMath::F32;
}

// --prefill-math / --decode-math: one of `allowed` (default `fallback`),
// with the weights, the model dimensions and (the bf16 maths) the target
// features it needs.
static MatMath parse_math(const CliArgs &args, const std::string &flag, std::initializer_list<MatMath> allowed,
                          const EmitOptions &opts, const ModelConfig &config, const std::string &config_path,
                          MatMath fallback = MatMath::F32) {
    const std::string name = args.get(flag, mat_math_name(fallback));
    const auto math = mat_math_from_name(name);
    std::string names;
    bool ok = false;
    for (MatMath m : allowed) {
        names += std::string(names.empty() ? "" : m == *std::rbegin(allowed) ? " or " : ", ") + mat_math_name(m);
        ok = ok || (math && *math == m);
    }
    if (!ok) throw UsageError("--" + flag + " must be " + names + " (got '" + name + "')");
    const auto needs = mat_math_weight_dtype(*math);
    if (config.quant4.active()) {
        if (!quant4_math_allowed(config.quant4, *math, flag == "decode-math"))
            throw UsageError("--" + flag + " " + name + " does not apply to " + quant4_describe(config.quant4) +
                             (config.quant4.format == Quant4Format::Rows ? ": they take f32 or int8-dot"
                                                                         : ": they take f32, or int8-dot in decode"));
        if (quant4_int8_dot(config.quant4, *math) && !quant4_groups_fit_int8_dot(config.quant4))
            throw InputError(config_path + ": --" + flag + " " + name + " needs a group_size divisible by " +
                             std::to_string(kIntDotBlock) + " (it is " + std::to_string(config.quant4.group_size) + ")");
    } else if (needs && *needs != opts.weight_dtype)
        throw UsageError("--" + flag + " " + name + " needs " + dtype_flag_name(*needs) + " weights (these are " +
                         dtype_flag_name(opts.weight_dtype) + ")");
    if (*math == MatMath::Bf16Dot || *math == MatMath::Bf16x2Dot)
        if (const Halide::Target *t = target_without_bf16(opts))
            throw UsageError("--" + flag + " " + name + " needs targets with avx512_sapphirerapids (AVX512-BF16); '" +
                             t->to_string() + "' has none");
    if (const auto off = dim_off_multiple(config, *math))
        throw InputError(config_path + ": --" + flag + " " + name + " needs hidden_size and intermediate_size divisible by " +
                         std::to_string(mat_math_input_multiple(*math)) + " (" + off->first + " is " + std::to_string(off->second) + ")");
    return *math;
}

static int quantize_main(int argc, char **argv) {
    CliArgs args(argc - 1, argv + 1, {"shards", "format", "group-size", "group", "checkpoint-format", "bits"}, {"help", "quiet", "asym"});
    if (args.has("help")) {
        std::fputs(kHelp, stdout);
        return 0;
    }
    if (args.positionals().size() != 2) throw UsageError("qwenc quantize expects MODEL_DIR OUT_DIR (see --help)");
    QuantizeOptions opts;
    opts.shards = int(args.get_int("shards", 1, 1, 1000));
    opts.show_progress = !args.has("quiet");
    // --bits 4 [--group N]: qwenc's own int4 (as llama.cpp's quantize names
    // its choices by bits; groups of 32 by default, as Q4_0's blocks).
    const int64_t bits = args.get_int("bits", 8, 4, 8);
    if (bits != 4 && bits != 8) throw UsageError("--bits must be 8 (int8) or 4 (int4)");
    if (args.has("group") && args.has("group-size")) throw UsageError("give --group or --group-size, not both");
    const char *group_flag = args.has("group") ? "group" : "group-size";
    const std::string format = args.get("format", bits == 4 ? "int4" : "int8");
    if (format != "int8" && format != "int4" && format != "gptq" && format != "awq")
        throw UsageError("--format must be int8, int4, gptq or awq (got '" + format + "')");
    if (args.has("bits") && (format == "int4") != (bits == 4))
        throw UsageError("--bits " + std::to_string(bits) + " does not go with --format " + format);
    if (format == "int8") {
        for (const char *f : {"group-size", "group", "asym", "checkpoint-format"})
            if (args.has(f)) throw UsageError(std::string("--") + f + " goes with 4-bit formats (--bits 4, --format gptq or awq)");
    } else {
        if (format != "gptq" && (args.has("asym") || args.has("checkpoint-format")))
            throw UsageError("--asym and --checkpoint-format go with --format gptq");
        const std::string method = format == "int4" ? kQwencInt4Method : format;
        nlohmann::json q{{"quant_method", method}, {"bits", 4},
                         {"group_size", args.get_int(group_flag, format == "int4" ? 32 : 128, -1, 1 << 20)}};
        if (format == "int4") q["layout"] = kQwencInt4Layout;
        if (format == "gptq") {
            q["sym"] = !args.has("asym");
            q["checkpoint_format"] = args.get("checkpoint-format", "gptq");
        }
        opts.quant4 = parse_quant4(q, "--format " + format);
    }
    quantize_model_dir(args.positionals()[0], args.positionals()[1], opts);
    return 0;
}

// The checkpoint's own dtype by default: int8 for `qwenc quantize` output.
// A 4-bit checkpoint's layers keep their own layout; this is the dtype of
// its embedding and lm_head (f16 in Qwen's GPTQ and AWQ checkpoints).
static DType weight_dtype(const CliArgs &args, const ModelConfig &config) {
    const bool int8 = !config.quant_method.empty() && !config.quant4.active();
    const std::string own = int8 ? "int8" : config.torch_dtype.empty() ? "bf16" : config.torch_dtype;
    std::string wd = args.get("weight-dtype", own);
    auto dt = dtype_from_flag(wd);
    if (!dt || *dt == DType::I32) throw UsageError("--weight-dtype must be bf16, f16, f32 or int8 (got '" + wd + "')");
    if (config.quant4.active() && *dt == DType::I8)
        throw UsageError(std::string("--weight-dtype int8 does not apply to a 4-bit ") + config.quant_method +
                         " checkpoint (its embedding and lm_head are float; give their dtype, e.g. f16)");
    return *dt;
}

static int tune_main(int argc, char **argv) {
    CliArgs args(argc - 1, argv + 1,
                 {"output", "weight-dtype", "prefill-math", "decode-math", "weights", "threads", "prefill-tokens", "rounds"},
                 {"help", "quiet"});
    if (args.has("help")) {
        std::fputs(kHelp, stdout);
        return 0;
    }
    if (args.positionals().size() != 1) throw UsageError("qwenc tune expects one CONFIG.json (see --help)");
    if (!args.has("output")) throw UsageError("qwenc tune: -o SCHEDULE.json is required (see --help)");
    const std::string config_path = args.positionals()[0];
    const ModelConfig config = load_model_config(config_path);
    EmitOptions host;  // what parse_math checks against: the host target
    host.targets = {Halide::get_host_target()};
    host.weight_dtype = weight_dtype(args, config);
    TuneOptions opts;
    opts.output = args.get("output");
    opts.weight_dtype = host.weight_dtype;
    // Prefill's default is the compiler's for the host, so that the tiles
    // tuned are the ones a default object uses; but f32 where that is
    // int8-dot, which tune cannot JIT-compile (see tune_schedule).
    const MatMath compiled_prefill = default_prefill_math(host, config);
    opts.prefill_math = parse_math(args, "prefill-math", {MatMath::F32, MatMath::Bf16Dot, MatMath::Int16Dot}, host, config,
                                   config_path, compiled_prefill == MatMath::Int8Dot ? MatMath::F32 : compiled_prefill);
    // Decode is timed only with --weights; without them the default stays f32,
    // which tune_schedule does not ask weights for.
    opts.decode_math = parse_math(args, "decode-math", {MatMath::F32, MatMath::Bf16Dot, MatMath::Int8Dot, MatMath::Bf16x2Dot, MatMath::Int16Dot},
                                  host, config, config_path, args.has("weights") ? default_decode_math(host, config) : MatMath::F32);
    opts.weights_dir = args.get("weights");
    opts.threads = int(args.get_int("threads", 0, 0, 1024));
    opts.prefill_tokens = int(args.get_int("prefill-tokens", 128, 1, 8192));
    opts.rounds = int(args.get_int("rounds", 7, 1, 1000));
    opts.show_progress = !args.has("quiet");
    tune_schedule(config, config_path, opts);
    return 0;
}

int main(int argc, char **argv) {
    try {
        if (argc > 1 && std::string(argv[1]) == "quantize") return quantize_main(argc, argv);
        if (argc > 1 && std::string(argv[1]) == "tune") return tune_main(argc, argv);
        CliArgs args(argc, argv,
                     {"output", "target", "weight-dtype", "cc", "prefill-chunk", "emit", "name", "prefill-math", "decode-math",
                      "schedule", "kv-cache-dtype"},
                     {"help", "version", "keep-temps", "quiet"});
        if (args.has("help")) {
            std::fputs(kHelp, stdout);
            return 0;
        }
        if (args.has("version")) {
            std::printf("qwenc %s (Halide 14, host target %s)\n", kQwencVersion,
                        Halide::get_host_target().to_string().c_str());
            return 0;
        }
        if (args.positionals().size() != 1) throw UsageError("expected exactly one CONFIG.json (see --help)");
        if (!args.has("output")) throw UsageError("-o MODEL.so is required (see --help)");
        const std::string config_path = args.positionals()[0];
        EmitOptions opts;
        opts.output = args.get("output");
        // A Halide target string, or a comma-separated list of them (multitarget).
        const std::string target_list = args.get("target", "host");
        size_t at = 0;
        while (true) {
            const size_t comma = target_list.find(',', at);
            const std::string target = target_list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
            if (!Halide::Target::validate_target_string(target))
                throw UsageError("--target '" + target + "' is not a valid Halide target string");
            opts.targets.emplace_back(target);
            if (comma == std::string::npos) break;
            at = comma + 1;
        }
        for (const Halide::Target &t : opts.targets)
            if (t.arch != opts.targets[0].arch || t.bits != opts.targets[0].bits || t.os != opts.targets[0].os)
                throw UsageError("--target: every target of a list must share architecture, bits and OS ('" +
                                 t.to_string() + "' differs from '" + opts.targets[0].to_string() + "')");
        const ModelConfig config = load_model_config(config_path);
        opts.weight_dtype = weight_dtype(args, config);
        opts.prefill_max_tokens = args.get_int("prefill-chunk", 512, 1, 8192);
        opts.prefill_math = parse_math(args, "prefill-math", {MatMath::F32, MatMath::Bf16Dot, MatMath::Int8Dot, MatMath::Int16Dot}, opts, config,
                                       config_path, default_prefill_math(opts, config));
        opts.decode_math = parse_math(args, "decode-math", {MatMath::F32, MatMath::Bf16Dot, MatMath::Int8Dot, MatMath::Bf16x2Dot, MatMath::Int16Dot},
                                      opts, config, config_path, default_decode_math(opts, config));
        const std::string kv = args.get("kv-cache-dtype", "f32");
        const auto kv_dtype = kv_cache_dtype_from_name(kv);
        if (!kv_dtype) throw UsageError(std::string("--kv-cache-dtype must be ") + kKvCacheDTypeList + " (got '" + kv + "')");
        opts.kv_cache_dtype = *kv_dtype;
        const std::string emit = args.get("emit", "shared");
        if (emit != "shared" && emit != "static") throw UsageError("--emit must be shared or static (got '" + emit + "')");
        opts.emit_static = emit == "static";
        if (opts.emit_static) {
            std::string stem = std::filesystem::path(opts.output).stem().string();
            if (stem.rfind("lib", 0) == 0) stem = stem.substr(3);
            opts.name = args.get("name", stem);
            bool ok = !opts.name.empty() && !std::isdigit(static_cast<unsigned char>(opts.name[0]));
            for (char ch : opts.name) ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_');
            if (!ok) throw UsageError("--name '" + opts.name + "' is not a C identifier");
        }
        opts.cc = args.get("cc");
        opts.keep_temps = args.has("keep-temps");
        opts.show_progress = !args.has("quiet");
        if (args.has("schedule")) opts.schedule_file = read_schedule_file(args.get("schedule"));
        emit_model_object(config, config_path, opts);
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "qwenc: error: %s\n", e.what());
        return 1;
    }
}
