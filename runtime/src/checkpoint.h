// The tensors of a Hugging Face model directory: model.safetensors, or the
// shards listed by model.safetensors.index.json, each file mmapped and its
// header validated. Used by the weight store and by `qwenc quantize`.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "safetensors.h"

namespace qwenc {

class Checkpoint {
public:
    // Throws InputError naming the file at fault.
    explicit Checkpoint(const std::string &dir);
    // Throws InputError naming the file (or directory) and `wanted_by`.
    const TensorView &tensor(const std::string &name, const std::string &wanted_by) const;
    bool has(const std::string &name) const { return where_.count(name) > 0; }
    const std::string &dir() const { return dir_; }
    size_t mapped_bytes() const;
    // Throws InputError naming a file that was truncated while mapped (MappedFile::check).
    void check_files() const;

private:
    const SafetensorsFile &open(const std::string &path) const;
    std::string dir_;
    std::map<std::string, std::string> where_;  // tensor -> file path
    mutable std::map<std::string, std::unique_ptr<SafetensorsFile>> files_;
};

// Element i of a float or int8 tensor, as float.
float tensor_element(const TensorView &t, size_t i);

}  // namespace qwenc
