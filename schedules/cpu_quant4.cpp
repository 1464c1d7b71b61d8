// 4-bit projections (GPTQ and AWQ layouts, see Linear::Quant4Parts): each
// register tile is a few vectors of consecutive outputs, whose 4-bit values
// for one input sit in consecutive words (GPTQ: one word per output, eight
// inputs in it; AWQ: one word per eight outputs), so a vector load, a shift
// and a mask unpack them in registers and one multiply-add per vector takes
// each input, broadcast. A tile's sums cover one group of inputs; the
// group's scale and zero then fold them into the output, outside the inner
// loop. Tasks are whole tiles from a multiple of 8 outputs, so every
// vector's words start on a word boundary.
#include "cpu_generic.h"

#include <algorithm>

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

// Rows per task: the most whole tiles, at most `wanted` rows, that divide
// the outputs. No task or tile has a tail, so none computes a tile's sums
// past the last output (the sums' extent is fixed).
int quant4_task(int wanted, int tile, int64_t out_dim) {
    int task = tile;
    for (int n = 2; int64_t(n) * tile <= std::min<int64_t>(wanted, out_dim); n++)
        if (out_dim % (int64_t(n) * tile) == 0) task = n * tile;
    return task;
}
}  // namespace

void CpuGenericSchedule::quant4_linear(Linear &l, Phase phase, Func root) {
    Func y = l.out;
    Linear::Quant4Parts &q = l.quant4;
    const bool decode = phase == Phase::Decode;
    const RVar grp = l.r.x;
    // The staged input and its group sums: small, once per call.
    q.x.compute_root().vectorize(j, t_.vector, TailStrategy::GuardWithIf);
    q.x_sum.compute_root();
    if (decode) {
        q.x_sum.update().unscheduled();  // a serial sum over one token's inputs
    } else {
        q.x.parallel(t);
        q.x_sum.parallel(t);
        q.x_sum.update().parallel(t);
    }
    const int vectors = decode ? t_.quant4_decode_vectors : t_.quant4_vectors;
    const int tile = quant4_tile(vectors, t_.vector, l.out_dim);
    const int task = quant4_task(t_.quant4_task_rows, tile, l.out_dim);
    const int lanes = std::min(tile, t_.vector);
    const int tokens = decode ? 1 : t_.quant4_tokens;
    Var oo("oo"), oi("oi"), ot("ot"), ox("ox"), ov("ov"), ol("ol"), to("to"), ti("ti");
    Var task_var = oo;
    if (decode) {
        if (!root.defined()) root = y.in();
        root.compute_root()
            .split(o, oo, oi, task, TailStrategy::GuardWithIf)
            .parallel(oo)
            .vectorize(oi, t_.vector, TailStrategy::GuardWithIf);
        y.compute_at(root, oo).vectorize(o, lanes, TailStrategy::GuardWithIf);
        y.update().split(o, ot, ox, tile, TailStrategy::GuardWithIf).reorder(ox, t, ot, grp);
    } else {
        y.compute_root().vectorize(o, lanes, TailStrategy::GuardWithIf).parallel(t);
        y.update()
            .split(o, oo, oi, task, TailStrategy::GuardWithIf)
            .split(t, to, ti, tokens, TailStrategy::GuardWithIf)
            .split(oi, ot, ox, tile, TailStrategy::GuardWithIf)
            .reorder(ox, ti, ot, grp, to, oo)
            .parallel(oo)
            .unroll(ti);
    }
    y.update().split(ox, ov, ol, lanes).vectorize(ol).unroll(ov);
    // One tile's sums over one group: in registers.
    q.part.compute_at(y, ot).bound_extent(o, tile).bound_extent(t, tokens);
    q.part.split(o, ov, ol, lanes).vectorize(ol).unroll(ov).unroll(t);
    Stage inner = q.part.update().split(o, ov, ol, lanes);
    if (q.gptq) {
        // A word holds 8 consecutive inputs: one load, eight shifts.
        RVar ko("ko"), ki("ki");
        inner.split(q.k.x, ko, ki, 8).reorder(ol, t, ov, ki, ko).unroll(ki);
    } else {
        inner.reorder(ol, t, ov, q.k.x);
    }
    inner.vectorize(ol).unroll(ov).unroll(t);
}

}  // namespace qwenc
