#include "qwen2_reference.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace qwen2_reference {
namespace {

std::string slurp(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("reference: cannot open " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

double from_half(uint16_t h) {
    const int exp = (h >> 10) & 31, mant = h & 1023;
    double v = exp == 0 ? std::ldexp(mant, -24) : std::ldexp(mant + 1024, exp - 25);
    return (h & 0x8000) ? -v : v;
}

// 4-bit checkpoints, dequantized here with this file's own reading of the
// formats (AutoGPTQ's and AutoAWQ's packing code), into "X.weight" [out][in]:
// w = scale * (q - zero) per group of `group` inputs.
// - GPTQ: qweight [in/8][out], input i of output o in bits 4*(i%8) of word
//   [i/8][o]; qzeros [groups][out/8], output o in bits 4*(o%8); classic
//   checkpoints (checkpoint_format "gptq" or none) store zero - 1.
// - AWQ: qweight [in][out/8] and qzeros [groups][out/8]; the 8 values of a
//   word are outputs 0, 2, 4, 6, 1, 3, 5, 7 of its 8 (AutoAWQ's order_map),
//   in bits 0, 4, ..., 28.
// - qwenc-int4 ("layout" "rows"): qweight [out][in/8], input i of output o
//   in bits 4*(i%8) of word [o][i/8]; scales [out][groups]; no qzeros: every
//   zero is 8.
void dequantize_4bit(std::map<std::string, Tensor> &w, std::map<std::string, std::vector<int64_t>> &shapes,
                     const nlohmann::json &qc) {
    const std::string method = qc["quant_method"];
    const bool rows = method == "qwenc-int4", gptq = method == "gptq";
    const int zero_plus = gptq && qc.value("checkpoint_format", std::string("gptq")) == "gptq" ? 1 : 0;
    const int64_t group_size = qc["group_size"];
    static const int order_map[8] = {0, 2, 4, 6, 1, 3, 5, 7};
    std::vector<std::string> names;
    for (auto &[name, t] : w)
        if (name.size() > 8 && name.compare(name.size() - 8, 8, ".qweight") == 0) names.push_back(name.substr(0, name.size() - 7));
    for (const std::string &base : names) {
        const Tensor &qw = w.at(base + "qweight"), &sc = w.at(base + "scales");
        const Tensor *qz = rows ? nullptr : &w.at(base + "qzeros");
        const std::vector<int64_t> &qs = shapes.at(base + "qweight");
        const int64_t in = gptq ? qs[0] * 8 : rows ? qs[1] * 8 : qs[0], out = gptq ? qs[1] : rows ? qs[0] : qs[1] * 8;
        const int64_t groups = in / (group_size < 0 ? in : group_size);
        const int64_t group = group_size < 0 ? in : group_size;
        auto bits = [](double word, int shift) { return int((uint32_t(int32_t(word)) >> shift) & 15u); };
        Tensor dense(size_t(in * out));
        for (int64_t i = 0; i < in; i++)
            for (int64_t o = 0; o < out; o++) {
                const int64_t g = i / group;
                int q, z;
                if (gptq || rows) {
                    q = rows ? bits(qw[size_t(o * (in / 8) + i / 8)], 4 * int(i % 8)) : bits(qw[size_t((i / 8) * out + o)], 4 * int(i % 8));
                    z = rows ? 8 : bits((*qz)[size_t(g * (out / 8) + o / 8)], 4 * int(o % 8)) + zero_plus;
                } else {
                    int pos = 0;
                    while (order_map[pos] != o % 8) pos++;
                    q = bits(qw[size_t(i * (out / 8) + o / 8)], 4 * pos);
                    z = bits((*qz)[size_t(g * (out / 8) + o / 8)], 4 * pos);
                }
                dense[size_t(o * in + i)] = sc[size_t(rows ? o * groups + g : g * out + o)] * double(q - z);
            }
        w[base + "weight"] = std::move(dense);
    }
}

// Every tensor of every safetensors file in the directory, converted to double.
std::map<std::string, Tensor> read_all_tensors(const std::string &dir, std::map<std::string, std::vector<int64_t>> *shapes) {
    std::vector<std::string> files;
    std::ifstream index(dir + "/model.safetensors.index.json");
    if (index) {
        auto j = nlohmann::json::parse(slurp(dir + "/model.safetensors.index.json"));
        std::map<std::string, int> unique;
        for (auto &[name, file] : j["weight_map"].items()) unique[file.get<std::string>()] = 1;
        for (auto &[file, one] : unique) files.push_back(dir + "/" + file);
    } else {
        files.push_back(dir + "/model.safetensors");
    }
    std::map<std::string, Tensor> out;
    for (const std::string &path : files) {
        const std::string bytes = slurp(path);
        uint64_t n = 0;
        std::memcpy(&n, bytes.data(), 8);
        auto header = nlohmann::json::parse(bytes.substr(8, n));
        const char *data = bytes.data() + 8 + n;
        for (auto &[name, e] : header.items()) {
            if (name == "__metadata__") continue;
            const std::string dtype = e["dtype"];
            const size_t begin = e["data_offsets"][0], end = e["data_offsets"][1];
            const size_t es = dtype == "F32" || dtype == "I32" ? 4 : dtype == "I8" ? 1 : 2;
            Tensor t((end - begin) / es);
            (*shapes)[name] = e["shape"].get<std::vector<int64_t>>();
            for (size_t i = 0; i < t.size(); i++) {
                const char *p = data + begin + i * es;
                if (dtype == "I32") {
                    int32_t v;
                    std::memcpy(&v, p, 4);
                    t[i] = v;
                } else if (dtype == "F32") {
                    float f;
                    std::memcpy(&f, p, 4);
                    t[i] = f;
                } else if (dtype == "I8") {
                    t[i] = double(static_cast<int8_t>(*p));
                } else {
                    uint16_t h;
                    std::memcpy(&h, p, 2);
                    if (dtype == "BF16") {
                        uint32_t u = uint32_t(h) << 16;
                        float f;
                        std::memcpy(&f, &u, 4);
                        t[i] = f;
                    } else {
                        t[i] = from_half(h);
                    }
                }
            }
            out[name] = std::move(t);
        }
    }
    // qwenc's int8 format: "X.weight" holds integers and "X.weight_scale"
    // one factor per row; the reference works on the dequantized matrix.
    for (auto &[name, scale] : out) {
        const std::string suffix = "_scale";
        if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
        Tensor &m = out.at(name.substr(0, name.size() - suffix.size()));
        const size_t cols = m.size() / scale.size();
        for (size_t i = 0; i < m.size(); i++) m[i] *= scale[i / cols];
    }
    return out;
}

}  // namespace

std::vector<double> matvec(const Tensor &W, const std::vector<double> &x, size_t out, const Tensor *b) {
    std::vector<double> y(out);
    const size_t in = x.size();
    for (size_t o = 0; o < out; o++) {
        double s = b ? (*b)[o] : 0.0;
        for (size_t i = 0; i < in; i++) s += W[o * in + i] * x[i];
        y[o] = s;
    }
    return y;
}

std::vector<double> rms_norm(const std::vector<double> &x, const Tensor &w, double eps) {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double inv = 1.0 / std::sqrt(ss / double(x.size()) + eps);
    std::vector<double> y(x.size());
    for (size_t i = 0; i < x.size(); i++) y[i] = x[i] * inv * w[i];
    return y;
}

void rope(double *v, int64_t head_dim, int64_t pos, double theta) {
    const int64_t half = head_dim / 2;
    for (int64_t i = 0; i < half; i++) {
        const double freq = 1.0 / std::pow(theta, double(2 * i) / double(head_dim));
        const double c = std::cos(double(pos) * freq), s = std::sin(double(pos) * freq);
        const double a = v[i], b = v[i + half];
        v[i] = a * c - b * s;
        v[i + half] = b * c + a * s;
    }
}

double silu(double x) { return x / (1.0 + std::exp(-x)); }

KvRounding kv_rounding_from_name(const std::string &name) {
    if (name == "f32") return KvRounding::None;
    if (name == "bf16") return KvRounding::BF16;
    if (name == "f16") return KvRounding::F16;
    throw std::runtime_error("reference: unknown KV cache dtype '" + name + "'");
}

double round_to_significant_bits(double x, int significant, int min_exponent) {
    if (x == 0 || !std::isfinite(x)) return x;
    int e = 0;
    std::frexp(x, &e);  // |x| in [2^(e-1), 2^e)
    const int last = std::max(e - significant, min_exponent);  // the exponent of the last kept bit
    return std::ldexp(std::nearbyint(std::ldexp(x, -last)), last);  // nearbyint: ties to even
}

std::vector<double> forward(const std::string &dir, const std::vector<int32_t> &tokens, int64_t *vocab_out, KvRounding kv) {
    const auto cfg = nlohmann::json::parse(slurp(dir + "/config.json"));
    const int64_t H = cfg["hidden_size"], I = cfg["intermediate_size"], L = cfg["num_hidden_layers"];
    const int64_t nh = cfg["num_attention_heads"], nkv = cfg["num_key_value_heads"], V = cfg["vocab_size"];
    const double eps = cfg["rms_norm_eps"], theta = cfg["rope_theta"];
    const bool tied = cfg.value("tie_word_embeddings", false);
    // transformers' Qwen3 (modeling_qwen3.py): Qwen3Config defaults head_dim to
    // 128 and attention_bias to False; Qwen3Attention applies q_norm and
    // k_norm (Qwen3RMSNorm over head_dim, eps rms_norm_eps) to each head of
    // the projected q and k, then RoPE. Qwen2Attention always has biases.
    const bool qwen3 = cfg.value("model_type", "") == "qwen3";
    const bool bias = qwen3 ? (cfg.contains("attention_bias") && cfg["attention_bias"].is_boolean() && bool(cfg["attention_bias"])) : true;
    // Qwen2Attention: getattr(config, "head_dim", hidden_size // num_attention_heads).
    const int64_t hd = cfg.contains("head_dim") && !cfg["head_dim"].is_null() ? int64_t(cfg["head_dim"]) : qwen3 ? 128 : H / nh;
    const int64_t group = nh / nkv, T = int64_t(tokens.size());
    std::map<std::string, std::vector<int64_t>> shapes;
    auto w = read_all_tensors(dir, &shapes);
    if (cfg.contains("quantization_config") && cfg["quantization_config"].is_object()) {
        const std::string method = cfg["quantization_config"].value("quant_method", std::string());
        if (method == "gptq" || method == "awq" || method == "qwenc-int4") dequantize_4bit(w, shapes, cfg["quantization_config"]);
    }
    auto get = [&](const std::string &name) -> const Tensor & {
        auto it = w.find(name);
        if (it == w.end()) throw std::runtime_error("reference: missing " + name);
        return it->second;
    };

    std::vector<std::vector<double>> x(T, std::vector<double>(H));
    const Tensor &emb = get("model.embed_tokens.weight");
    for (int64_t t = 0; t < T; t++)
        for (int64_t i = 0; i < H; i++) x[t][i] = emb[size_t(tokens[t]) * H + i];

    for (int64_t l = 0; l < L; l++) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        std::vector<std::vector<double>> q(T), k(T), v(T);
        for (int64_t t = 0; t < T; t++) {
            auto n = rms_norm(x[t], get(p + "input_layernorm.weight"), eps);
            auto b = [&](const char *name) { return bias ? &get(p + name) : nullptr; };
            q[t] = matvec(get(p + "self_attn.q_proj.weight"), n, nh * hd, b("self_attn.q_proj.bias"));
            k[t] = matvec(get(p + "self_attn.k_proj.weight"), n, nkv * hd, b("self_attn.k_proj.bias"));
            v[t] = matvec(get(p + "self_attn.v_proj.weight"), n, nkv * hd, b("self_attn.v_proj.bias"));
            if (qwen3) {
                auto norm_heads = [&](std::vector<double> &x, int64_t heads, const Tensor &w) {
                    for (int64_t h = 0; h < heads; h++) {
                        const std::vector<double> head(x.begin() + h * hd, x.begin() + (h + 1) * hd);
                        const auto y = rms_norm(head, w, eps);
                        std::copy(y.begin(), y.end(), x.begin() + h * hd);
                    }
                };
                norm_heads(q[t], nh, get(p + "self_attn.q_norm.weight"));
                norm_heads(k[t], nkv, get(p + "self_attn.k_norm.weight"));
            }
            for (int64_t h = 0; h < nh; h++) rope(&q[t][h * hd], hd, t, theta);
            for (int64_t h = 0; h < nkv; h++) rope(&k[t][h * hd], hd, t, theta);
            // As the cache stores them: bf16 keeps 8 significant bits, f16 11
            // with subnormals from 2^-24 (its exponent range is never reached
            // by these values otherwise).
            if (kv != KvRounding::None)
                for (std::vector<double> *kv_row : {&k[t], &v[t]})
                    for (double &e : *kv_row)
                        e = kv == KvRounding::BF16 ? round_to_significant_bits(e, 8, -133) : round_to_significant_bits(e, 11, -24);
        }
        for (int64_t t = 0; t < T; t++) {
            std::vector<double> attn(nh * hd, 0.0);
            for (int64_t h = 0; h < nh; h++) {
                const int64_t g = h / group;
                auto head = attend(&q[t][h * hd], hd, t + 1, [&](int64_t j) { return &k[j][g * hd]; },
                                   [&](int64_t j) { return &v[j][g * hd]; });
                std::copy(head.begin(), head.end(), attn.begin() + h * hd);
            }
            auto o = matvec(get(p + "self_attn.o_proj.weight"), attn, H);
            for (int64_t i = 0; i < H; i++) x[t][i] += o[i];
            auto n = rms_norm(x[t], get(p + "post_attention_layernorm.weight"), eps);
            auto gate = matvec(get(p + "mlp.gate_proj.weight"), n, I);
            auto up = matvec(get(p + "mlp.up_proj.weight"), n, I);
            std::vector<double> act(I);
            for (int64_t i = 0; i < I; i++) act[i] = silu(gate[i]) * up[i];
            auto down = matvec(get(p + "mlp.down_proj.weight"), act, H);
            for (int64_t i = 0; i < H; i++) x[t][i] += down[i];
        }
    }
    const Tensor &head = tied ? emb : get("lm_head.weight");
    std::vector<double> logits;
    for (int64_t t = 0; t < T; t++) {
        auto y = matvec(head, rms_norm(x[t], get("model.norm.weight"), eps), V);
        logits.insert(logits.end(), y.begin(), y.end());
    }
    if (vocab_out) *vocab_out = V;
    return logits;
}

}  // namespace qwen2_reference
