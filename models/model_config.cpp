#include "model_config.h"

#include "families.h"

#include <cmath>
#include <cstdint>
#include <cstdio>

namespace qwenc {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string &source, const std::string &msg) {
    throw InputError(source + ": " + msg);
}

// Limits that keep a hostile config from asking for absurd allocations; all
// far above any published Qwen2 model.
constexpr int64_t kMaxDim = 1 << 17;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxVocab = 1 << 22;
constexpr int64_t kMaxPositions = 1 << 24;

int64_t get_int(const json &j, const std::string &source, const char *field, int64_t lo, int64_t hi) {
    if (!j.contains(field)) fail(source, std::string("missing required field '") + field + "'");
    const json &v = j.at(field);
    if (!v.is_number_integer())
        fail(source, std::string("field '") + field + "' must be an integer, got " + json_excerpt(v));
    if (!json_int_in(v, lo, hi))
        fail(source, std::string("field '") + field + "' = " + json_excerpt(v) + " is out of range [" + std::to_string(lo) + ", " +
                         std::to_string(hi) + "]");
    return v.get<int64_t>();
}

double get_positive_number(const json &j, const std::string &source, const char *field) {
    if (!j.contains(field)) fail(source, std::string("missing required field '") + field + "'");
    const json &v = j.at(field);
    if (!v.is_number()) fail(source, std::string("field '") + field + "' must be a number, got " + json_excerpt(v));
    double x = v.get<double>();
    if (!(x > 0) || !std::isfinite(x))
        fail(source, std::string("field '") + field + "' must be a positive finite number, got " + json_excerpt(v));
    return x;
}

// The family config.json names, by model_type, checked against its
// architectures when given.
const ModelFamily &family_of(const json &j, const std::string &source) {
    std::string supported;
    for (const ModelFamily *f : model_families()) supported += std::string(supported.empty() ? "" : ", ") + "\"" + f->model_type + "\"";
    if (!j.contains("model_type")) fail(source, "missing required field 'model_type' (supported: " + supported + ")");
    const json &type = j.at("model_type");
    const ModelFamily *family = type.is_string() ? find_model_family(type.get<std::string>()) : nullptr;
    if (!family) fail(source, "unsupported model_type " + json_excerpt(type) + " (supported: " + supported + ")");
    if (j.contains("architectures")) {
        const json &a = j.at("architectures");
        bool ok = false;
        if (a.is_array())
            for (const json &e : a) ok = ok || (e.is_string() && e.get<std::string>() == family->architecture);
        if (!ok)
            fail(source, "unsupported architectures " + json_excerpt(a) + " (model_type \"" + family->model_type + "\" is " +
                             family->architecture + ")");
    }
    return *family;
}

}  // namespace

ModelConfig parse_model_config(const json &j, const std::string &source) {
    if (!j.is_object()) fail(source, "expected a JSON object at top level");

    const ModelFamily &family = family_of(j, source);
    if (j.contains("hidden_act")) {
        const json &a = j.at("hidden_act");
        if (!a.is_string() || a.get<std::string>() != "silu")
            fail(source, "unsupported hidden_act " + json_excerpt(a) + " (only \"silu\" is supported)");
    }
    if (j.contains("rope_scaling") && !j.at("rope_scaling").is_null())
        fail(source, "unsupported field 'rope_scaling' = " + json_excerpt(j.at("rope_scaling")) +
                         " (only plain RoPE is implemented)");
    if (j.contains("use_sliding_window")) {
        const json &s = j.at("use_sliding_window");
        if (!s.is_boolean()) fail(source, "field 'use_sliding_window' must be a boolean");
        if (s.get<bool>()) fail(source, "unsupported 'use_sliding_window': true (sliding-window attention is not implemented)");
    }

    ModelConfig c;
    c.model_type = family.model_type;
    c.hidden_size = get_int(j, source, "hidden_size", 2, kMaxDim);
    c.intermediate_size = get_int(j, source, "intermediate_size", 1, kMaxDim * 8);
    c.num_attention_heads = get_int(j, source, "num_attention_heads", 1, kMaxDim);
    c.num_key_value_heads = get_int(j, source, "num_key_value_heads", 1, kMaxDim);
    c.num_hidden_layers = get_int(j, source, "num_hidden_layers", 1, kMaxLayers);
    c.vocab_size = get_int(j, source, "vocab_size", 1, kMaxVocab);
    c.max_position_embeddings = get_int(j, source, "max_position_embeddings", 1, kMaxPositions);
    c.rms_norm_eps = get_positive_number(j, source, "rms_norm_eps");
    c.rope_theta = get_positive_number(j, source, "rope_theta");

    if (j.contains("tie_word_embeddings")) {
        if (!j.at("tie_word_embeddings").is_boolean()) fail(source, "field 'tie_word_embeddings' must be a boolean");
        c.tie_word_embeddings = j.at("tie_word_embeddings").get<bool>();
    }  // transformers' ModelConfig defaults to false
    if (j.contains("torch_dtype") && j.at("torch_dtype").is_string()) c.torch_dtype = j.at("torch_dtype").get<std::string>();
    if (j.contains("quantization_config") && !j.at("quantization_config").is_null()) {
        const json &q = j.at("quantization_config");
        const std::string method = q.is_object() && q.contains("quant_method") && q.at("quant_method").is_string()
                                       ? q.at("quant_method").get<std::string>()
                                       : json_excerpt(q);
        if (method == "gptq" || method == "awq" || method == kQwencInt4Method) c.quant4 = parse_quant4(q, source);
        else if (method != kQwencInt8Method)
            fail(source, "unsupported quantization_config (quant_method '" + method + "'); qwenc reads bf16/f16/f32 "
                         "checkpoints, 4-bit GPTQ and AWQ ones, and its own int8 format from `qwenc quantize`");
        c.quant_method = method;
    }
    c.eos_token_ids = parse_token_ids(j, source, "eos_token_id");
    auto bos = parse_token_ids(j, source, "bos_token_id");
    if (!bos.empty()) c.bos_token_id = bos[0];

    // An explicit head_dim (Qwen3 and later Qwen2 checkpoints give one) may
    // differ from hidden_size / num_attention_heads: q and o_proj then map
    // between hidden_size and heads x head_dim. Equal to the quotient it is
    // the same model, and the fingerprint does not change.
    const bool has_head_dim = j.contains("head_dim") && !j.at("head_dim").is_null();
    if (has_head_dim || family.default_head_dim > 0) {
        const int64_t hd = has_head_dim ? get_int(j, source, "head_dim", 2, kMaxDim) : family.default_head_dim;
        if (c.hidden_size % c.num_attention_heads != 0 || hd != c.hidden_size / c.num_attention_heads) c.head_dim_field = hd;
    }
    if (c.head_dim_field == 0 && c.hidden_size % c.num_attention_heads != 0)
        fail(source, "hidden_size " + std::to_string(c.hidden_size) + " is not divisible by num_attention_heads " +
                         std::to_string(c.num_attention_heads) + " (and no head_dim is given)");
    if (c.num_attention_heads % c.num_key_value_heads != 0)
        fail(source, "num_attention_heads " + std::to_string(c.num_attention_heads) +
                         " is not divisible by num_key_value_heads " + std::to_string(c.num_key_value_heads));
    if (c.head_dim() % 2 != 0)
        fail(source, "head dimension " + std::to_string(c.head_dim()) + " must be even for RoPE");
    if (c.q_dim() > kMaxDim)
        fail(source, "num_attention_heads x head_dim = " + std::to_string(c.q_dim()) + " is over the limit of " + std::to_string(kMaxDim));
    family.read_config(j, source, c);
    if (c.quant4.active()) {  // every projection's inputs split into whole groups, its outputs into whole words
        for (auto [name, in] : {std::pair{"hidden_size", c.hidden_size}, std::pair{"intermediate_size", c.intermediate_size},
                                std::pair{"num_attention_heads x head_dim", c.q_dim()}}) {
            if (in % c.quant4.group(in) != 0 || in % kQuant4Pack != 0)
                fail(source, std::string("quantization_config: group_size ") + std::to_string(c.quant4.group_size) +
                                 " does not divide " + name + " " + std::to_string(in) + " into whole groups of 8-value words");
        }
        if (c.quant4.whole_model() && c.vocab_size % kQuant4Pack != 0)
            fail(source, "qwenc-int4 needs vocab_size divisible by 8 (its lm_head is 4-bit), not " + std::to_string(c.vocab_size));
        if (c.kv_dim() % kQuant4Pack != 0)
            fail(source, "4-bit weights need num_key_value_heads x head_dim divisible by 8, not " + std::to_string(c.kv_dim()));
    }
    for (int64_t id : c.eos_token_ids)
        if (id >= c.vocab_size)
            fail(source, "eos_token_id " + std::to_string(id) + " is not below vocab_size " + std::to_string(c.vocab_size));
    return c;
}

ModelConfig load_model_config(const std::string &path) {
    return parse_model_config(read_json_file(path), path);
}

json ModelConfig::canonical_json() const {
    // An ordered_json would keep insertion order; plain json sorts keys, which
    // is just as canonical.
    json j{{"model_type", model_type},
           {"hidden_size", hidden_size},
           {"intermediate_size", intermediate_size},
           {"num_attention_heads", num_attention_heads},
           {"num_key_value_heads", num_key_value_heads},
           {"num_hidden_layers", num_hidden_layers},
           {"vocab_size", vocab_size},
           {"max_position_embeddings", max_position_embeddings},
           {"rms_norm_eps", rms_norm_eps},
           {"rope_theta", rope_theta},
           {"tie_word_embeddings", tie_word_embeddings}};
    // head_dim only where it is not hidden_size / num_attention_heads, so
    // that the fingerprints of every other config stay as they were.
    if (head_dim_field > 0) j["head_dim"] = head_dim_field;
    if (quant4.active()) j["quantization_config"] = quant4_config_json(quant4);
    const ModelFamily *family = find_model_family(model_type);
    if (!family) throw std::logic_error("no family '" + model_type + "'");
    family->write_canonical(*this, j);
    return j;
}

std::string ModelConfig::fingerprint() const {
    // FNV-1a 64 over the canonical text: stable across builds and machines.
    const std::string text = canonical_json().dump();
    uint64_t h = 1469598103934665603ull;
    for (unsigned char ch : text) {
        h ^= ch;
        h *= 1099511628211ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

}  // namespace qwenc
