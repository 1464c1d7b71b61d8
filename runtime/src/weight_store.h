// The weights of a Hugging Face model directory: model.safetensors, or the
// shards listed by model.safetensors.index.json, all mmapped, each tensor
// checked against what the compiled model expects.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "checkpoint.h"
#include "manifest.h"

namespace qwenc {

class WeightStore {
public:
    // Throws InputError naming the file and tensor at fault.
    WeightStore(const std::string &dir, const Manifest &manifest, const std::string &object_path);

    // A Matrix or Packed tensor (a 4-bit projection's qweight, qzeros or
    // scales), in place in the mapped file.
    const TensorView &matrix(const std::string &name) const;
    // A Vector tensor, widened to f32 (these are tiny: norms and biases).
    const std::vector<float> &vector(const std::string &name) const;
    size_t mapped_bytes() const;
    // Throws InputError if a weights file was truncated while in use.
    void check() const { checkpoint_->check_files(); }
    const std::map<std::string, TensorView> &matrices() const { return matrices_; }

private:
    std::unique_ptr<Checkpoint> checkpoint_;
    std::map<std::string, TensorView> matrices_;
    std::map<std::string, std::vector<float>> vectors_;
};

}  // namespace qwenc
