#include "manifest.h"

namespace qwenc {

using nlohmann::json;

const char *stage_name(Stage s) {
    switch (s) {
    case Stage::Embed: return "embed";
    case Stage::QkvPrefill: return "qkv_prefill";
    case Stage::QkvDecode: return "qkv_decode";
    case Stage::AttnMlpPrefill: return "attn_mlp_prefill";
    case Stage::AttnMlpDecode: return "attn_mlp_decode";
    case Stage::HeadPrefill: return "head_prefill";
    case Stage::HeadDecode: return "head_decode";
    case Stage::AttnPrefill: return "attn_prefill";
    case Stage::AttnDecode: return "attn_decode";
    case Stage::OutMlp: return "out_mlp";
    case Stage::QkvBatch: return "qkv_batch";
    case Stage::HeadBatch: return "head_batch";
    }
    return "?";
}

Stage graph_stage(Stage s) {
    if (s == Stage::QkvBatch) return Stage::QkvPrefill;
    if (s == Stage::HeadBatch) return Stage::HeadPrefill;
    return s;
}

bool is_batch_stage(Stage s) { return s == Stage::QkvBatch || s == Stage::OutMlp || s == Stage::HeadBatch; }

MatMath Manifest::math(Stage s) const {
    switch (s) {
    case Stage::QkvPrefill:
    case Stage::AttnMlpPrefill:
    case Stage::AttnPrefill:  // a prompt chunk's attention, as attn_mlp_prefill's
    case Stage::HeadPrefill: return prefill_math;
    case Stage::QkvBatch:
    case Stage::OutMlp:
    case Stage::HeadBatch: return batch_math;
    case Stage::QkvDecode:
    case Stage::AttnMlpDecode:
    case Stage::HeadDecode: return decode_math;
    case Stage::Embed: break;  // a gather: packed storage, no products
    case Stage::AttnDecode: break;  // no matrices; scores in f32
    }
    return MatMath::F32;
}

std::set<std::string> Manifest::entry_symbols() const {
    std::set<std::string> s;
    for (const auto &[stage, fn] : entry_points) s.insert(fn);
    return s;
}

json Manifest::to_json() const {
    json t = json::array();
    for (const TensorSpec &s : tensors)
        t.push_back({{"name", s.name},
                     {"shape", s.shape},
                     {"dtype", s.kind == TensorKind::Matrix   ? dtype_flag_name(weight_dtype)
                               : s.kind == TensorKind::Vector ? "float"
                                                              : dtype_flag_name(s.dtype)}});
    return json{{"format", kManifestFormat},
                {"abi_version", abi_version},
                {"qwenc_version", qwenc_version},
                {"target", target},
                {"arch", arch},
                {"cpu_features", cpu_features},
                {"config", config.canonical_json()},
                {"config_fingerprint", config_fingerprint},
                {"weight_dtype", dtype_flag_name(weight_dtype)},
                {"kv_cache", {{"dtype", dtype_flag_name(kv_cache_dtype)}, {"layout", "[layer][k|v][kv_head][position][head_dim]"}}},
                {"prefill_max_tokens", prefill_max_tokens},
                {"prefill_math", mat_math_name(prefill_math)},
                {"decode_math", mat_math_name(decode_math)},
                {"batch_math", mat_math_name(batch_math)},
                {"entry_points", entry_points},
                {"tensors", t}};
}

bool is_kv_cache_dtype(DType t) {
    for (DType k : kKvCacheDTypes)
        if (t == k) return true;
    return false;
}

std::optional<DType> kv_cache_dtype_from_name(const std::string &name) {
    const auto t = dtype_from_flag(name);
    if (!t || !is_kv_cache_dtype(*t)) return std::nullopt;
    return t;
}

Manifest Manifest::from_json(const json &j, const std::string &source) {
    auto bad = [&](const std::string &msg) -> InputError { return InputError(source + ": bad manifest: " + msg); };
    if (!j.is_object() || j.value("format", "") != kManifestFormat) throw bad("not a qwenc model object");
    Manifest m;
    try {
        m.abi_version = j.at("abi_version").get<int>();
        if (m.abi_version != kManifestAbiVersion)
            throw InputError(source + ": compiled for runtime ABI " + std::to_string(m.abi_version) +
                             ", this runtime speaks ABI " + std::to_string(kManifestAbiVersion) + "; recompile it with this qwenc");
        m.qwenc_version = j.at("qwenc_version").get<std::string>();
        m.target = j.at("target").get<std::string>();
        m.arch = j.at("arch").get<std::string>();
        m.cpu_features = j.at("cpu_features").get<std::vector<std::string>>();
        m.config = parse_model_config(j.at("config"), source + " (embedded config)");
        m.config_fingerprint = j.at("config_fingerprint").get<std::string>();
        if (m.config_fingerprint != m.config.fingerprint()) throw bad("config fingerprint does not match its config");
        auto wd = dtype_from_flag(j.at("weight_dtype").get<std::string>());
        if (!wd) throw bad("unknown weight_dtype");
        m.weight_dtype = *wd;
        const std::string kv = j.at("kv_cache").at("dtype").get<std::string>();
        const auto kvd = kv_cache_dtype_from_name(kv);
        if (!kvd) throw bad("kv_cache dtype '" + kv + "' is not " + kKvCacheDTypeList);
        m.kv_cache_dtype = *kvd;
        m.prefill_max_tokens = j.at("prefill_max_tokens").get<int64_t>();
        if (m.prefill_max_tokens < 1) throw bad("prefill_max_tokens must be positive");
        for (auto [key, field] : {std::pair{"prefill_math", &m.prefill_math}, std::pair{"decode_math", &m.decode_math},
                                  std::pair{"batch_math", &m.batch_math}}) {
            const std::string name = j.at(key).get<std::string>();
            auto math = mat_math_from_name(name);
            if (!math) throw bad(std::string("unknown ") + key + " '" + name + "'");
            const auto needs = mat_math_weight_dtype(*math);
            if (m.config.quant4.active()) {
                if (!quant4_math_allowed(m.config.quant4, *math, field == &m.decode_math))
                    throw bad(std::string(key) + " '" + name + "' does not go with " + quant4_describe(m.config.quant4));
            } else if (needs && *needs != m.weight_dtype) throw bad(std::string(key) + " '" + name + "' does not go with " + dtype_flag_name(m.weight_dtype) + " weights");
            if (mat_math_decode_only(*math) && field == &m.prefill_math) throw bad(std::string(key) + " '" + name + "' is a decode math");
            *field = *math;
        }
        m.entry_points = j.at("entry_points").get<std::map<std::string, std::string>>();
        for (Stage s : kAllStages)
            if (!m.entry_points.count(stage_name(s))) throw bad(std::string("no entry point for stage ") + stage_name(s));
    } catch (const json::exception &e) {
        throw bad(e.what());
    }
    // The tensor list is re-derived from the config so that the two cannot disagree.
    m.tensors = model_tensor_specs(m.config, m.weight_dtype);
    return m;
}

}  // namespace qwenc
