// qwenc-batch-stage-bench MODEL.so WEIGHTS [TOKENS] [REPEATS]: the object's
// batched-step products alone (qkv_batch and out_mlp over every layer, then
// head_batch) on TOKENS tokens of random activations (default 8), without
// attention, sampling or the engine around them. Prints each stage's
// milliseconds and operations a second for every repeat (default 3): where
// a batched step's time goes, and whether it scales with its tokens (one
// pass over the weights should cost about as much at 2 tokens as at the
// tile's width). For comparing schedules; whole-model figures come from
// `qwenrun --bench --bench-batch`.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <string>
#include <vector>

#include "stage_bench_model.h"

using namespace qwenc;

int main(int argc, char **argv) try {
    const std::unique_ptr<Model> loaded =
        load_stage_bench_model(argc, argv, "qwenc-batch-stage-bench MODEL.so WEIGHTS [TOKENS] [REPEATS]");
    if (!loaded) return 2;
    Model &model = *loaded;
    const ModelConfig &c = model.config();
    const int64_t most = model.object().manifest().prefill_max_tokens;
    const int64_t N = argc > 3 ? std::atoll(argv[3]) : 8;
    if (N < 2 || N > most)
        throw std::runtime_error("TOKENS must be 2 to " + std::to_string(most) + " (a step takes at most the object's prefill chunk), not " +
                                 std::string(argc > 3 ? argv[3] : ""));
    const int repeats = argc > 4 ? std::max(1, std::atoi(argv[4])) : 3;
    const int64_t H = c.hidden_size, hd = c.head_dim(), kvh = c.num_key_value_heads, nh = c.num_attention_heads,
                  V = c.vocab_size, L = c.num_hidden_layers;
    std::mt19937 rng(1);
    std::normal_distribution<float> normal;
    std::vector<float> x(size_t(N * H)), x_out(x.size()), q(size_t(N * c.q_dim())), attn(q.size()), logits(size_t(N * V));
    for (float &v : x) v = normal(rng);
    for (float &v : attn) v = normal(rng);
    std::vector<int32_t> positions(static_cast<size_t>(N));
    for (int64_t i = 0; i < N; i++) positions[size_t(i)] = int32_t(100 + i);
    // The new keys and values come out in the cache's own type.
    const halide_type_t kv_type = kv_cache_buffer_type(model.object().manifest().kv_cache_dtype);
    std::vector<uint8_t> k_new(size_t(N * hd * kvh) * kv_type.bytes()), v_new(k_new.size());
    HalideBuffer pos, xb, xo, qb, kb, vb, ab, lb;
    pos.reset(positions.data(), kI32, {{N, 1}});
    xb.reset(x.data(), kF32, {{H, 1}, {N, H}});
    xo.reset(x_out.data(), kF32, {{H, 1}, {N, H}});
    qb.reset(q.data(), kF32, {{hd, 1}, {nh, hd}, {N, c.q_dim()}});
    ab.reset(attn.data(), kF32, {{hd, 1}, {nh, hd}, {N, c.q_dim()}});
    kb.reset(k_new.data(), kv_type, {{hd, 1}, {N, hd}, {kvh, N * hd}});
    vb.reset(v_new.data(), kv_type, {{hd, 1}, {N, hd}, {kvh, N * hd}});
    lb.reset(logits.data(), kF32, {{V, 1}, {N, V}});
    // Multiply-adds of each stage, two operations each.
    const double ops_qkv = 2.0 * double(N * H) * double(c.q_dim() + 2 * hd * kvh) * double(L);
    const double ops_mlp = 2.0 * double(N) * (double(c.q_dim() * H) + 3.0 * double(H * c.intermediate_size)) * double(L);
    const double ops_head = 2.0 * double(N * H) * double(V);
    using clock = std::chrono::steady_clock;
    auto seconds = [](clock::time_point a, clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };
    for (int r = 0; r < repeats; r++) {
        double t_qkv = 0, t_mlp = 0;
        for (int64_t l = 0; l < L; l++) {
            const auto t0 = clock::now();
            model.run(Stage::QkvBatch, l,
                      {{"x", xb.get()}, {"positions", pos.get()}, {"q_out", qb.get()}, {"k_out", kb.get()}, {"v_out", vb.get()}});
            const auto t1 = clock::now();
            model.run(Stage::OutMlp, l, {{"x", xb.get()}, {"attn", ab.get()}, {"x_out", xo.get()}});
            t_qkv += seconds(t0, t1);
            t_mlp += seconds(t1, clock::now());
        }
        const auto t0 = clock::now();
        model.run(Stage::HeadBatch, -1, {{"x", xb.get()}, {"logits", lb.get()}});
        const double t_head = seconds(t0, clock::now()), total = t_qkv + t_mlp + t_head;
        std::printf("%lld tokens: qkv_batch %.1f ms (%.0f GOP/s), out_mlp %.1f ms (%.0f GOP/s), head_batch %.1f ms (%.0f GOP/s); "
                    "%.1f ms a step, %.1f tokens/s\n",
                    (long long)N, t_qkv * 1e3, ops_qkv / t_qkv / 1e9, t_mlp * 1e3, ops_mlp / t_mlp / 1e9, t_head * 1e3,
                    ops_head / t_head / 1e9, total * 1e3, double(N) / total);
    }
    return 0;
} catch (const std::exception &e) {
    std::fprintf(stderr, "qwenc-batch-stage-bench: error: %s\n", e.what());
    return 1;
}
