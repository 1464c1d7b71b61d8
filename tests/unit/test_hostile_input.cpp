// Input an attacker would write, one case per class of defect: nesting that
// overflows the stack, text that makes an algorithm quadratic, files that are
// not regular files, writes that fail part-way, logits that are not numbers.
// Each case failed (crash, hang, wrong answer or lost data) before its fix.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sys/resource.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "file_io.h"
#include "generate/generation_config.h"
#include "generate/sampler.h"
#include "json_input.h"
#include "model_config.h"
#include "random_model/safetensors_writer.h"
#include "safetensors.h"
#include "text/chat_template.h"
#include "text/stream_decoder.h"
#include "text/tokenizer.h"

using namespace qwenc;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string &name) {
    const fs::path d = fs::temp_directory_path() / ("qwenc_hostile_" + name);
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

void write(const fs::path &p, const std::string &bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
}

// A JSON value nested `depth` levels: [[[...]]].
std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string error_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const std::exception &e) {
        return e.what();
    }
    return "";
}

const Tokenizer &tok() {
    static const auto t = Tokenizer::load(QWENC_TOKENIZER_JSON);
    return *t;
}

}  // namespace

TEST_CASE("JSON nested a million deep is refused with the file, line and column, not a stack overflow") {
    const std::string deep = "{\"a\": " + nested(1'000'000) + "}";
    CHECK(error_of([&] { parse_json_text(deep, "x.json"); }) ==
          "x.json: JSON nested deeper than 128 levels at line 1, column 134");
    // Brackets inside strings do not count; exactly the limit is accepted.
    CHECK_NOTHROW(parse_json_text("[\"" + std::string(1000, '[') + "\"]", "s.json"));
    CHECK_NOTHROW(parse_json_text(nested(kMaxJsonDepth), "limit.json"));
    CHECK_THROWS_AS(parse_json_text(nested(kMaxJsonDepth + 1), "over.json"), InputError);

    const fs::path dir = fresh_dir("deep");
    SECTION("config.json") {
        write(dir / "config.json", deep);
        CHECK_THAT(error_of([&] { load_model_config((dir / "config.json").string()); }), Catch::Contains("nested deeper"));
    }
    SECTION("a safetensors header's shape") {
        const std::string header = R"({"t": {"dtype": "F32", "shape": )" + nested(1'000'000) + R"(, "data_offsets": [0, 0]}})";
        std::string bytes(8, '\0');
        for (int i = 0; i < 8; i++) bytes[size_t(i)] = char((header.size() >> (8 * i)) & 0xFF);
        write(dir / "model.safetensors", bytes + header);
        CHECK_THAT(error_of([&] { SafetensorsFile((dir / "model.safetensors").string()); }),
                   Catch::Contains("model.safetensors: header: JSON nested deeper"));
    }
    SECTION("tokenizer.json, read by the SAX pass too") {
        write(dir / "tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": )" + nested(1'000'000) + "}}}");
        CHECK_THAT(error_of([&] { Tokenizer::load((dir / "tokenizer.json").string()); }), Catch::Contains("nested deeper"));
    }
    SECTION("generation_config.json, messages and a prompts-file line") {
        write(dir / "config.json", "{}");
        write(dir / "generation_config.json", "{\"eos_token_id\": " + nested(1'000'000) + "}");
        CHECK_THAT(error_of([&] { read_generation_defaults(dir.string()); }), Catch::Contains("nested deeper"));
        write(dir / "messages.json", deep);
        CHECK_THAT(error_of([&] { read_conversation_json((dir / "messages.json").string()); }), Catch::Contains("nested deeper"));
        CHECK_THAT(error_of([&] { parse_prompt_line(deep, "p.jsonl: line 1"); }), Catch::Contains("p.jsonl: line 1"));
    }
    fs::remove_all(dir);
}

// Found by fuzz-messages: nlohmann throws out_of_range, not parse_error,
// for a number too large for a double, and it escaped as an error naming no file.
TEST_CASE("a number too large for a double is invalid JSON of the file, not an escaped exception") {
    CHECK(error_of([] { parse_json_text("[1e999]", "n.json"); }) ==
          "n.json: invalid JSON: number overflow parsing '1e999'");
}

TEST_CASE("a bad value in an error message is cut short, however large or deep") {
    nlohmann::json v = nlohmann::json::array();
    for (int i = 0; i < 100000; i++) v.push_back(std::string(100, 'x'));
    CHECK(json_excerpt(v).size() <= 83);
    CHECK(json_excerpt(nlohmann::json("\xff\xfe")).find("\xef\xbf\xbd") != std::string::npos);  // not a throw on bad UTF-8
}

TEST_CASE("a chat template with a 512 KB literal renders; one over 1 MiB is refused") {
    const std::string prompt(512 << 10, 'y');
    const std::string jinja = "{% if messages[0]['role'] == 'system' %}{% else %}{{ '<|im_start|>system\\n" + prompt +
                              "<|im_end|>\\n' }}{% endif %}{{ '<|im_start|>' }}";
    CHECK(ChatTemplate::from_jinja(jinja, "t.jinja").render({{"user", "u"}}, false) == "<|im_start|>system\n" + prompt + "<|im_end|>\n<|im_start|>");
    CHECK_THAT(error_of([] { ChatTemplate::from_jinja(std::string((1 << 20) + 1, 'x'), "big.jinja"); }),
               Catch::StartsWith("big.jinja: template of 1048577 bytes is over the 1 MiB limit"));
}

// Runs of one kind of character form one pre-tokenizer piece. BPE over a
// piece was quadratic (100 KB of one letter: 26 s); the CTest timeout of
// this case bounds it, and the text must still round-trip.
TEST_CASE("a megabyte without pre-tokenizer splits is tokenized in n log n") {
    // Each unit with the text NFC normalization makes of it.
    for (const auto &[unit, normalized] : std::vector<std::pair<std::string, std::string>>{
             {"a", "a"}, {" ", " "}, {"!", "!"}, {"e\xcc\x81\xcc\x81", "\xc3\xa9\xcc\x81"}}) {
        std::string text, expected;
        while (text.size() < (1 << 20)) text += unit, expected += normalized;
        const auto t0 = std::chrono::steady_clock::now();
        const std::vector<int32_t> ids = tok().encode(text);
        INFO("unit '" << unit << "': " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s");
        StreamDecoder d(tok(), false);
        std::string back;
        for (int32_t id : ids) back += d.push(id);
        back += d.flush();
        CHECK(back == expected);
        CHECK(ids.size() < text.size() / 2);  // merged, not left as bytes
    }
}

// Added tokens were matched by comparing each, longest first, at every
// position: a tokenizer.json with many long ones made encoding grow with
// their number times their length (20 KB of text against the 15,936 below:
// 4.8 s). Now one walk down a trie per position.
TEST_CASE("many long added tokens: matched in one walk per position, the longest winning") {
    const nlohmann::json real = read_json_file(QWENC_TOKENIZER_JSON);
    const fs::path dir = fresh_dir("added");
    auto load_with = [&](const std::vector<std::string> &contents) {
        nlohmann::json j = real;
        int32_t id = 200000;
        for (const std::string &c : contents) j["added_tokens"].push_back({{"id", id++}, {"content", c}, {"special", true}});
        write(dir / "tokenizer.json", j.dump());
        return Tokenizer::load((dir / "tokenizer.json").string());
    };
    SECTION("the longest match at each position") {
        std::vector<std::string> runs;
        for (size_t n = 1; n <= 256; n++) runs.push_back(std::string(n, 'a'));  // ids 200000 + n - 1
        const std::vector<int32_t> ids = load_with(runs)->encode(std::string(256 * 400 + 3, 'a'));
        REQUIRE(ids.size() == 401);
        CHECK(std::count(ids.begin(), ids.end(), 200000 + 255) == 400);
        CHECK(ids.back() == 200000 + 2);
    }
    SECTION("thousands that share a long prefix with the text and never match it") {
        std::vector<std::string> near;
        for (size_t n = 1; n < 250; n++)
            for (int k = 0; k < 64; k++) near.push_back(std::string(n, 'a') + "b" + std::to_string(k));
        const auto t = load_with(near);
        const std::string text(100000, 'a');
        CHECK(t->encode(text, true) == t->encode(text, false));
    }
    SECTION("one longer than the limit is refused") {
        CHECK_THAT(error_of([&] { load_with({std::string(257, 'b')}); }),
                   Catch::Contains("added_tokens[") && Catch::Contains("is 257 bytes long; added tokens are at most 256"));
    }
    fs::remove_all(dir);
}

TEST_CASE("text that cannot fit the context is refused before it is tokenized") {
    const size_t longest = tok().max_token_bytes();
    REQUIRE(longest > 1);
    const std::string text(longest * 100 + 1, 'a');
    CHECK_THAT(error_of([&] { tok().encode(text, true, 100); }), Catch::Contains("cannot fit in 100 tokens"));
    CHECK_NOTHROW(tok().encode(std::string(longest * 100, 'a'), true, 100));
}

TEST_CASE("input lines lose a CRLF's CR and a first line's byte order mark") {
    std::string line = "/exit\r";
    clean_input_line(line, false);
    CHECK(line == "/exit");
    line = "\xEF\xBB\xBF{\"prompt\": \"hi\"}\r";
    clean_input_line(line, true);
    CHECK(parse_prompt_line(line, "p.jsonl: line 1").prompt == "hi");
    line = "\xEF\xBB\xBFtext";
    clean_input_line(line, false);  // only the first line of a file can carry one
    CHECK(line == "\xEF\xBB\xBFtext");
}

TEST_CASE("logits with no number are an error for greedy decoding as for sampling") {
    std::vector<float> nans(100, std::nanf(""));
    SamplingParams greedy;
    greedy.do_sample = false;
    CHECK_THROWS_WITH(Sampler(greedy).next(nans, {}), Catch::Contains("nothing to sample"));
    SamplingParams sampled;
    CHECK_THROWS_WITH(Sampler(sampled).next(nans, {}), Catch::Contains("nothing to sample"));
    // NaNs among numbers are passed over, not chosen.
    std::vector<float> some = {std::nanf(""), 1.0f, 3.0f, std::nanf("")};
    CHECK(Sampler(greedy).next(some, {}) == 2);
}

TEST_CASE("a temperature too small to divide by is greedy's limit, not garbage") {
    SamplingParams p;
    p.temperature = 1e-40f;  // logits / t overflow to inf, and inf - inf is NaN
    for (uint64_t seed = 0; seed < 20; seed++) {
        p.seed = seed;
        std::vector<float> logits = {0.5f, -2.0f, 7.25f, 7.0f, -30.0f};
        CHECK(Sampler(p).next(logits, {}) == 2);
    }
}

TEST_CASE("a write that fails part-way leaves the old file and says why") {
    const fs::path dir = fresh_dir("atomic");
    const std::string path = (dir / "config.json").string();
    write(path, "old contents");
    // A file size limit stands in for a full disk: write() fails with EFBIG.
    struct rlimit old;
    REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = old;
    small.rlim_cur = 4096;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
    const std::string err = error_of([&] { write_file_atomic(path, std::string(100000, 'x')); });
    setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);
    CHECK_THAT(err, Catch::StartsWith(path + ": cannot write (File too large)"));
    CHECK(read_text_file(path) == "old contents");
    CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);  // no temporary left
    write_file_atomic(path, "new");
    CHECK(read_text_file(path) == "new");
    fs::remove_all(dir);
}

TEST_CASE("scratch directories are new, private and unpredictable") {
    std::string a_path;
    {
        PrivateTempDir a("qwenc-test"), b("qwenc-test");
        a_path = a.path();
        CHECK(a.path() != b.path());
        struct stat st;
        REQUIRE(stat(a.path().c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0700);
    }
    CHECK_FALSE(fs::exists(a_path));
}

TEST_CASE("a FIFO where a file should be is refused at once, never waited on") {
    const fs::path dir = fresh_dir("fifo");
    REQUIRE(mkfifo((dir / "config.json").c_str(), 0600) == 0);
    CHECK_THAT(error_of([&] { load_model_config((dir / "config.json").string()); }), Catch::EndsWith("not a regular file"));
    // A shard index naming one.
    REQUIRE(mkfifo((dir / "shard.safetensors").c_str(), 0600) == 0);
    write(dir / "model.safetensors.index.json", R"({"weight_map": {"model.norm.weight": "shard.safetensors"}})");
    const Checkpoint ck(dir.string());
    CHECK_THAT(error_of([&] { ck.tensor("model.norm.weight", "test"); }),
               Catch::Contains("shard.safetensors: not a regular file"));
    fs::remove_all(dir);
}

TEST_CASE("a new checkpoint removes the files of the one it replaces, and a directory with both is refused") {
    const fs::path dir = fresh_dir("stale");
    auto tensors = [](float value) {
        std::vector<TensorToWrite> t;
        for (int i = 0; i < 3; i++)
            t.push_back({"t" + std::to_string(i), DType::F32, {4}, [value](float *out, int64_t, int64_t n) {
                             std::fill(out, out + n, value);
                         }});
        return t;
    };
    write_model_safetensors(dir.string(), tensors(1.0f), 3);
    REQUIRE(fs::exists(dir / "model.safetensors.index.json"));
    REQUIRE(fs::exists(dir / "model-00003-of-00003.safetensors"));
    write_model_safetensors(dir.string(), tensors(2.0f), 2);  // fewer shards: the third goes too
    CHECK_FALSE(fs::exists(dir / "model-00003-of-00003.safetensors"));
    write_model_safetensors(dir.string(), tensors(3.0f), 1);
    CHECK_FALSE(fs::exists(dir / "model.safetensors.index.json"));
    CHECK_FALSE(fs::exists(dir / "model-00001-of-00002.safetensors"));
    CHECK(tensor_element(Checkpoint(dir.string()).tensor("t0", "test"), 0) == 3.0f);

    write(dir / "model.safetensors.index.json", R"({"weight_map": {"t0": "model-00001-of-00001.safetensors"}})");
    CHECK_THAT(error_of([&] { Checkpoint(dir.string()); }), Catch::Contains("holds both model.safetensors and"));
    fs::remove_all(dir);
}
