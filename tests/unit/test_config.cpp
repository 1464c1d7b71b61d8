#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "dtype.h"
#include "file_io.h"
#include "model_config.h"
#include "tensors.h"

using namespace qwenc;
using nlohmann::json;

namespace {

json small_config() {
    return json{{"architectures", {"Qwen2ForCausalLM"}},
                {"model_type", "qwen2"},
                {"hidden_act", "silu"},
                {"hidden_size", 64},
                {"intermediate_size", 128},
                {"num_attention_heads", 4},
                {"num_key_value_heads", 2},
                {"num_hidden_layers", 2},
                {"vocab_size", 256},
                {"max_position_embeddings", 1024},
                {"rms_norm_eps", 1e-6},
                {"rope_theta", 10000.0},
                {"tie_word_embeddings", true},
                {"use_sliding_window", false},
                {"eos_token_id", 3}};
}

std::string error_of(const json &j) {
    try {
        parse_model_config(j, "dir/config.json");
    } catch (const InputError &e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("the published Qwen2.5 configs parse") {
    for (const char *name : {"0.5B", "1.5B", "3B", "7B"}) {
        const std::string path = std::string(QWENC_SHARED_DIR) + "/qwen2/configs/Qwen2.5-" + name + "-Instruct.config.json";
        INFO(path);
        const ModelConfig c = load_model_config(path);
        CHECK(c.head_dim() == 128 - (std::string(name) == "0.5B" ? 64 : 0));
        CHECK(c.tie_word_embeddings == (std::string(name) != "7B"));
        CHECK(c.eos_token_ids == std::vector<int64_t>{151645});
    }
    const ModelConfig c = load_model_config(std::string(QWENC_SHARED_DIR) + "/qwen2/configs/Qwen2.5-1.5B-Instruct.config.json");
    CHECK(c.hidden_size == 1536);
    CHECK(c.num_key_value_heads == 2);
    CHECK(c.group_size() == 6);
    CHECK(c.rope_theta == 1000000.0);
    // 28 layers x 12 tensors + embedding + final norm; lm_head is tied.
    CHECK(model_tensor_specs(c, DType::BF16).size() == 28 * 12 + 2);
    // int8: one scale per matrix (7 per layer, and the embedding).
    CHECK(model_tensor_specs(c, DType::I8).size() == 28 * 12 + 2 + 28 * 7 + 1);
}

TEST_CASE("the fingerprint follows the architecture, not the bookkeeping") {
    json a = small_config(), b = small_config();
    b["transformers_version"] = "4.99";
    b["eos_token_id"] = 4;
    CHECK(parse_model_config(a, "a").fingerprint() == parse_model_config(b, "b").fingerprint());
    b["num_hidden_layers"] = 3;
    CHECK(parse_model_config(a, "a").fingerprint() != parse_model_config(b, "b").fingerprint());
}

TEST_CASE("bad configs are refused with the file and field named") {
    struct Case {
        const char *field;
        json value;  // null = remove the field
        const char *message;
    };
    const Case cases[] = {
        {"model_type", "llama", "dir/config.json: unsupported model_type \"llama\""},
        {"architectures", {"LlamaForCausalLM"}, "unsupported architectures"},
        {"hidden_act", "gelu", "unsupported hidden_act \"gelu\""},
        {"rope_scaling", {{"type", "yarn"}, {"factor", 4.0}}, "unsupported field 'rope_scaling'"},
        {"use_sliding_window", true, "unsupported 'use_sliding_window': true"},
        {"hidden_size", nullptr, "missing required field 'hidden_size'"},
        {"num_key_value_heads", 3, "num_attention_heads 4 is not divisible by num_key_value_heads 3"},
        {"num_attention_heads", 5, "hidden_size 64 is not divisible by num_attention_heads 5"},
        {"hidden_size", "64", "field 'hidden_size' must be an integer"},
        {"vocab_size", -5, "field 'vocab_size' = -5 is out of range"},
        {"num_hidden_layers", 100000, "field 'num_hidden_layers' = 100000 is out of range"},
        {"rope_theta", 0, "field 'rope_theta' must be a positive finite number"},
        {"rms_norm_eps", nullptr, "missing required field 'rms_norm_eps'"},
        {"tie_word_embeddings", "yes", "field 'tie_word_embeddings' must be a boolean"},
        {"eos_token_id", 999, "eos_token_id 999 is not below vocab_size 256"},
        {"head_dim", 3, "head dimension 3 must be even for RoPE"},
        {"head_dim", "32", "field 'head_dim' must be an integer"},
    };
    for (const Case &c : cases) {
        json j = small_config();
        if (c.value.is_null()) j.erase(c.field);
        else j[c.field] = c.value;
        INFO(c.field << " = " << c.value.dump());
        const std::string err = error_of(j);
        CHECK_THAT(err, Catch::Contains(c.message));
        CHECK(err.rfind("dir/config.json: ", 0) == 0);
        CHECK(err.find('\n') == std::string::npos);
    }
    CHECK(error_of(json::array()) == "dir/config.json: expected a JSON object at top level");
    CHECK(error_of(small_config()).empty());
}

TEST_CASE("a config file that is not JSON is refused with its path") {
    const std::string path = (std::filesystem::temp_directory_path() / "qwenc_not_json_config.json").string();
    std::ofstream(path) << "{\"hidden_size\": 64,";
    try {
        load_model_config(path);
        FAIL("no error");
    } catch (const InputError &e) {
        CHECK_THAT(e.what(), Catch::StartsWith(path + ": invalid JSON"));
    }
    CHECK_THROWS_WITH(load_model_config("no/such/config.json"), "no/such/config.json: cannot open: No such file or directory");
    std::filesystem::remove(path);
}

// The tools copy generation_config.json and tokenizer.json into the model
// directories they write; ../shared's are read-only, and a read-only copy
// could not be replaced by the next run (except by root).
TEST_CASE("a copied file gets the bytes, not the permissions, and can be copied over") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / "qwenc_copy_contents";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string from = (dir / "from.json").string(), to = (dir / "to.json").string();
    std::ofstream(from) << "{\"do_sample\": true}";
    fs::permissions(from, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    copy_file_contents(from, to);
    copy_file_contents(from, to);
    CHECK(read_text_file(to) == "{\"do_sample\": true}");
    CHECK((fs::status(to).permissions() & fs::perms::owner_write) != fs::perms::none);
    CHECK_THROWS_WITH(copy_file_contents(from, (dir / "no" / "such.json").string()),
                      Catch::StartsWith((dir / "no" / "such.json").string() + ": cannot write"));
    fs::remove_all(dir);
}

TEST_CASE("float_to_f16 rounds to nearest even, saturates to inf and keeps subnormals") {
    CHECK(float_to_f16(1.0f) == 0x3c00);
    CHECK(float_to_f16(-2.0f) == 0xc000);
    CHECK(float_to_f16(65504.0f) == 0x7bff);
    CHECK(float_to_f16(1e6f) == 0x7c00);
    CHECK(float_to_f16(1.0f + 1.0f / 2048) == 0x3c00);  // halfway: to even
    CHECK(float_to_f16(1.0f + 3.0f / 2048) == 0x3c02);  // halfway: to even (up)
    CHECK(float_to_f16(std::ldexp(1.0f, -24)) == 0x0001);  // smallest subnormal
    CHECK(float_to_f16(0.0f) == 0x0000);
    for (float v : {0.1f, -3.75f, 1000.5f, 6.1e-5f})
        CHECK(std::fabs(f16_to_float(float_to_f16(v)) - v) <= std::fabs(v) / 1024);
}

// Qwen3 and later Qwen2 checkpoints give head_dim, which may differ from
// hidden_size / num_attention_heads (transformers reads it when present).
TEST_CASE("an explicit head_dim sets the heads' width; equal to the quotient it changes nothing") {
    json j = small_config();  // hidden 64, 4 heads: 16 by the quotient
    const ModelConfig plain = parse_model_config(j, "a");
    j["head_dim"] = 16;
    CHECK(parse_model_config(j, "b").fingerprint() == plain.fingerprint());
    j["head_dim"] = 24;
    const ModelConfig wide = parse_model_config(j, "c");
    CHECK(wide.head_dim() == 24);
    CHECK(wide.q_dim() == 4 * 24);
    CHECK(wide.kv_dim() == wide.num_key_value_heads * 24);
    CHECK(wide.fingerprint() != plain.fingerprint());
    CHECK(parse_model_config(wide.canonical_json(), "manifest").head_dim() == 24);  // survives the manifest
    bool saw_q = false, saw_o = false;
    for (const TensorSpec &t : model_tensor_specs(wide, DType::BF16)) {
        if (t.name == layer_tensor_name(0, tensor_names::kQ)) saw_q = t.shape == std::vector<int64_t>{96, 64};
        if (t.name == layer_tensor_name(0, tensor_names::kO)) saw_o = t.shape == std::vector<int64_t>{64, 96};
    }
    CHECK(saw_q);
    CHECK(saw_o);
    // Heads that do not divide hidden_size are fine when head_dim is given.
    j["num_attention_heads"] = 6;
    j["num_key_value_heads"] = 2;
    CHECK(parse_model_config(j, "d").q_dim() == 6 * 24);
}

// Qwen3 is a family of its own (models/qwen3/family.cpp): head norms, biases
// as attention_bias says, head_dim 128 by default, as transformers' Qwen3Config.
TEST_CASE("Qwen3 configs: the family's traits, defaults and fingerprint") {
    json j = small_config();
    j["architectures"] = {"Qwen3ForCausalLM"};
    j["model_type"] = "qwen3";
    const ModelConfig q3 = parse_model_config(j, "a");
    CHECK(q3.model_type == "qwen3");
    CHECK(q3.qk_norm);
    CHECK_FALSE(q3.qkv_bias);     // attention_bias defaults to false
    CHECK(q3.head_dim() == 128);  // and head_dim to 128
    CHECK(q3.q_dim() == 4 * 128);
    const ModelConfig back = parse_model_config(q3.canonical_json(), "manifest");  // survives the manifest
    CHECK(back.fingerprint() == q3.fingerprint());
    CHECK(back.head_dim() == 128);
    CHECK(back.qk_norm);
    CHECK(q3.fingerprint() != parse_model_config(small_config(), "b").fingerprint());

    j["head_dim"] = 16;  // the quotient, given: a Qwen3 all the same
    j["attention_bias"] = true;
    const ModelConfig biased = parse_model_config(j, "c");
    CHECK(biased.head_dim() == 16);
    CHECK(biased.qkv_bias);
    CHECK(parse_model_config(biased.canonical_json(), "manifest").head_dim() == 16);
    CHECK(parse_model_config(biased.canonical_json(), "manifest").qkv_bias);
    CHECK(biased.fingerprint() != q3.fingerprint());

    // Tensors: the head norms of head_dim, biases only with attention_bias.
    int norms = 0, biases = 0;
    for (const TensorSpec &t : model_tensor_specs(q3, DType::BF16)) {
        if (t.name == layer_tensor_name(1, tensor_names::kQNorm) || t.name == layer_tensor_name(1, tensor_names::kKNorm))
            norms += t.shape == std::vector<int64_t>{128};
        biases += t.name.find(".bias") != std::string::npos;
    }
    CHECK(norms == 2);
    CHECK(biases == 0);
    CHECK(model_tensor_specs(biased, DType::BF16).size() == model_tensor_specs(q3, DType::BF16).size() + 2 * 3);
}

TEST_CASE("a family's name and its architecture must agree, and Qwen2 keeps its biases") {
    json j = small_config();
    j["model_type"] = "qwen3";  // architectures still says Qwen2ForCausalLM
    CHECK_THAT(error_of(j), Catch::Contains("unsupported architectures [\"Qwen2ForCausalLM\"] (model_type \"qwen3\" is Qwen3ForCausalLM)"));
    j = small_config();
    j["model_type"] = "qwen3_moe";
    CHECK_THAT(error_of(j), Catch::Contains("unsupported model_type \"qwen3_moe\" (supported: \"qwen2\", \"qwen3\")"));
    j = small_config();
    j["attention_bias"] = false;
    CHECK_THAT(error_of(j), Catch::Contains("unsupported 'attention_bias': false (Qwen2 has q/k/v biases)"));
    j["model_type"] = "qwen3", j["architectures"] = {"Qwen3ForCausalLM"}, j["attention_bias"] = "no";
    CHECK_THAT(error_of(j), Catch::Contains("dir/config.json: field 'attention_bias' must be a boolean"));
}
