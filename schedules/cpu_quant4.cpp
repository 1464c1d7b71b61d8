// 4-bit projections (GPTQ and AWQ layouts, see Linear::Quant4Parts): the
// 4-bit values are unpacked in registers by a shift and a mask per vector
// (GPTQ: a vector of words of consecutive outputs, eight inputs each; AWQ:
// one word's eight outputs, from a broadcast and a variable shift), and one
// multiply-add per vector takes one input, broadcast. The sums cover one
// group of inputs; the group's scale and zero then fold them into the
// output, outside the inner loop. Tasks are whole tiles from a multiple of
// 8 outputs, so every vector's words start on a word boundary.
#include "cpu_generic.h"

#include <algorithm>
#include <numeric>

namespace qwenc {

using namespace Halide;

namespace {
Var o("o"), t("t"), j("j"), g("g");

// The widest tile of at most `vectors` x `lanes` outputs (at least one
// 8-output word) that divides the product's outputs (a multiple of 8, which
// the config checks).
int quant4_tile(int vectors, int lanes, int64_t out_dim) {
    for (int tile = vectors * lanes; tile > 8; tile -= lanes)
        if (out_dim % tile == 0) return tile;
    return 8;
}

// Rows per task: whole tiles that divide the outputs, as near `tasks`
// tasks per product as they can be, and no fewer. No task or tile has a
// tail, so none computes a tile's sums past the last output (the sums'
// extent is fixed). Few wide tasks: a task reads each input row's words
// of its outputs as one sequential run, and one group's rows are that many
// runs side by side; with 128-output tasks (512-byte runs, one 35 KB row
// apart in gate_proj) 1.5B decoded at a fifth of the read bandwidth.
int quant4_task(int tasks, int tile, int64_t out_dim) {
    const int64_t tiles = out_dim / tile;
    for (int64_t n = std::min<int64_t>(tasks, tiles); n <= tiles; n++)
        if (tiles % n == 0) return int(tiles / n * tile);
    return tile;
}
// Decode tasks over a product's `groups` groups of inputs: the smallest
// even count of at least `wanted` that divides them (two threads then
// finish together), else any such count, else one per group.
int64_t quant4_k_tasks(int wanted, int64_t groups) {
    for (int64_t n = wanted; n <= groups; n++)
        if (groups % n == 0 && n % 2 == 0) return n;
    for (int64_t n = wanted; n <= groups; n++)
        if (groups % n == 0) return n;
    return groups;
}
// Outputs per decode chunk: the most, a multiple of 8 up to `most`, that
// divide the outputs, if at least a quarter of `most`; else all of them.
// Chunks must divide: a guarded last chunk still computes its group sums
// for a whole chunk, reading words past the last output. (Qwen2.5's
// 151936-token vocabulary, 2^7 x 1187, has no such divisor: its 4-bit
// lm_head's sums then span all outputs.)
int64_t quant4_chunk(int most, int64_t out_dim) {
    if (out_dim <= most) return out_dim;
    for (int64_t c = most / 8 * 8; c >= std::max(8, most / 4); c -= 8)
        if (out_dim % c == 0) return c;
    return out_dim;
}
// AWQ with int8-dot: byte columns per tile, the most, a multiple of 16 (a
// 128-bit lane of bytes, what the pmaddubsw pass pairs) up to `most`,
// that divide a chunk's `columns`; else 16 (guarded at the end).
int quant4_awq_columns(int most, int64_t columns) {
    for (int c = most / 16 * 16; c >= 16; c -= 16)
        if (columns % c == 0) return c;
    return 16;
}
}  // namespace

void CpuGenericSchedule::quant4_linear(Linear &l, Phase phase, Func root) {
    Func y = l.out;
    Linear::Quant4Parts &q = l.quant4;
    const bool decode = phase == Phase::Decode;
    const RVar grp = l.r.x;
    constexpr TailStrategy kGuard = TailStrategy::GuardWithIf;
    if (q.int8_dot() && !decode) throw std::logic_error("int8-dot with 4-bit weights is a decode math");
    // The staged input and its group sums: small, once per call.
    const bool per_token = prefill_tokens_in_parallel(phase);
    q.x.compute_root().vectorize(j, t_.vector, kGuard);
    if (q.int8_dot()) {  // quantized per block, and staged by nibble: once per call
        q.amax.compute_root();
        q.x_scale.compute_root();
        q.x_q.compute_root().vectorize(j, t_.vector, kGuard);
        if (q.x_lo.defined()) {  // GPTQ's
            q.x_lo.compute_root();
            q.x_hi.compute_root();
        }
    }
    q.x_sum.compute_root();
    if (q.x_by_nibble.defined()) {
        q.x_by_nibble.compute_root().vectorize(j, t_.vector, kGuard);
        if (per_token) q.x_by_nibble.parallel(t);
    }
    if (per_token) {
        q.x.parallel(t);
        q.x_sum.parallel(t);
        q.x_sum.update().parallel(t);
    } else {
        q.x_sum.update().unscheduled();  // a serial sum over a few tokens' inputs
    }
    const int vectors = decode ? t_.quant4_decode_vectors : t_.quant4_vectors;
    const int tile = quant4_tile(vectors, t_.vector, l.out_dim);
    const int task = quant4_task(t_.quant4_tasks, tile, l.out_dim);
    const int lanes = std::min(tile, t_.vector);
    const int tokens = decode ? 1 : t_.quant4_tokens;
    Var oo("oo"), oi("oi"), ot("ot"), ox("ox"), ov("ov"), ol("ol"), to("to"), ti("ti");
    // AWQ's sums: part(n, w, g, t), a vector of the 8 values of one word
    // (one variable shift unpacks them from a broadcast of it).
    const Var n = q.gptq ? Var() : q.part.args()[0], wc = q.gptq ? Var() : q.part.args()[1];
    if (decode) {
        // Tasks over groups of inputs, each with its sums for every output
        // (in L1 or L2), added up at the end: a task's words are whole rows
        // of the stored matrix, one sequential run from its first group's
        // first row to its last group's last, which the prefetchers follow.
        // Tasks over outputs instead read a few kB of each row, a row apart
        // (35 kB in 1.5B's gate_proj): 1.5B decoded at 20-40% of the read
        // bandwidth so (bench/HISTORY.md). Products of more outputs than
        // quant4_chunk (a 4-bit lm_head's) also split the outputs, so that
        // the sums stay in L2 and each run is still kBs long.
        const int64_t groups = *as_const_int(grp.extent());
        const int64_t per_task = groups / quant4_k_tasks(t_.quant4_tasks, groups);
        Var u("u");
        RVar gt("gt"), gi("gi");
        Func parts = y.update().split(grp, gt, gi, int(per_task)).rfactor(gt, u);
        if (!root.defined()) root = y.in();
        root.compute_root().vectorize(o, t_.vector, kGuard);
        y.compute_at(root, Var::outermost()).vectorize(o, lanes, kGuard);
        y.update().vectorize(o, lanes, kGuard);
        parts.compute_root().vectorize(o, lanes, kGuard).parallel(u);
        const bool awq_int8 = q.int8_dot() && !q.gptq;
        const int64_t chunk = quant4_chunk(awq_int8 ? t_.quant4_awq_chunk : t_.quant4_chunk, l.out_dim);
        Var oc("oc"), oin("oin"), task_var("task");
        parts.update()
            .split(o, oc, oin, int(chunk))
            .split(oin, ov, ol, lanes, kGuard)
            .reorder(ol, ov, t, gi, oc, u)
            .vectorize(ol)
            .fuse(oc, u, task_var)
            .parallel(task_var);
        if (awq_int8) {
            // AWQ: each group's sums for the task's byte columns (the
            // chunk's outputs), block by block: a block's rows eight at a
            // time (two runs of four side by side, see
            // quant4_awq_int8_linear), each across the chunk's columns a
            // tile at a time, its sums added to the block's (4 bytes an
            // output: a whole row of 8960 outputs in L2). Eight
            // runs, each read sequentially, as the f32 sums' four: with a
            // block's 32 rows side by side in 32-byte tiles instead, 1.5B
            // decoded at half the f32 sums' speed, and with chunks of a
            // quarter row (quant4_chunk's 2240 of 8960) 0.7-0.8x as fast
            // as with whole rows (bench/HISTORY.md).
            const Var c = q.part.args()[0], nb = q.part.args()[1];
            const Var bc = q.block.args()[0], bn = q.block.args()[1];
            const int cols = quant4_awq_columns(t_.quant4_awq_columns, chunk / 2);
            Var co("co"), ci("ci");
            q.part.compute_at(parts, gi).bound(nb, 0, 2).vectorize(c, t_.vector).unroll(nb);
            q.part.update().reorder(c, nb, q.blocks).vectorize(c, t_.vector).unroll(nb);
            q.block.compute_at(q.part, q.blocks).bound(bn, 0, 2).vectorize(bc, t_.vector).unroll(bn);
            q.block.update()
                .atomic()
                .split(bc, co, ci, cols, kGuard)
                .reorder(ci, q.k.x, bn, co, q.k.y)
                .vectorize(ci)
                .vectorize(q.k.x)
                .unroll(bn);
            return;
        }
        if (q.int8_dot()) {
            // One vector of outputs at a time, its sums in registers: a
            // block's word rows (4 runs side by side, a row apart), each
            // vector one byte-lane per input pair of `lanes` outputs' words
            // (4 x lanes bytes), whose products with the row's staged
            // activations sum to one int32 per output (two vpdpbusd where the
            // target has VNNI, else pmaddubsw pairs summed again); then
            // the group's scale and zero, and the next vector.
            q.part.compute_at(parts, ov).vectorize(o);
            q.part.update().reorder(o, q.blocks).vectorize(o);
            q.block.compute_at(q.part, q.blocks).vectorize(o);
            for (int u = 0; u < q.block.num_update_definitions(); u++)
                q.block.update(u).atomic().reorder(q.k.x, o, q.k.y).vectorize(q.k.x).vectorize(o).unroll(q.k.y);
            return;
        }
        q.part.compute_at(parts, gi);
        if (q.gptq) {
            q.part.vectorize(o, lanes);
            // One vector of words of `rows` rows side by side, the eight
            // inputs of each in turn: the sums stay in a register across
            // them, and leave it once per `rows` rows.
            const int rows = std::gcd(t_.quant4_rows, int(*as_const_int(q.k.y.extent())));
            RVar kb("kb"), kr("kr");
            q.part.update()
                .split(o, ov, ol, lanes)
                .split(q.k.y, kb, kr, rows)
                .reorder(ol, q.k.x, kr, ov, kb)
                .vectorize(ol)
                .unroll(q.k.x)
                .unroll(kr);
        } else {
            // Four input rows side by side: a word's sums stay in a register
            // across the four.
            const int rows = std::gcd(4 * t_.quant4_rows, int(*as_const_int(q.k.x.extent())));
            RVar kb("kb"), kr("kr");
            q.part.bound(n, 0, kQuant4Pack).vectorize(n);
            q.part.update().split(q.k.x, kb, kr, rows).reorder(n, kr, wc, kb).vectorize(n).unroll(kr);
        }
        return;
    }
    // Prefill: register tiles of outputs x tokens over one group's rows, so
    // each unpacked weight serves several tokens.
    y.compute_root().vectorize(o, lanes, kGuard).parallel(t);
    y.update()
        .split(o, oo, oi, task, kGuard)
        .split(t, to, ti, tokens, kGuard)
        .split(oi, ot, ox, tile, kGuard)
        .reorder(ox, ti, ot, grp, to, oo)
        .parallel(oo)
        .unroll(ti)
        .split(ox, ov, ol, lanes)
        .vectorize(ol)
        .unroll(ov);
    q.part.compute_at(y, ot).bound_extent(t, tokens);
    if (q.gptq) {
        q.part.bound_extent(o, tile);
        q.part.split(o, ov, ol, lanes).vectorize(ol).unroll(ov).unroll(t);
        // A word holds 8 consecutive inputs: one load, eight shifts.
        q.part.update().split(o, ov, ol, lanes).reorder(ol, t, ov, q.k.x, q.k.y).vectorize(ol).unroll(ov).unroll(t).unroll(q.k.x);
    } else {
        q.part.bound(n, 0, kQuant4Pack).bound_extent(wc, tile / kQuant4Pack);
        q.part.vectorize(n).unroll(wc).unroll(t);
        q.part.update().reorder(n, t, wc, q.k.x).vectorize(n).unroll(t).unroll(wc);
    }
}

}  // namespace qwenc
