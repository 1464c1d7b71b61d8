// The Qwen2 building blocks as Halide Funcs, with no scheduling: the
// algorithm only. Each returns a struct naming the Funcs and reduction
// domains a schedule needs to reach.
//
// Conventions: activations are (feature, token) with feature innermost;
// per-head tensors are (dim, head, token).
#pragma once
#include <Halide.h>

#include "graph/weight_matrix.h"

namespace qwenc {

// Tokens per block of a bf16-dot product's staged input: the 16 f32 lanes
// of one vdpbf16ps (AVX512-BF16, the only targets bf16-dot compiles for).
constexpr int kBf16DotTokens = 16;
// Pairs per block of a bf16x2-dot product's staged input: the same 16 lanes.
constexpr int kBf16x2Pairs = 16;

struct Linear {
    Halide::Func out;  // out(o, t): the reduction, what schedules tile
    Halide::RDom r;    // r.x is the contiguous reduction dimension (over storage words)
    int64_t out_dim = 0;  // extent of o: tiles must not exceed it
    // With packed storage (bf16 pairs) the reduction runs over
    // words, and x_parts[k](j, ...) = x(j * pack + k, ...); empty otherwise.
    std::vector<Halide::Func> x_parts;
    // What consumers read: out itself, or for int8 bias + scale * out.
    Halide::Func result;
    bool scaled = false;
    // bf16 dot products: the input rounded to bf16 in pairs, in blocks of
    // kBf16DotTokens tokens, x_bf16(j, tl, p, tb) = x(2p + j, tb * 16 + tl)
    // (decode, with no token count: blocks of 1, x_bf16(j, 0, p, t));
    // the reduction runs over r.x = j (the pair) and r.y = p, on bf16 x bf16
    // products (defined only then).
    // bf16x2 dot products (decode): x = hi + lo in bf16s, in blocks of
    // kBf16x2Pairs pairs, x_bf16(j, pi, k, po, t) = part k of x(2p + j, t)
    // with p = po * 16 + pi, so that one block's hi pairs are one vector and
    // its lo pairs the next; the reduction runs over r.x = j, r.y = k and
    // r.z = p.
    Halide::Func x_bf16;
    // The weight matrix itself (bf16 and integer dot products), for
    // schedules that prefetch its rows.
    Halide::ImageParam weights;
    // Integer dot products of int8 weights, int8-dot and int16-dot (defined
    // only then): the input quantized per block of kIntDotBlock inputs; the
    // reduction runs over groups of 4 (int8-dot) or 2 (int16-dot) inputs.
    struct IntDot {
        Halide::Func amax;         // amax(b, t): largest |x| in block b
        Halide::Func block_scale;  // block_scale(b, t) = amax / 127 (int16: 32767)
        Halide::Func x_q;          // x_q(i, t): int8 or int16, x ~= x_q * block_scale
        Halide::Func offset;       // int8-dot: offset(t) = 128 * sum_i x_q * block_scale (see linear())
        // group(j, o, t): exact int32 dot product of one group of inputs with
        // row o (one lane of vpdpbusd, int8-dot's weights offset by 128 to
        // unsigned; or of vpdpwssd).
        Halide::Func group;
        Halide::RDom k;            // group's inputs
        // int16-dot on signed int8 dot products (sdot): x_q = 256 x_hi + x_lo,
        // both int8; group sums the products with x_hi, group_lo with x_lo.
        Halide::Func x_hi, x_lo, group_lo;
        // qwenc-int4's rows (see quant4_rows_int8_linear): group starts at
        // zero_sum(j, t) = -zero * (word j's inputs' x_q summed), so that the
        // 4-bit values' zero leaves each word's sum exactly.
        Halide::Func zero_sum;
        // ... and weight_scale(g, o), its groups' scales widened to f32, made
        // for a vector of groups at a time rather than once per word.
        Halide::Func weight_scale;
        int group_words = 0;  // words (r.x) per group of weight_scale
    } int_dot;
    bool int_dot_product() const { return int_dot.group.defined(); }
    // 4-bit projections (WeightMatrix::quant4; defined only then): the
    // reduction r runs over groups of inputs, and
    //   out(o, t) = bias(o) + sum_g scale(g, o) * (part(o, g, t) - zero(g, o) * x_sum(g, t)),
    // with part the group's products of x by the 4-bit values q, exact
    // small integers in f32, so a schedule unpacks each weight once.
    struct Quant4Parts {
        Halide::Func x;      // x(i, t): the input, staged (token-clamped in prefill)
        Halide::Func x_sum;  // x_sum(g, t): the sum of x over group g
        // The group's sums, by word: GPTQ part(o, g, t) over r.x, the input
        // within a word, and r.y, the word row; AWQ part(n, w, g, t) for the
        // output in nibble n of word column w, over r.x, the input.
        Halide::Func part;
        Halide::RDom k;
        Halide::Func x_by_nibble;  // GPTQ: x(i, t) / 16^(i % 8) (but i % 8 == 7), what part multiplies
        bool gptq = false;   // 8 consecutive inputs of one output share a word
        // int8-dot (quant4_int8_dot; see quant4_int8_linear): x quantized per
        // block, staged by nibble, and each block's int32 sums, over the
        // blocks of a group (blocks); k then runs over a word's bytes and
        // a block's word rows.
        Halide::Func amax, x_scale, x_q, x_lo, x_hi, block;
        Halide::RDom blocks;
        bool int8_dot() const { return block.defined(); }
    } quant4;
    bool quant4_product() const { return quant4.part.defined(); }
    bool bf16x2_dot() const { return x_bf16.defined() && x_bf16.dimensions() == 5; }
};

// result(o, t) = bias(o) + sum_i w(i, o) * x(i, t)
// n_tokens (prefill): the staged input copies (x_parts, x_bf16) read token
// min(t, n_tokens - 1), so a schedule may round token tiles up to a constant
// size (fixed-size, stack-allocated partial sums) without reading past x.
// staged: the input already staged for w's math (see staged_input), shared by
// the products that read the same x; made here when undefined.
Linear linear(const std::string &name, const WeightMatrix &w, Halide::Func x, Halide::Func bias = Halide::Func(),
              Halide::Expr n_tokens = Halide::Expr(), Halide::Func staged = Halide::Func());

// The input x staged once for several products of one math: for bf16-dot,
// x rounded to bf16 in pairs, for bf16x2-dot split in two (Linear::x_bf16);
// undefined for other maths,
// which read x itself.
Halide::Func staged_input(const std::string &name, Halide::Func x, MatMath math, Halide::Expr n_tokens = Halide::Expr());

// o_proj: result(o, t) = sum_{h, d} w(d + h * head_dim, o) * attn(d, h, t); the
// two-level reduction keeps the weight reads contiguous without div/mod.
Linear linear_over_heads(const std::string &name, const WeightMatrix &w, Halide::Func attn, int64_t head_dim,
                         int64_t n_heads, Halide::Expr n_tokens = Halide::Expr());

struct RmsNorm {
    Halide::Func sum_sq;  // sum_sq(t)
    Halide::Func out;     // out(h, t)
};
RmsNorm rms_norm(const std::string &name, Halide::Func x, Halide::Func weight, int64_t dim, double eps);

// RMSNorm over each head's head_dim values of x(d, head, t) (the qk_norm
// trait: Qwen3 normalizes q and k so, before RoPE).
struct HeadNorm {
    Halide::Func sum_sq;  // sum_sq(head, t)
    Halide::Func out;     // out(d, head, t)
};
HeadNorm head_rms_norm(const std::string &name, Halide::Func x, Halide::Func weight, int64_t head_dim, double eps);

struct RopeTables {
    Halide::Func cos, sin;  // (j, t) for j < head_dim / 2, at token t's position
};
// `position`: token t's position, an Expr in t (pos0 + t for one sequence's
// tokens, positions(t) for a batched step's). Angles are formed in double
// so long positions keep full f32 accuracy.
RopeTables rope_tables(const std::string &name, int64_t head_dim, double theta, Halide::Expr position);

// Rotate-half RoPE as transformers applies it, on x(d, head, t).
Halide::Func apply_rope(const std::string &name, Halide::Func x, const RopeTables &tables, int64_t head_dim);

// Causal grouped-query attention of q(d, h, t) (absolute position pos0 + t)
// over cached keys/values k(d, p, g), v(d, p, g), p < pos0 + n_tokens.
struct Attention {
    Halide::Func scores;    // (p, h, t)
    Halide::Func max_score; // (h, t)
    Halide::Func weights;   // (p, h, t): exp(score - max)
    Halide::Func denom;     // (h, t)
    Halide::Func sum_v;     // (d, h, t): unnormalized
    Halide::Func out;       // (d, h, t)
    // The key cache as scores read it, p clamped to the last key: a copy
    // that schedules may stage, or leave inlined. With key_block 1,
    // keys(d, p, g) = k(d, p, g); with key_block B > 1, in blocks of B
    // positions, keys(p % B, d, p / B, g) = k(d, p, g), so that a staged
    // copy holds a tile of B keys as one contiguous run (see attention()).
    //
    // With bf16_pairs (prefill under bf16-dot), both products run on
    // vdpbf16ps, in pairs: keys and queries rounded to bf16 in pairs of
    // head_dim, keys(j, kl, dp, kb, g) = bf16(k(2 dp + j, kb * B + kl, g)),
    // q_pairs(j, dp, h, t) likewise, r_dim over (j, dp); weights and values
    // in pairs of keys, weight_pairs(j, kp, h, t) = bf16(weights(2 kp + j,
    // h, t)), values(j, d, kp, g) = bf16(v(d, 2 kp + j, g)), r_pair over
    // (j, kp).
    Halide::Func keys;
    Halide::Func q_pairs, weight_pairs, values;
    int key_block = 1;
    bool bf16_pairs = false;
    int head_dim = 0;
    Halide::RDom r_pair;
    Halide::RDom r_dim, r_key;
    int group_size = 1;  // query heads per kv head
    // The value cache as sum_v reads it (v(d, p, g)), for schedules to stage.
    Halide::Func values_in;
};
// `math` is the stage's: prefill's products take bf16-dot's rounding with it
// (see bf16_pairs) where the keys come in blocks (key_block > 1).
Attention attention(Halide::Func q, Halide::Func k, Halide::Func v, int64_t head_dim, int64_t group_size,
                    Halide::Expr pos0, Halide::Expr n_tokens, int key_block = 1, MatMath math = MatMath::F32);

}  // namespace qwenc
