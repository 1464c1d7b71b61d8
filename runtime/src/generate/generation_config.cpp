#include "generation_config.h"

#include <algorithm>
#include <filesystem>

#include "qwen2/config.h"

namespace qwenc {

namespace {
void add_ids(const nlohmann::json &v, std::vector<int32_t> &out) {
    if (v.is_number_integer()) out.push_back(v.get<int32_t>());
    else if (v.is_array())
        for (const auto &x : v)
            if (x.is_number_integer()) out.push_back(x.get<int32_t>());
}
}  // namespace

GenerationDefaults read_generation_defaults(const std::string &dir) {
    GenerationDefaults d;
    d.sampling.do_sample = false;
    const std::string cfg = dir + "/config.json", gen = dir + "/generation_config.json";
    if (std::filesystem::exists(cfg)) {
        const auto j = read_json_file(cfg);
        if (j.is_object() && j.contains("eos_token_id")) add_ids(j["eos_token_id"], d.eos_ids);
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
        if (j.contains("eos_token_id")) add_ids(j["eos_token_id"], d.eos_ids);
    }
    std::sort(d.eos_ids.begin(), d.eos_ids.end());
    d.eos_ids.erase(std::unique(d.eos_ids.begin(), d.eos_ids.end()), d.eos_ids.end());
    return d;
}

}  // namespace qwenc
