#include "forward.h"

#include <utility>

namespace qwenc {

void ForwardScratch::reserve(const ModelConfig &c, int64_t tokens) {
    x_a.resize(size_t(tokens * c.hidden_size));
    x_b.resize(size_t(tokens * c.hidden_size));
    q.resize(size_t(tokens * c.q_dim()));
}

void forward_chunk(const Model &model, const CacheView &cache, int64_t pos, const int32_t *tokens, int64_t T,
                   ForwardScratch &scratch, float *logits, int64_t logit_rows, bool in_prompt) {
    const ModelConfig &c = model.config();
    const int64_t H = c.hidden_size, hd = c.head_dim();
    const bool decode = T == 1 && !in_prompt;
    int32_t pos0 = int32_t(pos);
    std::vector<float> &x_a = scratch.x_a, &x_b = scratch.x_b;

    HalideBuffer tok, xa, xb, q, k_new, v_new, k_all, v_all;
    tok.reset(const_cast<int32_t *>(tokens), kI32, {{T, 1}});
    xa.reset(x_a.data(), kF32, {{H, 1}, {T, H}});
    xb.reset(x_b.data(), kF32, {{H, 1}, {T, H}});
    q.reset(scratch.q.data(), kF32, {{hd, 1}, {c.num_attention_heads, hd}, {T, c.q_dim()}});
    model.run(Stage::Embed, -1, {{"tokens", tok.get()}, {"x_out", xa.get()}});
    // qkv_prefill takes each token's position (a batched step's tokens are
    // several sequences'); one sequence's follow each other.
    std::vector<int32_t> position_list(static_cast<size_t>(T));
    for (int64_t i = 0; i < T; i++) position_list[size_t(i)] = int32_t(pos + i);
    HalideBuffer positions;
    positions.reset(position_list.data(), kI32, {{T, 1}});

    for (int64_t l = 0; l < c.num_hidden_layers; l++) {
        cache.bind_k(k_new, l, pos, T);
        cache.bind_v(v_new, l, pos, T);
        model.run(decode ? Stage::QkvDecode : Stage::QkvPrefill, l,
                  {{"x", xa.get()}, {"pos0", &pos0}, {"positions", positions.get()}, {"q_out", q.get()},
                   {"k_out", k_new.get()}, {"v_out", v_new.get()}});
        cache.bind_k(k_all, l, 0, pos + T);
        cache.bind_v(v_all, l, 0, pos + T);
        model.run(decode ? Stage::AttnMlpDecode : Stage::AttnMlpPrefill, l,
                  {{"x", xa.get()}, {"q", q.get()}, {"k_cache", k_all.get()}, {"v_cache", v_all.get()}, {"pos0", &pos0},
                   {"x_out", xb.get()}});
        std::swap(x_a, x_b);
        xa.reset(x_a.data(), kF32, {{H, 1}, {T, H}});
        xb.reset(x_b.data(), kF32, {{H, 1}, {T, H}});
    }
    // Only the rows asked for go through the head: for generation just the last.
    if (logits) forward_head(model, x_a.data() + (T - logit_rows) * H, logit_rows, logits);
}

void forward_head(const Model &model, float *x, int64_t rows, float *logits, Stage rows_stage) {
    const ModelConfig &c = model.config();
    const int64_t H = c.hidden_size, V = c.vocab_size;
    HalideBuffer x_rows, out;
    x_rows.reset(x, kF32, {{H, 1}, {rows, H}});
    out.reset(logits, kF32, {{V, 1}, {rows, V}});
    model.run(rows == 1 ? Stage::HeadDecode : rows_stage, -1, {{"x", x_rows.get()}, {"logits", out.get()}});
}

}  // namespace qwenc
