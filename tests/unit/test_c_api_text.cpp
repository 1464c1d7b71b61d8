// The text half of the C API, used through qwenrt.h alone as an embedder
// would: tokenizer, incremental decoder, chat template, sampler and the
// streaming generation call. Run against the small model with the real
// Qwen vocabulary named by QWENC_TEST_MODEL / QWENC_TEST_WEIGHTS.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include "qwenrt.h"

namespace {

std::string weights_dir() { return std::getenv("QWENC_TEST_WEIGHTS"); }

struct Fixture {
    qwenrt_model *model = nullptr;
    qwenrt_text *text = nullptr;
    Fixture() {
        REQUIRE(std::getenv("QWENC_TEST_MODEL"));
        model = qwenrt_model_load(std::getenv("QWENC_TEST_MODEL"), weights_dir().c_str(), nullptr);
        text = qwenrt_text_load(weights_dir().c_str());
        INFO(qwenrt_last_error());
        REQUIRE(model);
        REQUIRE(text);
    }
    ~Fixture() {
        qwenrt_text_free(text);
        qwenrt_model_free(model);
    }
};

std::vector<int32_t> tokenize(const qwenrt_text *t, const std::string &s, int special) {
    const int64_t n = qwenrt_tokenize(t, s.data(), s.size(), special, nullptr, 0);  // how many
    REQUIRE(n >= 0);
    std::vector<int32_t> ids(static_cast<size_t>(n));
    REQUIRE(qwenrt_tokenize(t, s.data(), s.size(), special, ids.data(), n) == n);
    return ids;
}

bool valid_utf8(const std::string &s) {
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!n || i + n > s.size()) return false;
        for (size_t k = 1; k < n; k++)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}

struct Streamed {
    std::vector<std::string> pieces;
    int stop_after = -1;  // tokens
    static int on_text(const char *piece, size_t len, void *self) {
        auto *s = static_cast<Streamed *>(self);
        s->pieces.emplace_back(piece, len);
        return s->stop_after >= 0 && int(s->pieces.size()) >= s->stop_after;
    }
    std::string joined() const {
        std::string out;
        for (const auto &p : pieces) out += p;
        return out;
    }
};

}  // namespace

TEST_CASE("text round-trips through tokenize and detokenize; special tokens only when asked") {
    Fixture f;
    const std::string s = "Hello, 世界! 🐍 <|im_start|>user";
    const std::vector<int32_t> plain = tokenize(f.text, s, 0), special = tokenize(f.text, s, 1);
    CHECK(special.size() < plain.size());  // <|im_start|> is one token only when recognised
    char buf[256];
    CHECK(qwenrt_detokenize(f.text, plain.data(), int64_t(plain.size()), 0, buf, sizeof buf) == int64_t(s.size()));
    CHECK(std::string(buf) == s);
    // Skipping special tokens drops <|im_start|>; too small a buffer gets the length needed.
    const int64_t n = qwenrt_detokenize(f.text, special.data(), int64_t(special.size()), 1, buf, sizeof buf);
    CHECK(std::string(buf) == "Hello, 世界! 🐍 user");
    CHECK(qwenrt_detokenize(f.text, special.data(), int64_t(special.size()), 1, buf, 3) == n);
    CHECK(qwenrt_tokenize(f.text, "\xff", 1, 1, nullptr, 0) == -1);
    CHECK(std::string(qwenrt_last_error()).find("UTF-8") != std::string::npos);
}

TEST_CASE("the incremental decoder never splits a UTF-8 character") {
    Fixture f;
    const std::string s = "héllo 世界🐍🐍 ok";
    qwenrt_decoder *d = qwenrt_decoder_new(f.text, 1);
    REQUIRE(d);
    std::string all;
    // Byte-level tokens of the text one by one: many end inside a character.
    for (int32_t id : tokenize(f.text, s, 0)) {
        size_t len = 0;
        const char *piece = qwenrt_decoder_push(d, id, &len);
        REQUIRE(piece);
        CHECK(valid_utf8(std::string(piece, len)));
        all.append(piece, len);
    }
    size_t len = 0;
    all += qwenrt_decoder_flush(d, &len);
    CHECK(all == s);
    CHECK(qwenrt_decoder_push(d, -5, &len) == nullptr);
    qwenrt_decoder_free(d);
}

TEST_CASE("a conversation renders with the model's chat template; errors are one line") {
    Fixture f;
    char *p = qwenrt_chat_render(f.text, R"([{"role": "user", "content": "hi"}])");
    REQUIRE(p);
    CHECK(std::string(p) ==
          "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
          "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
    qwenrt_free(p);
    p = qwenrt_chat_render(f.text, R"({"messages": [{"role": "user", "content": "hi"}], "add_generation_prompt": false})");
    REQUIRE(p);
    CHECK_THAT(std::string(p), Catch::EndsWith("<|im_start|>user\nhi<|im_end|>\n"));
    qwenrt_free(p);
    CHECK(qwenrt_chat_render(f.text, "[{") == nullptr);
    CHECK(std::string(qwenrt_last_error()).find("invalid JSON") != std::string::npos);
    // A template of one's own, refusing what it does not support.
    REQUIRE(qwenrt_text_set_chat_template(f.text, "{{ raise_exception('no system') if messages[0].role == 'system' }}ok", "mine.jinja") == 0);
    CHECK(qwenrt_chat_render(f.text, R"([{"role": "system", "content": "s"}])") == nullptr);
    CHECK(std::string(qwenrt_last_error()) == "mine.jinja:1:4: TemplateError: no system");
    CHECK(qwenrt_text_set_chat_template(f.text, "{% if %}", "bad.jinja") == -1);
}

TEST_CASE("sampling defaults come from generation_config.json; the sampler is seeded") {
    Fixture f;
    const qwenrt_sampling d = qwenrt_sampling_defaults(f.text);  // Qwen2.5-1.5B-Instruct's file
    CHECK(d.do_sample == 1);
    CHECK(d.temperature == Approx(0.7));
    CHECK(d.top_p == Approx(0.8));
    CHECK(d.top_k == 20);
    CHECK(d.repetition_penalty == Approx(1.1));
    std::vector<float> logits = {0.1f, 2.0f, 0.3f, 1.9f};
    qwenrt_sampling greedy = d;
    greedy.do_sample = 0;
    qwenrt_sampler *g = qwenrt_sampler_new(&greedy);
    std::vector<float> l = logits;
    CHECK(qwenrt_sampler_next(g, l.data(), 4, nullptr, 0) == 1);
    qwenrt_sampler_free(g);
    // The same seed draws the same sequence.
    std::vector<int32_t> draws[2];
    for (auto &out : draws) {
        qwenrt_sampling s = d;
        s.temperature = 5;
        s.seed = 42;
        qwenrt_sampler *sm = qwenrt_sampler_new(&s);
        for (int i = 0; i < 20; i++) {
            l = logits;
            out.push_back(qwenrt_sampler_next(sm, l.data(), 4, nullptr, 0));
        }
        qwenrt_sampler_free(sm);
    }
    CHECK(draws[0] == draws[1]);
    qwenrt_sampling bad = d;
    bad.top_p = 0;
    CHECK(qwenrt_sampler_new(&bad) == nullptr);
    CHECK(std::string(qwenrt_last_error()) == "top_p must be in (0, 1]");
}

TEST_CASE("generate streams text that is the result's text, token by token, and stops when asked") {
    Fixture f;
    qwenrt_session *s = qwenrt_session_new(f.model, 256);
    qwenrt_generate_params p = qwenrt_generate_defaults(f.text);
    p.sampling.do_sample = 0;
    p.sampling.repetition_penalty = 1;  // greedy as plain argmax, to compare with the loop by hand
    p.max_tokens = 12;
    p.ignore_eos = 1;
    Streamed streamed;
    qwenrt_generation g{};
    REQUIRE(qwenrt_generate_text(s, f.text, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", &p, Streamed::on_text,
                                 &streamed, &g) == 0);
    CHECK(g.completion_tokens == 12);
    CHECK(std::string(g.finish_reason) == "length");
    CHECK(streamed.joined() == g.text);
    CHECK(streamed.pieces.size() >= 12);  // once per token, and once more at the end if text was held back
    for (const auto &piece : streamed.pieces) CHECK(valid_utf8(piece));
    // The cache holds the prompt and every generated token but the last.
    CHECK(qwenrt_session_position(s) == g.prompt_tokens + g.completion_tokens - 1);

    // The same greedy tokens by hand: eval, argmax, eval.
    const std::vector<int32_t> prompt = tokenize(f.text, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", 1);
    std::vector<int32_t> generated(g.tokens, g.tokens + g.completion_tokens);
    REQUIRE(qwenrt_session_truncate(s, 0) == 0);
    std::vector<float> logits(size_t(qwenrt_model_vocab_size(f.model)));
    REQUIRE(qwenrt_session_eval(s, prompt.data(), int64_t(prompt.size()), logits.data(), 0) == 0);
    std::vector<int32_t> by_hand;
    for (int i = 0; i < 12; i++) {
        int32_t best = 0;
        for (size_t v = 1; v < logits.size(); v++)
            if (logits[v] > logits[size_t(best)]) best = int32_t(v);
        by_hand.push_back(best);
        REQUIRE(qwenrt_session_eval(s, &best, 1, logits.data(), 0) == 0);
    }
    CHECK(by_hand == generated);

    // A callback that returns non-zero ends the generation before the next token.
    REQUIRE(qwenrt_session_truncate(s, 0) == 0);
    Streamed stopping;
    stopping.stop_after = 3;
    REQUIRE(qwenrt_generate(s, f.text, prompt.data(), int64_t(prompt.size()), &p, Streamed::on_text, &stopping, &g) == 0);
    CHECK(std::string(g.finish_reason) == "interrupted");
    CHECK(g.completion_tokens == 3);
    CHECK(std::vector<int32_t>(g.tokens, g.tokens + 3) == std::vector<int32_t>(generated.begin(), generated.begin() + 3));

    // A stop string ends it before the text; bad parameters are errors.
    REQUIRE(qwenrt_session_truncate(s, 0) == 0);
    const std::string full = streamed.joined();
    std::string stop;  // a later token's text
    for (size_t i = 4; i < streamed.pieces.size() && stop.empty(); i++) stop = streamed.pieces[i];
    REQUIRE(!stop.empty());
    const char *stops[] = {stop.c_str()};
    p.stop = stops;
    p.n_stop = 1;
    REQUIRE(qwenrt_generate(s, f.text, prompt.data(), int64_t(prompt.size()), &p, nullptr, nullptr, &g) == 0);
    CHECK(std::string(g.finish_reason) == "stop");
    CHECK(std::string(g.text) == full.substr(0, full.find(stop)));
    p.max_tokens = -2;
    CHECK(qwenrt_generate(s, f.text, prompt.data(), int64_t(prompt.size()), &p, nullptr, nullptr, &g) == -1);
    CHECK(std::string(qwenrt_last_error()) == "max_tokens must be >= -1");
    CHECK(qwenrt_generate(nullptr, f.text, prompt.data(), 1, &p, nullptr, nullptr, &g) == -1);
    qwenrt_session_free(s);
}
