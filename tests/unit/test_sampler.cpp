// Sampling on fixed logits: each filter keeps exactly the tokens the
// transformers logits warpers keep, and a seed makes draws reproducible.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "generate/sampler.h"

using namespace qwenc;

namespace {

// The set of tokens drawn over many samples.
std::set<int32_t> support(SamplingParams p, const std::vector<float> &logits, const std::vector<int32_t> &seen = {},
                          int draws = 4000) {
    std::set<int32_t> s;
    Sampler sampler(p);
    for (int i = 0; i < draws; i++) {
        auto l = logits;
        s.insert(sampler.next(l, seen));
    }
    return s;
}

// Probabilities softmax(logits) = {0.5, 0.25, 0.125, 0.0625, 0.0625}.
const std::vector<float> kLogits = {std::log(8.f), std::log(4.f), std::log(2.f), 0.f, 0.f};

}  // namespace

TEST_CASE("temperature 0 and do_sample false are greedy") {
    SamplingParams p;
    p.temperature = 0;
    CHECK(support(p, kLogits) == std::set<int32_t>{0});
    p.temperature = 1;
    p.do_sample = false;
    CHECK(support(p, kLogits) == std::set<int32_t>{0});
}

TEST_CASE("top-k keeps the k most likely, ties at the k-th included") {
    SamplingParams p;
    p.top_k = 2;
    CHECK(support(p, kLogits) == std::set<int32_t>{0, 1});
    p.top_k = 4;  // the 4th and 5th are tied: both stay
    CHECK(support(p, kLogits) == std::set<int32_t>{0, 1, 2, 3, 4});
    p.top_k = 1;
    CHECK(support(p, kLogits) == std::set<int32_t>{0});
}

TEST_CASE("top-k over a large vocabulary keeps the k highest and their ties, for small and large k") {
    // 20000 logits in a scrambled order of value; value v appears twice for
    // even v, so the k-th may be tied with the one after it.
    std::vector<float> logits(20000);
    for (size_t i = 0; i < logits.size(); i++) logits[i] = float((i * 7919) % 20000 / 2) / 1000.0f;
    for (int64_t k : {3, 100, 5000, 7001}) {  // below and above the heap's limit, tied and not
        SamplingParams p;
        p.top_k = k;
        p.temperature = 0.01f;  // draws spread over the kept ones only if they tie; check membership
        std::vector<float> sorted(logits);
        std::sort(sorted.begin(), sorted.end(), std::greater<float>());
        const float kth = sorted[size_t(k - 1)];
        Sampler sampler(p);
        for (int i = 0; i < 50; i++) {
            auto l = logits;
            const int32_t t = sampler.next(l, {});
            CHECK(logits[size_t(t)] >= kth);
        }
        // With a flat temperature, every kept token can come out, including
        // the one tied with the k-th.
        p.temperature = 1000.0f;
        const std::set<int32_t> s = support(p, logits, {}, 400);
        size_t kept = 0;
        for (float x : logits) kept += x >= kth;
        CHECK(kept >= size_t(k));
        for (int32_t t : s) CHECK(logits[size_t(t)] >= kth);
        if (kept <= 10) CHECK(s.size() == kept);
    }
}

TEST_CASE("top-p over a whole vocabulary counts the mass of every token") {
    // One token of logit 0 and 30000 of logit -7.3: the tail holds
    // 30000 e^-7.3 / (1 + 30000 e^-7.3) = 0.95 of the mass, so top-p 0.9
    // keeps tail tokens too (more than the first head of 1024 candidates).
    std::vector<float> logits(30001, -7.3f);
    logits[0] = 0.0f;
    for (int i = 1; i < 100; i++) logits[size_t(i) * 300] = -60.0f;  // too small to count, or to be drawn
    SamplingParams p;
    p.top_p = 0.9f;
    const std::set<int32_t> s = support(p, logits, {}, 300);
    CHECK(s.size() > 100);
    for (int32_t t : s) CHECK(logits[size_t(t)] > -50.0f);
    p.top_p = 0.04f;  // the top token alone holds ~5% of the mass
    CHECK(support(p, logits, {}, 300) == std::set<int32_t>{0});
}

TEST_CASE("top-p keeps the smallest head whose mass reaches p") {
    SamplingParams p;
    p.top_p = 0.74f;  // the tail of mass 0.25 <= 1 - 0.74 goes
    CHECK(support(p, kLogits) == std::set<int32_t>{0, 1});
    p.top_p = 0.76f;
    CHECK(support(p, kLogits) == std::set<int32_t>{0, 1, 2});
    p.top_p = 0.1f;  // never fewer than one
    CHECK(support(p, kLogits) == std::set<int32_t>{0});
}

TEST_CASE("min-p drops tokens below min_p times the top probability") {
    SamplingParams p;
    p.min_p = 0.3f;  // threshold 0.15: keeps 0.5 and 0.25
    CHECK(support(p, kLogits) == std::set<int32_t>{0, 1});
    p.min_p = 0.24f;  // threshold 0.12: keeps the 0.125 too
    CHECK(support(p, kLogits) == std::set<int32_t>{0, 1, 2});
}

TEST_CASE("repetition penalty divides positive and multiplies negative logits of seen tokens") {
    SamplingParams p;
    p.do_sample = false;
    p.repetition_penalty = 2.0f;
    std::vector<float> l = {3.0f, 2.0f, -1.0f};
    Sampler s(p);
    CHECK(s.next(l, {0, 0, 2}) == 1);  // 3/2 = 1.5 < 2
    CHECK(l[0] == 1.5f);
    CHECK(l[1] == 2.0f);
    CHECK(l[2] == -2.0f);  // a negative logit is multiplied: less likely still
}

TEST_CASE("temperature sharpens and flattens the distribution") {
    SamplingParams p;
    p.seed = 3;
    p.temperature = 0.05f;  // almost greedy
    std::map<int32_t, int> counts;
    Sampler s(p);
    for (int i = 0; i < 1000; i++) {
        auto l = kLogits;
        counts[s.next(l, {})]++;
    }
    CHECK(counts[0] > 990);
    p.temperature = 1.0f;
    Sampler s1(p);
    counts.clear();
    for (int i = 0; i < 8000; i++) {
        auto l = kLogits;
        counts[s1.next(l, {})]++;
    }
    CHECK(std::abs(counts[0] / 8000.0 - 0.5) < 0.03);
    CHECK(std::abs(counts[1] / 8000.0 - 0.25) < 0.03);
}

TEST_CASE("the same seed gives the same draws") {
    SamplingParams p;
    p.seed = 42;
    Sampler a(p), b(p);
    std::vector<int32_t> da, db;
    for (int i = 0; i < 50; i++) {
        auto la = kLogits, lb = kLogits;
        da.push_back(a.next(la, {}));
        db.push_back(b.next(lb, {}));
    }
    CHECK(da == db);
    p.seed = 43;
    Sampler c(p);
    std::vector<int32_t> dc;
    for (int i = 0; i < 50; i++) {
        auto l = kLogits;
        dc.push_back(c.next(l, {}));
    }
    CHECK(dc != da);
}

// A vocabulary of Qwen's size class where the kept tokens outnumber the
// head the sampler sorts first (1024), so the head must grow to hold the cut.
TEST_CASE("top-p and min-p cut in the right place when the kept tokens are many") {
    const int32_t V = 50000;
    SECTION("top-p: 3000 likely tokens hold 0.9045 of the mass; ties go by index") {
        std::vector<float> logits(V, 0.0f);
        for (int32_t i = 0; i < 3000; i++) logits[size_t(i)] = 5.0f;
        SamplingParams p;
        p.top_p = 0.9f;
        // The 47000 unlikely tokens (mass 0.0955) go, then the 14 last of the
        // likely ones (0.0003 each) while the removed mass stays <= 0.1.
        const auto s = support(p, logits);
        CHECK(*s.rbegin() <= 2985);
        CHECK(*s.rbegin() > 2900);  // 4000 draws over 2986 tokens reach the last hundred
        CHECK(s.size() > 1000);
    }
    SECTION("min-p: 2000 tokens at e^3 times the rest") {
        std::vector<float> logits(V, 0.0f);
        for (int32_t i = 0; i < 2000; i++) logits[size_t(V - 1 - i)] = 3.0f;
        SamplingParams p;
        p.min_p = 0.5f;
        const auto s = support(p, logits);
        CHECK(*s.begin() >= V - 2000);
        CHECK(s.size() > 800);
    }
}

TEST_CASE("a NaN logit is never drawn, and all NaN is an error, not a crash") {
    std::vector<float> logits = kLogits;  // token 0 is the most likely
    logits[0] = std::nanf("");
    for (int64_t top_k : {0, 2, 10}) {
        for (float top_p : {1.0f, 0.9f}) {
            SamplingParams p;
            p.top_k = top_k;
            p.top_p = top_p;
            const std::set<int32_t> s = support(p, logits, {}, 400);
            CHECK(s.count(0) == 0);
            CHECK(s.count(1) == 1);
        }
    }
    const std::vector<float> none(5, std::nanf(""));
    for (int64_t top_k : {0, 2}) {
        SamplingParams p;
        p.top_k = top_k;
        p.top_p = 0.9f;
        Sampler sampler(p);
        auto l = none;
        CHECK_THROWS_WITH(sampler.next(l, {}), Catch::Contains("no logit is a number"));
    }
}

// OpenAI's presence and frequency penalties, over generated tokens only.
TEST_CASE("presence and frequency penalties lower the generated tokens' logits, not the prompt's") {
    qwenc::SamplingParams p;
    p.do_sample = false;
    p.presence_penalty = 0.5f;
    p.frequency_penalty = 0.25f;
    qwenc::Sampler s(p);
    // Token 0 leads by 1.0; generated twice it loses 0.5 + 2 x 0.25 = 1.0 and
    // more, so token 1 wins. Token 2, seen only in the prompt, keeps its logit.
    std::vector<float> logits = {3.0f, 2.1f, 2.9f};
    const std::vector<int32_t> seen = {2, 2, 2, 0, 0};  // prompt {2, 2, 2}, then 0, 0
    CHECK(s.next(logits, seen, 3) == 2);
    CHECK(logits[0] == Approx(3.0f - 0.5f - 0.5f));
    CHECK(logits[2] == Approx(2.9f));
    std::vector<float> again = {3.0f, 2.1f, 1.0f};
    CHECK(s.next(again, seen, 3) == 1);
    qwenc::SamplingParams bad;
    bad.presence_penalty = 2.5f;
    CHECK_THROWS_WITH(qwenc::check_sampling_params(bad, [](const std::string &f) { return f; }),
                      Catch::Contains("presence_penalty must be in [-2, 2]"));
}
