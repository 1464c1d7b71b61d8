// One sequence's tokens through the stages: embed, per layer qkv and
// attn_mlp over its KV cache, then the head for the rows asked for. A
// session runs its chunks so, and a batched engine a step that holds one
// sequence's tokens only.
#pragma once
#include <cstdint>
#include <vector>

#include "model.h"

namespace qwenc {

// One sequence's KV cache as the stages see it: per layer, K then V, each
// (head_dim, position, kv head) from position 0 with the kv heads
// `head_stride` elements apart, elements of `type` (f32, or bf16 / f16
// bits: Manifest::kv_cache_dtype). The sequence's position 0 is `offset`
// elements into each layer's K or V (a range of a shared pool; 0 for a
// session's own).
struct CacheView {
    uint8_t *base = nullptr;
    halide_type_t type{halide_type_float, 32, 1};
    int64_t layer_elems = 0;  // elements of one layer's K (and of its V)
    int64_t head_dim = 0, kv_heads = 0, head_stride = 0;
    int64_t offset = 0;
    // Layer `layer`'s K or V at the sequence's position `pos`, kv head 0.
    uint8_t *k(int64_t layer, int64_t pos = 0) const { return at(2 * layer, pos); }
    uint8_t *v(int64_t layer, int64_t pos = 0) const { return at(2 * layer + 1, pos); }
    // Positions [first, first + n) of layer `layer`'s K or V as a stage's buffer.
    void bind_k(HalideBuffer &b, int64_t layer, int64_t first, int64_t n) const { bind(b, k(layer, first), n); }
    void bind_v(HalideBuffer &b, int64_t layer, int64_t first, int64_t n) const { bind(b, v(layer, first), n); }

private:
    uint8_t *at(int64_t part, int64_t pos) const {
        return base + (part * layer_elems + offset + pos * head_dim) * type.bytes();
    }
    void bind(HalideBuffer &b, uint8_t *start, int64_t n) const {
        b.reset(start, type, {{head_dim, 1}, {n, head_dim}, {kv_heads, head_stride}});
    }
};

// Evaluates tokens[0..T) at positions pos..pos+T (T at most the object's
// prefill chunk), writing their K and V into `cache`; with `logits`, the
// last `logit_rows` rows' logits ([rows, vocab]). The tokens of a prompt
// (of more than one token) go through the prefill stages, in every chunk,
// even a last chunk of one token: where prefill's math is not decode's,
// each prompt token then computes the same however the prompt was cut.
// One token otherwise (a generated one) goes through the decode stages.
void forward_chunk(const Model &model, const CacheView &cache, int64_t pos, const int32_t *tokens, int64_t T,
                   ForwardScratch &scratch, float *logits, int64_t logit_rows, bool in_prompt);

// The head over `rows` rows of final hidden states x ([rows, hidden]): one
// row on head_decode, several on `rows_stage` (head_prefill for one
// sequence's, head_batch for a batched step's).
void forward_head(const Model &model, float *x, int64_t rows, float *logits, Stage rows_stage = Stage::HeadPrefill);

}  // namespace qwenc
