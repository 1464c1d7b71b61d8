#include "quant4_writer.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "checkpoint.h"
#include "file_io.h"
#include "tensors.h"
#include "random_model/safetensors_writer.h"

namespace qwenc {

namespace fs = std::filesystem;

namespace {

// One projection's groups: the stored f16 scale and the zero of every
// (group, output), [groups][out].
struct GroupParams {
    std::vector<float> scale;  // as stored (rounded to f16), so q is found against what is read back
    std::vector<int32_t> zero;
};

GroupParams group_params(const TensorView &w, const Quant4 &q) {
    const int64_t out = w.shape[0], in = w.shape[1], G = q.group(in), groups = in / G;
    GroupParams p{std::vector<float>(size_t(groups * out)), std::vector<int32_t>(size_t(groups * out))};
    for (int64_t o = 0; o < out; o++)
        for (int64_t g = 0; g < groups; g++) {
            float lo = 0, hi = 0;  // GPTQ's grid always holds 0
            float wmin = INFINITY, wmax = -INFINITY;
            for (int64_t k = 0; k < G; k++) {
                const float v = tensor_element(w, size_t(o * in + g * G + k));
                if (!std::isfinite(v))
                    throw InputError(w.file + ": tensor '" + w.name + "' row " + std::to_string(o) + " holds a non-finite value");
                wmin = std::min(wmin, v), wmax = std::max(wmax, v);
            }
            float scale;
            int32_t zero;
            if (q.format != Quant4Format::Awq) {  // GPTQ's rule, qwenc-int4's too
                // AutoGPTQ's Quantizer.find_params, 4 bits (maxq 15).
                lo = std::min(0.0f, wmin), hi = std::max(0.0f, wmax);
                if (q.sym) {
                    hi = std::max(std::fabs(lo), hi);
                    if (lo < 0) lo = -hi;
                }
                if (lo == 0 && hi == 0) lo = -1, hi = 1;
                scale = f16_to_float(float_to_f16((hi - lo) / 15.0f));
                zero = q.sym ? kQuant4RowsZero : int32_t(std::nearbyint(-lo / scale));  // 8: GPTQ's symmetric zero
            } else {
                // AutoAWQ's pseudo_quantize_tensor with zero_point.
                scale = f16_to_float(float_to_f16(std::max(wmax - wmin, 1e-5f) / 15.0f));
                zero = int32_t(std::clamp(-std::nearbyint(wmin / scale), 0.0f, 15.0f));
            }
            if (!(scale > 0)) scale = f16_to_float(float_to_f16(1e-5f));  // below f16's range
            p.scale[size_t(g * out + o)] = scale;
            p.zero[size_t(g * out + o)] = std::clamp(zero, 0, 15);
        }
    return p;
}

// The tensors of one projection `name` (X.weight) in q's layout.
void add_projection(std::vector<TensorToWrite> &out, const TensorView *w, const GroupParams *p, const Quant4 &q) {
    const int64_t n_out = w->shape[0], in = w->shape[1], G = q.group(in);
    const Quant4Shapes shapes = quant4_shapes(q, in, n_out);
    const bool gptq = q.format == Quant4Format::Gptq, rows = q.format == Quant4Format::Rows;
    // q(i, o) on the group's grid.
    auto value = [w, p, n_out, in, G](int64_t i, int64_t o) {
        const size_t at = size_t((i / G) * n_out + o);
        const float v = std::nearbyint(tensor_element(*w, size_t(o * in + i)) / p->scale[at]) + float(p->zero[at]);
        return uint32_t(std::clamp(v, 0.0f, 15.0f));
    };
    const std::string &name = w->name;
    // An int32 tensor of `cols` columns whose word (row, col) packs
    // value(row, col, k) << (4 * nibble(k)) for k < 8.
    auto packed = [](std::string tensor, std::vector<int64_t> shape, auto value, auto nibble) {
        TensorToWrite t{std::move(tensor), DType::I32, shape, nullptr};
        const int64_t cols = shape[1];
        t.fill_i32 = [=](int32_t *dst, int64_t at, int64_t count) {
            for (int64_t e = 0; e < count; e++) {
                const int64_t row = (at + e) / cols, col = (at + e) % cols;
                uint32_t word = 0;
                for (int k = 0; k < kQuant4Pack; k++) word |= value(row, col, k) << (4 * nibble(k));
                dst[e] = int32_t(word);
            }
        };
        return t;
    };
    const bool awq = !gptq && !rows;
    auto nibble = [awq](int k) { return awq ? kAwqNibble[k] : k; };  // where output col * 8 + k sits (AWQ)
    // GPTQ: 8 inputs of output col; rows: 8 inputs of output row; AWQ: 8 outputs of input row.
    TensorToWrite qweight = packed(quant4_qweight_name(name), shapes.qweight, [=](int64_t row, int64_t col, int k) {
        return gptq ? value(row * kQuant4Pack + k, col) : rows ? value(col * kQuant4Pack + k, row) : value(row, col * kQuant4Pack + k);
    }, nibble);
    out.push_back(std::move(qweight));
    const int offset = q.zero_offset;
    // Classic GPTQ stores zero - 1 (which wraps to 15 for a zero of 0, as AutoGPTQ's packing does).
    if (!rows)
        out.push_back(packed(quant4_qzeros_name(name), shapes.qzeros, [=](int64_t g, int64_t col, int k) {
            return uint32_t(p->zero[size_t(g * n_out + col * kQuant4Pack + k)] - offset) & 15u;
        }, nibble));
    // Stored [groups, out] (GPTQ, AWQ) or [out, groups] (rows).
    const int64_t groups = in / G;
    TensorToWrite scales{quant4_scales_name(name), DType::F16, shapes.scales, [p, rows, groups, n_out](float *dst, int64_t at, int64_t count) {
        for (int64_t e = 0; e < count; e++)
            dst[e] = rows ? p->scale[size_t(((at + e) % groups) * n_out + (at + e) / groups)] : p->scale[size_t(at + e)];
    }};
    out.push_back(std::move(scales));
    if (gptq) {
        TensorToWrite g_idx{quant4_g_idx_name(name), DType::I32, shapes.g_idx, nullptr};
        g_idx.fill_i32 = [G](int32_t *dst, int64_t at, int64_t count) {
            for (int64_t e = 0; e < count; e++) dst[e] = int32_t((at + e) / G);
        };
        out.push_back(std::move(g_idx));
    }
}

}  // namespace

void quantize_model_dir_4bit(const std::string &in_dir, const std::string &out_dir, const QuantizeOptions &opts) {
    FloatSource src(in_dir, out_dir);
    const ModelConfig &c = src.config;
    src.cfg["quantization_config"] = quant4_config_json(opts.quant4);
    src.cfg["torch_dtype"] = "float16";
    parse_model_config(src.cfg, src.cfg_path + " with " + quant4_method(opts.quant4));  // the dimensions fit the groups

    std::vector<TensorToWrite> out;
    std::map<std::string, GroupParams> params;  // stable addresses: the fill callbacks refer to them
    const std::vector<TensorSpec> dense = model_tensor_specs(c, DType::BF16);
    for (const TensorSpec &spec : dense) {
        const TensorView &t = src.tensor(spec);
        const TensorView *view = &t;
        const bool model_level = spec.name == tensor_names::kEmbedding || spec.name == tensor_names::kLmHead;
        const bool quantized = spec.kind == TensorKind::Matrix && (!model_level || opts.quant4.whole_model());
        if (!quantized) {
            out.push_back(src.copy(spec, DType::F16));
            continue;
        }
        add_projection(out, view, &(params[spec.name] = group_params(t, opts.quant4)), opts.quant4);
    }
    write_quantized_dir(in_dir, out_dir, out, src.cfg, opts);
}

}  // namespace qwenc
