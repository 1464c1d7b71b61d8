#include "model_object.h"

#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <mutex>

#include "buffer_pool.h"
#include "elf_file.h"
#include "host_cpu.h"

namespace qwenc {

namespace {

// Halide reports pipeline errors through a process-wide handler; keep the
// latest message so a failed call can say what went wrong.
std::mutex g_error_mutex;
std::string g_last_halide_error;
void capture_halide_error(void *, const char *msg) {
    std::lock_guard<std::mutex> lock(g_error_mutex);
    g_last_halide_error = msg ? msg : "";
    while (!g_last_halide_error.empty() && g_last_halide_error.back() == '\n') g_last_halide_error.pop_back();
}

}  // namespace

MatrixLayout matrix_layout(const Manifest &m, Stage stage) {
    switch (quant4_dense_math(m.config.quant4, m.math(stage))) {
    case MatMath::Bf16Dot:
    case MatMath::Bf16x2Dot: return {{halide_type_bfloat, 16, 1}, 1};
    case MatMath::Int8Dot:
    case MatMath::Int16Dot: return {{halide_type_int, 8, 1}, 1};
    case MatMath::F32: break;
    }
    const WeightStorage s = weight_storage(m.weight_dtype);
    const halide_type_code_t code = s.code == WeightStorage::Int    ? halide_type_int
                                    : s.code == WeightStorage::UInt ? halide_type_uint
                                                                    : halide_type_float;
    return {{code, uint8_t(s.bits), 1}, s.pack};
}

halide_type_t kv_cache_buffer_type(DType kv) {
    if (!is_kv_cache_dtype(kv)) throw std::logic_error("not a KV cache dtype");
    return kv == DType::F32 ? halide_type_t{halide_type_float, 32, 1} : halide_type_t{halide_type_uint, 16, 1};
}

halide_type_t arg_buffer_type(const Manifest &m, Stage s, ArgType t) {
    switch (t) {
    case ArgType::F32:
    case ArgType::MatrixScale: return {halide_type_float, 32, 1};
    case ArgType::Quant4Weight:
        if (quant4_qweight_bytes(m.config.quant4, m.math(s))) return {halide_type_uint, 8, 1};
        return {halide_type_int, 32, 1};
    case ArgType::I32:
    case ArgType::Quant4Zeros: return {halide_type_int, 32, 1};
    case ArgType::Quant4Scales: return {halide_type_uint, 16, 1};  // f16 bits
    case ArgType::Matrix: return matrix_layout(m, s).type;
    case ArgType::KvCache: return kv_cache_buffer_type(m.kv_cache_dtype);
    }
    throw std::logic_error("unknown argument type");
}

namespace {

halide_argument_kind_t halide_kind(ArgKind k) {
    return k == ArgKind::InputBuffer ? halide_argument_kind_input_buffer
           : k == ArgKind::Scalar    ? halide_argument_kind_input_scalar
                                     : halide_argument_kind_output_buffer;
}

bool same_type(const halide_type_t &a, const halide_type_t &b) {
    return a.code == b.code && a.bits == b.bits && a.lanes == b.lanes;
}

}  // namespace

ModelObject::ModelObject(const std::string &path) : path_(path) {
    const std::string arch = elf_arch(path);
    if (arch != host_arch())
        throw InputError(path + ": compiled for " + arch + ", but this machine is " + host_arch() +
                         " (compile with --target host, or run it on an " + arch + " machine)");
    check_elf_complete(path);
    // dlopen looks a name without a slash up on the library path; the
    // user's "model.so" is the file in the current directory.
    const std::string file = path.find('/') == std::string::npos ? "./" + path : path;
    handle_ = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) throw InputError(path + ": cannot load: " + dlerror());
    try {
        bind([this](const std::string &name) { return dlsym(handle_, name.c_str()); });
    } catch (...) {
        dlclose(handle_);
        throw;
    }
}

ModelObject::ModelObject(const std::string &name, const SymbolLookup &lookup) : path_(name) { bind(lookup); }

void ModelObject::bind(const SymbolLookup &lookup) {
    const std::string &path = path_;
    auto *json_text = static_cast<const char *>(lookup(kManifestSymbol));
    if (!json_text) throw InputError(path + ": no qwenc manifest (not a model object compiled by qwenc)");
    manifest_json_ = json_text;
    const nlohmann::json j = parse_json_text(manifest_json_, path + ": manifest");
    manifest_ = Manifest::from_json(j, path);
    if (manifest_.arch != host_arch())
        throw InputError(path + ": compiled for " + manifest_.arch + ", but this machine is " + host_arch());
    // Checked before any of the object's code runs: never SIGILL.
    auto missing = missing_cpu_features(manifest_.cpu_features);
    if (!missing.empty()) {
        std::string list;
        for (const auto &f : missing) list += (list.empty() ? "" : ", ") + f;
        throw InputError(path + ": compiled for target " + manifest_.target + ", which needs CPU features this CPU lacks: " +
                         list + " (recompile with --target host)");
    }
    set_threads_ = reinterpret_cast<int (*)(int)>(lookup(kSetThreadsSymbol));
    auto set_handler = reinterpret_cast<void (*)(void (*)(void *, const char *))>(lookup(kSetErrorHandlerSymbol));
    if (!set_threads_ || !set_handler) throw InputError(path + ": missing qwenc helper symbols");
    set_handler(capture_halide_error);
    using Malloc = void *(*)(void *, size_t);
    using Free = void (*)(void *, void *);
    if (auto set_allocator = reinterpret_cast<void (*)(Malloc, Free)>(lookup(kSetAllocatorSymbol)))
        set_allocator(pool_malloc, pool_free);

    for (size_t i = 0; i < std::size(kAllStages); i++) {
        const Stage stage = kAllStages[i];
        const std::string fn = manifest_.entry_points.at(stage_name(stage));
        Entry &e = entries_[i];
        e.argv_fn = reinterpret_cast<int (*)(void **)>(lookup(fn + "_argv"));
        auto meta_fn = reinterpret_cast<const halide_filter_metadata_t *(*)()>(lookup(fn + "_metadata"));
        if (!e.argv_fn || !meta_fn) throw InputError(path + ": missing entry point " + fn);
        e.metadata = meta_fn();
        // The object's arguments, in order, must be the declared ones
        // (models/stage_signature.h): checked once here, so a mismatched
        // object is never called.
        e.signature = stage_signature(stage, manifest_.config, manifest_.weight_dtype);
        const std::vector<StageArg> &want = e.signature;
        if (e.metadata->num_arguments != int(want.size()))
            throw InputError(path + ": entry point " + fn + " has " + std::to_string(e.metadata->num_arguments) +
                             " arguments, this runtime expects " + std::to_string(want.size()));
        for (size_t k = 0; k < want.size(); k++) {
            const halide_filter_argument_t &found = e.metadata->arguments[k];
            if (!is_arg_name(found.name, want[k].name) || found.kind != halide_kind(want[k].kind) ||
                found.dimensions != want[k].rank || !same_type(found.type, arg_buffer_type(manifest_, stage, want[k].type)))
                throw InputError(path + ": entry point " + fn + " argument " + std::to_string(k) + " ('" + found.name +
                                 "') does not match this runtime's ABI (expects '" + want[k].name + "')");
        }
    }
}

ModelObject::~ModelObject() {
    if (handle_) dlclose(handle_);
}

void ModelObject::set_num_threads(int n) const {
    if (n > 0) set_threads_(n);
}

const std::vector<StageArg> &ModelObject::signature(Stage stage) const { return entry(stage).signature; }

const ModelObject::Entry &ModelObject::entry(Stage stage) const {
    size_t index = 0;
    while (kAllStages[index] != stage) index++;
    return entries_[index];
}

void ModelObject::call(Stage stage, std::vector<void *> &argv) const {
    const Entry &e = entry(stage);
    if (argv.size() != e.signature.size())
        throw std::logic_error(std::string("stage ") + stage_name(stage) + " called with " + std::to_string(argv.size()) +
                               " arguments, declared with " + std::to_string(e.signature.size()));
    for (size_t k = 0; k < argv.size(); k++)
        if (!argv[k]) throw std::logic_error(std::string("no value for pipeline argument ") + e.signature[k].name);
    const int rc = e.argv_fn(argv.data());
    if (rc != 0) {
        std::lock_guard<std::mutex> lock(g_error_mutex);
        throw std::runtime_error(path_ + ": stage " + stage_name(stage) + " failed (Halide error " + std::to_string(rc) +
                                 "): " + g_last_halide_error);
    }
}

}  // namespace qwenc
