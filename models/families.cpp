#include "families.h"

namespace qwenc {

// One line per family; each is defined in models/<family>/family.cpp.
extern const ModelFamily kQwen2Family;
extern const ModelFamily kQwen3Family;

const std::vector<const ModelFamily *> &model_families() {
    static const std::vector<const ModelFamily *> all{&kQwen2Family, &kQwen3Family};
    return all;
}

const ModelFamily *find_model_family(const std::string &model_type) {
    for (const ModelFamily *f : model_families())
        if (model_type == f->model_type) return f;
    return nullptr;
}

bool config_bool(const nlohmann::json &j, const std::string &source, const char *field, bool fallback) {
    if (!j.contains(field) || j.at(field).is_null()) return fallback;
    if (!j.at(field).is_boolean()) throw InputError(source + ": field '" + field + "' must be a boolean");
    return j.at(field).get<bool>();
}

}  // namespace qwenc
