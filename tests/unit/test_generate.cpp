// The generation loop on a compiled model with the real Qwen tokenizer
// (QWENC_TEST_MODEL / QWENC_TEST_WEIGHTS): stops at eos ids, stop strings
// and the token limit; seeds make sampling reproducible.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "generate/generation_config.h"
#include "generate/generator.h"
#include "text/tokenizer.h"

using namespace qwenc;

namespace {

struct Fixture {
    Model model{std::getenv("QWENC_TEST_MODEL"), std::getenv("QWENC_TEST_WEIGHTS"), LoadOptions{}};
    std::unique_ptr<Tokenizer> tok = Tokenizer::load(std::string(std::getenv("QWENC_TEST_WEIGHTS")) + "/tokenizer.json");
    std::vector<int32_t> prompt = tok->encode("<|im_start|>user\nTell me about CPUs.<|im_end|>\n<|im_start|>assistant\n");

    GenerationResult run(const GenerationRequest &req) {
        Session s(model, 256);
        return generate(s, tok.get(), {}, prompt, req, nullptr);
    }
};

GenerationRequest greedy(int64_t n) {
    GenerationRequest r;
    r.sampling.do_sample = false;
    r.max_tokens = n;
    return r;
}

}  // namespace

TEST_CASE("generation stops at the token limit, an eos id or a stop string") {
    REQUIRE(std::getenv("QWENC_TEST_MODEL"));
    Fixture f;
    const GenerationResult base = f.run(greedy(24));
    CHECK(base.tokens.size() == 24);
    CHECK(base.finish_reason == "length");
    CHECK(base.decode_steps == 23);

    SECTION("eos") {
        GenerationRequest r = greedy(24);
        r.eos_ids = {base.tokens[6]};
        const GenerationResult g = f.run(r);
        // Stops at the first occurrence of that token, which is generated but not shown.
        const size_t first = size_t(std::find(base.tokens.begin(), base.tokens.end(), base.tokens[6]) - base.tokens.begin());
        CHECK(g.tokens.size() == first + 1);
        CHECK(g.finish_reason == "stop");
    }
    SECTION("stop string") {
        // A stop string taken from the middle of the greedy output.
        std::string mid;
        for (size_t i = 8; i < 11; i++) mid += f.tok->token_bytes(base.tokens[i]);
        REQUIRE(!mid.empty());
        GenerationRequest r = greedy(24);
        r.stop = {mid};
        const GenerationResult g = f.run(r);
        CHECK(g.finish_reason == "stop");
        CHECK(g.text == base.text.substr(0, base.text.find(mid)));
    }
    SECTION("the streamed pieces add up to the text") {
        Session s(f.model, 256);
        std::string streamed;
        const GenerationResult g = generate(s, f.tok.get(), {}, f.prompt, greedy(24), [&](const std::string &t) { streamed += t; });
        CHECK(streamed == g.text);
        CHECK(g.text == base.text);
    }
    SECTION("an interrupt ends generation before the next token") {
        // Set while the third piece of text streams, as Ctrl-C would be.
        std::atomic<bool> flag{false};
        GenerationRequest r = greedy(24);
        r.interrupt = &flag;
        int pieces = 0;
        Session s(f.model, 256);
        const GenerationResult g = generate(s, f.tok.get(), {}, f.prompt, r, [&](const std::string &) {
            if (++pieces == 3) flag = true;
        });
        CHECK(g.finish_reason == "interrupted");
        REQUIRE(g.tokens.size() >= 3);
        REQUIRE(g.tokens.size() < base.tokens.size());
        CHECK(std::equal(g.tokens.begin(), g.tokens.end(), base.tokens.begin()));
        CHECK(g.decode_steps == int64_t(g.tokens.size()));  // the last token was evaluated before the check
        CHECK(base.text.rfind(g.text, 0) == 0);

        // Already set: nothing is generated after the prompt.
        Session s2(f.model, 256);
        const GenerationResult none = generate(s2, f.tok.get(), {}, f.prompt, r, nullptr);
        CHECK(none.finish_reason == "interrupted");
        CHECK(none.tokens.empty());
    }
}

TEST_CASE("the same seed gives the same sample, another seed another") {
    REQUIRE(std::getenv("QWENC_TEST_MODEL"));
    Fixture f;
    GenerationRequest r;
    r.sampling.temperature = 0.9f;
    r.sampling.top_p = 0.95f;
    r.max_tokens = 16;
    r.sampling.seed = 7;
    const auto a = f.run(r), b = f.run(r);
    CHECK(a.tokens == b.tokens);
    r.sampling.seed = 8;
    CHECK(f.run(r).tokens != a.tokens);
}

TEST_CASE("generation config defaults are read from the model directory") {
    const GenerationDefaults d = read_generation_defaults(std::getenv("QWENC_TEST_WEIGHTS"));
    // The chat test model carries Qwen2.5-1.5B-Instruct's generation_config.json.
    CHECK(d.sampling.do_sample);
    CHECK(d.sampling.temperature == Approx(0.7));
    CHECK(d.sampling.top_p == Approx(0.8));
    CHECK(d.sampling.top_k == 20);
    CHECK(d.sampling.repetition_penalty == Approx(1.1));
    CHECK(d.eos_ids == std::vector<int32_t>{151643, 151645});
}
