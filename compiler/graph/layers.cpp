#include "graph/layers.h"

#include <cmath>
#include <stdexcept>

namespace qwenc {

using namespace Halide;

namespace {
Var o("o"), t("t"), h("h"), d("d"), j("j"), p("p"), g("g");
}

namespace {

// Token t of a staged input copy: clamped to the last real token when the
// token count is given (see linear()).
Expr token_at(const Expr &i, const Expr &n_tokens) { return n_tokens.defined() ? min(i, n_tokens - 1) : i; }
Expr token(const Expr &n_tokens) { return token_at(t, n_tokens); }

// The de-interleaved inputs of packed storage: part k holds inputs j * pack + k.
std::vector<Func> input_parts(const std::string &name, Func x, int pack, bool per_head, const Expr &n_tokens) {
    std::vector<Func> parts;
    if (pack == 1) return parts;
    for (int k = 0; k < pack; k++) {
        Func f(name + "_x" + std::to_string(k));
        if (per_head) f(j, h, t) = x(j * pack + k, h, token(n_tokens));
        else f(j, t) = x(j * pack + k, token(n_tokens));
        parts.push_back(f);
    }
    return parts;
}

// The reduction's name: a scaled (int8) linear gives `name` to its result
// (what consumers read) and `name_sum` to the reduction before scaling.
std::string sum_name(const std::string &name, const WeightMatrix &w) { return w.has_scale() ? name + "_sum" : name; }

// Applies the int8 row scale (and the bias, which must come after it), and
// for int8 dot products first removes the weights' +128 offset.
void finish(Linear &l, const std::string &name, const WeightMatrix &w, Func bias) {
    if (!w.has_scale()) {
        l.result = l.out;
        return;
    }
    l.scaled = true;
    l.result = Func(name);
    Expr sum = l.int_dot.offset.defined() ? l.out(o, t) - l.int_dot.offset(t) : l.out(o, t);
    Expr v = sum * w.scale(o);
    l.result(o, t) = bias.defined() ? v + bias(o) : v;
}

// x(i, tok) quantized to `type` with one scale per block of kIntDotBlock
// inputs, as the integer dot products take it: amax(b, t) is block b's
// largest |x|, scale(b, t) = amax / levels, and x_q(i, t) in [-levels, levels].
struct BlockQuantized {
    Func amax, scale, x_q;
};
BlockQuantized quantize_blocks(const std::string &name, Func x, const Expr &tok, float levels, Type type,
                               int B = kIntDotBlock) {
    BlockQuantized q{Func(name + "_amax"), Func(name + "_block_scale"), Func(name + "_xq")};
    RDom rb(0, B, name + "_rb");
    q.amax(j, t) = 0.0f;
    q.amax(j, t) = max(q.amax(j, t), abs(x(j * B + rb, tok)));
    q.scale(j, t) = q.amax(j, t) / levels;
    const Expr amax = q.amax(j / B, t);
    q.x_q(j, t) = cast(type, clamp(round(x(j, tok) * select(amax > 0.0f, levels / amax, 0.0f)), -levels, levels));
    return q;
}

// Integer dot products of int8 weights. x is quantized with one scale per
// block of 32 inputs, and each lane sums a group of products exactly in
// int32 before the block scale applies:
// - int8-dot, as llama.cpp's Q8_0 x Q8_0: x to int8, groups of 4 (vpdpbusd,
//   ARM's sdot). ARM's sdot takes signed x signed bytes: the weights enter
//   as they are. vpdpbusd takes unsigned x signed bytes, so the weights enter as w + 128
//   (a sign-bit flip) and the sum carries an extra 128 * sum(x_q * scale),
//   one number per token:
//     out = sum_j group(j) * block_scale(j / 8) - offset = sum_i w_i * x_q_i * s_i.
//   A vector of 16 lanes takes its two blocks' scales as one 8-byte load and
//   a permute: a copy of the scale per lane would double what the input
//   takes in L1, and down_proj's (8960 inputs) would then no longer stay
//   there beside the weight stream.
// - int16-dot: x to int16, groups of 2 weights widened to int16 (vpdpwssd,
//   or vpmaddwd without VNNI); signed x signed, so no offset. Its blocks are
//   int16_block() inputs (256 where that divides the row), and each of a
//   block's lanes (one vector: WeightMatrix::int16_lanes) sums its pairs
//   over the whole block in int32 (steps of 2 x lanes inputs) before the
//   one conversion and FMA by the block's scale: a step costs the pair
//   products and an integer add, where a conversion and an FMA per vector
//   took as many multiply-pipe slots as the products (bench/HISTORY.md).
//   group(j, b, o, t) is lane j of block b, two dimensions so that a
//   vector of lanes indexes the inputs densely. A lane's sum stays far
//   inside int32: 2 x 127 x 32767 a pair, at most 16 pairs. Where the int8 dot
//   product is signed x signed (ARM's sdot), x_q splits into two int8
//   parts instead, x_q = 256 hi + lo, each a group-of-4 sdot.
Linear int_dot_linear(const std::string &name, const WeightMatrix &w, Func x, Func bias, const Expr &n_tokens) {
    const bool int16 = w.math() == MatMath::Int16Dot;
    const bool signed_bytes = w.int8_dot_signs() == Int8DotSigns::SignedBySigned;
    const bool split16 = int16 && signed_bytes;
    const int B = kIntDotBlock;
    const bool blocks16 = int16 && !split16;
    const int group = blocks16 ? 2 : 4;
    // split16's high byte, (x_q + 128) >> 8, must stay within int8.
    const float levels = split16 ? 32639.0f : int16 ? 32767.0f : 127.0f;
    const int n_in = int(w.in_dim());
    if (n_in % B != 0)
        throw std::invalid_argument("integer dot products need input dimensions divisible by " + std::to_string(B) + " (" + name +
                                    " has " + std::to_string(n_in) + ")");
    // int16-dot's blocks: x's scale blocks, and each lane's int32 sum.
    const int B16 = blocks16 ? int16_block(n_in) : B;
    const int L16 = w.int16_lanes(), steps16 = B16 / (group * L16);
    const int lane_inputs = blocks16 ? group * steps16 : group;
    Linear l{Func(sum_name(name, w)), RDom(0, n_in / lane_inputs, name + "_r"), w.out_dim(), {}};
    Linear::IntDot &q = l.int_dot;
    l.weights = w.param();
    const BlockQuantized xq = quantize_blocks(name, x, token(n_tokens), levels, int16 ? Int(16) : Int(8), B16);
    q.amax = xq.amax;
    q.block_scale = xq.scale;
    q.x_q = xq.x_q;
    q.group = Func(name + "_group");
    q.k = RDom(0, group, name + "_k");
    RDom ri(0, n_in, name + "_ri");
    Expr weight = cast<int16_t>(w.raw(group * j + q.k, o));
    if (signed_bytes) {
        weight = w.raw(group * j + q.k, o);  // sdot: int8 by int8, nothing to offset
    } else if (!int16) {
        q.offset = Func(name + "_offset");
        q.offset(t) = 0.0f;
        q.offset(t) += 128.0f * cast<float>(q.x_q(ri, t)) * q.block_scale(ri / B, t);
        weight = reinterpret(UInt(8), w.raw(group * j + q.k, o)) ^ cast<uint8_t>(0x80);
    }
    Expr group_sum;
    if (split16) {
        // x_q = 256 hi + lo with hi and lo int8 (lo in [-128, 127]): two
        // sdots per group, summed exactly in int32 (|256 hi-sum| < 2^25).
        q.x_hi = Func(name + "_xhi");
        q.x_lo = Func(name + "_xlo");
        q.x_hi(j, t) = cast<int8_t>((cast<int32_t>(q.x_q(j, t)) + 128) >> 8);
        q.x_lo(j, t) = cast<int8_t>(cast<int32_t>(q.x_q(j, t)) - cast<int32_t>(q.x_hi(j, t)) * 256);
        q.group_lo = Func(name + "_group_lo");
        q.group(j, o, t) = 0;
        q.group(j, o, t) += cast<int32_t>(weight) * cast<int32_t>(q.x_hi(group * j + q.k, t));
        q.group_lo(j, o, t) = 0;
        q.group_lo(j, o, t) += cast<int32_t>(weight) * cast<int32_t>(q.x_lo(group * j + q.k, t));
        group_sum = q.group(l.r.x, o, t) * 256 + q.group_lo(l.r.x, o, t);
    } else if (blocks16) {
        // Lane j of block b: its pair in each step of the block.
        const Var b("b");
        q.k = RDom(0, group, 0, steps16, name + "_k");
        const Expr i = b * B16 + q.k.y * (group * L16) + j * group + q.k.x;
        q.group(j, b, o, t) = 0;
        q.group(j, b, o, t) += cast<int32_t>(cast<int16_t>(w.raw(i, o))) * cast<int32_t>(q.x_q(i, t));
        group_sum = q.group(l.r.x % L16, l.r.x / L16, o, t);
    } else {
        q.group(j, o, t) = 0;
        q.group(j, o, t) += cast<int32_t>(weight) * cast<int32_t>(q.x_q(group * j + q.k, t));
        group_sum = q.group(l.r.x, o, t);
    }
    l.out(o, t) = 0.0f;
    const int lanes_per_block = blocks16 ? L16 : B / group;
    l.out(o, t) += cast<float>(group_sum) * q.block_scale(l.r.x / lanes_per_block, t);
    finish(l, name, w, bias);
    return l;
}

}  // namespace

namespace {
// Tokens per block of a bf16-dot staged input: kBf16DotTokens in prefill;
// 1 in decode (no token count), where a token's pairs are contiguous.
int bf16_block(const Expr &n_tokens) { return n_tokens.defined() ? kBf16DotTokens : 1; }
}  // namespace

Func staged_input(const std::string &name, Func x, MatMath math, Expr n_tokens) {
    if (math == MatMath::Bf16x2Dot) {
        // Decode's one token, or a batched step's few (tokens clamped, so
        // that tiles of tokens past the last read the last one).
        Func f(name + "_xsplit");
        Var pi("pi"), k("k"), po("po");
        const Expr v = x(2 * (po * kBf16x2Pairs + pi) + j, token(n_tokens));
        const Expr hi = cast(BFloat(16), v);
        f(j, pi, k, po, t) = select(k == 0, hi, cast(BFloat(16), v - cast<float>(hi)));
        return f;
    }
    if (math != MatMath::Bf16Dot) return Func();
    // The input in pairs, in blocks of kBf16DotTokens tokens:
    // x_bf16(j, tl, p, tb) = x(2p + j, tb * kBf16DotTokens + tl). One pair of
    // one token is the 32-bit operand of a bf16 dot-product lane; a block's
    // pairs for one p are one vector, and its pairs for p + 1 the next.
    Func f(name + "_xbf16");
    Var tl("tl"), tb("tb");
    const int B = bf16_block(n_tokens);
    f(j, tl, p, tb) = cast(BFloat(16), x(2 * p + j, token_at(tb * B + tl, n_tokens)));
    return f;
}

namespace {
// int8-dot's blocks of kIntDotBlock inputs must tile a 4-bit product's groups.
void check_int8_dot_groups(const std::string &name, int group) {
    if (group % kIntDotBlock != 0)
        throw std::invalid_argument("int8-dot needs 4-bit groups of a multiple of " + std::to_string(kIntDotBlock) +
                                    " inputs (" + name + " has " + std::to_string(group) + ")");
}

// GPTQ's and AWQ's int8-dot input: x staged, quantized per block (x_q,
// x_scale), and each group's sum of the dequantized x (x_sum), which the
// zero point multiplies.
void quantize_quant4_input(const std::string &name, Linear::Quant4Parts &q, Func x, int group, const Expr &n_tokens) {
    q.x = Func(name + "_x4");
    q.x(j, t) = x(j, token(n_tokens));
    const BlockQuantized xq = quantize_blocks(name, q.x, t, 127.0f, Int(8));
    q.amax = xq.amax;
    q.x_scale = xq.scale;
    q.x_q = xq.x_q;
    q.x_sum = Func(name + "_xsum");
    RDom in_group(0, group, name + "_rs");
    const Expr i = g * group + in_group;
    q.x_sum(g, t) = 0.0f;
    q.x_sum(g, t) += cast<float>(q.x_q(i, t)) * q.x_scale(i / kIntDotBlock, t);
}

// Two 4-bit values' products with int8 activations (a by x_a, b by x_b)
// added to f(args), in the form the target has an instruction for: where it
// has VNNI (int8_quad_dot), two updates, each one vpdpbusd a vector of
// words; elsewhere one sum of both, the only form the pmaddubsw pass
// (schedules/x86_maddubs.cpp) rewrites (written as two updates, the AVX2
// objects had no pmaddubsw: bench/HISTORY.md). a and b are uint8 nibbles
// as the pass knows them: v & 15 or v >> 4.
void add_nibble_products(Func f, const std::vector<Var> &args, const Expr &a, const Expr &x_a, const Expr &b, const Expr &x_b,
                         bool quad_dot) {
    const Expr lo = cast<int32_t>(a) * cast<int32_t>(x_a);
    const Expr hi = cast<int32_t>(b) * cast<int32_t>(x_b);
    if (quad_dot) {
        f(args) += lo;
        f(args) += hi;
    } else {
        f(args) += lo + hi;
    }
}
Expr low_nibble(const Expr &byte) { return byte & cast<uint8_t>(15); }
Expr high_nibble(const Expr &byte) { return byte >> cast<uint8_t>(4); }

// 4-bit group-quantized weights (see Linear::Quant4Parts): the zero point
// comes out of the inner loop as one product per group and output.
Linear quant4_linear(const std::string &name, const WeightMatrix &w, Func x, Func bias, const Expr &n_tokens) {
    const int G = int(w.quant4_group());
    Linear l{Func(name), RDom(0, int(w.in_dim() / G), name + "_rg"), w.out_dim(), {}};
    Linear::Quant4Parts &q = l.quant4;
    q.gptq = w.quant4_format().format == Quant4Format::Gptq;
    q.x = Func(name + "_x4");
    q.x(j, t) = x(j, token(n_tokens));
    q.x_sum = Func(name + "_xsum");
    RDom in_group(0, G, name + "_rs");
    q.x_sum(g, t) = 0.0f;
    q.x_sum(g, t) += q.x(g * G + in_group, t);
    q.part = Func(name + "_part");
    const RVar grp = l.r.x;
    Expr part;
    if (q.gptq) {
        const int P = kQuant4Pack;
        q.k = RDom(0, P, 0, G / P, name + "_rk");
        const Expr row = g * (G / P) + q.k.y;
        // Value n of a word masked in place is q * 16^n, exactly an int32
        // below 2^28 for n < 7; the input it multiplies comes divided by
        // 16^n (exact: a power of two), which saves a shift per value. The
        // eighth, in the sign bit's nibble, is shifted down instead.
        q.x_by_nibble = Func(name + "_xn");
        q.x_by_nibble(j, t) = select(j % P == P - 1, 1.0f, pow(2.0f, -4.0f * cast<float>(j % P))) * q.x(j, t);
        const Expr word = reinterpret(UInt(32), w.quant4_word(o, row));
        const Expr masked = select(q.k.x == P - 1, word >> uint32_t(28), word & (cast<uint32_t>(15) << cast<uint32_t>(4 * q.k.x)));
        q.part(o, g, t) = 0.0f;
        q.part(o, g, t) += cast<float>(reinterpret(Int(32), masked)) * q.x_by_nibble(row * P + q.k.x, t);
        part = q.part(o, grp, t);
    } else {
        Var n("n"), wc("wc");
        q.k = RDom(0, G, name + "_rk");
        const Expr row = g * G + q.k.x;
        q.part(n, wc, g, t) = 0.0f;
        q.part(n, wc, g, t) += cast<float>(WeightMatrix::quant4_nibble(w.quant4_word(wc, row), n)) * q.x(row, t);
        part = q.part(WeightMatrix::awq_nibble_of_output(o), o / kQuant4Pack, grp, t);
    }
    l.out(o, t) = bias.defined() ? Expr(bias(o)) : Expr(0.0f);
    l.out(o, t) += w.quant4_scale(grp, o) * (part - w.quant4_zero(grp, o) * q.x_sum(grp, t));
    l.result = l.out;
    return l;
}
}  // namespace

// 4-bit GPTQ-layout weights on int8 activations (quant4_int8_dot): x is
// quantized per block of kIntDotBlock inputs, x = x_scale(b) * x_q; a
// block's products of the 4-bit values by x_q sum exactly in int32
// (block), and
//   part(o, g) = sum over g's blocks b of x_scale(b) * block(o, b),
//   x_sum(g) = sum over g's inputs of the dequantized x,
// so out takes part and x_sum as quant4_linear's do. A qweight byte holds
// inputs 8 row + 2 b and 8 row + 2 b + 1, its low and high nibble: the
// activations are staged the same way, x_lo(b, row) and x_hi(b, row), so
// that a word's four bytes meet four of each: as two 4-byte dot products
// (vpdpbusd) where the target has one, else as pmaddubsw pairs (see
// schedules/x86_maddubs.cpp).
Linear quant4_int8_linear(const std::string &name, const WeightMatrix &w, Func x, Func bias, const Expr &n_tokens) {
    const int G = int(w.quant4_group()), B = kIntDotBlock, P = kQuant4Pack;
    check_int8_dot_groups(name, G);
    Linear l{Func(name), RDom(0, int(w.in_dim() / G), name + "_rg"), w.out_dim(), {}};
    Linear::Quant4Parts &q = l.quant4;
    q.gptq = true;
    quantize_quant4_input(name, q, x, G, n_tokens);
    Var b("b"), row("row");
    q.x_lo = Func(name + "_xlo");
    q.x_hi = Func(name + "_xhi");
    q.x_lo(b, row, t) = q.x_q(P * row + 2 * b, t);
    q.x_hi(b, row, t) = q.x_q(P * row + 2 * b + 1, t);
    // block(o, k, t): block k's products, over the bytes of a word (k.x) and its word rows (k.y).
    q.k = RDom(0, kQuant4WordBytes, 0, B / P, name + "_rk");
    const Expr wrow = j * (B / P) + q.k.y;
    const Expr byte = w.quant4_byte(o, q.k.x, wrow);
    q.block = Func(name + "_block");
    q.block(o, j, t) = 0;
    add_nibble_products(q.block, {o, j, t}, low_nibble(byte), q.x_lo(q.k.x, wrow, t), high_nibble(byte), q.x_hi(q.k.x, wrow, t),
                        w.int8_quad_dot());
    q.blocks = RDom(0, G / B, name + "_rbk");
    const Expr k = g * (G / B) + q.blocks;
    q.part = Func(name + "_part");
    q.part(o, g, t) = 0.0f;
    q.part(o, g, t) += q.x_scale(k, t) * cast<float>(q.block(o, k, t));
    l.out(o, t) = bias.defined() ? Expr(bias(o)) : Expr(0.0f);
    l.out(o, t) += w.quant4_scale(l.r.x, o) * (q.part(o, l.r.x, t) - w.quant4_zero(l.r.x, o) * q.x_sum(l.r.x, t));
    l.result = l.out;
    return l;
}

// 4-bit AWQ-layout weights on int8 activations (quant4_int8_dot), x
// quantized per block as for GPTQ's (quant4_int8_linear). AWQ packs a word
// along the outputs: a qweight byte holds two outputs of one input, so the
// blocks' sums run over the qweight's bytes as stored, and each output
// picks its own at the end:
//   block(c, n, j, t): byte column c's nibble n (0 low, 1 high) by block
//   j's inputs, exact in int32; each step two inputs four apart, a lane
//   each output's two products (pmaddubsw pairs on x86: see
//   schedules/x86_maddubs.cpp), four inputs side by side;
//   part(c, n, g, t): the blocks' sums by their scales, over group g;
// and output o is nibble awq_nibble_of_output(o) of its word (o / 8),
// byte column 4 (o / 8) + nibble / 2, nibble % 2 of that byte.
Linear quant4_awq_int8_linear(const std::string &name, const WeightMatrix &w, Func x, Func bias, const Expr &n_tokens) {
    const int G = int(w.quant4_group()), B = kIntDotBlock, P = kQuant4Pack, W = kQuant4WordBytes;
    check_int8_dot_groups(name, G);
    Linear l{Func(name), RDom(0, int(w.in_dim() / G), name + "_rg"), w.out_dim(), {}};
    Linear::Quant4Parts &q = l.quant4;
    quantize_quant4_input(name, q, x, G, n_tokens);
    Var c("c"), n("n");
    q.k = RDom(0, 4, 0, B / 8, name + "_rk");  // an input of four (k.x), by 8-input steps (k.y)
    const Expr row = j * B + 8 * q.k.y + q.k.x;
    const Expr shift = cast<uint8_t>(4 * n);  // a constant once the schedule unrolls n
    const Expr a = (w.quant4_awq_byte(c, row) >> shift) & cast<uint8_t>(15);
    const Expr b = (w.quant4_awq_byte(c, row + 4) >> shift) & cast<uint8_t>(15);
    q.block = Func(name + "_block");
    q.block(c, n, j, t) = 0;
    // One sum of both on every target: its lanes are outputs, which
    // vpdpbusd's 4-input words are not; x86 takes them on pmaddubsw.
    add_nibble_products(q.block, {c, n, j, t}, a, q.x_q(row, t), b, q.x_q(row + 4, t), false);
    q.blocks = RDom(0, G / B, name + "_rbk");
    const Expr k = g * (G / B) + q.blocks;
    q.part = Func(name + "_part");
    q.part(c, n, g, t) = 0.0f;
    q.part(c, n, g, t) += q.x_scale(k, t) * cast<float>(q.block(c, n, k, t));
    const Expr nib = WeightMatrix::awq_nibble_of_output(o);
    const Expr part = q.part(W * (o / P) + nib / 2, nib % 2, l.r.x, t);
    l.out(o, t) = bias.defined() ? Expr(bias(o)) : Expr(0.0f);
    l.out(o, t) += w.quant4_scale(l.r.x, o) * (part - w.quant4_zero(l.r.x, o) * q.x_sum(l.r.x, t));
    l.result = l.out;
    return l;
}

namespace {
// qwenc-int4's rows in f32: a packed matrix of 8 inputs a word (x_parts;
// lane() is q - zero), each word's sum by its group's scale.
Linear quant4_rows_linear(const std::string &name, const WeightMatrix &w, Func x, Func bias, const Expr &n_tokens) {
    const int P = kQuant4Pack, G = int(w.quant4_group());
    Linear l{Func(name), RDom(0, int(w.in_dim() / P), name + "_r"), w.out_dim(), input_parts(name, x, P, false, n_tokens)};
    l.out(o, t) = bias.defined() ? Expr(bias(o)) : Expr(0.0f);
    Expr sum = 0.0f;
    for (int k = 0; k < P; k++) sum += w.lane(k, l.r.x, o) * l.x_parts[size_t(k)](l.r.x, t);
    l.out(o, t) += w.quant4_scale(l.r.x / (G / P), o) * sum;
    l.result = l.out;
    return l;
}

// qwenc-int4's rows on int8 activations, as llama.cpp's Q4_0 x Q8_0: x
// quantized per block of kIntDotBlock inputs; group(w, o, t) is word w's 8
// products with q - zero, exact in int32: from zero_sum (the zero's
// share), its 4 bytes' low nibbles by the even inputs (x_lo), then their
// high nibbles by the odd ones (x_hi), each a 4-byte dot product of
// unsigned 4-bit values by int8 (one vpdpbusd lane; see
// add_nibble_products). A word's sum then takes its block's scale and its
// group's.
Linear quant4_rows_int8_linear(const std::string &name, const WeightMatrix &w, Func x, Func bias, const Expr &n_tokens) {
    const int G = int(w.quant4_group()), B = kIntDotBlock, P = kQuant4Pack, W = kQuant4WordBytes;
    check_int8_dot_groups(name, G);
    Linear l{Func(name), RDom(0, int(w.in_dim() / P), name + "_r"), w.out_dim(), {}};
    Linear::IntDot &q = l.int_dot;
    const BlockQuantized xq = quantize_blocks(name, x, token(n_tokens), 127.0f, Int(8));
    q.amax = xq.amax;
    q.block_scale = xq.scale;
    q.x_q = xq.x_q;
    q.x_lo = Func(name + "_xlo");
    q.x_hi = Func(name + "_xhi");
    q.x_lo(j, t) = q.x_q(2 * j, t);
    q.x_hi(j, t) = q.x_q(2 * j + 1, t);
    q.zero_sum = Func(name + "_zsum");
    RDom in_word(0, P, name + "_rw");
    q.zero_sum(j, t) = 0;
    q.zero_sum(j, t) -= kQuant4RowsZero * cast<int32_t>(q.x_q(P * j + in_word, t));
    l.out(o, t) = bias.defined() ? Expr(bias(o)) : Expr(0.0f);
    q.k = RDom(0, W, name + "_k");
    const Expr b = W * j + q.k;
    const Expr byte = w.quant4_row_byte(b, o);
    q.group = Func(name + "_group");
    q.group(j, o, t) = q.zero_sum(j, t);
    add_nibble_products(q.group, {j, o, t}, low_nibble(byte), q.x_lo(b, t), high_nibble(byte), q.x_hi(b, t), w.int8_quad_dot());
    q.weight_scale = Func(name + "_wscale");
    q.weight_scale(g, o) = w.quant4_scale(g, o);
    q.group_words = G / P;
    l.out(o, t) += cast<float>(q.group(l.r.x, o, t)) * q.block_scale(l.r.x / (B / P), t) * q.weight_scale(l.r.x / (G / P), o);
    l.result = l.out;
    return l;
}
}  // namespace

Linear linear(const std::string &name, const WeightMatrix &w, Func x, Func bias, Expr n_tokens, Func staged) {
    if (w.quant4_rows())
        return w.math() == MatMath::Int8Dot ? quant4_rows_int8_linear(name, w, x, bias, n_tokens)
                                            : quant4_rows_linear(name, w, x, bias, n_tokens);
    if (w.quant4() && w.math() == MatMath::Int8Dot)
        return w.quant4_format().format == Quant4Format::Awq ? quant4_awq_int8_linear(name, w, x, bias, n_tokens)
                                                             : quant4_int8_linear(name, w, x, bias, n_tokens);
    if (w.quant4()) return quant4_linear(name, w, x, bias, n_tokens);
    if (w.math() == MatMath::Int8Dot || w.math() == MatMath::Int16Dot) return int_dot_linear(name, w, x, bias, n_tokens);
    if (w.math() == MatMath::Bf16x2Dot) {
        Linear l{Func(name), RDom(0, 2, 0, 2, 0, int(w.in_dim() / 2), name + "_r"), w.out_dim(), {}};
        l.x_bf16 = staged.defined() ? staged : staged_input(name, x, w.math(), n_tokens);
        l.weights = w.param();
        l.out(o, t) = bias.defined() ? Expr(bias(o)) : Expr(0.0f);
        const Expr step = l.r.z;
        l.out(o, t) += cast<float>(w.raw(2 * step + l.r.x, o)) *
                       cast<float>(l.x_bf16(l.r.x, step % kBf16x2Pairs, l.r.y, step / kBf16x2Pairs, t));
        l.result = l.out;
        return l;
    }
    if (w.math() == MatMath::Bf16Dot) {
        Linear l{Func(name), RDom(0, 2, 0, int(w.in_dim() / 2), name + "_r"), w.out_dim(), {}};
        l.x_bf16 = staged.defined() ? staged : staged_input(name, x, w.math(), n_tokens);
        l.weights = w.param();
        l.out(o, t) = bias.defined() ? Expr(bias(o)) : Expr(0.0f);
        const int B = bf16_block(n_tokens);
        l.out(o, t) += cast<float>(w.raw(2 * l.r.y + l.r.x, o)) * cast<float>(l.x_bf16(l.r.x, t % B, l.r.y, t / B));
        l.result = l.out;
        return l;
    }
    const int pack = w.pack();
    Linear l{Func(sum_name(name, w)), RDom(0, int(w.in_dim() / pack), name + "_r"), w.out_dim(),
             input_parts(name, x, pack, false, n_tokens)};
    // Without a scale the bias starts the sum; with one it is added after scaling.
    l.out(o, t) = bias.defined() && !w.has_scale() ? Expr(bias(o)) : Expr(0.0f);
    Expr sum = 0.0f;
    // Tokens clamped as the packed parts' are (input_parts), so that prefill
    // tiles of tokens past the last have fixed-size sums. The row scale
    // (int8) comes after the sum, in finish().
    if (pack == 1) sum = w.lane(0, l.r.x, o) * x(l.r.x, token(n_tokens));
    for (int k = 0; k < pack && pack > 1; k++) sum += w.lane(k, l.r.x, o) * l.x_parts[size_t(k)](l.r.x, t);
    l.out(o, t) += sum;
    finish(l, name, w, bias);
    return l;
}

Linear linear_over_heads(const std::string &name, const WeightMatrix &w, Func attn, int64_t head_dim, int64_t n_heads,
                         Expr n_tokens) {
    if (w.math() != MatMath::F32 || w.quant4()) {
        // The heads flattened into one input vector (the rounding Func reads it once).
        Func flat(name + "_flat");
        flat(j, t) = attn(j % int(head_dim), j / int(head_dim), t);
        return linear(name, w, flat, Func(), n_tokens);
    }
    const int pack = w.pack();
    if (head_dim % pack != 0) throw std::invalid_argument(name + ": head_dim must be divisible by " + std::to_string(pack));
    const int per_head = int(head_dim) / pack;
    Linear l{Func(sum_name(name, w)), RDom(0, per_head, 0, int(n_heads), name + "_r"), w.out_dim(),
             input_parts(name, attn, pack, true, n_tokens)};
    l.out(o, t) = 0.0f;
    Expr sum = 0.0f;
    if (pack == 1) sum = w.lane(0, l.r.x + l.r.y * int(head_dim), o) * attn(l.r.x, l.r.y, token(n_tokens));
    for (int k = 0; k < pack && pack > 1; k++)
        sum += w.lane(k, l.r.x + l.r.y * per_head, o) * l.x_parts[size_t(k)](l.r.x, l.r.y, t);
    l.out(o, t) += sum;
    finish(l, name, w, Func());
    return l;
}

RmsNorm rms_norm(const std::string &name, Func x, Func weight, int64_t dim, double eps) {
    RmsNorm n{Func(name + "_sum_sq"), Func(name)};
    RDom r(0, int(dim), name + "_r");
    n.sum_sq(t) = 0.0f;
    n.sum_sq(t) += x(r, t) * x(r, t);
    Expr inv_rms = 1.0f / sqrt(n.sum_sq(t) / float(dim) + float(eps));
    n.out(h, t) = x(h, t) * inv_rms * weight(h);
    return n;
}

HeadNorm head_rms_norm(const std::string &name, Func x, Func weight, int64_t head_dim, double eps) {
    HeadNorm n{Func(name + "_sum_sq"), Func(name)};
    RDom r(0, int(head_dim), name + "_r");
    n.sum_sq(h, t) = 0.0f;
    n.sum_sq(h, t) += x(r, h, t) * x(r, h, t);
    Expr inv_rms = 1.0f / sqrt(n.sum_sq(h, t) / float(head_dim) + float(eps));
    n.out(d, h, t) = x(d, h, t) * inv_rms * weight(d);
    return n;
}

RopeTables rope_tables(const std::string &name, int64_t head_dim, double theta, Expr position) {
    RopeTables r{Func(name + "_cos"), Func(name + "_sin")};
    // inv_freq(j) = theta^(-2j / head_dim)
    Expr inv_freq = exp(cast<double>(j) * Expr(-2.0 * std::log(theta) / double(head_dim)));
    Expr angle = cast<double>(position) * inv_freq;
    r.cos(j, t) = cast<float>(cos(angle));
    r.sin(j, t) = cast<float>(sin(angle));
    return r;
}

Func apply_rope(const std::string &name, Func x, const RopeTables &tables, int64_t head_dim) {
    const int half = int(head_dim / 2);
    Func f(name);
    // First half: x*cos - x[d+half]*sin; second half: x*cos + x[d-half]*sin.
    // The clamps keep bounds inference inside [0, head_dim).
    Expr jj = select(d < half, d, d - half);
    Expr partner = select(d < half, -x(min(d + half, int(head_dim) - 1), h, t), x(max(d - half, 0), h, t));
    f(d, h, t) = x(d, h, t) * tables.cos(jj, t) + partner * tables.sin(jj, t);
    return f;
}

Attention attention(Func q, Func k, Func v, int64_t head_dim, int64_t group_size, Expr pos0, Expr n_tokens, int key_block,
                     MatMath math) {
    Attention a{Func("scores"),  Func("max_score"), Func("attn_weights"),         Func("denom"),
                Func("sum_v"),   Func("attn"),      Func("keys"),                 Func("q_pairs"),
                Func("weight_pairs"), Func("values")};
    a.r_key = RDom(0, pos0 + n_tokens, "r_key");
    a.head_dim = int(head_dim);
    const float scale = float(1.0 / std::sqrt(double(head_dim)));
    Expr kv_head = h / int(group_size);
    const Expr last = pos0 + n_tokens - 1;
    // Clamped to the last key, so that schedules may compute whole tiles of
    // scores past it (those scores are never used).
    a.key_block = key_block;
    a.bf16_pairs = key_block > 1 && math == MatMath::Bf16Dot && head_dim % 2 == 0;
    a.scores(p, h, t) = 0.0f;
    if (key_block == 1) {
        a.r_dim = RDom(0, int(head_dim), "r_dim");
        a.keys(d, p, g) = k(d, min(p, last), g);
        a.scores(p, h, t) += q(a.r_dim, h, t) * a.keys(a.r_dim, p, kv_head);
    } else if (a.bf16_pairs) {
        // As bf16-dot prefill's products: on vdpbf16ps, half of f32's
        // instructions for the same scores, where long prompts spend their
        // time (bench/HISTORY.md, prefill attention on vdpbf16ps).
        Var kl("kl"), kb("kb"), dp("dp");
        a.r_dim = RDom(0, 2, 0, int(head_dim / 2), "r_dim");
        a.keys(j, kl, dp, kb, g) = cast(BFloat(16), k(2 * dp + j, min(kb * key_block + kl, last), g));
        a.q_pairs(j, dp, h, t) = cast(BFloat(16), q(2 * dp + j, h, t));
        a.scores(p, h, t) += cast<float>(a.q_pairs(a.r_dim.x, a.r_dim.y, h, t)) *
                             cast<float>(a.keys(a.r_dim.x, p % key_block, a.r_dim.y, p / key_block, kv_head));
    } else {
        // A staged tile of keys with positions alone contiguous took one
        // cache line from each of head_dim rows as long as the cache; at
        // 8192 positions prefill waited on those loads most of its time.
        Var kl("kl"), kb("kb");
        a.r_dim = RDom(0, int(head_dim), "r_dim");
        a.keys(kl, d, kb, g) = k(d, min(kb * key_block + kl, last), g);
        a.scores(p, h, t) += q(a.r_dim, h, t) * a.keys(p % key_block, a.r_dim, p / key_block, kv_head);
    }
    // Causal: query t sits at absolute position pos0 + t and sees keys p <= it.
    RDom rk = a.r_key;
    rk.where(rk <= pos0 + t);
    a.max_score(h, t) = Float(32).min();
    a.max_score(h, t) = max(a.max_score(h, t), a.scores(rk, h, t));
    a.weights(p, h, t) = exp((a.scores(p, h, t) - a.max_score(h, t)) * scale);
    a.denom(h, t) = 0.0f;
    a.denom(h, t) += a.weights(rk, h, t);
    a.sum_v(d, h, t) = 0.0f;
    if (a.bf16_pairs) {
        // Weights and values rounded to bf16 in pairs of keys, for
        // vdpbf16ps: lane d takes keys 2 kp and 2 kp + 1 in one step. A
        // pair whose second key is past the query's last has weight 0 there.
        Var kp("kp");
        RDom rp(0, 2, 0, (pos0 + n_tokens + 1) / 2, "r_pair");
        rp.where(2 * rp.y <= pos0 + t);
        a.weight_pairs(j, kp, h, t) = cast(BFloat(16), select(2 * kp + j <= pos0 + t, a.weights(2 * kp + j, h, t), 0.0f));
        a.values(j, d, kp, g) = cast(BFloat(16), v(d, min(2 * kp + j, last), g));
        a.sum_v(d, h, t) += cast<float>(a.weight_pairs(rp.x, rp.y, h, t)) * cast<float>(a.values(rp.x, d, rp.y, kv_head));
        a.r_pair = rp;
    } else {
        a.sum_v(d, h, t) += a.weights(rk, h, t) * v(d, rk, kv_head);
    }
    a.out(d, h, t) = a.sum_v(d, h, t) / a.denom(h, t);
    a.r_key = rk;
    a.group_size = int(group_size);
    a.values_in = v;
    return a;
}

}  // namespace qwenc
