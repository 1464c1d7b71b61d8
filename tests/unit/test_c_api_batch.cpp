// The C API's batches (qwenrt_batch_*): sequences added at once and later
// generate what each generates alone, end at their eos or max_tokens with
// the finish the header names, cancel frees, and misuse is an error, never
// a crash. Runs against QWENC_TEST_MODEL / QWENC_TEST_WEIGHTS.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "qwenrt.h"

namespace {

qwenrt_model *load() {
    const char *obj = std::getenv("QWENC_TEST_MODEL"), *dir = std::getenv("QWENC_TEST_WEIGHTS");
    REQUIRE(obj != nullptr);
    REQUIRE(dir != nullptr);
    qwenrt_model *m = qwenrt_model_load(obj, dir, nullptr);
    INFO(qwenrt_last_error());
    REQUIRE(m != nullptr);
    return m;
}

std::vector<int32_t> prompt_of(int64_t vocab, int n, int salt) {
    std::vector<int32_t> t;
    for (int i = 0; i < n; i++) t.push_back(int32_t((i * 53 + salt * 97 + 5) % vocab));
    return t;
}

// Greedy, alone, through a session: what the batch must reproduce.
std::vector<int32_t> alone(qwenrt_model *m, const std::vector<int32_t> &prompt, int64_t n) {
    const int64_t V = qwenrt_model_vocab_size(m);
    qwenrt_session *s = qwenrt_session_new(m, 0);
    REQUIRE(s != nullptr);
    std::vector<float> logits(static_cast<size_t>(V));
    std::vector<int32_t> out;
    REQUIRE(qwenrt_session_eval(s, prompt.data(), int64_t(prompt.size()), logits.data(), 0) == 0);
    for (int64_t i = 0; i < n; i++) {
        int32_t best = 0;
        for (int64_t v = 1; v < V; v++)
            if (logits[size_t(v)] > logits[size_t(best)]) best = int32_t(v);
        out.push_back(best);
        if (i + 1 < n) REQUIRE(qwenrt_session_eval(s, &best, 1, logits.data(), 0) == 0);
    }
    qwenrt_session_free(s);
    return out;
}

qwenrt_sequence_params greedy(int64_t max_tokens) {
    qwenrt_sequence_params p{};
    p.sampling = qwenrt_sampling_defaults(nullptr);
    p.sampling.do_sample = 0;
    p.max_tokens = max_tokens;
    return p;
}

}  // namespace

TEST_CASE("a batch generates what each sequence generates alone, and ends each as asked") {
    qwenrt_model *m = load();
    const int64_t V = qwenrt_model_vocab_size(m);
    qwenrt_batch_options o{3, 0, 256, 0};
    qwenrt_batch *b = qwenrt_batch_new(m, &o);
    INFO(qwenrt_last_error());
    REQUIRE(b != nullptr);
    qwenrt_model_free(m);  // the batch keeps it loaded
    m = load();

    const std::vector<std::vector<int32_t>> prompts = {prompt_of(V, 7, 1), prompt_of(V, 20, 2), prompt_of(V, 2, 3),
                                                       prompt_of(V, 11, 4)};
    const std::vector<int64_t> max_tokens = {5, 3, 6, 4};
    std::vector<std::vector<int32_t>> expected;
    for (size_t i = 0; i < prompts.size(); i++) expected.push_back(alone(m, prompts[i], max_tokens[i]));
    // The last sequence stops at an eos id: the third token it generates
    // alone, where that token first appears.
    const int32_t eos = expected[3][2];
    const auto stop_at = std::find(expected[3].begin(), expected[3].end(), eos) + 1;

    std::map<uint64_t, size_t> index;
    for (size_t i = 0; i < prompts.size(); i++) {
        qwenrt_sequence_params p = greedy(max_tokens[i]);
        if (i == 3) p.eos_ids = &eos, p.n_eos = 1;
        uint64_t id = 0;
        REQUIRE(qwenrt_batch_add(b, prompts[i].data(), int64_t(prompts[i].size()), &p, &id) == 0);
        CHECK(id > 0);
        index[id] = i;
    }
    CHECK(qwenrt_batch_running(b) + qwenrt_batch_waiting(b) == 4);
    std::vector<std::vector<int32_t>> got(prompts.size());
    std::vector<int> finish(prompts.size(), -1);
    qwenrt_batch_event events[3];
    for (int step = 0; step < 100 && qwenrt_batch_running(b) + qwenrt_batch_waiting(b) > 0; step++) {
        CHECK(qwenrt_batch_running(b) <= 3);
        const int64_t n = qwenrt_batch_step(b, events, 3);
        INFO(qwenrt_last_error());
        REQUIRE(n >= 0);
        for (int64_t k = 0; k < n; k++) {
            const size_t i = index.at(events[k].id);
            REQUIRE(finish[i] == -1);  // nothing after the last token
            got[i].push_back(events[k].token);
            if (events[k].finish != QWENRT_FINISH_NONE) finish[i] = events[k].finish;
        }
    }
    for (size_t i = 0; i < 3; i++) {
        CHECK(got[i] == expected[i]);
        CHECK(finish[i] == QWENRT_FINISH_LENGTH);
    }
    CHECK(got[3] == std::vector<int32_t>(expected[3].begin(), stop_at));  // ends on the eos
    CHECK(finish[3] == QWENRT_FINISH_STOP);
    CHECK(qwenrt_batch_step(b, events, 3) == 0);  // nothing left

    // Cancel: once, then it is gone.
    qwenrt_sequence_params p = greedy(50);
    uint64_t id = 0;
    REQUIRE(qwenrt_batch_add(b, prompts[0].data(), int64_t(prompts[0].size()), &p, &id) == 0);
    REQUIRE(qwenrt_batch_step(b, events, 3) == 1);
    CHECK(qwenrt_batch_cancel(b, id) == 0);
    CHECK(qwenrt_batch_cancel(b, id) == 1);
    CHECK(qwenrt_batch_running(b) == 0);
    qwenrt_batch_free(b);
    qwenrt_model_free(m);
}

// Runs one sequence to its end; its tokens, and the cached_tokens of its events.
std::vector<int32_t> run_one(qwenrt_batch *b, const std::vector<int32_t> &prompt, int64_t max_tokens,
                             std::vector<int64_t> &cached) {
    qwenrt_sequence_params p = greedy(max_tokens);
    uint64_t id = 0;
    REQUIRE(qwenrt_batch_add(b, prompt.data(), int64_t(prompt.size()), &p, &id) == 0);
    std::vector<int32_t> got;
    qwenrt_batch_event events[8];
    for (int step = 0; step < 100 && qwenrt_batch_running(b) + qwenrt_batch_waiting(b) > 0; step++) {
        const int64_t n = qwenrt_batch_step(b, events, 8);
        REQUIRE(n >= 0);
        for (int64_t k = 0; k < n; k++) {
            REQUIRE(events[k].id == id);
            got.push_back(events[k].token);
            cached.push_back(events[k].cached_tokens);
        }
    }
    return got;
}

TEST_CASE("a batch's events report the prompt tokens its prefix cache gave, and the cache can be turned off") {
    CHECK(qwenrt_abi_version() == QWENRT_ABI_VERSION);
    qwenrt_model *m = load();
    const int64_t V = qwenrt_model_vocab_size(m);
    // A conversation's next turn: the first turn's prompt, then more.
    const std::vector<int32_t> first = prompt_of(V, 12, 5);
    std::vector<int32_t> next = first;
    for (int32_t t : prompt_of(V, 6, 6)) next.push_back(t);
    const std::vector<int32_t> expected = alone(m, next, 4);
    for (const int off : {0, 1}) {
        INFO("disable_prefix_caching " << off);
        qwenrt_batch_options o{};
        o.max_context = 256;
        o.disable_prefix_caching = off;
        qwenrt_batch *b = qwenrt_batch_new(m, &o);
        INFO(qwenrt_last_error());
        REQUIRE(b != nullptr);
        std::vector<int64_t> cached_first, cached_next;
        run_one(b, first, 3, cached_first);
        CHECK(cached_first == std::vector<int64_t>(3, 0));  // nothing to reuse yet
        CHECK(run_one(b, next, 4, cached_next) == expected);
        REQUIRE(cached_next.size() == 4);
        for (int64_t c : cached_next) {
            if (off) CHECK(c == 0);
            // At least the first turn's prompt, and never its last token, which is computed.
            else CHECK((c >= int64_t(first.size()) && c < int64_t(next.size())));
        }
        qwenrt_batch_free(b);
    }
    qwenrt_model_free(m);
}

TEST_CASE("batch misuse is an error with a message, never a crash") {
    qwenrt_model *m = load();
    const int64_t V = qwenrt_model_vocab_size(m);
    CHECK(qwenrt_batch_new(nullptr, nullptr) == nullptr);
    qwenrt_batch_options too_long{2, 0, qwenrt_model_max_position_embeddings(m) + 1, 0};
    CHECK(qwenrt_batch_new(m, &too_long) == nullptr);
    CHECK(std::string(qwenrt_last_error()).find("exceeds the model's max_position_embeddings") != std::string::npos);
    qwenrt_batch *b = qwenrt_batch_new(m, nullptr);
    REQUIRE(b != nullptr);
    qwenrt_batch_event events[8];
    qwenrt_sequence_params p = greedy(4);
    const int32_t bad[] = {int32_t(V)};
    uint64_t id = 0;
    CHECK(qwenrt_batch_add(b, bad, 1, &p, &id) == -1);
    CHECK(std::string(qwenrt_last_error()).find("outside the vocabulary") != std::string::npos);
    CHECK(qwenrt_batch_add(b, bad, 0, &p, &id) == -1);
    CHECK(qwenrt_batch_add(b, nullptr, 1, &p, &id) == -1);
    const int32_t ok[] = {1, 2};
    CHECK(qwenrt_batch_add(b, ok, 2, nullptr, &id) == -1);
    p.max_tokens = 0;
    CHECK(qwenrt_batch_add(b, ok, 2, &p, &id) == -1);
    p.max_tokens = 4;
    p.sampling.top_p = 2;
    CHECK(qwenrt_batch_add(b, ok, 2, &p, &id) == -1);
    CHECK(std::string(qwenrt_last_error()).find("top_p") != std::string::npos);
    CHECK(qwenrt_batch_step(b, events, 7) == -1);  // less room than max_batch (8)
    CHECK(qwenrt_batch_step(nullptr, events, 8) == -1);
    CHECK(qwenrt_batch_cancel(nullptr, 1) == -1);
    CHECK(qwenrt_batch_running(nullptr) == -1);
    CHECK(qwenrt_batch_step(b, events, 8) == 0);
    qwenrt_batch_free(b);
    qwenrt_batch_free(nullptr);
    qwenrt_model_free(m);
}
