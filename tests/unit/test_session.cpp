// Decode with the KV cache must give the logits prefill gives, at every
// position; run against a compiled model named by QWENC_TEST_MODEL /
// QWENC_TEST_WEIGHTS (set by CTest). QWENC_TEST_TOLERANCE loosens the
// bound for objects that quantize activations (int8-dot), where a sum
// rounded in another order can move one activation by a quantization step.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "qwenrt.h"

namespace {

struct Loaded {
    qwenrt_model *model = nullptr;
    Loaded() {
        const char *obj = std::getenv("QWENC_TEST_MODEL"), *dir = std::getenv("QWENC_TEST_WEIGHTS");
        REQUIRE(obj != nullptr);
        REQUIRE(dir != nullptr);
        model = qwenrt_model_load(obj, dir, nullptr);
        INFO(qwenrt_last_error());
        REQUIRE(model != nullptr);
    }
    ~Loaded() { qwenrt_model_free(model); }
};

std::vector<int32_t> test_tokens(int64_t vocab, int n) {
    std::vector<int32_t> t;
    for (int i = 0; i < n; i++) t.push_back(int32_t((i * 37 + 11) % vocab));
    return t;
}

double tolerance() {
    const char *t = std::getenv("QWENC_TEST_TOLERANCE");
    return t ? std::atof(t) : 1e-4;
}

double max_abs_diff(const float *a, const float *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = std::max(m, double(std::fabs(a[i] - b[i])));
    return m;
}

}  // namespace

TEST_CASE("decode with the KV cache matches prefill at every position") {
    Loaded l;
    const int64_t V = qwenrt_model_vocab_size(l.model);
    const auto tokens = test_tokens(V, 24);
    const int64_t n = int64_t(tokens.size());

    qwenrt_session *prefill = qwenrt_session_new(l.model, 64);
    REQUIRE(prefill);
    std::vector<float> all(size_t(n * V));
    REQUIRE(qwenrt_session_eval(prefill, tokens.data(), n, all.data(), 1) == 0);
    REQUIRE(qwenrt_session_position(prefill) == n);

    qwenrt_session *decode = qwenrt_session_new(l.model, 64);
    std::vector<float> one(static_cast<size_t>(V));
    for (int64_t t = 0; t < n; t++) {
        REQUIRE(qwenrt_session_eval(decode, &tokens[size_t(t)], 1, one.data(), 0) == 0);
        INFO("position " << t);
        CHECK(max_abs_diff(one.data(), all.data() + t * V, V) < tolerance());
    }

    // Prefill part of the prompt, then decode the rest.
    qwenrt_session *mixed = qwenrt_session_new(l.model, 64);
    REQUIRE(qwenrt_session_eval(mixed, tokens.data(), 10, nullptr, 0) == 0);
    for (int64_t t = 10; t < n; t++) {
        REQUIRE(qwenrt_session_eval(mixed, &tokens[size_t(t)], 1, one.data(), 0) == 0);
        CHECK(max_abs_diff(one.data(), all.data() + t * V, V) < tolerance());
    }

    // Truncating the cache and re-evaluating reproduces the same logits.
    REQUIRE(qwenrt_session_truncate(mixed, 5) == 0);
    std::vector<float> again(size_t((n - 5) * V));
    REQUIRE(qwenrt_session_eval(mixed, tokens.data() + 5, n - 5, again.data(), 1) == 0);
    CHECK(max_abs_diff(again.data(), all.data() + 5 * V, (n - 5) * V) < tolerance());

    qwenrt_session_free(prefill);
    qwenrt_session_free(decode);
    qwenrt_session_free(mixed);
}

TEST_CASE("a failed eval leaves the session unchanged") {
    Loaded l;
    qwenrt_session *s = qwenrt_session_new(l.model, 8);
    const int32_t ok[3] = {1, 2, 3};
    REQUIRE(qwenrt_session_eval(s, ok, 3, nullptr, 0) == 0);
    const int32_t too_many[6] = {1, 2, 3, 4, 5, 6};
    CHECK(qwenrt_session_eval(s, too_many, 6, nullptr, 0) == -1);
    CHECK(std::string(qwenrt_last_error()).find("exceed the context of 8") != std::string::npos);
    const int32_t bad[1] = {-4};
    CHECK(qwenrt_session_eval(s, bad, 1, nullptr, 0) == -1);
    CHECK(qwenrt_session_position(s) == 3);
    qwenrt_session_free(s);
}
