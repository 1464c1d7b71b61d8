// Each compiled stage, JIT-compiled with the schedule the host target gets,
// against the reference's plain loops: embed, qkv, attn_mlp and head, in
// their prefill and decode variants, with bf16 weights.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include <Halide.h>

#include "graph/weight_matrix.h"
#include "lower/pipelines.h"
#include "qwen2_reference.h"

using namespace qwenc;
namespace ref = qwen2_reference;
using Halide::Buffer;

namespace {

ModelConfig stage_config() {
    nlohmann::json j = {{"model_type", "qwen2"}, {"hidden_size", 48}, {"intermediate_size", 72}, {"num_attention_heads", 6},
                        {"num_key_value_heads", 2}, {"num_hidden_layers", 1}, {"vocab_size", 50},
                        {"max_position_embeddings", 128}, {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0}};
    return parse_model_config(j, "stage test");
}

std::mt19937 rng(1234);

// A weight matrix [out][in] as bf16 bits (dims (in, out)), as the pipelines
// receive it (packed uint32 pairs, dims (in / 2, out), over the same bytes),
// and as the doubles those bits stand for.
struct Bf16Matrix {
    Buffer<uint16_t> bits;
    ref::Tensor values;
    Buffer<uint32_t> packed() { return Buffer<uint32_t>(reinterpret_cast<uint32_t *>(bits.data()), bits.width() / 2, bits.height()); }
};
Bf16Matrix bf16_matrix(int64_t out, int64_t in) {
    std::uniform_real_distribution<float> u(-1.0f / std::sqrt(float(in)), 1.0f / std::sqrt(float(in)));
    Bf16Matrix m{Buffer<uint16_t>(int(in), int(out)), ref::Tensor(size_t(out * in))};
    for (int64_t o = 0; o < out; o++)
        for (int64_t i = 0; i < in; i++) {
            uint16_t b = float_to_bf16(u(rng));
            m.bits(int(i), int(o)) = b;
            m.values[size_t(o * in + i)] = bf16_to_float(b);
        }
    return m;
}

// A random f32 buffer and its values as doubles (flat, dim 0 fastest).
template <typename... Dims>
std::pair<Buffer<float>, ref::Tensor> random_f32(float lo, float hi, Dims... dims) {
    std::uniform_real_distribution<float> u(lo, hi);
    Buffer<float> b(dims...);
    ref::Tensor v;
    b.for_each_value([&](float &x) { x = u(rng); });
    for (size_t i = 0; i < b.number_of_elements(); i++) v.push_back(b.data()[i]);
    return {std::move(b), std::move(v)};
}

std::vector<double> column(const ref::Tensor &flat, int64_t rows, int64_t t) {
    return std::vector<double>(flat.begin() + t * rows, flat.begin() + (t + 1) * rows);
}

StagePipeline build(Stage s) {
    const Halide::Target target = Halide::get_jit_target_from_environment();
    auto schedule = schedule_for_target(target);
    return build_stage(s, stage_config(), DType::BF16, *schedule);
}

constexpr double kTol = 2e-5;

}  // namespace

namespace {
// f16 bits to f32 bits: the format's value (f16_to_float, models/dtype.h),
// and for NaNs, which that gives without their payload, the sign and
// payload carried over as a widening conversion does.
uint32_t f16_to_f32_bits(uint16_t h) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0) return uint32_t(h >> 15) << 31 | 0x7f800000u | uint32_t(h & 0x3ff) << 13;
    const float v = f16_to_float(h);
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    return bits;
}
}  // namespace

TEST_CASE("f16 weights widen to f32 exactly, every bit pattern, vectorized as decode runs it") {
    Halide::Func f("f16_widen");
    Halide::Var x("x");
    f(x) = Halide::reinterpret(Halide::UInt(32), f16_bits_to_f32(Halide::cast<uint16_t>(x)));
    f.vectorize(x, 8);
    Buffer<uint32_t> out = f.realize({65536});
    int wrong = 0;
    for (int h = 0; h < 65536; h++)
        if (out(h) != f16_to_f32_bits(uint16_t(h)) && wrong++ < 5) UNSCOPED_INFO("f16 bits " << h << ": got " << out(h) << ", want " << f16_to_f32_bits(uint16_t(h)));
    CHECK(wrong == 0);
}

TEST_CASE("embed stage gathers embedding rows") {
    const ModelConfig c = stage_config();
    StagePipeline sp = build(Stage::Embed);
    auto table = bf16_matrix(c.vocab_size, c.hidden_size);
    Buffer<int32_t> tokens(4);
    const int ids[4] = {0, 49, 7, 7};
    for (int i = 0; i < 4; i++) tokens(i) = ids[i];
    sp.buffers.at("tokens").set(tokens);
    sp.buffers.at("table").set(table.packed());
    Buffer<float> out(int(c.hidden_size), 4);
    sp.pipeline.realize(out);
    for (int t = 0; t < 4; t++)
        for (int h = 0; h < c.hidden_size; h++) REQUIRE(out(h, t) == float(table.values[size_t(ids[t] * c.hidden_size + h)]));
}

TEST_CASE("qkv stage: norm, biased projections and RoPE at each token's position") {
    const ModelConfig c = stage_config();
    const int64_t H = c.hidden_size, hd = c.head_dim(), nh = c.num_attention_heads, nkv = c.num_key_value_heads;
    for (Stage stage : {Stage::QkvPrefill, Stage::QkvDecode}) {
        const int T = stage == Stage::QkvDecode ? 1 : 5, pos0 = 9;
        INFO(stage_name(stage));
        StagePipeline sp = build(stage);
        auto [x, xv] = random_f32(-2, 2, int(H), T);
        auto [norm_w, norm_v] = random_f32(0.5, 1.5, int(H));
        auto wq = bf16_matrix(c.q_dim(), H), wk = bf16_matrix(c.kv_dim(), H), wv = bf16_matrix(c.kv_dim(), H);
        auto [bq, bqv] = random_f32(-0.5, 0.5, int(c.q_dim()));
        auto [bk, bkv] = random_f32(-0.5, 0.5, int(c.kv_dim()));
        auto [bv, bvv] = random_f32(-0.5, 0.5, int(c.kv_dim()));
        sp.buffers.at("x").set(x);
        sp.buffers.at("norm_w").set(norm_w);
        sp.buffers.at("wq").set(wq.packed());
        sp.buffers.at("wk").set(wk.packed());
        sp.buffers.at("wv").set(wv.packed());
        sp.buffers.at("bq").set(bq);
        sp.buffers.at("bk").set(bk);
        sp.buffers.at("bv").set(bv);
        // Prefill: each token at its own position, as a batched step's are
        // (several sequences'); decode: its one token at pos0.
        const std::vector<int> positions = {pos0, 3, 17, 0, 40};
        Buffer<int32_t> position_buffer(T);
        for (int t = 0; t < T; t++) position_buffer(t) = positions[size_t(t)];
        if (stage == Stage::QkvPrefill) sp.buffers.at("positions").set(position_buffer);
        else sp.scalars.at("pos0").set(pos0);
        Buffer<float> q(int(hd), int(nh), T), k(int(hd), T, int(nkv)), v(int(hd), T, int(nkv));
        sp.pipeline.realize({q, k, v});
        for (int t = 0; t < T; t++) {
            auto n = ref::rms_norm(column(xv, H, t), norm_v, c.rms_norm_eps);
            auto rq = ref::matvec(wq.values, n, size_t(c.q_dim()), &bqv);
            auto rk = ref::matvec(wk.values, n, size_t(c.kv_dim()), &bkv);
            auto rv = ref::matvec(wv.values, n, size_t(c.kv_dim()), &bvv);
            const int pos = positions[size_t(t)];
            for (int64_t h = 0; h < nh; h++) ref::rope(&rq[size_t(h * hd)], hd, pos, c.rope_theta);
            for (int64_t g = 0; g < nkv; g++) ref::rope(&rk[size_t(g * hd)], hd, pos, c.rope_theta);
            for (int64_t h = 0; h < nh; h++)
                for (int64_t d = 0; d < hd; d++) REQUIRE(std::abs(q(int(d), int(h), t) - rq[size_t(h * hd + d)]) < kTol);
            for (int64_t g = 0; g < nkv; g++)
                for (int64_t d = 0; d < hd; d++) {
                    REQUIRE(std::abs(k(int(d), t, int(g)) - rk[size_t(g * hd + d)]) < kTol);
                    REQUIRE(std::abs(v(int(d), t, int(g)) - rv[size_t(g * hd + d)]) < kTol);
                }
        }
    }
}

TEST_CASE("attn_mlp stage: causal GQA over the cache, o_proj, SwiGLU, residuals") {
    const ModelConfig c = stage_config();
    const int64_t H = c.hidden_size, hd = c.head_dim(), nh = c.num_attention_heads, nkv = c.num_key_value_heads;
    const int64_t I = c.intermediate_size;
    for (Stage stage : {Stage::AttnMlpPrefill, Stage::AttnMlpDecode}) {
        const int T = stage == Stage::AttnMlpDecode ? 1 : 4, pos0 = 6, n_keys = pos0 + T;
        INFO(stage_name(stage));
        StagePipeline sp = build(stage);
        auto [x, xv] = random_f32(-2, 2, int(H), T);
        auto [q, qv] = random_f32(-2, 2, int(hd), int(nh), T);
        auto [kc, kv] = random_f32(-2, 2, int(hd), n_keys, int(nkv));
        auto [vc, vv] = random_f32(-2, 2, int(hd), n_keys, int(nkv));
        auto [post_w, post_v] = random_f32(0.5, 1.5, int(H));
        auto wo = bf16_matrix(H, c.q_dim()), gate = bf16_matrix(I, H), up = bf16_matrix(I, H), down = bf16_matrix(H, I);
        sp.buffers.at("x").set(x);
        sp.buffers.at("q").set(q);
        sp.buffers.at("k_cache").set(kc);
        sp.buffers.at("v_cache").set(vc);
        sp.buffers.at("post_norm_w").set(post_w);
        sp.buffers.at("wo").set(wo.packed());
        sp.buffers.at("w_gate").set(gate.packed());
        sp.buffers.at("w_up").set(up.packed());
        sp.buffers.at("w_down").set(down.packed());
        sp.scalars.at("pos0").set(pos0);
        Buffer<float> out(int(H), T);
        sp.pipeline.realize(out);
        for (int t = 0; t < T; t++) {
            std::vector<double> attn;
            for (int64_t h = 0; h < nh; h++) {
                const int64_t g = h / c.group_size();
                auto key = [&](int64_t j) { return &kv[size_t((g * n_keys + j) * hd)]; };
                auto val = [&](int64_t j) { return &vv[size_t((g * n_keys + j) * hd)]; };
                auto r = ref::attend(&qv[size_t((t * nh + h) * hd)], hd, pos0 + t + 1, key, val);
                attn.insert(attn.end(), r.begin(), r.end());
            }
            auto x1 = column(xv, H, t);
            auto o = ref::matvec(wo.values, attn, size_t(H));
            for (int64_t i = 0; i < H; i++) x1[size_t(i)] += o[size_t(i)];
            auto n = ref::rms_norm(x1, post_v, c.rms_norm_eps);
            auto gv = ref::matvec(gate.values, n, size_t(I)), uv = ref::matvec(up.values, n, size_t(I));
            for (int64_t i = 0; i < I; i++) gv[size_t(i)] = ref::silu(gv[size_t(i)]) * uv[size_t(i)];
            auto dv = ref::matvec(down.values, gv, size_t(H));
            for (int64_t i = 0; i < H; i++) REQUIRE(std::abs(out(int(i), t) - (x1[size_t(i)] + dv[size_t(i)])) < 1e-4);
        }
    }
}

TEST_CASE("head stage: final norm and lm_head") {
    const ModelConfig c = stage_config();
    const int64_t H = c.hidden_size, V = c.vocab_size;
    for (Stage stage : {Stage::HeadPrefill, Stage::HeadDecode}) {
        const int T = stage == Stage::HeadDecode ? 1 : 3;
        INFO(stage_name(stage));
        StagePipeline sp = build(stage);
        auto [x, xv] = random_f32(-3, 3, int(H), T);
        auto [norm_w, norm_v] = random_f32(0.5, 1.5, int(H));
        auto head = bf16_matrix(V, H);
        sp.buffers.at("x").set(x);
        sp.buffers.at("norm_w").set(norm_w);
        sp.buffers.at("lm_head").set(head.packed());
        Buffer<float> logits(int(V), T);
        sp.pipeline.realize(logits);
        for (int t = 0; t < T; t++) {
            auto r = ref::matvec(head.values, ref::rms_norm(column(xv, H, t), norm_v, c.rms_norm_eps), size_t(V));
            for (int64_t i = 0; i < V; i++) REQUIRE(std::abs(logits(int(i), t) - r[size_t(i)]) < kTol);
        }
    }
}
