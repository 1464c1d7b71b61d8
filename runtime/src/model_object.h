// A model object compiled by qwenc, loaded: its manifest read and checked
// against this machine (architecture, CPU features, ABI), its stage
// pipelines resolved, and a way to call them with arguments bound by name.
#pragma once
#include <array>
#include <functional>
#include <string>
#include <vector>

#include <HalideRuntime.h>

#include "manifest.h"
#include "stage_signature.h"

namespace qwenc {

class ModelObject {
public:
    // A shared object on disk, checked (ELF architecture) and dlopen'ed.
    explicit ModelObject(const std::string &path);  // throws InputError
    // An object whose symbols are already in this program; `name` stands
    // for it in messages.
    using SymbolLookup = std::function<void *(const std::string &)>;
    ModelObject(const std::string &name, const SymbolLookup &lookup);
    ~ModelObject();
    ModelObject(const ModelObject &) = delete;
    ModelObject &operator=(const ModelObject &) = delete;

    const Manifest &manifest() const { return manifest_; }
    const std::string &manifest_json() const { return manifest_json_; }
    const std::string &path() const { return path_; }
    void set_num_threads(int n) const;

    // The stage's declared arguments (stage_signature), which this object was checked against.
    const std::vector<StageArg> &signature(Stage stage) const;
    // Runs a stage: argv holds a pointer per argument of its signature, in
    // order (a halide_buffer_t *, or an int32_t * for a scalar). Throws
    // std::runtime_error with Halide's message on failure.
    void call(Stage stage, std::vector<void *> &argv) const;

private:
    void bind(const SymbolLookup &lookup);
    struct Entry {
        int (*argv_fn)(void **) = nullptr;
        const halide_filter_metadata_t *metadata = nullptr;
        std::vector<StageArg> signature;
    };
    const Entry &entry(Stage stage) const;
    std::string path_;
    void *handle_ = nullptr;
    std::string manifest_json_;
    Manifest manifest_;
    std::array<Entry, std::size(kAllStages)> entries_;
    int (*set_threads_)(int) = nullptr;
};

// How a stage of a compiled model takes its weight matrices: the buffer's
// element type and how many matrix elements each element holds: as
// weight_storage says by default (bf16 pairs packed in uint32); elements in
// the stages whose math is a dot-product mode.
struct MatrixLayout {
    halide_type_t type;
    int pack;
};
MatrixLayout matrix_layout(const Manifest &m, Stage stage);
// The element type a stage's argument buffer of type `t` has in this object.
halide_type_t arg_buffer_type(const Manifest &m, Stage stage, ArgType t);
// A KV cache's buffers: f32, or bf16 / f16 as their uint16 bits.
halide_type_t kv_cache_buffer_type(DType kv_cache_dtype);

}  // namespace qwenc
