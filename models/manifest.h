// The manifest a compiled model object carries: what it was compiled for
// (config fingerprint, target, ABI) and what it expects at run time (tensors,
// KV-cache layout, entry points). The compiler writes it as JSON into the
// object; the runtime reads it back and checks it before running anything.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dtype.h"
#include "mat_math.h"
#include "model_config.h"
#include "tensors.h"

namespace qwenc {

// Bumped whenever the calling convention between runtime and object changes.
// 2: bf16 matrices as packed uint32 pairs; 3: decode_math; 4: the batched
// step's stages, and qkv_prefill's positions per token. (4-bit layers add
// argument types but change nothing for the other objects.) 5: int8
// matrices always as int8 elements (f32 activations took int32 quads); 6:
// batched steps on stages of their own (qkv_batch, head_batch) and math.
constexpr int kManifestAbiVersion = 6;
constexpr const char *kManifestFormat = "qwenc-model";

// The stages every object provides; each is an exported Halide pipeline
// whose symbol is entry_points[stage]. One sequence's tokens run embed, per
// layer qkv and attn_mlp, then head. A batched step (several sequences, each
// at its own position) runs qkv_batch over all its tokens, attention per
// sequence (attn_prefill for a prompt chunk, attn_decode for one token),
// then out_mlp over all its tokens: the weights are read once per step.
// qkv_batch and head_batch are qkv_prefill and head_prefill in the batch
// math (Manifest::batch_math); where the two maths agree they are the same
// pipeline, under both names.
enum class Stage {
    Embed,
    QkvPrefill,
    QkvDecode,
    AttnMlpPrefill,
    AttnMlpDecode,
    HeadPrefill,
    HeadDecode,
    AttnPrefill,
    AttnDecode,
    OutMlp,
    QkvBatch,
    HeadBatch,
};
constexpr Stage kAllStages[] = {Stage::Embed,         Stage::QkvPrefill,  Stage::QkvDecode,  Stage::AttnMlpPrefill,
                                Stage::AttnMlpDecode, Stage::HeadPrefill, Stage::HeadDecode, Stage::AttnPrefill,
                                Stage::AttnDecode,    Stage::OutMlp,      Stage::QkvBatch,   Stage::HeadBatch};
const char *stage_name(Stage s);
// The prefill stage a batch stage is built as (its graph and schedule), in
// the batch math: qkv_batch -> qkv_prefill, head_batch -> head_prefill;
// any other stage is its own.
Stage graph_stage(Stage s);
// A batched step's stages: qkv_batch, out_mlp, head_batch (in batch_math).
bool is_batch_stage(Stage s);

struct Manifest {
    int abi_version = kManifestAbiVersion;
    std::string qwenc_version;
    std::string target;                      // Halide target string, canonical form
    std::vector<std::string> cpu_features;   // CPU features the code needs (e.g. "avx2", "fma")
    std::string arch;                        // "x86-64", "arm-64", ...
    ModelConfig config;
    std::string config_fingerprint;
    DType weight_dtype = DType::BF16;        // dtype of the Matrix tensors
    // Element type of the KV cache (kKvCacheDTypes): K and V are rounded to
    // it as the q/k/v stage writes them, and widened to f32 as attention
    // reads them.
    DType kv_cache_dtype = DType::F32;
    std::vector<TensorSpec> tensors;
    std::map<std::string, std::string> entry_points;  // stage name -> symbol
    std::set<std::string> entry_symbols() const;      // each symbol once (stages may share one)
    int64_t prefill_max_tokens = 0;          // largest T one prefill call accepts
    // How the prefill and decode stages multiply by matrices (see MatMath):
    // a dot-product mode takes its matrices element by element.
    MatMath prefill_math = MatMath::F32;
    MatMath decode_math = MatMath::F32;
    // Batched steps' products (qkv_batch, out_mlp, head_batch): multi-token
    // schedules in decode's math (f32 for GPTQ / AWQ, see emit_object.cpp),
    // so a sequence's tokens come out the same in a batch as alone. Where
    // it is not prefill_math, a batched step reads a prompt chunk on the
    // prefill stages, apart from the generated tokens.
    MatMath batch_math = MatMath::F32;
    MatMath math(Stage s) const;

    nlohmann::json to_json() const;
    // `source` names the object in error messages; throws InputError.
    static Manifest from_json(const nlohmann::json &j, const std::string &source);
};

// The element types a KV cache may have: f32, or bf16 / f16 (half the
// memory, and half the bytes attention reads at depth).
constexpr DType kKvCacheDTypes[] = {DType::F32, DType::BF16, DType::F16};
constexpr const char *kKvCacheDTypeList = "f32, bf16 or f16";  // for messages
bool is_kv_cache_dtype(DType t);
// The KV cache dtype spelled `name` ("bf16"), or none if the cache cannot
// be of it.
std::optional<DType> kv_cache_dtype_from_name(const std::string &name);

// In an int8 object, a matrix argument "w" of a stage is followed by its
// row-scale argument scale_arg_name("w").
inline std::string scale_arg_name(const std::string &matrix_arg) { return matrix_arg + "_scale"; }
// With 4-bit layers (models/quant4.h), a projection argument "w" is its
// qweight, followed by its zeros and scales under these names.
inline std::string qzeros_arg_name(const std::string &matrix_arg) { return matrix_arg + "_qzeros"; }
inline std::string qscales_arg_name(const std::string &matrix_arg) { return matrix_arg + "_scales"; }

// Symbols every compiled object exports besides the pipelines.
constexpr const char *kManifestSymbol = "qwenc_manifest_json";
constexpr const char *kSetThreadsSymbol = "qwenc_set_num_threads";
constexpr const char *kSetErrorHandlerSymbol = "qwenc_set_error_handler";
// Installs the runtime's allocator for the object's Halide intermediates
// (runtime/src/buffer_pool.h). Optional: objects from before it run with
// Halide's default malloc.
constexpr const char *kSetAllocatorSymbol = "qwenc_set_allocator";

}  // namespace qwenc
