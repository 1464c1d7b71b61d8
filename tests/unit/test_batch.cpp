// Batch invariance of the batched engine (runtime/src/batch/): a sequence's
// logits inside any batch equal its single-stream logits (a session's)
// within 1e-4 x their std (5e-4 under int16-dot: see below), and the
// independent reference's within 1e-3 x std, at batch sizes 1, 3 and 8,
// with mixed prompt lengths (some longer than the step, so prefill spans
// steps beside other sequences' decodes), a sequence joining mid-way and
// one cancelled mid-way; greedy tokens are identical to a single stream's.
// Runs against a compiled model named by QWENC_TEST_MODEL /
// QWENC_TEST_WEIGHTS.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "batch/batch_engine.h"
#include "qwen2_reference.h"

using namespace qwenc;

namespace {

std::string env(const char *name) {
    const char *v = std::getenv(name);
    REQUIRE(v != nullptr);
    return v;
}

struct Trace {
    std::vector<int32_t> tokens;               // generated
    std::vector<std::vector<float>> logits;    // each generated token's
    Finish finish = Finish::None;
};

std::vector<int32_t> prompt_of(int64_t vocab, int n, int salt) {
    std::vector<int32_t> t;
    for (int i = 0; i < n; i++) t.push_back(int32_t((i * 37 + salt * 101 + 11) % vocab));
    return t;
}

double std_of(const std::vector<float> &v) {
    double m = 0, s = 0;
    for (float x : v) m += x;
    m /= double(v.size());
    for (float x : v) s += (x - m) * (x - m);
    return std::sqrt(s / double(v.size()));
}

// Greedy tokens from a session whose last eval left `logits`.
Trace greedy_from(Session &session, std::vector<float> logits, int64_t max_tokens) {
    const int64_t V = int64_t(logits.size());
    Trace t;
    for (int64_t i = 0; i < max_tokens; i++) {
        int32_t best = 0;
        for (int64_t v = 1; v < V; v++)
            if (logits[size_t(v)] > logits[size_t(best)]) best = int32_t(v);
        t.logits.push_back(logits);
        t.tokens.push_back(best);
        if (i + 1 < max_tokens) session.eval(&best, 1, logits.data(), false);
    }
    return t;
}

// One sequence alone, greedily, through a session.
Trace single_stream(const Model &model, const std::vector<int32_t> &prompt, int64_t max_tokens) {
    Session session(model, 0);
    std::vector<float> logits(static_cast<size_t>(model.config().vocab_size));
    session.eval(prompt.data(), int64_t(prompt.size()), logits.data(), false);
    return greedy_from(session, std::move(logits), max_tokens);
}

// A chat's next turn alone, as one session continues it: the first
// prompt read, its answer generated token by token (so those positions
// come from decode's math, as a cached answer's do), then the answer's
// last token, never evaluated, and the new tokens read as one prompt.
// Where prefill's math is not decode's (bf16-dot, int8-dot), reading the
// whole conversation as one prompt instead differs by as much as the two
// maths do (~1e-2 x std), far beyond batch invariance.
Trace next_turn_alone(const Model &model, const std::vector<int32_t> &first, const std::vector<int32_t> &answer,
                      const std::vector<int32_t> &more, int64_t max_tokens) {
    Session session(model, 0);
    std::vector<float> logits(static_cast<size_t>(model.config().vocab_size));
    session.eval(first.data(), int64_t(first.size()), logits.data(), false);
    for (size_t i = 0; i + 1 < answer.size(); i++) session.eval(&answer[i], 1, logits.data(), false);
    std::vector<int32_t> rest = {answer.back()};
    rest.insert(rest.end(), more.begin(), more.end());
    session.eval(rest.data(), int64_t(rest.size()), logits.data(), false);
    return greedy_from(session, std::move(logits), max_tokens);
}

struct Plan {
    int64_t max_batch;
    int join_at_step = -1;    // the last sequence is added at this step (-1: with the others)
    int cancel_at_step = -1;  // sequence 1 is cancelled at this step
};

// Runs every prompt through one engine; returns each sequence's trace.
std::vector<Trace> batched(const Model &model, const std::vector<std::vector<int32_t>> &prompts,
                           const std::vector<int64_t> &max_tokens, const Plan &plan, int64_t *max_running) {
    BatchOptions opts;
    opts.max_batch = plan.max_batch;
    opts.max_context = 128;
    opts.step_tokens = std::min<int64_t>(model.object().manifest().prefill_max_tokens, 24);
    BatchEngine engine(model, opts);
    engine.keep_logits(true);
    std::map<uint64_t, size_t> index;
    auto add = [&](size_t i) {
        SequenceSettings s;
        s.sampling.do_sample = false;
        s.max_tokens = max_tokens[i];
        index[engine.add(prompts[i], s)] = i;
    };
    const size_t joining = plan.join_at_step >= 0 ? prompts.size() - 1 : prompts.size();
    for (size_t i = 0; i < joining; i++) add(i);
    std::vector<Trace> traces(prompts.size());
    *max_running = 0;
    for (int step = 0; step < 1000 && !(engine.idle() && step > plan.join_at_step); step++) {
        if (step == plan.join_at_step) add(prompts.size() - 1);
        if (step == plan.cancel_at_step) {
            for (const auto &[id, i] : index)
                if (i == 1) REQUIRE(engine.cancel(id));
        }
        const std::vector<StepEvent> events = engine.step();
        // Sequences in this step: each decode, and the one prefilling.
        *max_running = std::max<int64_t>(*max_running, engine.last_decode_tokens() + (engine.last_prefill_tokens() > 0));
        for (const StepEvent &e : events) {
            Trace &t = traces[index.at(e.id)];
            const std::vector<float> *l = engine.last_logits(e.id);
            t.logits.push_back(l ? *l : t.logits.back());  // a finished sequence has left; see below
            t.tokens.push_back(e.token);
            t.finish = e.finish;
        }
    }
    REQUIRE(engine.idle());
    return traces;
}

}  // namespace

TEST_CASE("a sequence's logits and tokens in any batch are its single stream's and the reference's") {
    const std::string dir = env("QWENC_TEST_WEIGHTS");
    Model model(env("QWENC_TEST_MODEL"), dir, {});
    const int64_t V = model.config().vocab_size;
    // Lengths around the step (24 tokens, or the object's prefill chunk if smaller).
    const std::vector<int> lengths = {3, 30, 1, 47, 9, 25, 5, 17};
    const std::vector<int64_t> max_tokens = {6, 4, 9, 5, 7, 3, 8, 6};
    std::vector<std::vector<int32_t>> prompts;
    for (size_t i = 0; i < lengths.size(); i++) prompts.push_back(prompt_of(V, lengths[i], int(i)));
    std::vector<Trace> alone;
    for (size_t i = 0; i < prompts.size(); i++) alone.push_back(single_stream(model, prompts[i], max_tokens[i]));
    // A bf16 or f16 cache keeps 8 or 11 bits of each key and value: where a
    // batch sums in another order (other chunk borders, AVX-512's 16-lane
    // tiles), a last-bit difference of f32 K can round to a neighbouring
    // bf16 or f16, which the logits show at ~1.5e-4 x std (f16 seen on
    // AVX-512 only); an f32 cache stays within 1e-4.
    // int16-dot (int8 weights' decode on x86) quantizes each token's
    // activations per block (of up to 256 inputs): where a batch's sums
    // leave an activation a last bit off, its int16 can round to the
    // neighbouring level, which the logits show at up to ~2.2e-4 x std
    // (measured with blocks of 32); 5e-4 for it.
    const Manifest &manifest = model.object().manifest();
    const double invariance = manifest.kv_cache_dtype != DType::F32 ? 1e-3 : manifest.batch_math == MatMath::Int16Dot ? 5e-4 : 1e-4;

    for (const Plan &plan : {Plan{1}, Plan{3}, Plan{8, 4, 3}}) {
        INFO("max_batch " << plan.max_batch << ", a sequence joins at step " << plan.join_at_step << ", one leaves at "
                          << plan.cancel_at_step);
        int64_t most = 0;
        const std::vector<Trace> got = batched(model, prompts, max_tokens, plan, &most);
        CHECK(most <= plan.max_batch);
        if (plan.max_batch > 1) CHECK(most > 1);  // they did share steps
        for (size_t i = 0; i < prompts.size(); i++) {
            INFO("sequence " << i << " (prompt of " << lengths[i] << " tokens)");
            const Trace &a = alone[i], &b = got[i];
            if (int(i) == 1 && plan.cancel_at_step >= 0) {
                CHECK(b.tokens.size() < a.tokens.size());  // cut short, and right as far as it went
                CHECK(std::equal(b.tokens.begin(), b.tokens.end(), a.tokens.begin()));
                continue;
            }
            REQUIRE(b.tokens == a.tokens);
            CHECK(b.finish == Finish::Length);
            for (size_t k = 0; k + 1 < b.logits.size(); k++) {  // the last one's logits left with it
                const double tol = invariance * std_of(a.logits[k]);
                double worst = 0;
                for (size_t v = 0; v < size_t(V); v++) worst = std::max(worst, double(std::fabs(a.logits[k][v] - b.logits[k][v])));
                INFO("token " << k << ": max |diff| " << worst << ", tolerance " << tol);
                CHECK(worst <= tol);
            }
        }
    }

    // And the independent reference, for the sequences of the mixed run:
    // logits at every generated position, from the prompt and the tokens
    // the batch generated.
    int64_t most = 0;
    const std::vector<Trace> got = batched(model, prompts, max_tokens, Plan{8, 4, 3}, &most);
    for (size_t i : {size_t(0), size_t(3), size_t(7)}) {
        std::vector<int32_t> all = prompts[i];
        all.insert(all.end(), got[i].tokens.begin(), got[i].tokens.end() - 1);
        int64_t vocab = 0;
        // K and V rounded as the object's cache stores them (its manifest says how).
        const auto kv = qwen2_reference::kv_rounding_from_name(dtype_flag_name(model.object().manifest().kv_cache_dtype));
        const std::vector<double> ref = qwen2_reference::forward(dir, all, &vocab, kv);
        for (size_t k = 0; k + 1 < got[i].logits.size(); k++) {
            const size_t row = prompts[i].size() - 1 + k;
            std::vector<float> r(ref.begin() + int64_t(row) * vocab, ref.begin() + int64_t(row + 1) * vocab);
            // Prompts read in bf16-dot / int8-dot (the default prefill on
            // AVX512-BF16 hosts) are as close as those maths are (~3% of
            // the std here); f32 and int16-dot prefill (int8 weights on
            // other x86), 1e-3.
            const MatMath prefill = model.object().manifest().prefill_math;
            const double tol = (prefill == MatMath::F32 || prefill == MatMath::Int16Dot ? 1e-3 : 0.1) * std_of(r);
            double worst = 0;
            for (size_t v = 0; v < size_t(vocab); v++) worst = std::max(worst, std::fabs(double(r[v]) - got[i].logits[k][v]));
            INFO("sequence " << i << " token " << k << ": max |diff| from the reference " << worst << ", tolerance " << tol);
            CHECK(worst <= tol);
        }
    }
}

TEST_CASE("the KV pool: a sequence waits for room, and a finished one returns its range at once") {
    Model model(env("QWENC_TEST_MODEL"), env("QWENC_TEST_WEIGHTS"), {});
    BatchOptions opts;
    opts.max_batch = 4;
    opts.max_context = 64;
    opts.kv_cache_tokens = 40;  // room for two sequences of 20 positions, not three
    opts.step_tokens = 8;
    BatchEngine engine(model, opts);
    SequenceSettings s;
    s.sampling.do_sample = false;
    s.max_tokens = 11;  // 10 prompt + 11 - 1 = 20 positions
    const std::vector<int32_t> prompt = prompt_of(model.config().vocab_size, 10, 3);
    const uint64_t a = engine.add(prompt, s), b = engine.add(prompt, s), c = engine.add(prompt, s);
    engine.step();
    CHECK(engine.running() == 2);
    CHECK(engine.waiting() == 1);
    CHECK(engine.cancel(a));  // its range is free at once: c starts at the next step
    CHECK_FALSE(engine.cancel(a));
    engine.step();
    CHECK(engine.running() == 2);
    CHECK(engine.waiting() == 0);
    int steps = 0;
    while (!engine.idle() && steps++ < 100) engine.step();
    CHECK(engine.idle());
    CHECK_FALSE(engine.cancel(b));
    CHECK_FALSE(engine.cancel(c));
    // One that could never fit is refused when added, not left waiting.
    s.max_tokens = 40;
    CHECK_THROWS_WITH(engine.add(prompt, s), Catch::Contains("does not fit in the KV cache of 40"));
    CHECK_THROWS_WITH(engine.add({}, s), Catch::Contains("the prompt is empty"));
    CHECK_THROWS_WITH(engine.add({int32_t(model.config().vocab_size)}, s), Catch::Contains("outside the vocabulary"));
}

TEST_CASE("a bf16 or f16 KV pool takes half the bytes of an f32 one, and binds its ranges in that type") {
    Model model(env("QWENC_TEST_MODEL"), env("QWENC_TEST_WEIGHTS"), {});
    const ModelConfig &c = model.config();
    const KvPool f32(c, DType::F32, 40), bf16(c, DType::BF16, 40), f16(c, DType::F16, 40);
    CHECK(f32.bytes() == 2 * c.num_hidden_layers * 40 * c.kv_dim() * 4);
    CHECK(bf16.bytes() * 2 == f32.bytes());
    CHECK(f16.bytes() * 2 == f32.bytes());
    // Position 7 of a range from 10 is 17 positions of head_dim into the layer.
    const CacheView v = bf16.view(10);
    CHECK(v.k(1, 7) - v.k(1) == 7 * c.head_dim() * 2);
    CHECK(v.k(0) - bf16.view(0).k(0) == 10 * c.head_dim() * 2);
    HalideBuffer b;
    v.bind_v(b, 1, 0, 17);
    CHECK(b.get()->type.bits == 16);
    CHECK(b.get()->dim[1].extent == 17);
    CHECK(b.get()->dim[2].stride == 40 * c.head_dim());
    CHECK_THROWS(KvPool(c, DType::I8, 40));
}

namespace {

struct Run {
    std::vector<int32_t> tokens;
    std::vector<std::vector<float>> logits;
    int64_t cached = -1;    // cached_tokens of its events
    int64_t computed = 0;   // prompt tokens the engine read for it
};

// Runs one sequence to its end on `engine` (others may be running); greedy.
Run run_to_end(BatchEngine &engine, const std::vector<int32_t> &prompt, int64_t max_tokens) {
    SequenceSettings s;
    s.sampling.do_sample = false;
    s.max_tokens = max_tokens;
    const uint64_t id = engine.add(prompt, s);
    Run r;
    for (int step = 0; step < 1000; step++) {
        const std::vector<StepEvent> events = engine.step();
        r.computed += engine.last_prefill_tokens();
        for (const StepEvent &e : events) {
            if (e.id != id) continue;
            const std::vector<float> *l = engine.last_logits(id);
            r.logits.push_back(l ? *l : std::vector<float>());
            r.tokens.push_back(e.token);
            r.cached = e.cached_tokens;
            if (e.finish != Finish::None) return r;
        }
    }
    FAIL("the sequence did not finish");
    return r;
}

void check_like_alone(const Model &model, const Run &got, const Trace &alone, double invariance) {
    REQUIRE(got.tokens == alone.tokens);
    for (size_t k = 0; k + 1 < got.logits.size(); k++) {
        const double tol = invariance * std_of(alone.logits[k]);
        double worst = 0;
        for (size_t v = 0; v < size_t(model.config().vocab_size); v++)
            worst = std::max(worst, double(std::fabs(alone.logits[k][v] - got.logits[k][v])));
        INFO("token " << k << ": max |diff| " << worst << ", tolerance " << tol);
        CHECK(worst <= tol);
    }
}

}  // namespace

TEST_CASE("prefix caching: a prompt that starts with cached tokens reads only the rest, and generates as alone") {
    Model model(env("QWENC_TEST_MODEL"), env("QWENC_TEST_WEIGHTS"), {});
    const int64_t V = model.config().vocab_size;
    const Manifest &manifest = model.object().manifest();
    const double invariance = manifest.kv_cache_dtype != DType::F32 ? 1e-3 : manifest.batch_math == MatMath::Int16Dot ? 5e-4 : 1e-4;
    BatchOptions opts;
    opts.max_batch = 4;
    opts.max_context = 128;
    opts.step_tokens = std::min<int64_t>(manifest.prefill_max_tokens, 24);
    BatchEngine engine(model, opts);
    engine.keep_logits(true);

    // A conversation's next turn: the first turn's prompt and answer, then new tokens.
    const std::vector<int32_t> first = prompt_of(V, 20, 5);
    const Run one = run_to_end(engine, first, 6);
    CHECK(one.cached == 0);
    CHECK(one.computed == 20);
    CHECK(engine.retained() == 1);
    std::vector<int32_t> second = first;
    second.insert(second.end(), one.tokens.begin(), one.tokens.end());
    const std::vector<int32_t> more = prompt_of(V, 7, 9);
    second.insert(second.end(), more.begin(), more.end());
    const Run two = run_to_end(engine, second, 5);
    // Kept: the first prompt and the answer's tokens but its last (never evaluated).
    CHECK(two.cached == 25);
    CHECK(two.computed == int64_t(second.size()) - 25);
    check_like_alone(model, two, next_turn_alone(model, first, one.tokens, more, 5), invariance);

    // The same 12-token system prompt as a running sequence's: copied from its range.
    SequenceSettings s;
    s.sampling.do_sample = false;
    s.max_tokens = 30;
    const std::vector<int32_t> system = prompt_of(V, 12, 7);
    std::vector<int32_t> a = system, b = system;
    for (int32_t t : prompt_of(V, 4, 11)) a.push_back(t);
    for (int32_t t : prompt_of(V, 6, 13)) b.push_back(t);
    const uint64_t running = engine.add(a, s);
    for (bool read = false; !read;)  // until a has read its prompt (its first token)
        for (const StepEvent &e : engine.step()) read = read || e.id == running;
    const Run three = run_to_end(engine, b, 5);
    CHECK(three.cached == 12);
    check_like_alone(model, three, single_stream(model, b, 5), invariance);
    CHECK(engine.cancel(running));

    // Two added together with that system prompt: the second reads it from
    // the first's range, which has read it by then (prompts go one at a time).
    BatchEngine together(model, opts);
    together.keep_logits(true);
    std::vector<int32_t> c = system, d = system;
    for (int32_t t : prompt_of(V, 3, 15)) c.push_back(t);
    for (int32_t t : prompt_of(V, 5, 17)) d.push_back(t);
    together.add(c, s);
    const Run four = run_to_end(together, d, 5);
    CHECK(four.cached == 12);
    check_like_alone(model, four, single_stream(model, d, 5), invariance);

    // Without it, every prompt token is read and nothing is kept.
    BatchOptions off = opts;
    off.prefix_caching = false;
    BatchEngine plain(model, off);
    run_to_end(plain, first, 6);
    const Run again = run_to_end(plain, second, 5);
    CHECK(again.cached == 0);
    CHECK(again.computed == int64_t(second.size()));
    CHECK(plain.retained() == 0);
}

TEST_CASE("prefix caching: kept ranges give way, oldest first, to a sequence that needs the room") {
    Model model(env("QWENC_TEST_MODEL"), env("QWENC_TEST_WEIGHTS"), {});
    const int64_t V = model.config().vocab_size;
    BatchOptions opts;
    opts.max_batch = 2;
    opts.max_context = 64;
    opts.kv_cache_tokens = 40;  // two ranges of 20 positions
    opts.step_tokens = 8;
    BatchEngine engine(model, opts);
    const std::vector<int32_t> p1 = prompt_of(V, 10, 21), p2 = prompt_of(V, 10, 22), p3 = prompt_of(V, 10, 23);
    run_to_end(engine, p1, 11);
    run_to_end(engine, p2, 11);
    CHECK(engine.retained() == 2);  // the pool is all kept ranges
    // Unrelated: the oldest kept range (p1's) gives way.
    const Run r3 = run_to_end(engine, p3, 11);
    CHECK(r3.cached == 0);
    CHECK(engine.retained() == 2);
    // p2's range is still kept (p1's went): its prompt again finds it.
    std::vector<int32_t> p2b = p2;
    p2b.push_back(5);
    const Run r2 = run_to_end(engine, p2b, 10);
    CHECK(r2.cached == 10);
    // p1's went: read again in full.
    const Run r1 = run_to_end(engine, p1, 11);
    CHECK(r1.cached == 0);
    CHECK(r1.computed == 10);
}
