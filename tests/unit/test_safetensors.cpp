// Safetensors headers are untrusted input: every way a header can be
// truncated, lie or disagree with the compiled model gets a one-line error
// naming the file (and tensor), never a crash.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "random_model/random_weights.h"
#include "random_model/safetensors_writer.h"
#include "safetensors.h"
#include "weight_store.h"

using namespace qwenc;
namespace fs = std::filesystem;

namespace {

// A file with the given header text (space-padded to 8-byte alignment, as
// the format prescribes) and `data_bytes` zero bytes; the length field says
// `declared` (default: the true header length).
std::string raw_file(const std::string &name, std::string header, size_t data_bytes, int64_t declared = -1) {
    while (header.size() % 8) header += ' ';
    const std::string path = (fs::temp_directory_path() / ("qwenc_test_" + name + ".safetensors")).string();
    std::ofstream out(path, std::ios::binary);
    uint64_t n = declared < 0 ? header.size() : uint64_t(declared);
    for (int i = 0; i < 8; i++) out.put(char(n >> (8 * i)));
    out << header << std::string(data_bytes, '\0');
    return path;
}

std::string load_error(const std::string &path) {
    try {
        SafetensorsFile f(path);
    } catch (const InputError &e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a well-formed safetensors file is read in place") {
    const std::string path = raw_file("good", R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[4],"data_offsets":[16,24]},"__metadata__":{"format":"pt"}})", 24);
    SafetensorsFile f(path);
    REQUIRE(f.tensors().size() == 2);
    const TensorView &a = f.tensors().at("a");
    CHECK(a.dtype == DType::F32);
    CHECK(a.shape == std::vector<int64_t>{2, 2});
    CHECK(a.nbytes == 16);
    CHECK(f.tensors().at("b").data == a.data + 16);
}

TEST_CASE("broken safetensors files are refused with the file named") {
    struct Case {
        const char *name;
        std::string header;
        size_t data;
        int64_t declared;
        const char *message;
    };
    const std::string ok_entry = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
    const Case cases[] = {
        {"header_past_end", "{" + ok_entry + "}", 8, 5000, "header length 5000 runs past the end"},
        {"header_huge", "{" + ok_entry + "}", 8, int64_t(1) << 40, "exceeds the 104857600-byte limit"},
        {"not_json", "{\"a\": [1, 2", 8, -1, "header: invalid JSON"},
        {"not_object", "[1, 2]", 8, -1, "header is not a JSON object"},
        {"truncated_data", "{" + ok_entry + "}", 4, -1, "tensor 'a': data_offsets end 8 is past the 4-byte data area"},
        {"size_mismatch", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8, -1, "holds 8 bytes but dtype F32 x shape [3] needs 12"},
        {"reversed", R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8, -1, "are reversed"},
        {"overlap", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 16, -1, "tensors 'a' and 'b' overlap"},
        {"unknown_dtype", R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", 8, -1, "tensor 'a': unsupported dtype \"F64\""},
        {"negative_shape", R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8, -1, "non-integer or negative entry"},
        {"missing_fields", R"({"a":{"dtype":"F32"}})", 8, -1, "entry needs dtype, shape and data_offsets"},
        {"misaligned", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})", 8, -1, "not aligned"},
    };
    for (const Case &c : cases) {
        INFO(c.name);
        const std::string path = raw_file(c.name, c.header, c.data, c.declared);
        const std::string err = load_error(path);
        CHECK_THAT(err, Catch::StartsWith(path + ": "));
        CHECK_THAT(err, Catch::Contains(c.message));
    }
    const std::string tiny = raw_file("tiny", "", 0, 0);
    fs::resize_file(tiny, 3);
    CHECK_THAT(load_error(tiny), Catch::Contains("too short to be safetensors (3 bytes)"));
}

namespace {

ModelConfig tiny_config() {
    nlohmann::json j = {{"model_type", "qwen2"}, {"hidden_size", 16}, {"intermediate_size", 24}, {"num_attention_heads", 2},
                        {"num_key_value_heads", 1}, {"num_hidden_layers", 1}, {"vocab_size", 32},
                        {"max_position_embeddings", 64}, {"rms_norm_eps", 1e-6}, {"rope_theta", 10000.0},
                        {"tie_word_embeddings", true}};
    return parse_model_config(j, "tiny");
}

Manifest tiny_manifest() {
    Manifest m;
    m.config = tiny_config();
    m.weight_dtype = DType::BF16;
    m.tensors = model_tensor_specs(m.config, m.weight_dtype);
    return m;
}

std::string weights_error(const std::string &dir) {
    try {
        WeightStore w(dir, tiny_manifest(), "m.so");
    } catch (const InputError &e) {
        return e.what();
    }
    return "";
}

std::string model_dir(const std::string &name, std::vector<TensorToWrite> tensors, int shards = 1) {
    const std::string dir = (fs::temp_directory_path() / ("qwenc_test_weights_" + name)).string();
    fs::remove_all(dir);
    fs::create_directories(dir);
    write_model_safetensors(dir, tensors, shards);
    return dir;
}

}  // namespace

TEST_CASE("weights are checked against what the object was compiled for") {
    auto tensors = random_model_tensors(tiny_config(), DType::BF16, 1);
    CHECK(weights_error(model_dir("good", tensors)).empty());
    CHECK(weights_error(model_dir("good_sharded", tensors, 3)).empty());

    SECTION("missing tensor") {
        auto t = tensors;
        t.pop_back();  // model.norm.weight
        CHECK_THAT(weights_error(model_dir("missing", t)), Catch::Contains("missing tensor 'model.norm.weight' (m.so expects it)"));
    }
    SECTION("wrong dtype") {
        auto t = random_model_tensors(tiny_config(), DType::F32, 1);
        CHECK_THAT(weights_error(model_dir("f32", t)),
                   Catch::Contains("tensor 'model.embed_tokens.weight' is F32, m.so was compiled for BF16 weights"));
    }
    SECTION("misshapen tensor") {
        auto t = tensors;
        t[2].shape = {8, 32};  // q_proj, should be [16, 16]
        CHECK_THAT(weights_error(model_dir("shape", t)),
                   Catch::Contains("tensor 'model.layers.0.self_attn.q_proj.weight' has shape [8, 32], m.so expects [16, 16]"));
    }
    SECTION("index naming a shard that is not there") {
        const std::string dir = model_dir("lost_shard", tensors, 2);
        fs::remove(dir + "/model-00002-of-00002.safetensors");
        CHECK_THAT(weights_error(dir), Catch::Contains("model-00002-of-00002.safetensors: cannot open"));
    }
    SECTION("no weights at all") {
        const std::string dir = model_dir("empty", tensors);
        fs::remove(dir + "/model.safetensors");
        CHECK_THAT(weights_error(dir), Catch::Contains("no model.safetensors or model.safetensors.index.json"));
    }
}

TEST_CASE("bf16 round-trips through the writer and the reader") {
    const std::string dir = model_dir("values", random_model_tensors(tiny_config(), DType::BF16, 5));
    WeightStore w(dir, tiny_manifest(), "m.so");
    // Norm weights are 1 +- 0.17: widened to f32 they stay in that range.
    for (float v : w.vector("model.norm.weight")) {
        CHECK(v > 0.8f);
        CHECK(v < 1.2f);
    }
    const TensorView &emb = w.matrix("model.embed_tokens.weight");
    CHECK(emb.nbytes == 32 * 16 * 2);
}
