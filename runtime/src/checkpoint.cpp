#include "checkpoint.h"

#include <cstring>
#include <filesystem>

#include "json_input.h"

namespace qwenc {

namespace fs = std::filesystem;

Checkpoint::Checkpoint(const std::string &dir) : dir_(dir) {
    const std::string index_path = dir + "/model.safetensors.index.json";
    const std::string single_path = dir + "/model.safetensors";
    // Both: one is left over from an earlier checkpoint, and nothing says which.
    if (fs::exists(index_path) && fs::exists(single_path))
        throw InputError(dir + ": holds both model.safetensors and model.safetensors.index.json; one of them is stale "
                               "(remove the one that does not belong to config.json)");
    if (fs::exists(index_path)) {
        nlohmann::json index = read_json_file(index_path);
        if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
            throw InputError(index_path + ": no \"weight_map\" object");
        for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
            if (!it.value().is_string()) throw InputError(index_path + ": weight_map entry '" + it.key() + "' is not a file name");
            const std::string file = it.value().get<std::string>();
            if (file.find('/') != std::string::npos || file == ".." || file.empty())
                throw InputError(index_path + ": weight_map entry '" + it.key() + "' names a file outside the directory");
            where_[it.key()] = dir + "/" + file;
        }
    } else if (fs::exists(single_path)) {
        for (const auto &[name, view] : open(single_path).tensors()) where_[name] = single_path;
    } else {
        throw InputError(dir + ": no model.safetensors or model.safetensors.index.json");
    }
}

const SafetensorsFile &Checkpoint::open(const std::string &path) const {
    auto it = files_.find(path);
    if (it == files_.end()) it = files_.emplace(path, std::make_unique<SafetensorsFile>(path)).first;
    return *it->second;
}

const TensorView &Checkpoint::tensor(const std::string &name, const std::string &wanted_by) const {
    auto w = where_.find(name);
    if (w == where_.end()) throw InputError(dir_ + ": missing tensor '" + name + "' (" + wanted_by + " expects it)");
    const SafetensorsFile &f = open(w->second);
    auto t = f.tensors().find(name);
    if (t == f.tensors().end())
        throw InputError(w->second + ": missing tensor '" + name + "' (the index says it is in this file)");
    return t->second;
}

size_t Checkpoint::mapped_bytes() const {
    size_t n = 0;
    for (const auto &[path, f] : files_) n += f->file().size();
    return n;
}

void Checkpoint::check_files() const {
    for (const auto &[path, f] : files_) f->file().check();
}

float tensor_element(const TensorView &t, size_t i) {
    switch (t.dtype) {
    case DType::F32: {
        float f;
        std::memcpy(&f, t.data + 4 * i, 4);
        return f;
    }
    case DType::BF16:
    case DType::F16: {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * i, 2);
        return t.dtype == DType::BF16 ? bf16_to_float(h) : f16_to_float(h);
    }
    case DType::I8: return float(int8_t(t.data[i]));
    case DType::I32: {
        int32_t v;
        std::memcpy(&v, t.data + 4 * i, 4);
        return float(v);
    }
    }
    return 0.0f;
}

}  // namespace qwenc
