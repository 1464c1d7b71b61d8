// The stage calling convention is declared once (models/stage_signature.h).
// Here a fake model object, whose stage metadata is made from that
// declaration and whose entry points record what they are called with,
// shows that the runtime checks objects against it and binds every
// argument by walking it: each weight from the mapped checkpoint, each
// int8 scale, each session buffer, as many as are declared. Run against a
// random model directory (QWENC_TEST_WEIGHTS) and its int8 copy
// (QWENC_TEST_INT8_WEIGHTS); no compiled code is involved.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "batch/batch_engine.h"
#include "host_cpu.h"
#include "model.h"
#include "stage_signature.h"

using namespace qwenc;

namespace {

// What one argument of a call held, copied during the call (the runtime's
// buffer structs live only that long).
struct Seen {
    const uint8_t *host = nullptr;
    int dimensions = -1;
};
// One stage of the fake object: metadata from the declaration, and the
// arguments of every call.
struct FakeStage {
    std::vector<std::string> names;
    std::vector<halide_filter_argument_t> args;
    halide_filter_metadata_t metadata{};
    std::vector<std::vector<Seen>> calls;
};
std::map<std::string, FakeStage> g_stages;  // by entry point name

template <int I>
int fake_argv(void **argv) {
    FakeStage &s = g_stages[stage_name(kAllStages[I])];
    std::vector<Seen> seen;
    for (size_t k = 0; k < s.args.size(); k++) {
        if (!argv[k]) seen.push_back({});
        else if (s.args[k].kind == halide_argument_kind_input_scalar) seen.push_back({nullptr, 0});
        else seen.push_back({static_cast<const halide_buffer_t *>(argv[k])->host, static_cast<const halide_buffer_t *>(argv[k])->dimensions});
    }
    s.calls.push_back(seen);
    return 0;
}
template <int I>
const halide_filter_metadata_t *fake_metadata() {
    return &g_stages[stage_name(kAllStages[I])].metadata;
}
int fake_set_threads(int) { return 0; }
void fake_set_handler(void (*)(void *, const char *)) {}


struct FakeObject {
    Manifest manifest;
    std::string manifest_json;
    explicit FakeObject(const std::string &dir, DType wd, int drop_arg_of_stage = -1) {
        manifest.qwenc_version = "test";
        manifest.target = "host";
        manifest.arch = host_arch();
        manifest.config = load_model_config(dir + "/config.json");
        manifest.config_fingerprint = manifest.config.fingerprint();
        manifest.weight_dtype = wd;
        manifest.prefill_max_tokens = 16;
        for (Stage s : kAllStages) manifest.entry_points[stage_name(s)] = stage_name(s);
        manifest_json = manifest.to_json().dump();
        g_stages.clear();
        for (size_t i = 0; i < std::size(kAllStages); i++) {
            const Stage s = kAllStages[i];
            FakeStage &f = g_stages[stage_name(s)];
            for (const StageArg &a : stage_signature(s, manifest.config, wd)) f.names.push_back(a.name);
            size_t k = 0;
            for (const StageArg &a : stage_signature(s, manifest.config, wd)) {
                halide_filter_argument_t arg{};
                arg.name = f.names[k++].c_str();
                arg.kind = a.kind == ArgKind::InputBuffer ? halide_argument_kind_input_buffer
                           : a.kind == ArgKind::Scalar    ? halide_argument_kind_input_scalar
                                                          : halide_argument_kind_output_buffer;
                arg.dimensions = a.rank;
                arg.type = arg_buffer_type(manifest, s, a.type);
                f.args.push_back(arg);
            }
            if (int(i) == drop_arg_of_stage) f.args.pop_back();
            f.metadata.version = halide_filter_metadata_t::VERSION;
            f.metadata.num_arguments = int(f.args.size());
            f.metadata.arguments = f.args.data();
            f.metadata.target = "host";
            f.metadata.name = stage_name(s);
        }
    }
    void *lookup(const std::string &name) const {
        static void *argv_fns[] = {(void *)fake_argv<0>, (void *)fake_argv<1>, (void *)fake_argv<2>, (void *)fake_argv<3>,
                                   (void *)fake_argv<4>, (void *)fake_argv<5>, (void *)fake_argv<6>, (void *)fake_argv<7>,
                                   (void *)fake_argv<8>, (void *)fake_argv<9>, (void *)fake_argv<10>, (void *)fake_argv<11>};
        static void *meta_fns[] = {(void *)fake_metadata<0>, (void *)fake_metadata<1>, (void *)fake_metadata<2>,
                                   (void *)fake_metadata<3>, (void *)fake_metadata<4>, (void *)fake_metadata<5>,
                                   (void *)fake_metadata<6>, (void *)fake_metadata<7>, (void *)fake_metadata<8>,
                                   (void *)fake_metadata<9>, (void *)fake_metadata<10>, (void *)fake_metadata<11>};
        static_assert(std::size(kAllStages) == 12, "one fake entry point per stage");
        if (name == kManifestSymbol) return (void *)manifest_json.c_str();
        if (name == kSetThreadsSymbol) return (void *)fake_set_threads;
        if (name == kSetErrorHandlerSymbol) return (void *)fake_set_handler;
        for (size_t i = 0; i < std::size(kAllStages); i++) {
            if (name == std::string(stage_name(kAllStages[i])) + "_argv") return argv_fns[i];
            if (name == std::string(stage_name(kAllStages[i])) + "_metadata") return meta_fns[i];
        }
        return nullptr;
    }
};

std::string env(const char *name) {
    const char *v = std::getenv(name);
    REQUIRE(v != nullptr);
    return v;
}

// Runs a prefill of 3 tokens (with every row's logits), a decode step and a
// batched engine's steps through the fake object and checks every argument
// of every call against the declaration.
void check_binding(const std::string &dir, DType wd) {
    FakeObject fake(dir, wd);
    Model model(std::make_unique<ModelObject>("fake", [&](const std::string &n) { return fake.lookup(n); }), dir, {});
    const ModelConfig &c = model.config();
    Session session(model, 32);
    const int32_t tokens[3] = {1, 2, 3};
    std::vector<float> logits(3 * size_t(c.vocab_size));
    session.eval(tokens, 3, logits.data(), true);  // every row's logits: the prefill head
    session.eval(tokens, 1, logits.data(), false);
    // A batched step of one sequence's decode beside another's prefill: the
    // batch's own stages (attention per sequence, out_mlp).
    BatchEngine engine(model, BatchOptions{2, 64, 32, 8});
    SequenceSettings greedy;
    greedy.sampling.do_sample = false;
    greedy.max_tokens = 2;
    engine.add({1, 2, 3}, greedy);
    engine.add({4, 5, 6}, greedy);
    for (int step = 0; step < 10 && !engine.idle(); step++) engine.step();
    REQUIRE(engine.idle());
    for (Stage s : kAllStages) {
        const FakeStage &f = g_stages[stage_name(s)];
        const std::vector<StageArg> sig = stage_signature(s, c, wd);
        const bool per_layer = s != Stage::Embed && s != Stage::HeadPrefill && s != Stage::HeadDecode && s != Stage::HeadBatch;
        INFO(stage_name(s));
        REQUIRE(!f.calls.empty());  // every stage ran
        if (per_layer) REQUIRE(f.calls.size() % size_t(c.num_hidden_layers) == 0);  // a whole pass over the layers each time
        for (size_t call = 0; call < f.calls.size(); call++) {
            REQUIRE(f.calls[call].size() == sig.size());
            for (size_t k = 0; k < sig.size(); k++) {
                const StageArg &a = sig[k];
                INFO(stage_name(s) << " call " << call << " argument " << a.name);
                const Seen &p = f.calls[call][k];
                REQUIRE(p.dimensions == a.rank);  // given, and of the declared rank
                if (a.source == ArgSource::Session) continue;
                const std::string tensor = a.source == ArgSource::LayerMatrix || a.source == ArgSource::LayerVector
                                               ? layer_tensor_name(int64_t(call) % c.num_hidden_layers, a.tensor)
                                               : a.tensor;
                if (a.type == ArgType::Matrix) CHECK(p.host == model.weights().matrix(tensor).data);  // in place
                else if (a.type == ArgType::Quant4Weight)
                    CHECK(p.host == model.weights().matrix(quant4_qweight_name(tensor)).data);
                else if (a.type == ArgType::Quant4Zeros)
                    CHECK(p.host == model.weights().matrix(quant4_qzeros_name(tensor)).data);
                else if (a.type == ArgType::Quant4Scales)
                    CHECK(p.host == model.weights().matrix(quant4_scales_name(tensor)).data);
                else if (a.type == ArgType::MatrixScale)
                    CHECK(p.host == (const uint8_t *)model.weights().vector(weight_scale_name(tensor)).data());
                else CHECK(p.host == (const uint8_t *)model.weights().vector(tensor).data());
            }
        }
    }
}

}  // namespace

TEST_CASE("every declared argument is bound, weights from the checkpoint in place, bf16") {
    check_binding(env("QWENC_TEST_WEIGHTS"), DType::BF16);
}

TEST_CASE("every declared argument is bound, each int8 matrix with its scale") {
    check_binding(env("QWENC_TEST_INT8_WEIGHTS"), DType::I8);
}

// Qwen3 with q/k/v biases in int8: the q/k/v stages take 17 arguments, more
// than the runtime's argument vector once held (a fixed 16).
TEST_CASE("a stage of more than 16 arguments is bound, every one") {
    const std::string dir = env("QWENC_TEST_WIDE_INT8_WEIGHTS");
    const ModelConfig c = load_model_config(dir + "/config.json");
    REQUIRE(stage_signature(Stage::QkvDecode, c, DType::I8).size() == 17);
    check_binding(dir, DType::I8);
}

// GPTQ: each layer projection is three arguments (qweight, zeros, scales),
// in place; the f16 embedding and head as dense matrices.
TEST_CASE("every declared argument is bound, each 4-bit projection as its three tensors in place") {
    const std::string dir = env("QWENC_TEST_GPTQ_WEIGHTS");
    const ModelConfig c = load_model_config(dir + "/config.json");
    REQUIRE(c.quant4.active());
    REQUIRE(stage_signature(Stage::QkvDecode, c, DType::F16).size() == 2 + 3 * 3 + 3 + 1 + 3);
    check_binding(dir, DType::F16);
}

TEST_CASE("an object whose stage lacks a declared argument is refused at load, naming it") {
    const std::string dir = env("QWENC_TEST_WEIGHTS");
    FakeObject fake(dir, DType::BF16, /*drop the last argument of*/ 2);
    try {
        Model model(std::make_unique<ModelObject>("fake", [&](const std::string &n) { return fake.lookup(n); }), dir, {});
        FAIL("loaded");
    } catch (const InputError &e) {
        CHECK_THAT(e.what(), Catch::Contains("fake: entry point qkv_decode has 11 arguments, this runtime expects 12"));
    }
}
