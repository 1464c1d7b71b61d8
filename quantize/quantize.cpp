#include "quantize.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "checkpoint.h"
#include "file_io.h"
#include "progress.h"
#include "quant4_writer.h"
#include "tensors.h"
#include "random_model/safetensors_writer.h"

namespace qwenc {

namespace fs = std::filesystem;

namespace {

// Per-row scales: amax / 127, so every row uses the full int8 range.
std::vector<float> row_scales(const TensorView &w) {
    const int64_t rows = w.shape[0], cols = w.shape[1];
    std::vector<float> scales(size_t(rows), 0.0f);
    for (int64_t o = 0; o < rows; o++) {
        float amax = 0;
        for (int64_t i = 0; i < cols; i++) {
            // Checked one by one: std::max would pass over a NaN.
            const float v = std::fabs(tensor_element(w, size_t(o * cols + i)));
            if (!std::isfinite(v))
                throw InputError(w.file + ": tensor '" + w.name + "' row " + std::to_string(o) + " holds a non-finite value");
            amax = std::max(amax, v);
        }
        scales[size_t(o)] = amax / 127.0f;
    }
    return scales;
}

}  // namespace

FloatSource::FloatSource(const std::string &in_dir, const std::string &out_dir)
    : cfg_path(in_dir + "/config.json"), cfg(read_json_file(cfg_path)), config(parse_model_config(cfg, cfg_path)),
      checkpoint_(in_dir) {
    if (!config.quant_method.empty()) throw InputError(cfg_path + ": already quantized (" + config.quant_method + ")");
    if (fs::exists(out_dir) && fs::equivalent(in_dir, out_dir)) throw InputError(out_dir + ": must differ from the input directory");
}

const TensorView &FloatSource::tensor(const TensorSpec &spec) const {
    const TensorView &t = checkpoint_.tensor(spec.name, "qwenc quantize");
    if (t.shape != spec.shape || t.dtype == DType::I8 || t.dtype == DType::I32)
        throw InputError(t.file + ": tensor '" + spec.name + "' is not a float tensor of the shape config.json implies");
    return t;
}

TensorToWrite FloatSource::copy(const TensorSpec &spec, DType dtype) const {
    const TensorView *view = &tensor(spec);
    return {spec.name, dtype, view->shape, [view](float *dst, int64_t at, int64_t n) {
                for (int64_t i = 0; i < n; i++) dst[i] = tensor_element(*view, size_t(at + i));
            }};
}

void quantize_model_dir(const std::string &in_dir, const std::string &out_dir, const QuantizeOptions &opts) {
    if (opts.quant4.active()) return quantize_model_dir_4bit(in_dir, out_dir, opts);
    FloatSource src(in_dir, out_dir);
    const ModelConfig &c = src.config;
    if (c.hidden_size % 4 != 0 || c.intermediate_size % 4 != 0 || c.head_dim() % 4 != 0)
        throw InputError(src.cfg_path + ": int8 needs hidden_size, intermediate_size and head_dim divisible by 4");

    // Norms and biases copied in their own dtype; each matrix as int8 rows
    // followed by its scales. All scales are found (and every value checked)
    // before anything is written, so bad input leaves no partial directory
    // behind; the price is reading each matrix twice.
    std::vector<TensorToWrite> out;
    std::map<std::string, std::vector<float>> scales;  // stable addresses: the fill callbacks refer to them
    for (const TensorSpec &spec : model_tensor_specs(c, DType::BF16)) {
        const TensorView &t = src.tensor(spec);
        const TensorView *view = &t;
        if (spec.kind == TensorKind::Vector) {
            out.push_back(src.copy(spec, t.dtype));
            continue;
        }
        const std::vector<float> &s = scales[spec.name] = row_scales(t);
        const int64_t cols = t.shape[1];
        const std::vector<float> *sp = &s;
        out.push_back({spec.name, DType::I8, t.shape, [view, sp, cols](float *dst, int64_t at, int64_t n) {
                           for (int64_t i = 0; i < n; i++) {
                               const float scale = (*sp)[size_t((at + i) / cols)];
                               const float v = tensor_element(*view, size_t(at + i));
                               dst[i] = scale > 0 ? std::clamp(std::nearbyint(v / scale), -127.0f, 127.0f) : 0.0f;
                           }
                       }});
        out.push_back({weight_scale_name(spec.name), DType::F32, {t.shape[0]}, [sp](float *dst, int64_t at, int64_t n) {
                           std::copy(sp->begin() + at, sp->begin() + at + n, dst);
                       }});
    }

    src.cfg["quantization_config"] = {{"quant_method", kQwencInt8Method},
                                  {"bits", 8},
                                  {"scheme", "symmetric, one f32 scale per output row"},
                                  {"scale_suffix", "_scale"}};
    write_quantized_dir(in_dir, out_dir, out, src.cfg, opts);
}

void write_quantized_dir(const std::string &in_dir, const std::string &out_dir, const std::vector<TensorToWrite> &tensors,
                         const nlohmann::json &cfg, const QuantizeOptions &opts) {
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec) throw InputError(out_dir + ": cannot create the directory: " + ec.message());
    Progress progress("quantizing " + in_dir, opts.show_progress);
    write_model_safetensors(out_dir, tensors, opts.shards, [&](int64_t done, int64_t total) { progress.update(done, total, "writing"); });
    write_file_atomic(out_dir + "/config.json", cfg.dump(2) + "\n");
    for (const char *f : {"generation_config.json", "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt"})
        if (fs::exists(in_dir + "/" + f)) copy_file_contents(in_dir + "/" + f, out_dir + "/" + f);
    progress.finish();
}

}  // namespace qwenc
