#include "generate/generation_config.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <filesystem>

#include "json_input.h"

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
        // Numbers here; their ranges are the sampler's (check_sampling_params,
        // as for qwenrun's flags and the C API), checked below.
        auto number = [&](const char *field, float &dst) {
            if (!j.contains(field) || j[field].is_null()) return;
            if (!j[field].is_number()) throw InputError(gen + ": field '" + field + "' must be a number");
            const float x = float(j[field].get<double>());
            if (!std::isfinite(x))
                throw InputError(gen + ": field '" + field + "' = " + json_excerpt(j[field]) + " is beyond a float's range");
            dst = x;
        };
        if (j.contains("do_sample") && j["do_sample"].is_boolean()) d.sampling.do_sample = j["do_sample"].get<bool>();
        number("temperature", d.sampling.temperature);
        number("top_p", d.sampling.top_p);
        number("min_p", d.sampling.min_p);
        number("repetition_penalty", d.sampling.repetition_penalty);
        if (j.contains("top_k") && !j["top_k"].is_null()) {
            const auto &k = j["top_k"];
            if (!json_int_in(k, 0, INT32_MAX))
                throw InputError(gen + ": field 'top_k' = " + json_excerpt(k) + " must be an integer from 0 (off) to " + std::to_string(INT32_MAX));
            d.sampling.top_k = k.get<int64_t>();
        }
        try {
            check_sampling_params(d.sampling, [](const std::string &field) { return "field '" + field + "'"; });
        } catch (const std::invalid_argument &e) {
            throw InputError(gen + ": " + e.what());
        }
        add_eos_ids(j, gen, d.eos_ids);
    }
    std::sort(d.eos_ids.begin(), d.eos_ids.end());
    d.eos_ids.erase(std::unique(d.eos_ids.begin(), d.eos_ids.end()), d.eos_ids.end());
    return d;
}

}  // namespace qwenc
