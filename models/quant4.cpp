#include "quant4.h"

#include "json_input.h"

namespace qwenc {

using nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string &source, const std::string &msg) {
    throw InputError(source + ": quantization_config: " + msg);
}

const json *field(const json &q, const char *name) { return q.contains(name) && !q.at(name).is_null() ? &q.at(name) : nullptr; }

bool get_bool(const json &q, const std::string &source, const char *name, bool fallback) {
    const json *v = field(q, name);
    if (!v) return fallback;
    if (!v->is_boolean()) fail(source, std::string("field '") + name + "' must be a boolean, got " + json_excerpt(*v));
    return v->get<bool>();
}

std::string replace_suffix(const std::string &weight_name, const char *suffix) {
    const std::string w = "weight";
    const size_t at = weight_name.size() >= w.size() ? weight_name.size() - w.size() : 0;
    return weight_name.substr(0, at) + suffix;
}

}  // namespace

const char *quant4_method(const Quant4 &q) {
    if (q.whole_model()) return kQwencInt4Method;
    switch (q.format) {
    case Quant4Format::Gptq: return "gptq";
    case Quant4Format::Awq: return "awq";
    case Quant4Format::Rows:
    case Quant4Format::None: break;
    }
    return "none";
}

Quant4 parse_quant4(const json &q, const std::string &source) {
    Quant4 r;
    const std::string method = q.at("quant_method").get<std::string>();
    r.format = method == kQwencInt4Method ? Quant4Format::Rows
               : method == "gptq" ? Quant4Format::Gptq
               : method == "awq"  ? Quant4Format::Awq
                                  : Quant4Format::None;
    if (!r.active()) fail(source, "quant_method '" + method + "' is not a 4-bit format");
    const json *bits = field(q, "bits");
    if (!bits || !bits->is_number_integer() || bits->get<int64_t>() != 4)
        fail(source, "field 'bits' = " + (bits ? json_excerpt(*bits) : std::string("(missing)")) + ": qwenc reads 4-bit " + method +
                         " checkpoints only");
    const json *group = field(q, "group_size");
    if (!group || !group->is_number_integer() || !json_int_in(*group, -1, 1 << 20) || group->get<int64_t>() == 0 ||
        (r.format != Quant4Format::Gptq && group->get<int64_t>() < 0))
        fail(source, "field 'group_size' = " + (group ? json_excerpt(*group) : std::string("(missing)")) +
                         " must be a positive integer" + (r.format == Quant4Format::Gptq ? " or -1" : ""));
    r.group_size = group->get<int64_t>();
    if (r.group_size > 0 && r.group_size % kQuant4Pack != 0)
        fail(source, "field 'group_size' = " + std::to_string(r.group_size) + " must be a multiple of 8");
    if (r.whole_model()) {
        const json *layout = field(q, "layout");
        if (!layout || *layout != kQwencInt4Layout)
            fail(source, "field 'layout' = " + (layout ? json_excerpt(*layout) : std::string("(missing)")) +
                             ": an earlier qwenc's int4 (GPTQ's layout); quantize the model again with `qwenc quantize --bits 4`");
        r.sym = true;
        r.zero_offset = 0;
    } else if (r.format == Quant4Format::Gptq) {
        if (get_bool(q, source, "desc_act", false))
            fail(source, "field 'desc_act' = true (act-order checkpoints permute each layer's inputs; qwenc reads desc_act false)");
        r.sym = get_bool(q, source, "sym", true);
        // AutoGPTQ and vLLM: "checkpoint_format" (older: "is_marlin_format"
        // false) "gptq" stores zeros minus one; "gptq_v2" stores them as they are.
        std::string format = "gptq";
        if (const json *f = field(q, "checkpoint_format")) {
            if (!f->is_string()) fail(source, "field 'checkpoint_format' must be a string, got " + json_excerpt(*f));
            format = f->get<std::string>();
        }
        if (format == "gptq") r.zero_offset = 1;
        else if (format == "gptq_v2") r.zero_offset = 0;
        else fail(source, "field 'checkpoint_format' = \"" + format + "\" (qwenc reads \"gptq\" and \"gptq_v2\")");
    } else {
        const json *version = field(q, "version");
        const std::string v = version && version->is_string() ? version->get<std::string>() : "gemm";
        if (v != "gemm" && v != "GEMM")
            fail(source, "field 'version' = " + (version ? json_excerpt(*version) : std::string("(missing)")) +
                             " (qwenc reads AutoAWQ's \"gemm\" packing)");
        if (!get_bool(q, source, "zero_point", true)) fail(source, "field 'zero_point' = false (qwenc reads AWQ with zero points)");
        r.zero_offset = 0;
    }
    return r;
}

std::string quant4_describe(const Quant4 &q) {
    if (!q.active()) return "layers without 4-bit quantization";
    std::string s = std::string("4-bit ") + quant4_method(q) + (q.whole_model() ? " matrices" : " layers") + " (group_size " +
                    std::to_string(q.group_size);
    if (q.format == Quant4Format::Gptq && !q.whole_model()) s += q.zero_offset == 1 ? ", checkpoint_format gptq" : ", checkpoint_format gptq_v2";
    return s + ")";
}

json quant4_config_json(const Quant4 &q) {
    json j{{"quant_method", quant4_method(q)}, {"bits", 4}, {"group_size", q.group_size}};
    if (q.whole_model()) {
        j["layout"] = kQwencInt4Layout;
    } else if (q.format == Quant4Format::Gptq) {
        j["desc_act"] = false;
        j["sym"] = q.sym;
        j["checkpoint_format"] = q.zero_offset == 1 ? "gptq" : "gptq_v2";
    } else {
        j["version"] = "gemm";
        j["zero_point"] = true;
    }
    return j;
}

bool quant4_int8_dot(const Quant4 &q, MatMath m) {
    return q.active() && m == MatMath::Int8Dot;
}

bool quant4_math_allowed(const Quant4 &q, MatMath m, bool decode) {
    return m == MatMath::F32 || (quant4_int8_dot(q, m) && (decode || q.format == Quant4Format::Rows));
}

MatMath quant4_dense_math(const Quant4 &q, MatMath m) { return q.active() && m == MatMath::Int8Dot ? MatMath::F32 : m; }

std::string quant4_qweight_name(const std::string &w) { return replace_suffix(w, "qweight"); }
std::string quant4_qzeros_name(const std::string &w) { return replace_suffix(w, "qzeros"); }
std::string quant4_scales_name(const std::string &w) { return replace_suffix(w, "scales"); }
std::string quant4_g_idx_name(const std::string &w) { return replace_suffix(w, "g_idx"); }

Quant4Shapes quant4_shapes(const Quant4 &q, int64_t in, int64_t out) {
    const int64_t groups = in / q.group(in);
    Quant4Shapes s;
    s.qzeros = {groups, out / kQuant4Pack};
    s.scales = {groups, out};
    if (q.format == Quant4Format::Gptq) {
        s.qweight = {in / kQuant4Pack, out};
        s.g_idx = {in};
    } else if (q.format == Quant4Format::Rows) {
        s.qweight = {out, in / kQuant4Pack};
        s.qzeros = {};
        s.scales = {out, groups};
    } else {
        s.qweight = {in, out / kQuant4Pack};
    }
    return s;
}

}  // namespace qwenc
