// The C API misused as an embedder might: NULL handles, a token count that
// overflows, one session shared by two threads, a model freed before its
// sessions, and the weights file truncated under a running model. Each is
// an error (or, for the frees, safe), never a crash or a silent wrong answer.
// Run against a compiled model named by QWENC_TEST_MODEL / QWENC_TEST_WEIGHTS.
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "qwenrt.h"

namespace fs = std::filesystem;

namespace {

std::string model_path() { return std::getenv("QWENC_TEST_MODEL"); }
std::string weights_dir() { return std::getenv("QWENC_TEST_WEIGHTS"); }

qwenrt_model *load(const std::string &dir) {
    qwenrt_model *m = qwenrt_model_load(model_path().c_str(), dir.c_str(), nullptr);
    INFO(qwenrt_last_error());
    REQUIRE(m != nullptr);
    return m;
}

std::vector<int32_t> prompt(const qwenrt_model *m, int n) {
    std::vector<int32_t> t;
    for (int i = 0; i < n; i++) t.push_back(int32_t((i * 31 + 7) % qwenrt_model_vocab_size(m)));
    return t;
}

bool last_error_has(const std::string &text) { return std::string(qwenrt_last_error()).find(text) != std::string::npos; }

}  // namespace

TEST_CASE("NULL handles are errors, not crashes") {
    REQUIRE(std::getenv("QWENC_TEST_MODEL"));
    const int32_t t[1] = {1};
    CHECK(qwenrt_session_truncate(nullptr, 0) == -1);
    CHECK(last_error_has("no session"));
    CHECK(qwenrt_session_eval(nullptr, t, 1, nullptr, 0) == -1);
    CHECK(qwenrt_session_new(nullptr, 0) == nullptr);
    CHECK(qwenrt_model_load(nullptr, nullptr, nullptr) == nullptr);
    CHECK(qwenrt_session_position(nullptr) == -1);
    CHECK(qwenrt_model_vocab_size(nullptr) == -1);
    qwenrt_session_free(nullptr);
    qwenrt_model_free(nullptr);
}

TEST_CASE("a token count that would overflow the position is refused before any token is read") {
    qwenrt_model *m = load(weights_dir());
    qwenrt_session *s = qwenrt_session_new(m, 16);
    const int32_t t[2] = {1, 2};
    REQUIRE(qwenrt_session_eval(s, t, 2, nullptr, 0) == 0);
    // pos + n wrapped to a negative number and passed the bound; then the
    // token check read far past this two-element array.
    CHECK(qwenrt_session_eval(s, t, INT64_MAX, nullptr, 0) == -1);
    CHECK(last_error_has("exceed the context of 16"));
    CHECK(qwenrt_session_eval(s, t, INT64_MAX - 1, nullptr, 0) == -1);
    CHECK(qwenrt_session_position(s) == 2);
    qwenrt_session_free(s);
    qwenrt_model_free(m);
}

TEST_CASE("a model freed before its session stays loaded until the session goes") {
    qwenrt_model *m = load(weights_dir());
    const int64_t V = qwenrt_model_vocab_size(m);
    const auto p = prompt(m, 6);
    std::vector<float> before(static_cast<size_t>(V)), after(static_cast<size_t>(V));
    qwenrt_session *s = qwenrt_session_new(m, 16);
    REQUIRE(qwenrt_session_eval(s, p.data(), 6, before.data(), 0) == 0);
    qwenrt_model_free(m);
    REQUIRE(qwenrt_session_truncate(s, 0) == 0);
    REQUIRE(qwenrt_session_eval(s, p.data(), 6, after.data(), 0) == 0);
    CHECK(before == after);
    qwenrt_session_free(s);
}

TEST_CASE("two threads in one session: the second call fails, the session stays sound") {
    qwenrt_model *m = load(weights_dir());
    const int64_t V = qwenrt_model_vocab_size(m);
    qwenrt_session *s = qwenrt_session_new(m, 1024);
    const auto long_prompt = prompt(m, 600);
    std::atomic<bool> done{false};
    std::vector<std::string> errors_a, errors_b;
    std::thread a([&] {
        for (int i = 0; i < 20; i++)
            if (qwenrt_session_truncate(s, 0) != 0 || qwenrt_session_eval(s, long_prompt.data(), 600, nullptr, 0) != 0)
                errors_a.push_back(qwenrt_last_error());
        done = true;
    });
    std::thread b([&] {
        while (!done)
            if (qwenrt_session_truncate(s, 0) != 0 || qwenrt_session_eval(s, long_prompt.data(), 1, nullptr, 0) != 0)
                errors_b.push_back(qwenrt_last_error());
    });
    a.join();
    b.join();
    INFO(errors_a.size() << " errors in the long calls, " << errors_b.size() << " in the short ones");
    CHECK(errors_a.size() + errors_b.size() > 0);
    for (const auto *errors : {&errors_a, &errors_b})
        for (const std::string &e : *errors) CHECK_THAT(e, Catch::Contains("in use by another thread"));
    // Afterwards the session gives what a fresh one gives.
    std::vector<float> got(static_cast<size_t>(V)), want(static_cast<size_t>(V));
    REQUIRE(qwenrt_session_truncate(s, 0) == 0);
    REQUIRE(qwenrt_session_eval(s, long_prompt.data(), 40, got.data(), 0) == 0);
    qwenrt_session *fresh = qwenrt_session_new(m, 1024);
    REQUIRE(qwenrt_session_eval(fresh, long_prompt.data(), 40, want.data(), 0) == 0);
    CHECK(got == want);
    qwenrt_session_free(fresh);
    qwenrt_session_free(s);
    qwenrt_model_free(m);
}

TEST_CASE("weights truncated under a running model fail its evaluations, naming the file; the process lives") {
    const fs::path dir = fs::temp_directory_path() / "qwenc_truncated_weights";
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const auto &e : fs::directory_iterator(weights_dir())) fs::copy_file(e.path(), dir / e.path().filename());
    REQUIRE(fs::exists(dir / "model.safetensors"));
    qwenrt_model *m = load(dir.string());
    qwenrt_session *s = qwenrt_session_new(m, 64);
    const auto p = prompt(m, 4);
    REQUIRE(qwenrt_session_eval(s, p.data(), 4, nullptr, 0) == 0);

    fs::resize_file(dir / "model.safetensors", 64);  // SIGBUS on the next read of the weights
    CHECK(qwenrt_session_eval(s, p.data(), 1, nullptr, 0) == -1);
    CHECK(last_error_has("model.safetensors: the file was truncated while in use"));
    CHECK(qwenrt_session_position(s) == 4);
    CHECK(qwenrt_session_eval(s, p.data(), 1, nullptr, 0) == -1);  // and every later one
    CHECK(last_error_has("truncated while in use"));
    qwenrt_session_free(s);
    qwenrt_model_free(m);
    fs::remove_all(dir);
}
