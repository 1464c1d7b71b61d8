#include "weight_store.h"

#include <filesystem>
#include <set>

namespace qwenc {

namespace fs = std::filesystem;

namespace {

std::string shape_str(const std::vector<int64_t> &s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); i++) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

std::vector<float> widen(const TensorView &t) {
    const size_t n = t.nbytes / dtype_size(t.dtype);
    std::vector<float> out(n);
    for (size_t i = 0; i < n; i++) {
        if (t.dtype == DType::F32) {
            std::memcpy(&out[i], t.data + 4 * i, 4);
        } else {
            uint16_t h;
            std::memcpy(&h, t.data + 2 * i, 2);
            out[i] = t.dtype == DType::BF16 ? bf16_to_float(h) : f16_to_float(h);
        }
    }
    return out;
}

}  // namespace

WeightStore::WeightStore(const std::string &dir, const Manifest &m, const std::string &object_path) {
    // Which file holds each tensor.
    std::map<std::string, std::string> where;
    const std::string index_path = dir + "/model.safetensors.index.json";
    const std::string single_path = dir + "/model.safetensors";
    if (fs::exists(index_path)) {
        nlohmann::json index = read_json_file(index_path);
        if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
            throw InputError(index_path + ": no \"weight_map\" object");
        for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
            if (!it.value().is_string()) throw InputError(index_path + ": weight_map entry '" + it.key() + "' is not a file name");
            const std::string file = it.value().get<std::string>();
            if (file.find('/') != std::string::npos || file == ".." || file.empty())
                throw InputError(index_path + ": weight_map entry '" + it.key() + "' names a file outside the directory");
            where[it.key()] = dir + "/" + file;
        }
    } else if (fs::exists(single_path)) {
        // Filled in from the file's own header below.
    } else {
        throw InputError(dir + ": no model.safetensors or model.safetensors.index.json");
    }

    std::map<std::string, const SafetensorsFile *> opened;
    auto open = [&](const std::string &path) -> const SafetensorsFile & {
        auto it = opened.find(path);
        if (it != opened.end()) return *it->second;
        files_.push_back(std::make_unique<SafetensorsFile>(path));
        opened[path] = files_.back().get();
        return *files_.back();
    };
    if (where.empty()) {
        const SafetensorsFile &f = open(single_path);
        for (const auto &[name, view] : f.tensors()) where[name] = single_path;
    }

    for (const TensorSpec &spec : m.tensors) {
        auto w = where.find(spec.name);
        if (w == where.end())
            throw InputError(dir + ": missing tensor '" + spec.name + "' (" + object_path + " expects it)");
        const SafetensorsFile &f = open(w->second);
        auto t = f.tensors().find(spec.name);
        if (t == f.tensors().end())
            throw InputError(w->second + ": missing tensor '" + spec.name + "' (the index says it is in this file)");
        const TensorView &v = t->second;
        if (v.shape != spec.shape)
            throw InputError(w->second + ": tensor '" + spec.name + "' has shape " + shape_str(v.shape) + ", " +
                             object_path + " expects " + shape_str(spec.shape));
        if (spec.kind == TensorKind::Matrix) {
            if (v.dtype != m.weight_dtype)
                throw InputError(w->second + ": tensor '" + spec.name + "' is " + dtype_name(v.dtype) + ", " + object_path +
                                 " was compiled for " + dtype_name(m.weight_dtype) + " weights (recompile with --weight-dtype " +
                                 dtype_flag_name(v.dtype) + ")");
            matrices_[spec.name] = v;
        } else {
            if (v.dtype == DType::I32)
                throw InputError(w->second + ": tensor '" + spec.name + "' is I32, expected a float dtype");
            vectors_[spec.name] = widen(v);
        }
    }
}

const TensorView &WeightStore::matrix(const std::string &name) const { return matrices_.at(name); }
const std::vector<float> &WeightStore::vector(const std::string &name) const { return vectors_.at(name); }

size_t WeightStore::mapped_bytes() const {
    size_t n = 0;
    for (const auto &f : files_) n += f->file().size();
    return n;
}

}  // namespace qwenc
