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
// `head_stride` floats apart. The sequence's position 0 is `offset` floats
// into each layer's K or V (a range of a shared pool; 0 for a session's own).
struct CacheView {
    float *base = nullptr;
    int64_t layer_floats = 0;  // floats of one layer's K (and of its V)
    int64_t head_stride = 0;
    int64_t offset = 0;
    float *k(int64_t layer) const { return base + (2 * layer) * layer_floats + offset; }
    float *v(int64_t layer) const { return base + (2 * layer + 1) * layer_floats + offset; }
};

// Evaluates tokens[0..T) at positions pos..pos+T (T at most the object's
// prefill chunk), writing their K and V into `cache`; with `logits`, the
// last `logit_rows` rows' logits ([rows, vocab]).
void forward_chunk(const Model &model, const CacheView &cache, int64_t pos, const int32_t *tokens, int64_t T,
                   ForwardScratch &scratch, float *logits, int64_t logit_rows);

// The head over `rows` rows of final hidden states x ([rows, hidden]).
void forward_head(const Model &model, float *x, int64_t rows, float *logits);

}  // namespace qwenc
