#include "weight_store.h"

#include <filesystem>
#include <cstring>
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
    std::vector<float> out(t.nbytes / dtype_size(t.dtype));
    for (size_t i = 0; i < out.size(); i++) out[i] = tensor_element(t, i);
    return out;
}

// GPTQ's g_idx names each input's group. Without act-order (desc_act,
// refused in the config) it is input / group_size, which the compiled code
// assumes; a checkpoint that says otherwise would give wrong answers.
void check_group_index(const TensorView &t, const Quant4 &q) {
    const int64_t in = t.shape[0], group = q.group(in);
    for (int64_t i = 0; i < in; i++) {
        int32_t g;
        std::memcpy(&g, t.data + 4 * i, 4);
        if (g != i / group)
            throw InputError(t.file + ": tensor '" + t.name + "' puts input " + std::to_string(i) + " in group " +
                             std::to_string(g) + ", not " + std::to_string(i / group) +
                             " (act-order checkpoints are not supported; quantize with desc_act false)");
    }
}

}  // namespace

WeightStore::WeightStore(const std::string &dir, const Manifest &m, const std::string &object_path)
    : checkpoint_(std::make_unique<Checkpoint>(dir)) {
    for (const TensorSpec &spec : m.tensors) {
        const TensorView &v = checkpoint_->tensor(spec.name, object_path);
        if (v.shape != spec.shape)
            throw InputError(v.file + ": tensor '" + spec.name + "' has shape " + shape_str(v.shape) + ", " + object_path +
                             " expects " + shape_str(spec.shape));
        if (spec.kind == TensorKind::Matrix) {
            if (v.dtype != m.weight_dtype)
                throw InputError(v.file + ": tensor '" + spec.name + "' is " + dtype_name(v.dtype) + ", " + object_path +
                                 " was compiled for " + dtype_name(m.weight_dtype) + " weights (recompile with --weight-dtype " +
                                 dtype_flag_name(v.dtype) + ")");
            matrices_[spec.name] = v;
        } else if (spec.kind == TensorKind::Packed || spec.kind == TensorKind::GroupIndex) {
            if (v.dtype != spec.dtype)
                throw InputError(v.file + ": tensor '" + spec.name + "' is " + dtype_name(v.dtype) + ", " +
                                 m.config.quant_method + " checkpoints store it as " + dtype_name(spec.dtype));
            if (spec.kind == TensorKind::Packed) matrices_[spec.name] = v;
            else check_group_index(v, m.config.quant4);
        } else {
            if (v.dtype == DType::I32 || v.dtype == DType::I8)
                throw InputError(v.file + ": tensor '" + spec.name + "' is " + dtype_name(v.dtype) + ", expected a float dtype");
            vectors_[spec.name] = widen(v);
        }
    }
}

const TensorView &WeightStore::matrix(const std::string &name) const { return matrices_.at(name); }
const std::vector<float> &WeightStore::vector(const std::string &name) const { return vectors_.at(name); }

size_t WeightStore::mapped_bytes() const { return checkpoint_->mapped_bytes(); }

}  // namespace qwenc
