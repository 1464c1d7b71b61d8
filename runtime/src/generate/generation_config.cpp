#include "generation_config.h"

#include <algorithm>
#include <climits>
#include <filesystem>

#include "qwen2/config.h"

namespace qwenc {

namespace {
void add_eos_ids(const nlohmann::json &j, const std::string &source, std::vector<int32_t> &out) {
    for (int64_t id : parse_token_ids(j, source, "eos_token_id")) {
        if (id > INT32_MAX) throw InputError(source + ": eos_token_id " + std::to_string(id) + " is too large");
        out.push_back(int32_t(id));
    }
}
}  // namespace

GenerationDefaults read_generation_defaults(const std::string &dir) {
    GenerationDefaults d;
    d.sampling.do_sample = false;
    const std::string cfg = dir + "/config.json", gen = dir + "/generation_config.json";
    if (std::filesystem::exists(cfg)) {
        const auto j = read_json_file(cfg);
        if (j.is_object()) add_eos_ids(j, cfg, d.eos_ids);
    }
    if (std::filesystem::exists(gen)) {
        const auto j = read_json_file(gen);
        if (!j.is_object()) throw InputError(gen + ": expected a JSON object");
        auto number = [&](const char *field, auto &dst) {
            if (!j.contains(field) || j[field].is_null()) return;
            if (!j[field].is_number()) throw InputError(gen + ": field '" + field + "' must be a number");
            dst = j[field].get<std::decay_t<decltype(dst)>>();
        };
        if (j.contains("do_sample") && j["do_sample"].is_boolean()) d.sampling.do_sample = j["do_sample"].get<bool>();
        number("temperature", d.sampling.temperature);
        number("top_k", d.sampling.top_k);
        number("top_p", d.sampling.top_p);
        number("min_p", d.sampling.min_p);
        number("repetition_penalty", d.sampling.repetition_penalty);
        add_eos_ids(j, gen, d.eos_ids);
    }
    std::sort(d.eos_ids.begin(), d.eos_ids.end());
    d.eos_ids.erase(std::unique(d.eos_ids.begin(), d.eos_ids.end()), d.eos_ids.end());
    return d;
}

}  // namespace qwenc
