// Untrusted inputs, mutated systematically rather than case by case: every
// byte of a safetensors header replaced by JSON's structural characters,
// the file cut at every length (a model object too), and every field of a safetensors header, a
// shard index, config.json, generation_config.json, tokenizer.json,
// tokenizer_config.json, a messages file and a prompts-file line given
// every wrong kind of value. Each input must either load (with every tensor
// view inside its mapped file) or be refused with an InputError that names
// the file on one line: any other exception fails the test, and a crash or
// an out-of-bounds read fails it too (scripts/test-sanitizers.sh runs the
// suite under ASan and UBSan to see the latter).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "elf_file.h"
#include "generate/generation_config.h"
#include "json_mutations.h"
#include "model_object.h"
#include "model_config.h"
#include "tensors.h"
#include "random_model/random_weights.h"
#include "random_model/safetensors_writer.h"
#include "safetensors.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"
#include "weight_store.h"

using namespace qwenc;
using namespace qwenc::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

void write_file(const std::string &path, const std::string &bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string fresh_dir(const std::string &name) {
    const std::string dir = (fs::temp_directory_path() / ("qwenc_mutations_" + name)).string();
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

// A safetensors file as transformers writes one: three tensors of different
// dtypes and the __metadata__ entry.
std::string valid_safetensors(const std::string &dir) {
    auto fill = [](float *out, int64_t offset, int64_t count) {
        for (int64_t i = 0; i < count; i++) out[i] = float(offset + i) * 0.25f;
    };
    const std::string path = dir + "/base.safetensors";
    write_safetensors(path, {{"a", DType::BF16, {2, 3}, fill}, {"b", DType::F32, {4}, fill}, {"c", DType::F16, {1, 4}, fill}});
    return path;
}

// Every tensor the reader hands out lies inside the mapping and holds
// exactly dtype x shape bytes, whatever the header claimed.
void check_views_inside(const SafetensorsFile &f) {
    const uint8_t *begin = f.file().data(), *end = begin + f.file().size();
    for (const auto &[name, v] : f.tensors()) {
        size_t numel = 1;
        for (int64_t d : v.shape) numel *= size_t(d);
        CHECK(v.nbytes == numel * dtype_size(v.dtype));
        CHECK(v.data >= begin);
        CHECK(v.data <= end);
        CHECK(v.nbytes <= size_t(end - v.data));
    }
}

void load_safetensors(Outcome &n, const std::string &path) {
    expect_loaded_or_refused(n, path, [&] {
        SafetensorsFile f(path);
        check_views_inside(f);
    });
}

std::string bytes_of(const Tokenizer &t, const std::vector<int32_t> &ids) {
    std::string s;
    for (int32_t id : ids) s += t.token_bytes(id);
    return s;
}

uint64_t header_length(const std::string &file) {
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | uint8_t(file[size_t(i)]);
    return n;
}

}  // namespace

TEST_CASE("safetensors: every header byte replaced, every truncation, every length field") {
    const std::string dir = fresh_dir("safetensors_bytes");
    const std::string base = read_text_file(valid_safetensors(dir));
    const size_t header_end = 8 + header_length(base);
    REQUIRE(header_end < base.size());
    const std::string path = dir + "/mutated.safetensors";
    Outcome n;
    const std::string replacements = std::string("\"{}[],:-0 9e.\\") + '\0' + '\xff';
    for (size_t pos = 8; pos < header_end; pos++) {
        for (char c : replacements) {
            if (base[pos] == c) continue;
            std::string bytes = base;
            bytes[pos] = c;
            write_file(path, bytes);
            INFO("byte " << pos << " ('" << base[pos] << "') -> " << int(uint8_t(c)));
            load_safetensors(n, path);
        }
    }
    for (size_t len = 0; len < base.size(); len++) {
        write_file(path, base.substr(0, len));
        INFO("cut to " << len << " bytes");
        load_safetensors(n, path);
    }
    for (uint64_t declared : {uint64_t(0), uint64_t(1), uint64_t(2), header_length(base) - 1, header_length(base) + 1,
                              uint64_t(base.size()), uint64_t(INT64_MAX), UINT64_MAX, UINT64_MAX - 7}) {
        std::string bytes = base;
        for (int i = 0; i < 8; i++) bytes[size_t(i)] = char(declared >> (8 * i));
        write_file(path, bytes);
        INFO("header length field " << declared);
        load_safetensors(n, path);
    }
    CHECK(n.refused > 1000);  // nearly all of them
}

TEST_CASE("safetensors: every header field given every wrong value") {
    const std::string dir = fresh_dir("safetensors_fields");
    const std::string base = read_text_file(valid_safetensors(dir));
    const json header = json::parse(base.substr(8, header_length(base)));
    const std::string data = base.substr(8 + header_length(base));
    const std::string path = dir + "/mutated.safetensors";
    Outcome n;
    for_each_field_mutation(header, [&](const json &h, const std::string &what) {
        std::string text = h.dump();
        while (text.size() % 8) text += ' ';
        std::string bytes(8, '\0');
        for (int i = 0; i < 8; i++) bytes[size_t(i)] = char(uint64_t(text.size()) >> (8 * i));
        write_file(path, bytes + text + data);
        INFO(what);
        load_safetensors(n, path);
    });
    CHECK(n.refused > 100);
}

TEST_CASE("the shard index: every field given every wrong value") {
    json jc = {{"model_type", "qwen2"}, {"hidden_size", 16}, {"intermediate_size", 24}, {"num_attention_heads", 2},
               {"num_key_value_heads", 1}, {"num_hidden_layers", 1}, {"vocab_size", 32}, {"max_position_embeddings", 64},
               {"rms_norm_eps", 1e-6}, {"rope_theta", 10000.0}, {"tie_word_embeddings", true}};
    Manifest m;
    m.config = parse_model_config(jc, "tiny");
    m.weight_dtype = DType::BF16;
    m.tensors = model_tensor_specs(m.config, m.weight_dtype);
    const std::string dir = fresh_dir("shard_index");
    write_model_safetensors(dir, random_model_tensors(m.config, DType::BF16, 1), 2);
    const std::string index_path = dir + "/model.safetensors.index.json";
    const json index = json::parse(read_text_file(index_path));
    REQUIRE(index.contains("weight_map"));
    // The real index's weight_map has one entry per tensor; mutating two of
    // them covers the kinds, the rest would repeat it.
    auto visit = [](const json::json_pointer &p) {
        const std::string s = p.to_string();
        return s.rfind("/weight_map/", 0) != 0 || s.find("layers.0.mlp.up_proj") != std::string::npos ||
               s.find("embed_tokens") != std::string::npos;
    };
    Outcome n;
    for_each_field_mutation(index, [&](const json &j, const std::string &what) {
        write_file(index_path, j.dump());
        INFO(what);
        // Errors name the directory, its index or the shard it points at.
        try {
            WeightStore w(dir, m, "m.so");
            n.loaded++;
        } catch (const InputError &e) {
            const std::string msg = e.what();
            CHECK_THAT(msg, Catch::StartsWith(dir));
            CHECK(msg.find('\n') == std::string::npos);
            n.refused++;
        }
    }, visit);
    CHECK(n.refused > 20);
}

TEST_CASE("config.json: every field of a real config given every wrong value") {
    const std::string real = std::string(QWENC_SHARED_DIR) + "/qwen2/configs/Qwen2.5-1.5B-Instruct.config.json";
    const json config = json::parse(read_text_file(real));
    const std::string path = "dir/config.json";
    Outcome n;
    for_each_field_mutation(config, [&](const json &j, const std::string &what) {
        INFO(what);
        expect_loaded_or_refused(n, path, [&] {
            const ModelConfig c = parse_model_config(j, path);
            // Whatever passed must describe a model the compiler can lower.
            CHECK(c.hidden_size > 0);
            CHECK(c.head_dim() * c.num_attention_heads == c.hidden_size);
            CHECK(c.num_attention_heads % c.num_key_value_heads == 0);
            model_tensor_specs(c, DType::BF16);
        });
    });
    CHECK(n.refused > 100);
    CHECK(n.loaded > 10);  // bookkeeping fields (transformers_version, ...) are free
}

TEST_CASE("generation_config.json: every field of a real one given every wrong value") {
    const std::string real = std::string(QWENC_SHARED_DIR) + "/qwen2/configs/Qwen2.5-1.5B-Instruct.generation_config.json";
    const json gen = json::parse(read_text_file(real));
    const std::string dir = fresh_dir("generation_config");
    Outcome n;
    for_each_field_mutation(gen, [&](const json &j, const std::string &what) {
        write_file(dir + "/generation_config.json", j.dump());
        INFO(what);
        expect_loaded_or_refused(n, dir + "/generation_config.json", [&] {
            const GenerationDefaults d = read_generation_defaults(dir);
            for (int32_t id : d.eos_ids) CHECK(id >= 0);
            // What loads is what qwenrun's flags would accept.
            const SamplingParams &p = d.sampling;
            CHECK(p.temperature >= 0);
            CHECK(std::isfinite(p.temperature));
            CHECK(p.top_k >= 0);
            CHECK(p.top_p > 0);
            CHECK(p.top_p <= 1);
            CHECK(p.min_p >= 0);
            CHECK(p.min_p <= 1);
            CHECK(p.repetition_penalty > 0);
            CHECK(std::isfinite(p.repetition_penalty));
            if (j.contains("top_k") && j["top_k"].is_number()) CHECK(j["top_k"] == p.top_k);
        });
    });
    CHECK(n.refused > 30);
}

TEST_CASE("generation_config.json: its sampling fields in the sampler's ranges, refused in its words") {
    const std::string dir = fresh_dir("generation_ranges");
    const std::string gen = dir + "/generation_config.json";
    const std::vector<std::pair<json, std::string>> refused = {
        {{{"top_p", 1.5}}, "field 'top_p' must be in (0, 1]"},
        {{{"top_p", 0}}, "field 'top_p' must be in (0, 1]"},
        {{{"min_p", -0.25}}, "field 'min_p' must be in [0, 1]"},
        {{{"temperature", -1}}, "field 'temperature' must be >= 0"},
        {{{"repetition_penalty", 0}}, "field 'repetition_penalty' must be > 0"},
        {{{"temperature", 1e300}}, "field 'temperature' = 1e+300 is beyond a float's range"},
    };
    for (const auto &[j, message] : refused) {
        write_file(gen, j.dump());
        INFO(j.dump());
        try {
            read_generation_defaults(dir);
            FAIL("loaded");
        } catch (const InputError &e) {
            CHECK(std::string(e.what()) == gen + ": " + message);
        }
    }
    // What qwenrun --temperature and the C API take, this file takes too.
    write_file(gen, json{{"temperature", 1e7}, {"repetition_penalty", 2e6}}.dump());
    const GenerationDefaults d = read_generation_defaults(dir);
    CHECK(d.sampling.temperature == 1e7f);
    CHECK(d.sampling.repetition_penalty == 2e6f);
}

TEST_CASE("tokenizer.json: every field of the real one given every wrong value") {
    // The real file cut down to its byte-level tokens, the merges among them
    // and two added tokens: the same structure, loaded in a millisecond.
    json tj = json::parse(read_text_file(QWENC_TOKENIZER_JSON));
    json vocab = json::object();
    for (auto it = tj["model"]["vocab"].begin(); it != tj["model"]["vocab"].end(); ++it)
        if (it.value().get<int>() < 300) vocab[it.key()] = it.value();
    tj["model"]["vocab"] = vocab;
    json merges = json::array();
    for (const json &mg : tj["model"]["merges"]) {
        const std::string a = mg.is_array() ? mg[0].get<std::string>() : mg.get<std::string>().substr(0, mg.get<std::string>().find(' '));
        const std::string b = mg.is_array() ? mg[1].get<std::string>() : mg.get<std::string>().substr(mg.get<std::string>().find(' ') + 1);
        if (vocab.contains(a) && vocab.contains(b) && vocab.contains(a + b)) merges.push_back(mg);
    }
    tj["model"]["merges"] = merges;
    tj["added_tokens"] = json::array({tj["added_tokens"][0], tj["added_tokens"][1]});
    const std::string dir = fresh_dir("tokenizer");
    const std::string path = dir + "/tokenizer.json";
    write_file(path, tj.dump());
    {
        const auto t = Tokenizer::load(path);  // the cut-down file itself is valid
        REQUIRE(bytes_of(*t, t->encode("Hello, world!")) == "Hello, world!");
    }
    // Vocabulary entries and merges beyond the first two are like the first.
    auto visit = [](const json::json_pointer &p) {
        const std::string s = p.to_string();
        for (const char *list : {"/model/vocab/", "/model/merges/"}) {
            if (s.rfind(list, 0) != 0) continue;
            const std::string rest = s.substr(std::string(list).size());
            return rest.rfind("0", 0) == 0 || rest.rfind("1", 0) == 0 || rest == "!" || rest == "\"";
        }
        return true;
    };
    Outcome n;
    for_each_field_mutation(tj, [&](const json &j, const std::string &what) {
        write_file(path, j.dump());
        INFO(what);
        expect_loaded_or_refused(n, path, [&] {
            const auto t = Tokenizer::load(path);
            // Whatever loaded encodes and decodes text without crashing.
            const std::string text = "Hello, world! 你好 <|endoftext|> 123";
            bytes_of(*t, t->encode(text));
        });
    }, visit);
    CHECK(n.refused > 50);
}

TEST_CASE("tokenizer_config.json, messages files and prompt lines: every field given every wrong value") {
    const std::string jinja = read_text_file(std::string(QWENC_SHARED_DIR) + "/qwen2/tokenizer-tests/Qwen2.5-Instruct.chat_template.jinja");
    REQUIRE(!jinja.empty());
    const std::string dir = fresh_dir("text_inputs");
    Outcome n;
    // The chat template as a string and as transformers' list of named templates.
    const json string_form = {{"chat_template", jinja}, {"eos_token", "<|im_end|>"}, {"model_max_length", 131072}};
    const json list_form = {{"chat_template", json::array({{{"name", "default"}, {"template", jinja}}, {{"name", "tool_use"}, {"template", "x"}}})}};
    for (const json &base : {string_form, list_form}) {
        // The template's text is one leaf; its contents are the template tests' business.
        for_each_field_mutation(base, [&](const json &j, const std::string &what) {
            write_file(dir + "/tokenizer_config.json", j.dump());
            INFO(what);
            expect_loaded_or_refused(n, dir + "/tokenizer_config.json", [&] {
                ChatTemplate::from_model_dir(dir).render({{"user", "hi"}}, true);
            });
        });
    }
    const json messages = json::array({{{"role", "system"}, {"content", "a"}}, {{"role", "user"}, {"content", "b"}}});
    for (const json &base : {messages, json{{"messages", messages}}}) {
        for_each_field_mutation(base, [&](const json &j, const std::string &what) {
            write_file(dir + "/messages.json", j.dump());
            INFO(what);
            expect_loaded_or_refused(n, dir + "/messages.json", [&] { read_conversation_json(dir + "/messages.json"); });
        });
    }
    // A prompts file's JSON lines: errors start with the file and line.
    for (const json &base : {json{{"prompt", "hi"}}, json{{"messages", messages}}}) {
        for_each_field_mutation(base, [&](const json &j, const std::string &what) {
            INFO(what);
            expect_loaded_or_refused(n, "p.jsonl: line 3", [&] {
                const PromptLine p = parse_prompt_line(j.dump(), "p.jsonl: line 3");
                if (!p.conversation.messages.empty()) CHECK(p.prompt.empty());
            });
        });
    }
    CHECK(n.refused > 100);
}

// A model object cut short (an interrupted copy) must be refused before
// dlopen, which would map the missing pages and die of SIGBUS touching
// them. Any ELF object the toolchain made will do: this test's own binary,
// shrunk step by step from its full size.
TEST_CASE("a model object cut at any length is refused before dlopen") {
    const std::string dir = fresh_dir("elf");
    const std::string path = dir + "/model.so";
    fs::copy_file("/proc/self/exe", path);
    const uint64_t size = fs::file_size(path);
    REQUIRE(size > 4096);
    CHECK_NOTHROW(check_elf_complete(path));
    Outcome n;
    const uint64_t step = std::max<uint64_t>(1, size / 509);
    for (uint64_t cut = size - 1;; cut = cut > size - 512 ? cut - 1 : (cut >= step ? cut - step : 0)) {
        fs::resize_file(path, cut);
        expect_loaded_or_refused(n, path, [&] { check_elf_complete(path); });
        if (cut == 0) break;
    }
    CHECK(n.loaded == 0);
    CHECK(n.refused > 1000);
    // Through the runtime's loader: refused with the reason, not a crash.
    fs::copy_file("/proc/self/exe", path, fs::copy_options::overwrite_existing);
    fs::resize_file(path, size - 1);
    CHECK_THROWS_WITH(ModelObject(path), Catch::Contains(path + ": truncated or corrupt"));
}
