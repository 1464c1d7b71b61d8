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
    switch (m.math(stage)) {
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

namespace {

struct ArgSpec {
    std::string name;
    halide_argument_kind_t kind;
    int dims;
    halide_type_t type;
};

constexpr halide_type_t kF32{halide_type_float, 32, 1};
constexpr halide_type_t kI32{halide_type_int, 32, 1};


// The calling convention each stage must have (the compiler's pipelines.cpp
// defines it); checked once at load so a mismatched object cannot be called.
// An int8 matrix is followed by its f32 row scale (scale_arg_name).
std::vector<ArgSpec> expected_signature(const Manifest &m, Stage s) {
    const halide_type_t W = matrix_layout(m, s).type;
    const auto in = halide_argument_kind_input_buffer;
    const auto out = halide_argument_kind_output_buffer;
    const auto scalar = halide_argument_kind_input_scalar;
    std::vector<ArgSpec> sig;
    auto matrix = [&](const char *name) {
        sig.push_back({name, in, 2, W});
        if (m.weight_dtype == DType::I8) sig.push_back({scale_arg_name(name), in, 1, kF32});
    };
    auto buf = [&](const char *name, halide_argument_kind_t kind, int dims, halide_type_t t) { sig.push_back({name, kind, dims, t}); };
    switch (s) {
    case Stage::Embed:
        buf("tokens", in, 1, kI32), matrix("table"), buf("x_out", out, 2, kF32);
        break;
    case Stage::QkvPrefill:
    case Stage::QkvDecode:
        buf("x", in, 2, kF32), buf("norm_w", in, 1, kF32), matrix("wq"), buf("bq", in, 1, kF32), matrix("wk");
        buf("bk", in, 1, kF32), matrix("wv"), buf("bv", in, 1, kF32), buf("pos0", scalar, 0, kI32);
        buf("q_out", out, 3, kF32), buf("k_out", out, 3, kF32), buf("v_out", out, 3, kF32);
        break;
    case Stage::AttnMlpPrefill:
    case Stage::AttnMlpDecode:
        buf("x", in, 2, kF32), buf("q", in, 3, kF32), buf("k_cache", in, 3, kF32), buf("v_cache", in, 3, kF32);
        buf("pos0", scalar, 0, kI32), matrix("wo"), buf("post_norm_w", in, 1, kF32), matrix("w_gate"), matrix("w_up");
        matrix("w_down"), buf("x_out", out, 2, kF32);
        break;
    case Stage::HeadPrefill:
    case Stage::HeadDecode:
        buf("x", in, 2, kF32), buf("norm_w", in, 1, kF32), matrix("lm_head"), buf("logits", out, 2, kF32);
        break;
    }
    return sig;
}

// Halide makes Func names unique within the compiling process by appending
// "$N" (the decode stage's output "x_out" becomes "x_out$1"); compare names
// without that suffix.
bool same_arg_name(const char *halide_name, const std::string &name) {
    const size_t n = name.size();
    return std::strncmp(halide_name, name.c_str(), n) == 0 && (halide_name[n] == '\0' || halide_name[n] == '$');
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
        const auto want = expected_signature(manifest_, stage);
        if (e.metadata->num_arguments != int(want.size()))
            throw InputError(path + ": entry point " + fn + " has " + std::to_string(e.metadata->num_arguments) +
                             " arguments, this runtime expects " + std::to_string(want.size()));
        for (const ArgSpec &spec : want) {
            const halide_filter_argument_t *found = nullptr;
            for (int k = 0; k < e.metadata->num_arguments; k++)
                if (same_arg_name(e.metadata->arguments[k].name, spec.name)) found = &e.metadata->arguments[k];
            if (!found || found->kind != spec.kind || found->dimensions != spec.dims || !same_type(found->type, spec.type))
                throw InputError(path + ": entry point " + fn + " argument '" + spec.name + "' does not match this runtime's ABI");
        }
    }
}

ModelObject::~ModelObject() {
    if (handle_) dlclose(handle_);
}

void ModelObject::set_num_threads(int n) const {
    if (n > 0) set_threads_(n);
}

void ModelObject::call(Stage stage, const std::vector<PipelineArg> &args) const {
    size_t index = 0;
    while (kAllStages[index] != stage) index++;
    const Entry &e = entries_[index];
    void *argv[16];
    const int n = e.metadata->num_arguments;
    for (int k = 0; k < n; k++) {
        const halide_filter_argument_t &a = e.metadata->arguments[k];
        argv[k] = nullptr;
        for (const PipelineArg &arg : args)
            if (same_arg_name(a.name, arg.name))
                argv[k] = a.kind == halide_argument_kind_input_scalar ? const_cast<int32_t *>(&arg.scalar)
                                                                       : static_cast<void *>(arg.buffer);
        if (!argv[k]) throw std::logic_error(std::string("no value for pipeline argument ") + a.name);
    }
    const int rc = e.argv_fn(argv);
    if (rc != 0) {
        std::lock_guard<std::mutex> lock(g_error_mutex);
        throw std::runtime_error(path_ + ": stage " + stage_name(stage) + " failed (Halide error " + std::to_string(rc) +
                                 "): " + g_last_halide_error);
    }
}

}  // namespace qwenc
