// The manifest a model object carries: written by the compiler, read back
// and checked by the runtime before any of the object's code runs.
#include <catch2/catch.hpp>

#include "manifest.h"

using namespace qwenc;
using nlohmann::json;

namespace {

Manifest small_manifest(DType wd, const json &quantization_config = nullptr) {
    json config{{"architectures", {"Qwen2ForCausalLM"}}, {"model_type", "qwen2"}, {"hidden_act", "silu"},
                      {"hidden_size", 64}, {"intermediate_size", 128}, {"num_attention_heads", 4},
                      {"num_key_value_heads", 2}, {"num_hidden_layers", 2}, {"vocab_size", 256},
                      {"max_position_embeddings", 1024}, {"rms_norm_eps", 1e-6}, {"rope_theta", 10000.0},
                      {"tie_word_embeddings", true}, {"use_sliding_window", false}, {"eos_token_id", 3}};
    if (!quantization_config.is_null()) config["quantization_config"] = quantization_config;
    Manifest m;
    m.qwenc_version = "test";
    m.target = "x86-64-linux-avx2";
    m.arch = "x86-64";
    m.config = parse_model_config(config, "config.json");
    m.config_fingerprint = m.config.fingerprint();
    m.weight_dtype = wd;
    m.tensors = model_tensor_specs(m.config, wd);
    m.prefill_max_tokens = 512;
    for (Stage s : kAllStages) m.entry_points[stage_name(s)] = std::string("qwen_") + stage_name(s);
    return m;
}

}  // namespace

TEST_CASE("each phase's matrix math survives the round trip and picks the stages it covers") {
    Manifest m = small_manifest(DType::I8);
    m.decode_math = MatMath::Int8Dot;
    const Manifest back = Manifest::from_json(m.to_json(), "m.so");
    CHECK(back.prefill_math == MatMath::F32);
    CHECK(back.decode_math == MatMath::Int8Dot);
    CHECK(back.math(Stage::QkvDecode) == MatMath::Int8Dot);
    CHECK(back.math(Stage::HeadDecode) == MatMath::Int8Dot);
    CHECK(back.math(Stage::AttnMlpPrefill) == MatMath::F32);
    CHECK(back.math(Stage::Embed) == MatMath::F32);  // a gather, whatever the products do

    Manifest b = small_manifest(DType::BF16);
    b.prefill_math = MatMath::Bf16Dot;
    b.decode_math = MatMath::Bf16x2Dot;
    const Manifest back_b = Manifest::from_json(b.to_json(), "m.so");
    CHECK(back_b.math(Stage::AttnMlpPrefill) == MatMath::Bf16Dot);
    CHECK(back_b.math(Stage::AttnMlpDecode) == MatMath::Bf16x2Dot);
    // Batched steps compute as decode does.
    b.batch_math = b.decode_math;
    const Manifest back_batch = Manifest::from_json(b.to_json(), "m.so");
    CHECK(back_batch.batch_math == MatMath::Bf16x2Dot);
    for (Stage s : {Stage::QkvBatch, Stage::OutMlp, Stage::HeadBatch}) CHECK(back_batch.math(s) == MatMath::Bf16x2Dot);
    CHECK(back_batch.math(Stage::QkvPrefill) == MatMath::Bf16Dot);

    Manifest c = small_manifest(DType::I8);
    c.decode_math = MatMath::Int16Dot;
    const Manifest back_c = Manifest::from_json(c.to_json(), "m.so");
    CHECK(back_c.math(Stage::AttnMlpDecode) == MatMath::Int16Dot);
    CHECK(back_c.math(Stage::AttnMlpPrefill) == MatMath::F32);
    // int16-dot, decode's math only, batches too (Phase::Batch schedules).
    c.batch_math = MatMath::Int16Dot;
    CHECK(Manifest::from_json(c.to_json(), "m.so").math(Stage::OutMlp) == MatMath::Int16Dot);
}

TEST_CASE("a manifest naming an unknown math, or one its weights cannot take, is refused by name") {
    json j = small_manifest(DType::BF16).to_json();
    j["decode_math"] = "fp4-dot";
    CHECK_THROWS_WITH(Manifest::from_json(j, "m.so"), Catch::Contains("m.so: bad manifest: unknown decode_math 'fp4-dot'"));
    j["decode_math"] = "int8-dot";
    CHECK_THROWS_WITH(Manifest::from_json(j, "m.so"),
                      Catch::Contains("m.so: bad manifest: decode_math 'int8-dot' does not go with bf16 weights"));
    j = small_manifest(DType::I8).to_json();
    j["prefill_math"] = "bf16-dot";
    CHECK_THROWS_WITH(Manifest::from_json(j, "m.so"), Catch::Contains("prefill_math 'bf16-dot' does not go with int8 weights"));
    j = small_manifest(DType::BF16).to_json();
    j["prefill_math"] = "bf16x2-dot";
    CHECK_THROWS_WITH(Manifest::from_json(j, "m.so"), Catch::Contains("m.so: bad manifest: prefill_math 'bf16x2-dot' is a decode math"));
    // int16-dot prefills too (int8 weights on x86 without AVX512-BF16), bf16 weights never.
    j = small_manifest(DType::I8).to_json();
    j["prefill_math"] = "int16-dot";
    CHECK(Manifest::from_json(j, "m.so").prefill_math == MatMath::Int16Dot);
    j = small_manifest(DType::BF16).to_json();
    j["prefill_math"] = "int16-dot";
    CHECK_THROWS_WITH(Manifest::from_json(j, "m.so"), Catch::Contains("prefill_math 'int16-dot' does not go with bf16 weights"));
    j = small_manifest(DType::I8).to_json();
    j.erase("batch_math");
    CHECK_THROWS_WITH(Manifest::from_json(j, "m.so"), Catch::Contains("m.so: bad manifest:"));
    j = small_manifest(DType::BF16).to_json();
    j["decode_math"] = "int16-dot";
    CHECK_THROWS_WITH(Manifest::from_json(j, "m.so"),
                      Catch::Contains("m.so: bad manifest: decode_math 'int16-dot' does not go with bf16 weights"));
}

TEST_CASE("a 4-bit manifest takes int8-dot in decode for GPTQ's and AWQ's layouts, and nowhere in prefill") {
    const json gptq{{"quant_method", "gptq"}, {"bits", 4}, {"group_size", 32}, {"desc_act", false}, {"sym", true}};
    const json awq{{"quant_method", "awq"}, {"bits", 4}, {"group_size", 32}, {"version", "gemm"}, {"zero_point", true}};
    Manifest m = small_manifest(DType::F16, gptq);
    m.decode_math = MatMath::Int8Dot;
    const Manifest back = Manifest::from_json(m.to_json(), "m.so");
    CHECK(back.math(Stage::AttnMlpDecode) == MatMath::Int8Dot);
    CHECK(back.math(Stage::AttnMlpPrefill) == MatMath::F32);
    json j = m.to_json();
    j["prefill_math"] = "int8-dot";
    CHECK_THROWS_WITH(Manifest::from_json(j, "m.so"),
                      Catch::Contains("m.so: bad manifest: prefill_math 'int8-dot' does not go with 4-bit gptq layers"));
    j = m.to_json();
    j["decode_math"] = "int16-dot";
    CHECK_THROWS_WITH(Manifest::from_json(j, "m.so"),
                      Catch::Contains("m.so: bad manifest: decode_math 'int16-dot' does not go with 4-bit gptq layers"));
    Manifest a = small_manifest(DType::F16, awq);
    a.decode_math = MatMath::Int8Dot;
    CHECK(Manifest::from_json(a.to_json(), "m.so").math(Stage::AttnMlpDecode) == MatMath::Int8Dot);
    j = a.to_json();
    j["prefill_math"] = "int8-dot";
    CHECK_THROWS_WITH(Manifest::from_json(j, "m.so"),
                      Catch::Contains("m.so: bad manifest: prefill_math 'int8-dot' does not go with 4-bit awq layers"));
}

TEST_CASE("an object of another runtime ABI is refused with what to do") {
    json j = small_manifest(DType::BF16).to_json();
    j["abi_version"] = kManifestAbiVersion - 1;
    CHECK_THROWS_WITH(Manifest::from_json(j, "m.so"), Catch::Contains("recompile it with this qwenc"));
}

TEST_CASE("the KV cache dtype survives the round trip, and a manifest naming another is refused") {
    for (DType kv : kKvCacheDTypes) {
        Manifest m = small_manifest(DType::BF16);
        m.kv_cache_dtype = kv;
        CHECK(Manifest::from_json(m.to_json(), "m.so").kv_cache_dtype == kv);
    }
    CHECK(Manifest::from_json(small_manifest(DType::BF16).to_json(), "m.so").kv_cache_dtype == DType::F32);
    json j = small_manifest(DType::BF16).to_json();
    j["kv_cache"]["dtype"] = "int8";
    CHECK_THROWS_WITH(Manifest::from_json(j, "m.so"), Catch::Contains("m.so: bad manifest: kv_cache dtype 'int8' is not f32, bf16 or f16"));
}

TEST_CASE("int16-dot's activation blocks are the most inputs up to 256 that divide a row") {
    // Qwen2.5's rows: 1.5B's 1536 and 8960, 0.5B's 896 and 4864, 7B's 3584 and 18944.
    CHECK(int16_block(1536) == 256);
    CHECK(int16_block(8960) == 256);
    CHECK(int16_block(896) == 128);
    CHECK(int16_block(4864) == 256);
    CHECK(int16_block(18944) == 256);
    CHECK(int16_block(4160) == 64);
    CHECK(int16_block(96) == kIntDotBlock);  // never below int8-dot's block, which every row must divide
    // A block is whole steps of one vector of lanes, two inputs a lane, on any target.
    for (int lanes : {4, 8, 16}) CHECK(int16_block(4160) % (2 * lanes) == 0);
}
