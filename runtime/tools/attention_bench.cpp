// qwenc-attention-bench MODEL.so WEIGHTS [REPEATS]: the object's decode
// attention stage (attn_decode, layer 0) alone, over random f32 caches at
// depths 512, 2048 and 8192, rotating among copies that together exceed the
// last-level cache so that each call reads its cache from memory, as decode
// does. Prints the mean milliseconds a call and the cache bytes read per
// second. For comparing attention schedules; whole-model figures come from
// `qwenrun --bench`.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "stage_bench_model.h"

using namespace qwenc;

int main(int argc, char **argv) try {
    const std::unique_ptr<Model> loaded = load_stage_bench_model(argc, argv, "qwenc-attention-bench MODEL.so WEIGHTS [REPEATS]");
    if (!loaded) return 2;
    Model &model = *loaded;
    const ModelConfig &c = model.config();
    const DType kv = model.object().manifest().kv_cache_dtype;
    if (kv != DType::F32)
        throw std::runtime_error(std::string(argv[1]) + " keeps a " + dtype_flag_name(kv) +
                                 " KV cache; this bench fills f32 caches (compile with --kv-cache-dtype f32)");
    const int64_t hd = c.head_dim(), nh = c.num_attention_heads, kvh = c.num_key_value_heads;
    const int repeats = argc > 3 ? std::max(1, std::atoi(argv[3])) : 40;
    std::mt19937 rng(1);
    std::normal_distribution<float> normal;
    std::vector<float> q(size_t(hd * nh)), out(q.size());
    for (float &x : q) x = normal(rng);
    for (int64_t depth : {512L, 2048L, 8192L}) {
        const size_t elems = size_t(depth * hd * kvh);
        const int copies = int(std::max<int64_t>(2, (256LL << 20) / int64_t(2 * elems * sizeof(float))));
        std::vector<std::vector<float>> k(copies, std::vector<float>(elems)), v = k;
        for (auto *set : {&k, &v})
            for (auto &cache : *set)
                for (float &x : cache) x = normal(rng);
        HalideBuffer qb, ob, kb, vb;
        qb.reset(q.data(), kF32, {{hd, 1}, {nh, hd}, {1, c.q_dim()}});
        ob.reset(out.data(), kF32, {{hd, 1}, {nh, hd}, {1, c.q_dim()}});
        int32_t pos0 = int32_t(depth - 1);
        double total = 0;
        for (int r = 0; r < repeats; r++) {
            kb.reset(k[r % copies].data(), kF32, {{hd, 1}, {depth, hd}, {kvh, depth * hd}});
            vb.reset(v[r % copies].data(), kF32, {{hd, 1}, {depth, hd}, {kvh, depth * hd}});
            const auto t0 = std::chrono::steady_clock::now();
            model.run(Stage::AttnDecode, 0,
                      {{"q", qb.get()}, {"k_cache", kb.get()}, {"v_cache", vb.get()}, {"pos0", &pos0}, {"attn", ob.get()}});
            total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        }
        const double mean = total / repeats;
        std::printf("depth %5lld: %.3f ms a call, %.1f GB/s of cache\n", (long long)depth, mean * 1e3,
                    2.0 * double(elems) * sizeof(float) / mean / 1e9);
    }
    return 0;
} catch (const std::exception &e) {
    std::fprintf(stderr, "qwenc-attention-bench: error: %s\n", e.what());
    return 1;
}
