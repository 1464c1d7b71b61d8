#include "schedule_file.h"

#include <cstdint>
#include <stdexcept>

#include "json_input.h"

namespace qwenc {

namespace {
constexpr int kFormatVersion = 1;

// One row per settable field: its name, range and member.
struct FieldRef {
    TileField field;
    int CpuTiles::*member;  // nullptr: decode_halves, the one bool
};
const std::vector<FieldRef> &field_refs() {
    static const std::vector<FieldRef> refs = {
        {{"rows", 1, 16}, &CpuTiles::rows},
        {{"tokens", 1, 16}, &CpuTiles::tokens},
        {{"int8_tokens", 1, 16}, &CpuTiles::int8_tokens},
        {{"int16_tokens", 0, 16}, &CpuTiles::int16_tokens},
        {{"decode_rows", 1, 16}, &CpuTiles::decode_rows},
        {{"decode_vectors", 1, 8}, &CpuTiles::decode_vectors},
        {{"long_row_inputs", 64, 1 << 20}, &CpuTiles::long_row_inputs},
        {{"long_rows", 1, 16}, &CpuTiles::long_rows},
        {{"long_row_vectors", 1, 8}, &CpuTiles::long_row_vectors},
        {{"dot_decode_vectors", 1, 32}, &CpuTiles::dot_decode_vectors},
        {{"int_dot_decode_vectors", 1, 8}, &CpuTiles::int_dot_decode_vectors},
        {{"dot_rows", 1, 16}, &CpuTiles::dot_rows},
        {{"dot_token_vectors", 1, 4}, &CpuTiles::dot_token_vectors},
        {{"batch_rows", 1, 16}, &CpuTiles::batch_rows},
        {{"batch_tokens", 1, 16}, &CpuTiles::batch_tokens},
        {{"batch_prefetch", 0, 256}, &CpuTiles::batch_prefetch},
        {{"batch_chunk", 0, 1 << 20}, &CpuTiles::batch_chunk},
        {{"int_batch_rows", 1, 16}, &CpuTiles::int_batch_rows},
        {{"int_batch_tokens", 1, 16}, &CpuTiles::int_batch_tokens},
        {{"dot_task_rows", 16, 1 << 16}, &CpuTiles::dot_task_rows},
        {{"dot_task_rows_long", 16, 1 << 16}, &CpuTiles::dot_task_rows_long},
        {{"parallel_rows", 4, 1 << 16}, &CpuTiles::parallel_rows},
        {{"attention_accumulators", 1, 64}, &CpuTiles::attention_accumulators},
        {{"attention_decode_keys", 8, 1 << 20}, &CpuTiles::attention_decode_keys},
        {{"attention_key_tile", 1, 1 << 20}, &CpuTiles::attention_key_tile},
        {{"quant4_decode_vectors", 1, 8}, &CpuTiles::quant4_decode_vectors},
        {{"quant4_vectors", 1, 8}, &CpuTiles::quant4_vectors},
        {{"quant4_tokens", 1, 16}, &CpuTiles::quant4_tokens},
        {{"quant4_tasks", 1, 256}, &CpuTiles::quant4_tasks},
        {{"quant4_rows", 1, 16}, &CpuTiles::quant4_rows},
        {{"quant4_chunk", 8, 1 << 20}, &CpuTiles::quant4_chunk},
        {{"quant4_awq_columns", 16, 1024}, &CpuTiles::quant4_awq_columns},
        {{"quant4_awq_chunk", 8, 1 << 20}, &CpuTiles::quant4_awq_chunk},
        {{"decode_halves", 0, 1}, nullptr},
    };
    return refs;
}

const FieldRef &field_ref(const std::string &name) {
    for (const FieldRef &r : field_refs())
        if (name == r.field.name) return r;
    throw std::invalid_argument("unknown tile '" + name + "'");
}
}  // namespace

const std::vector<TileField> &tile_fields() {
    static const std::vector<TileField> fields = [] {
        std::vector<TileField> v;
        for (const FieldRef &r : field_refs()) v.push_back(r.field);
        return v;
    }();
    return fields;
}

int get_tile(const CpuTiles &t, const std::string &name) {
    const FieldRef &r = field_ref(name);
    return r.member ? t.*r.member : int(t.decode_halves);
}

void set_tile(CpuTiles &t, const std::string &name, int value) {
    const FieldRef &r = field_ref(name);
    if (value < r.field.lo || value > r.field.hi)
        throw std::invalid_argument("tile '" + name + "' must be in [" + std::to_string(r.field.lo) + ", " +
                                    std::to_string(r.field.hi) + "] (got " + std::to_string(value) + ")");
    if (r.member) t.*r.member = value;
    else t.decode_halves = value != 0;
}

CpuTiles with_tiles(CpuTiles t, const std::map<std::string, int> &set) {
    for (const auto &[name, value] : set) set_tile(t, name, value);
    return t;
}

ScheduleFile read_schedule_file(const std::string &path) {
    const nlohmann::json j = read_json_file(path);
    if (!j.is_object() || !j.contains("qwenc_schedule"))
        throw InputError(path + ": not a qwenc schedule file (no \"qwenc_schedule\" key)");
    if (j["qwenc_schedule"] != kFormatVersion)
        throw InputError(path + ": schedule file format " + json_excerpt(j["qwenc_schedule"]) + " is not supported (this qwenc reads " +
                         std::to_string(kFormatVersion) + ")");
    if (!j.contains("schedule") || !j["schedule"].is_string())
        throw InputError(path + ": \"schedule\" must name the schedule family, e.g. \"x86-avx512\"");
    if (!j.contains("tiles") || !j["tiles"].is_object()) throw InputError(path + ": \"tiles\" must be an object");
    ScheduleFile f{path, j["schedule"].get<std::string>(), {}};
    CpuTiles check;
    for (const auto &[name, value] : j["tiles"].items()) {
        if (!value.is_number_integer() && !value.is_boolean())
            throw InputError(path + ": tile '" + name + "' must be an integer (got " + json_excerpt(value) + ")");
        // Checked before narrowing: get<int>() of 2^62 is 0, in range.
        if (value.is_number_integer() && !json_int_in(value, INT32_MIN, INT32_MAX)) throw InputError(path + ": tile '" + name + "' = " + json_excerpt(value) + " is out of range");
        const int v = value.is_boolean() ? int(value.get<bool>()) : value.get<int>();
        try {
            set_tile(check, name, v);
        } catch (const std::invalid_argument &e) {
            throw InputError(path + ": " + e.what());
        }
        f.tiles[name] = v;
    }
    return f;
}

nlohmann::json schedule_file_json(const std::string &schedule, const std::map<std::string, int> &tiles) {
    nlohmann::json j = {{"qwenc_schedule", kFormatVersion}, {"schedule", schedule}, {"tiles", nlohmann::json::object()}};
    for (const auto &[name, value] : tiles) j["tiles"][name] = value;
    return j;
}

}  // namespace qwenc
