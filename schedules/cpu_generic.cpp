#include "cpu_generic.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>

namespace qwenc {

using namespace Halide;

namespace {
// Model dimensions may be smaller than a tile (tiny test models, 2 kv
// heads): every split of a pure dimension guards its tail rather than
// rounding up past the end of a weight matrix.
constexpr TailStrategy kGuard = TailStrategy::GuardWithIf;
// The pure Vars of every stage Func, by name (see compiler/lower/).
Var o("o"), t("t"), h("h"), d("d"), j("j"), p("p"), g("g");

// Output rows per register tile, at most `wanted`. Tiles must divide both
// the matrix height and the rows of a parallel task, or the guarded tail
// tile has a variable extent and cannot be unrolled (tiny test models, odd
// vocabularies). With no such divisor (a prime vocabulary), 4-row tiles with
// a guarded tail do unroll, as 4 divides the task; a 1-row split would lose
// the guard and read past the matrix.
int tile_rows(int wanted, int64_t out_dim, int task) {
    int rows = std::min(wanted, task);
    while (rows > 2 && (out_dim % rows != 0 || task % rows != 0)) rows--;
    if (out_dim % rows != 0) rows = std::min(4, task);
    return rows;
}

// Vectors of `width` lanes of partial sums per row, at most `wanted`: the
// most whose lanes divide the reduction's `steps` exactly (else 1).
int dividing_vectors(int wanted, int64_t steps, int width) {
    int vectors = wanted;
    while (vectors > 1 && steps % (int64_t(vectors) * width) != 0) vectors--;
    return vectors;
}

// The bf16 schedules read each vector of the staged input as one whole
// block of it (`block` lanes; layers.h), or its loads become gathers: they
// compile only for targets with vectors that wide (AVX-512).
void require_block_vectors(const char *schedule, int vector, int block, const char *what) {
    if (vector != block)
        throw std::logic_error(std::string(schedule) + ": " + what + " need vectors of " + std::to_string(block) + " lanes");
}
}  // namespace

// Rows per parallel task of a bf16-dot product: at most dot_task_rows, and
// at least 4 tasks. Where the matrix allows, an even number of tasks of
// whole tiles, so that 2 (or 4) threads finish together: 1.5B's 8960 gate
// rows made 35 tasks of 256, and one thread idled for half a task.
int CpuGenericSchedule::dot_task_rows(int64_t out_dim, int64_t in_dim) const {
    const int64_t rows = std::min<int64_t>(t_.dot_rows, out_dim);
    const int64_t quarter = std::max<int64_t>(rows, (out_dim / 4) / rows * rows);
    const int64_t wanted = in_dim > t_.long_row_inputs ? t_.dot_task_rows_long : t_.dot_task_rows;
    const int64_t most = std::min<int64_t>({wanted, quarter, out_dim});
    if (out_dim % rows == 0) {
        const int64_t tiles = out_dim / rows;
        for (int64_t n = (out_dim + most - 1) / most; n <= tiles; n++)
            if (n % 2 == 0 && tiles % n == 0) return int(tiles / n * rows);
    }
    return int(most);
}

// Prefill as blocked bf16 dot products with the tokens in the vector lanes:
// each lane of an accumulator is one token of one output row and takes a
// pair of inputs per step (vdpbf16ps), the token's pair from x_bf16 (the
// pairs of `vector` consecutive tokens are one contiguous vector) times the
// row's pair, broadcast. The accumulators are the outputs themselves: with
// the lanes along the inputs instead, adding each output's lanes up after
// the reduction took a quarter of a 1536-input product's time.
void CpuGenericSchedule::bf16_dot_linear(Linear &l, bool tokens_inner) {
    Func y = l.out;
    Var oo("oo"), oi("oi"), ot("ot"), ox("ox"), to("to"), ti("ti"), tv("tv"), tl("tl");
    const RVar pair = l.r.x, step = l.r.y;
    const int lanes = t_.vector;
    require_block_vectors(name_, lanes, kBf16DotTokens, "bf16-dot tiles");
    const int tokens = lanes * t_.dot_token_vectors;
    const int task = dot_task_rows(l.out_dim, 2 * *as_const_int(l.r.y.extent()));
    const int rows = tile_rows(t_.dot_rows, l.out_dim, task);
    // What consumers read, made tile by tile: each tile's sums are y, on
    // the stack (in registers) for rows x tokens outputs.
    Func out = y.in();
    // Whole tiles of tokens from token 0 (the inputs are clamped): tiles
    // start at multiples of the staged input's blocks, so each tile's
    // vectors are whole blocks, read densely.
    out.compute_root()
        .align_bounds(t, tokens)
        .split(o, oo, oi, task, kGuard)
        .split(t, to, ti, tokens, kGuard)
        .split(oi, ot, ox, rows, kGuard)
        .reorder(ti, ox, ot, to, oo)
        .parallel(oo)
        .vectorize(ti, lanes)
        .unroll(ox);
    // Stored with the tokens contiguous, for a consumer vectorized along
    // them: each tile's rows then leave the registers as whole vectors
    // rather than lane by lane.
    if (tokens_inner) out.reorder_storage(t, o);
    // A whole tile of tokens even at the tail (the inputs are clamped): the
    // sums get a constant size.
    y.compute_at(out, ot).bound_extent(t, tokens).reorder_storage(t, o);
    y.vectorize(t, lanes).unroll(o);
    y.update()
        .split(t, tv, tl, lanes)
        .reorder(pair, tl, tv, o, step)
        .atomic()
        .vectorize(pair)
        .vectorize(tl)
        .unroll(tv)
        .unroll(o);
}

// The bf16 pairs the products of one stage read (see bf16_dot_linear),
// made once per call for all the products that share them. Decode's one
// token: a serial loop over a few thousand inputs.
void CpuGenericSchedule::stage_bf16_inputs(std::initializer_list<const Linear *> linears, Phase phase) {
    std::set<std::string> staged;
    for (const Linear *l : linears) {
        if (!l->x_bf16.defined() || !staged.insert(l->x_bf16.name()).second) continue;
        Func x = l->x_bf16;
        if (l->bf16x2_dot()) {
            // x_bf16(j, pi, k, po, t): one vector of pairs per (k, po).
            const Var pi = x.args()[1], k = x.args()[2];
            x.compute_root().bound(j, 0, 2).bound(pi, 0, kBf16x2Pairs).bound(k, 0, 2).vectorize(pi).unroll(j).unroll(k);
            continue;
        }
        const Var tl = x.args()[1], tb = x.args()[3];
        if (phase == Phase::Decode) {
            x.compute_root().bound(j, 0, 2).bound(tl, 0, 1).unroll(j);
            continue;
        }
        if (phase == Phase::Batch) {
            // Each token's pairs contiguous, as decode's, for bf16_dot_batch's
            // lanes along the inputs.
            x.compute_root().bound(j, 0, 2).bound(tl, 0, kBf16DotTokens).reorder_storage(j, p, tl, tb).unroll(j);
            continue;
        }
        x.compute_root().bound(j, 0, 2).bound(tl, 0, kBf16DotTokens).vectorize(tl).unroll(j).reorder(tl, j, p, tb).parallel(tb);
    }
}

// Decode on bf16 dot products: as the f32 one-row schedule (see linear()),
// with each lane of the partial sums taking a pair of inputs per step
// (vdpbf16ps), the row's pair times the token's.
void CpuGenericSchedule::bf16_dot_decode(Linear &l, Func root) {
    Func y = l.out;
    Var u("u"), uo("uo"), ui("ui");
    RVar ro("ro"), ri("ri");
    const RVar pair = l.r.x, step = l.r.y;
    const int64_t steps = *as_const_int(step.extent());
    const int lanes = t_.vector * dividing_vectors(t_.dot_decode_vectors, steps, t_.vector);
    Func partial = y.update().split(step, ro, ri, lanes).rfactor(ri, u);
    partial.reorder_storage(u, o, t);
    const Var row = decode_tasks(l, int(std::min<int64_t>(t_.parallel_rows, l.out_dim)), root);
    sum_lanes(l, ri);
    partial.compute_at(y, row).vectorize(u, t_.vector);
    partial.update().split(u, uo, ui, t_.vector).reorder(pair, ui, uo, t, ro).atomic().vectorize(pair).vectorize(ui).unroll(uo);
}

// A batched step's products on dot products (bf16, bf16x2, int16): decode's
// lanes along the inputs (one vector per row and token), in parallel tasks
// of rows, each task's rows in tiles of `rows`. A tile goes through its
// rows a chunk of batch_chunk inputs at a time, making every token of the
// step (`tokens` at a time, the sums of rows x tokens in registers) while the
// chunk is in cache, so each weight is streamed from memory once per step,
// without the pauses that reusing whole rows made. The lanes wait in memory
// between chunks and are summed at the end of the task, as decode's are.
// Prefill's tiles (32 tokens in the lanes under bf16-dot) left 3/4 of them
// idle at 8 sequences and read 8 rows 4 bytes at a time.
// `step` walks the reduction a lane at a time, `lane_inputs` inputs a lane;
// `rows` is at most tile_rows_wanted (see tile_rows).
// Returns the Func that makes one chunk of a tile, whose update's loops over
// the lanes (u), rows (o), tokens (t) and the chunk's vectors (rr) are left
// to the caller's math.
CpuGenericSchedule::BatchTile CpuGenericSchedule::batch_tiles(Linear &l, RVar step, int lane_inputs, int tile_rows_wanted,
                                                              int tokens) {
    Func y = l.out;
    Var u("u"), c("c"), oo("oo"), oi("oi"), ot("ot"), ox("ox"), to("to"), ti("ti");
    RVar ro("ro"), ri("ri"), rc("rc"), rr("rr");
    // partial(u, o, t): the lanes, over every chunk; tile(u, o, t, c): one
    // chunk's, for one tile of rows x tokens.
    Func partial = y.update().split(step, ro, ri, t_.vector).rfactor(ri, u);
    partial.reorder_storage(u, o, t);
    const int64_t vector_steps = *as_const_int(step.extent()) / t_.vector;
    const int chunk = t_.batch_chunk > 0
                          ? dividing_vectors(std::max(1, t_.batch_chunk / (lane_inputs * t_.vector)), vector_steps, 1)
                          : int(vector_steps);
    Stage over_chunks = partial.update();
    Func tile = over_chunks.split(ro, rc, rr, chunk).rfactor(rc, c);
    const int task = int(std::min<int64_t>(t_.parallel_rows, l.out_dim));
    const int rows = tile_rows(tile_rows_wanted, l.out_dim, task);
    // What consumers read (the sums, or int8's scaled sums), made task by
    // task; each task's sums (y) are its own, so their lanes add up without
    // atomics. Every task exactly `task` rows (the last shifted back, as
    // decode_tasks does), so the tiles inside have constant sizes.
    Func out = l.scaled ? l.result : y.in();
    out.compute_root().split(o, oo, oi, task, TailStrategy::ShiftInwards).reorder(oi, t, oo).parallel(oo).vectorize(oi, t_.vector, kGuard);
    y.compute_at(out, oo).vectorize(o, t_.vector, kGuard);
    y.update().atomic().vectorize(ri);
    // Token tiles rounded up: the inputs are clamped (layers.cpp's token()),
    // and each tile's sums get a constant size, on the stack (in registers).
    partial.compute_at(out, oo).vectorize(u);
    over_chunks.split(o, ot, ox, rows, kGuard)
        .split(t, to, ti, tokens, TailStrategy::RoundUp)
        .reorder(u, ox, ti, to, rc, ot)
        .vectorize(u)
        .unroll(ox)
        .unroll(ti);
    tile.compute_at(partial, to).vectorize(u);
    return {tile, u, rr};
}

// bf16 / bf16x2 dot products: one vector of pairs per row and token; bf16x2
// adds x's lo part to the same sums.
void CpuGenericSchedule::bf16_dot_batch(Linear &l) {
    const bool x2 = l.bf16x2_dot();
    require_block_vectors(name_, t_.vector, kBf16DotTokens, "bf16 dot products");
    const RVar pair = l.r.x, step = x2 ? l.r.z : l.r.y;
    BatchTile b = batch_tiles(l, step, 2, t_.batch_rows, t_.batch_tokens);
    Stage inner = b.tile.update();
    if (x2) inner.reorder(pair, b.u, l.r.y, o, t, b.rr).unroll(l.r.y);
    else inner.reorder(pair, b.u, o, t, b.rr);
    inner.atomic().vectorize(pair).vectorize(b.u).unroll(o).unroll(t);
    // A software prefetch runs batch_prefetch vectors ahead in each of the
    // tile's rows.
    if (t_.batch_prefetch > 0) inner.prefetch(l.weights, b.rr, b.rr, t_.batch_prefetch);
}

// int16-dot (int8 weights): each lane one group of inputs (vpmaddwd's pair
// of int8 weights widened to int16, by the int16 input), a vector of lanes
// one block of the input's scale; the groups of one chunk vector are made
// for the whole tile, then scaled into its sums.
void CpuGenericSchedule::int_dot_batch(Linear &l) {
    Linear::IntDot &q = l.int_dot;
    BatchTile b = batch_tiles(l, l.r.x, int_dot_lane_inputs(q), t_.int_batch_rows, t_.int_batch_tokens);
    Stage inner = b.tile.update();
    inner.reorder(b.u, o, t, b.rr).vectorize(b.u).unroll(o).unroll(t);
    groups_for_tile(q, LoopLevel(b.tile, b.rr));
    // The weights are read by the group sums, so the prefetch goes there,
    // batch_prefetch steps (vectors of inputs) ahead in each of the tile's
    // rows: on the tile's own loop, as bf16's, Halide emitted none, and the
    // first token pass over each chunk waited on its loads.
    if (t_.batch_prefetch > 0 && q.k.dimensions() > 1) q.group.update().prefetch(l.weights, q.k.y, q.k.y, t_.batch_prefetch);
}

// An integer dot product's group sums made for a whole register tile of
// rows x tokens at `at` (prefill's and the batch's tiles): each group
// vector per row and token, unrolled, and int16-dot's steps through a
// block outermost, so that each step's widened weights and inputs serve
// the whole tile (in the graph's order each row and token stepped through
// its block alone, loading every weight and input once per product).
void CpuGenericSchedule::groups_for_tile(const Linear::IntDot &q, const LoopLevel &at) {
    for (Func g : {q.group, q.group_lo}) {
        if (!g.defined()) continue;
        g.compute_at(at).vectorize(j).unroll(o).unroll(t);
        block_steps_outermost(g, q);
        for (int s = 0; s < g.num_update_definitions(); s++)
            g.update(s).atomic().vectorize(q.k.x).vectorize(j).unroll(o).unroll(t);
    }
}

// int16-dot's group(j, b, o, t), a vector of lanes j per block b: the
// steps through a block outermost, so that each step's pair products for
// all the lanes, blocks (decode's vectors, unrolled), rows and tokens are
// added to their int32 sums. Before the updates are vectorized.
void CpuGenericSchedule::block_steps_outermost(Func g, const Linear::IntDot &q) {
    if (q.k.dimensions() < 2) return;
    const Var b = g.args()[1];
    g.unroll(b);
    for (int s = 0; s < g.num_update_definitions(); s++) g.update(s).reorder(q.k.x, j, b, o, t, q.k.y).unroll(b);
}

// Inputs one lane of an integer dot product's group sums takes: its group,
// times int16-dot's steps through a block.
int CpuGenericSchedule::int_dot_lane_inputs(const Linear::IntDot &q) {
    int n = int(*as_const_int(q.k.x.extent()));
    if (q.k.dimensions() > 1) n *= int(*as_const_int(q.k.y.extent()));
    return n;
}

// Decode on bf16x2 dot products: as bf16_dot_decode, with two vdpbf16ps
// per vector of weights, on x's hi and lo parts. Rows longer than
// long_row_inputs (down_proj) go in tiles of long_rows rows x
// long_row_vectors vectors that share each load of x, as in f32 decode:
// x's two parts take 4 bytes an input, and one row at a time, with x no
// longer in L1 beside the weight stream, down_proj took 1.6-1.8x the time
// of f32 decode's.
void CpuGenericSchedule::bf16x2_dot_decode(Linear &l, Func root) {
    require_block_vectors(name_, t_.vector, kBf16x2Pairs, "bf16x2 dot products");
    Func y = l.out;
    Var u("u"), uo("uo"), ui("ui");
    RVar ro("ro"), ri("ri");
    const RVar pair = l.r.x, part = l.r.y, step = l.r.z;
    const int64_t steps = *as_const_int(step.extent());
    const bool long_rows = 2 * steps > t_.long_row_inputs;
    // Whole blocks of the staged input per vector: lanes are a multiple of 16 pairs.
    const int lanes = t_.vector * dividing_vectors(long_rows ? t_.long_row_vectors : t_.dot_decode_vectors, steps, t_.vector);
    Func partial = y.update().split(step, ro, ri, lanes).rfactor(ri, u);
    partial.reorder_storage(u, o, t);
    const Var at = decode_rows(l, ri, int(std::min<int64_t>(t_.parallel_rows, l.out_dim)), root, long_rows);
    partial.compute_at(y, at).vectorize(u, t_.vector);
    Stage inner = partial.update().split(u, uo, ui, t_.vector);
    if (long_rows) inner.reorder(pair, ui, part, uo, o, t, ro).unroll(o);
    else inner.reorder(pair, ui, part, uo, t, ro);
    inner.atomic().vectorize(pair).vectorize(ui).unroll(part).unroll(uo);
}

// Whether a product's per-token work on its input (quantization, staging)
// runs as a parallel loop over the tokens: in prefill. A batched step's few
// tokens take less time than the loop's thread-pool round trip: int8 at 8
// sequences on Zen 5, qkv_batch 25 -> 10 ms a step (bench/HISTORY.md).
bool CpuGenericSchedule::prefill_tokens_in_parallel(Phase phase) { return phase == Phase::Prefill; }

// Integer dot products of int8 weights (vpdpbusd for int8-dot, vpdpwssd for
// int16-dot where the target has AVX512-VNNI): each lane of the partial
// sums takes a group of 4 (2) products per step; group is made for one
// step's lanes at a time so it folds into the instruction.
void CpuGenericSchedule::int_dot_linear(Linear &l, Phase phase, Func root) {
    Func y = l.out;
    Linear::IntDot &q = l.int_dot;
    Var u("u"), uo("uo"), ui("ui"), ot("ot");
    RVar ro("ro"), ri("ri");
    const bool decode = phase == Phase::Decode;
    const int64_t n_groups = *as_const_int(l.r.x.extent());
    // Lanes per vector of partial sums: the widest that divides the groups
    // (every 32-input block makes 8 groups of 4, so at worst 8 lanes).
    int width = t_.vector;
    while (width > 1 && n_groups % width != 0) width /= 2;
    // The input's quantization: small, once per call.
    const bool per_token = prefill_tokens_in_parallel(phase);
    for (Func f : {q.amax, q.block_scale, q.x_q, q.offset, q.x_hi, q.x_lo, q.zero_sum}) {
        if (!f.defined()) continue;  // int16-dot has no offset, only its split form x_hi and x_lo
        f.compute_root();
        if (per_token) f.parallel(t);
    }
    q.amax.update().vectorize(j, t_.vector, kGuard);
    if (per_token) q.amax.update().parallel(t);
    if (q.offset.defined()) {
        if (per_token) q.offset.update().parallel(t);
        else q.offset.update().unscheduled();  // a serial sum over a few tokens' inputs
    }
    q.x_q.vectorize(j, 4 * t_.vector, kGuard);
    for (Func f : {q.x_hi, q.x_lo})
        if (f.defined()) f.vectorize(j, 4 * t_.vector, kGuard);
    if (q.zero_sum.defined()) {  // qwenc-int4's rows: a word's zero share, summed in place
        q.zero_sum.vectorize(j, t_.vector, kGuard);
        q.zero_sum.update().vectorize(j, t_.vector, kGuard);
        if (per_token) q.zero_sum.update().parallel(t);
    }
    q.block_scale.vectorize(j, t_.vector, kGuard);
    const int group = int(*as_const_int(q.k.x.extent()));
    // int16-dot: pairs, or int8 quads of two parts (split); 2 bytes an input either way.
    const bool int16 = group == 2 || q.group_lo.defined();
    if (phase == Phase::Batch && int16) return int_dot_batch(l);
    const bool long_rows = decode && int16 && n_groups * int_dot_lane_inputs(q) > t_.long_row_inputs;
    const int vectors = !decode ? 1 : long_rows ? t_.long_row_vectors : t_.int_dot_decode_vectors;
    const int lanes = width * dividing_vectors(vectors, n_groups, width);
    Func partial = y.update().split(l.r.x, ro, ri, lanes).rfactor(ri, u);
    partial.reorder_storage(u, o, t);
    const int task = int(std::min<int64_t>(t_.parallel_rows, l.out_dim));
    // qwenc-int4's rows: the group scales of one step of partial's lanes,
    // widened as one vector (not one per word vector).
    auto weight_scales = [&](int step_lanes) {
        if (!q.weight_scale.defined()) return;
        q.weight_scale.compute_at(partial, ro);
        const int scales = step_lanes / q.group_words;
        if (scales > 1 && step_lanes % q.group_words == 0) q.weight_scale.vectorize(q.weight_scale.args()[0], std::min(scales, t_.vector));
    };
    if (decode) {
        // One weight row at a time, as for f32 decode; int16-dot's long rows
        // (down_proj) in tiles of rows that share each load of the input, as
        // bf16x2-dot's: its int16 input (2 bytes an input) leaves L1 beside
        // the weight stream, and one row at a time down_proj took far longer
        // per byte than gate (bench/HISTORY.md).
        const Var at = decode_rows(l, ri, task, root, long_rows);
        partial.compute_at(y, at).vectorize(u, width);
        weight_scales(lanes);
        Stage inner = partial.update().split(u, uo, ui, width);
        if (long_rows) inner.reorder(ui, uo, o, t, ro).unroll(o);
        else inner.reorder(ui, uo, t, ro);
        inner.vectorize(ui).unroll(uo);
        for (Func g : {q.group, q.group_lo}) {
            if (!g.defined()) continue;
            g.compute_at(partial, ro).vectorize(j, width).unroll(j);
            block_steps_outermost(g, q);
            for (int u = 0; u < g.num_update_definitions(); u++) {  // rows: low nibbles, then high
                g.update(u).atomic().vectorize(q.k.x).vectorize(j, width).unroll(j);
                if (long_rows) g.update(u).unroll(o);
            }
            if (long_rows) g.unroll(o);
        }
        return;
    }
    const int rows = tile_rows(t_.rows, l.out_dim, task);
    const int tokens = int16 ? t_.int16_prefill_tokens() : t_.tokens;
    scaled_result(l);
    init_prefill(y);
    tile_prefill(y, task, rows, tokens);
    partial.compute_at(y, ot).bound_extent(t, tokens).vectorize(u);
    partial.update().reorder(u, o, t, ro).vectorize(u).unroll(o).unroll(t);
    weight_scales(lanes);
    groups_for_tile(q, LoopLevel(partial, ro));
}

// Decode: each row's lanes of partial sums are added as a vector (a tree of
// shuffles and adds) rather than one by one: the serial chain of 16-64
// scalar adds after every row held back the next row's loads
// (bench/HISTORY.md). The update runs inside a
// task of decode_tasks, never in a parallel loop of its own, where
// atomic() would make every store a compare-exchange.
void CpuGenericSchedule::sum_lanes(Linear &l, RVar lanes) { l.out.update().atomic().vectorize(lanes); }

// A decode product's rows, in the tasks of decode_tasks with their lanes
// summed by sum_lanes; with long_rows, each task's rows in tiles of
// long_rows rows that share each load of the input. Returns where the
// partial sums go: the row, or the tile.
Var CpuGenericSchedule::decode_rows(Linear &l, RVar lanes, int task, Func root, bool long_rows) {
    const Var row = decode_tasks(l, task, root);
    sum_lanes(l, lanes);
    if (!long_rows) return row;
    Var tile("tile"), in_tile("in_tile");
    l.out.update().split(row, tile, in_tile, tile_rows(t_.long_rows, l.out_dim, task), kGuard);
    return tile;
}

// Prefill: the int8 row scale and bias, one cheap pass over the outputs.
void CpuGenericSchedule::scaled_result(Linear &l) {
    if (!l.scaled) return;
    l.result.compute_root().vectorize(o, t_.vector, kGuard).parallel(t);
}

// Decode: one parallel loop per product, over tasks of `task` rows (taken
// from the two halves of the matrix in turn, see CpuTiles::decode_halves), in which
// each task sets, accumulates and (int8) scales its own rows; a parallel
// loop of its own for the initial values cost a thread-pool round trip per
// product (time in halide_mutex_lock and the kernel's scheduler). The loop is root's: a consumer made row by row from the
// product (the head's output), else the int8 scaling, else a copy. Returns
// the Var of y's update that walks the task's rows.
Var CpuGenericSchedule::decode_tasks(Linear &l, int task, Func root) {
    Func y = l.out;
    Var oo("oo"), oi("oi");
    if (!root.defined()) root = l.scaled ? l.result : y.in();
    // Every task exactly `task` rows (the last one shifted back over rows
    // its neighbour also makes), so the tiles inside have constant sizes.
    root.compute_root();
    Var loop = oo;
    const int64_t half = (l.out_dim + 1) / 2;
    if (t_.decode_halves && half >= task) {
        // Iteration 2k is task k of the first half of the rows, 2k + 1 task k
        // of the second, so two threads taking turns each stream one half.
        Var hh("hh"), rest("rest");
        loop = Var("half_task");
        root.split(o, hh, rest, int(half), TailStrategy::ShiftInwards)
            .split(rest, oo, oi, task, TailStrategy::ShiftInwards)
            .reorder(oi, hh, oo)
            .fuse(hh, oo, loop);
    } else {
        root.split(o, oo, oi, task, TailStrategy::ShiftInwards);
    }
    root.parallel(loop).vectorize(oi, t_.vector, kGuard);
    y.compute_at(root, loop);
    return o;
}

// The update of a prefill product in register tiles of rows x tokens inside
// parallel tasks of `task` output rows; partial sums go at level "ot".
void CpuGenericSchedule::tile_prefill(Func y, int task, int rows, int tokens) {
    Var oo("oo"), oi("oi"), ot("ot"), ox("ox"), to("to"), ti("ti");
    y.update()
        .split(o, oo, oi, task, kGuard)
        .split(t, to, ti, tokens, kGuard)
        .split(oi, ot, ox, rows, kGuard)
        .reorder(ox, ti, ot, to, oo)
        .parallel(oo);
}

// The initial value (bias or zero) of a prefill product: vectorized along
// the outputs, one parallel task per token.
void CpuGenericSchedule::init_prefill(Func y) {
    y.compute_root().vectorize(o, t_.vector, kGuard).parallel(t);
}

void CpuGenericSchedule::linear(Linear &l, Phase phase, Func root) {
    if (l.x_bf16.defined() && phase == Phase::Batch) return bf16_dot_batch(l);
    if (l.bf16x2_dot()) return bf16x2_dot_decode(l, root);
    if (l.x_bf16.defined()) return phase == Phase::Decode ? bf16_dot_decode(l, root) : bf16_dot_linear(l);
    if (l.int_dot_product()) return int_dot_linear(l, phase, root);
    if (l.quant4_product()) return quant4_linear(l, phase, root);
    Func y = l.out;
    Var u("u"), uo("uo"), ui("ui"), oo("oo"), oi("oi"), ot("ot"), ox("ox"), to("to"), ti("ti");
    RVar ro("ro"), ri("ri");
    const bool decode = phase == Phase::Decode;
    // partial(u, o, t): u-th lane of the dot product, summed over the
    // reduction in steps of `lanes`; y then adds the lanes up. Decode keeps
    // several vectors of lanes per row, so one row's loads are independent.
    // Decode tiles only where the vectors divide the reduction exactly:
    // tails of a several-vector split are where this schedule went wrong on
    // tiny test models, and real models have no tails.
    const int64_t n_in = *as_const_int(l.r.x.extent());
    int64_t inputs = n_in * int64_t(std::max<size_t>(1, l.x_parts.size()));
    for (int d = 1; d < l.r.dimensions(); d++) inputs *= *as_const_int(l.r[d].extent());
    // Long rows (down_proj): the input vector no longer stays in L1 beside
    // the weight stream, so tiles of several rows share each load of it.
    const bool long_rows = decode && inputs > t_.long_row_inputs;
    const int vectors = dividing_vectors(decode ? (long_rows ? t_.long_row_vectors : t_.decode_vectors) : 1, n_in, t_.vector);
    const bool one_row = decode && !long_rows && t_.decode_rows == 1 && n_in % t_.vector == 0;
    const int lanes = t_.vector * vectors;
    Func partial = y.update().split(l.r.x, ro, ri, lanes).rfactor(ri, u);
    // rfactor makes u the outermost dimension; the lanes must be contiguous
    // or every accumulation becomes a shuffle.
    partial.reorder_storage(u, o, t);
    const int task = int(std::min<int64_t>(t_.parallel_rows, l.out_dim));
    // The de-interleaved inputs of packed storage: small, made once.
    for (Func x : l.x_parts) {
        x.compute_root().vectorize(x.args()[0], t_.vector, kGuard);
        if (phase != Phase::Decode) x.parallel(x.args().back());
    }
    const Var row = decode ? decode_tasks(l, task, root) : Var();
    if (!decode) {
        scaled_result(l);
        init_prefill(y);
    }
    if (one_row) {
        // One weight row at a time: each thread reads one sequential stream.
        sum_lanes(l, ri);
        partial.compute_at(y, row).vectorize(u, t_.vector);
        partial.update().reorder(u, t, ro).split(u, uo, ui, t_.vector).vectorize(ui).unroll(uo);
        return;
    }
    const int rows =
        tile_rows(decode ? (long_rows ? t_.long_rows : std::max(t_.decode_rows, t_.rows)) : t_.rows, l.out_dim, task);
    if (decode) {
        sum_lanes(l, ri);
        y.update().split(row, ot, ox, rows, kGuard);
        partial.compute_at(y, ot).vectorize(u, t_.vector);
        partial.update().reorder(u, o, t, ro).split(u, uo, ui, t_.vector).vectorize(ui).unroll(uo).unroll(o);
    } else {
        const int tokens = l.scaled ? t_.int8_tokens : t_.tokens;
        tile_prefill(y, task, rows, tokens);
        partial.compute_at(y, ot).vectorize(u);
        // Clamped tokens (layers.cpp's token()) allow whole token tiles:
        // fixed-size partials, on the stack rather than malloc'ed per tile.
        partial.bound_extent(t, tokens);
        partial.update().reorder(u, o, t, ro).vectorize(u).unroll(o).unroll(t);
    }
}

void CpuGenericSchedule::elementwise(Func f, Var inner, Phase phase) {
    f.vectorize(inner, t_.vector, kGuard);
    if (phase != Phase::Decode) f.parallel(t);
}

void CpuGenericSchedule::norm(RmsNorm &n, Phase phase) {
    n.out.compute_root().vectorize(h, t_.vector, kGuard);
    if (phase != Phase::Decode) n.out.parallel(t);
    n.sum_sq.compute_at(n.out, t);
}

void CpuGenericSchedule::embed(EmbedGraph &g, Phase phase) { elementwise(g.out, h, phase); }

void CpuGenericSchedule::qkv(QkvGraph &g, Phase phase) {
    norm(g.norm, phase);
    linear(g.q, phase);
    linear(g.k, phase);
    linear(g.v, phase);
    stage_bf16_inputs({&g.q, &g.k, &g.v}, phase);
    // The RoPE tables (double-precision angles): one parallel task per token.
    for (Func f : {g.rope.cos, g.rope.sin}) {
        f.compute_root();
        if (phase != Phase::Decode) f.parallel(t);
    }
    elementwise(g.q_out, d, phase);
    elementwise(g.k_out, d, phase);
    elementwise(g.v_out, d, phase);
    // q/k head norms (the qk_norm trait): each token's sums of squares next
    // to its rotated heads; the normalized values stay inlined.
    for (HeadNorm *n : {&g.q_norm, &g.k_norm})
        if (n->sum_sq.defined()) n->sum_sq.compute_at(n == &g.q_norm ? g.q_out : g.k_out, t);
}

int CpuGenericSchedule::attention_key_block(Phase phase) const { return phase == Phase::Prefill ? 2 * t_.vector : 1; }

// An attention product on vdpbf16ps: the update of f(v, h, t) over
// pairs (pair element, step) with lanes along v, a vector of v per
// accumulator, every head's accumulators advancing together step by step.
static void bf16_pair_update(Func f, const Var &v, const RDom &pairs, int lanes, TailStrategy tail) {
    Var vo(v.name() + "_o"), vl(v.name() + "_l");
    f.update()
        .split(v, vo, vl, lanes, tail)
        .reorder(pairs.x, vl, vo, h, pairs.y)
        .atomic()
        .vectorize(pairs.x)
        .vectorize(vl)
        .unroll(vo)
        .unroll(h);
}

// Prefill: one token's scores as a product of its query heads with the
// keys, in tiles of 2 vectors of keys x the query heads of one kv head. The
// keys are staged once per call in blocks of a tile's keys (see
// Attention::keys), so each accumulator is a vector of keys of one head:
// q(r) broadcast times keys(p..p+7, r), summed over r in registers, and a
// tile's keys are one contiguous run. Dot products along head_dim ended in
// a horizontal sum per score, half of attention's time.
void CpuGenericSchedule::attention_scores(Attention &a) {
    Var po("po"), pi("pi"), pv("pv"), pl("pl"), hg("hg"), hi("hi");
    const int keys = a.key_block;
    if (keys != attention_key_block(Phase::Prefill)) throw std::logic_error("prefill attention's keys are not in this schedule's blocks");
    const std::vector<Var> kargs = a.keys.args();
    if (a.bf16_pairs) {
        // keys(j, kl, dp, kb, g): each key's pair next to the next key's.
        const Var kl = kargs[1], kv_head = kargs[4];
        a.keys.compute_root().bound(j, 0, 2).bound(kl, 0, keys).unroll(j).vectorize(kl, t_.vector).parallel(kv_head);
        a.q_pairs.compute_root().bound(j, 0, 2).unroll(j).parallel(t);
    } else {
        const Var kl = kargs[0], kv_head = kargs[3];
        a.keys.compute_root().bound(kl, 0, keys).vectorize(kl, t_.vector).parallel(kv_head);
    }
    Func sc = a.scores.in();
    sc.compute_at(a.out, t)
        .split(h, hg, hi, a.group_size)
        .split(p, po, pi, keys, kGuard)
        .reorder(pi, hi, po, hg)
        .vectorize(pi, t_.vector);
    // Tiles start at whole blocks: p % keys and p / keys fold into the loads.
    a.scores.compute_at(sc, po).bound_extent(p, keys).align_bounds(p, keys);
    a.scores.split(p, pv, pl, t_.vector).vectorize(pl).unroll(pv).unroll(h);
    if (a.bf16_pairs) {
        // Each lane one key, a pair of head_dim per step: the query's pair
        // broadcast, the key's pair from the staged block.
        bf16_pair_update(a.scores, p, a.r_dim, t_.vector, TailStrategy::Auto);
        return;
    }
    a.scores.update()
        .split(p, pv, pl, t_.vector)
        .reorder(pl, pv, h, a.r_dim.x)
        .vectorize(pl)
        .unroll(pv)
        .unroll(h);
}

// Weighted sums of values for `heads` query heads of one kv head at once,
// over a slice of head_dim (this many vectors) small enough that the
// heads' sums stay in registers, so each value row loaded serves them all.
// Returns 0 where head_dim is not whole vectors.
static int sum_v_slice(const CpuTiles &tiles, const Attention &a, int heads) {
    if (a.head_dim % tiles.vector) return 0;
    const int vectors = a.head_dim / tiles.vector;
    int best = 0;
    for (int s = 1; s <= vectors; ++s)
        if (vectors % s == 0 && heads * s <= tiles.attention_accumulators) best = s;
    return best;
}

// Decode: one query token over a cache that at depth is megabytes a layer,
// so attention streams the cache, and each key and value row should come
// from memory once. Tasks take a kv head's whole group of query heads over
// a range of attention_decode_keys keys (flash-decoding's split of the
// keys): scores, then the softmax's max and sum over all keys (vectorized
// along the keys), then each task's weighted sum of its values, the
// partial sums added at the end. Tasks that took part of a group over all
// keys read the cache once per task, and one slice of head_dim per pass
// over it (bench/HISTORY.md, decode attention at depth).
void CpuGenericSchedule::decode_attention(Attention &a) {
    const int group = a.group_size, keys = t_.attention_decode_keys;
    const int block = std::min(t_.attention_key_tile, keys);
    Var kv("kv"), hx("hx"), pc("pc"), pi("pi"), u("u"), task("task"), dl("dl"), ds("ds"), dx("dx"), dv("dv");
    RVar rko("rko"), rki("rki"), rkb("rkb"), rkl("rkl");

    // Scores: per key row, the group's dot products one after another (the
    // row loaded once), each in lanes of head_dim summed at the end (LLVM
    // vectorizes the sum over head_dim). Both stages in the same tasks.
    const auto key_tasks = [&](Stage s) -> Stage {
        return s.split(h, kv, hx, group).split(p, pc, pi, keys, TailStrategy::RoundUp);
    };
    a.scores.compute_root();
    key_tasks(a.scores).reorder(pi, hx, pc, kv, t).vectorize(pi, t_.vector).fuse(pc, kv, task).parallel(task);
    key_tasks(a.scores.update()).reorder(a.r_dim.x, hx, pi, pc, kv, t).unroll(hx).fuse(pc, kv, task).parallel(task);
    // The max and the sum of the weights: one pass over all keys, in lanes.
    for (Func f : {a.max_score, a.denom}) {
        f.compute_root();
        Func lanes_of = f.update().split(a.r_key.x, rko, rki, t_.vector).rfactor(rki, u);
        lanes_of.compute_root().vectorize(u);
        lanes_of.update().vectorize(u);
        f.update().atomic().vectorize(rki);
    }
    a.weights.compute_root().split(p, pc, pi, keys, TailStrategy::RoundUp).vectorize(pi, t_.vector).parallel(pc);

    // Values: each task's weighted sums over its keys, a block of keys at a
    // time (in L1) and a slice of head_dim per pass over the block, the
    // slice's sums of the group's heads in registers.
    a.sum_v.update().split(a.r_key.x, rko, rki, keys);
    Func part = a.sum_v.update().rfactor(rko, u);
    const int slice = sum_v_slice(t_, a, group);
    part.compute_root().vectorize(d, t_.vector, kGuard).parallel(u);
    part.update().split(h, kv, hx, group).split(rki, rkb, rkl, block);
    if (slice > 0) {
        part.update()
            .split(d, ds, dx, slice * t_.vector)
            .split(dx, dv, dl, t_.vector)
            .reorder(dl, dv, hx, rkl, ds, rkb, kv, u, t)
            .vectorize(dl)
            .unroll(dv)
            .unroll(hx);
    } else {
        part.update().reorder(d, hx, rkl, rkb, kv, u, t).vectorize(d, t_.vector, kGuard).unroll(hx);
    }
    // A block's values copied first: the copy's loads are independent, so
    // many of its cache lines come from memory at once; the passes' loads
    // each feed a chain of sums, and missed one line at a time.
    Func vblock = a.values_in.in(part);
    vblock.compute_at(part, rkb).vectorize(vblock.args()[0], t_.vector, kGuard);
    part.update().fuse(kv, u, task).parallel(task);
    a.sum_v.compute_root().vectorize(d, t_.vector, kGuard);
    a.sum_v.update().vectorize(d, t_.vector, kGuard);
    a.out.compute_root().vectorize(d, t_.vector, kGuard);
}

// Prefill: tasks of a token each, over a kv head's whole group of query
// heads, so each key and value row is read once per token and kv head (at
// depth they came from beyond L2, three times over for 1.5B's groups of 6
// heads paired).
void CpuGenericSchedule::attention(Attention &a, Phase phase) {
    if (phase != Phase::Prefill) return decode_attention(a);
    Var hh("hh"), hx("hx"), dv("dv"), dl("dl"), dx("dx"), ds("ds");
    const int heads = a.group_size;
    const int slice = sum_v_slice(t_, a, heads);
    if (slice > 0) {
        // A task's heads, a slice of head_dim at a time (see sum_v_slice);
        // their scores, softmax and sums stay in cache.
        a.out.compute_root()
            .split(h, hh, hx, heads)
            .split(d, ds, dx, slice * t_.vector)
            .reorder(dx, hx, ds, hh, t)
            .vectorize(dx, t_.vector);
        a.sum_v.compute_at(a.out, ds).vectorize(d, t_.vector).unroll(d).unroll(h);
    } else {
        // Heads that are not whole vectors: one head at a time, or pairs
        // where they pair up inside their groups.
        const int pair = a.group_size % 2 == 0 ? 2 : 1;
        a.out.compute_root().vectorize(d, t_.vector, kGuard).split(h, hh, hx, pair).reorder(d, hx, hh, t);
        a.sum_v.compute_at(a.out, hh).vectorize(d, t_.vector, kGuard).unroll(h);
    }
    a.out.parallel(t);
    // All of the heads' vectors of sums advance together, key by key: one
    // vector at a time over all keys was a chain of dependent multiply-adds
    // that dominated prefill's attention time.
    if (a.bf16_pairs) {
        // A pair of keys per step (vdpbf16ps): each lane one d, the
        // weights' pair broadcast, the values' pair from the staged copy.
        bf16_pair_update(a.sum_v, d, a.r_pair, t_.vector, kGuard);
        const Var kp = a.weight_pairs.args()[1], kv_head = a.values.args()[3];
        a.weight_pairs.compute_at(a.out, hh).bound(j, 0, 2).unroll(j).vectorize(kp, t_.vector, kGuard);
        a.values.compute_root().bound(j, 0, 2).unroll(j).vectorize(d, t_.vector, kGuard).parallel(kv_head);
    } else {
        a.sum_v.update()
            .split(d, dv, dl, t_.vector, kGuard)
            .reorder(dl, dv, h, a.r_key.x)
            .vectorize(dl)
            .unroll(dv)
            .unroll(h);
    }
    a.denom.compute_at(a.out, hh);
    a.max_score.compute_at(a.out, hh);
    a.weights.compute_at(a.out, hh).vectorize(p, t_.vector, kGuard);
    attention_scores(a);
}

void CpuGenericSchedule::attn_mlp(AttnMlpGraph &g, Phase phase) {
    attention(g.attn, phase);
    out_mlp(g, phase);
}

void CpuGenericSchedule::out_mlp(AttnMlpGraph &g, Phase phase) {
    linear(g.o_proj, phase);
    elementwise(g.x_mid.compute_root(), h, phase);
    norm(g.norm, phase);
    if (phase == Phase::Prefill && g.gate.x_bf16.defined()) {  // gate and up share one math
        // gate, up and act with the tokens contiguous: down's bf16 staging
        // reads act a block of tokens at a time (see stage_bf16_inputs).
        Var oo("oo");
        bf16_dot_linear(g.gate, true);
        bf16_dot_linear(g.up, true);
        g.act.compute_root()
            .reorder_storage(t, o)
            .reorder(t, o)
            .vectorize(t, t_.vector, kGuard)
            .split(o, oo, o, t_.parallel_rows, kGuard)
            .parallel(oo);
    } else {
        linear(g.gate, phase);
        linear(g.up, phase);
        elementwise(g.act.compute_root(), o, phase);
    }
    linear(g.down, phase);
    stage_bf16_inputs({&g.o_proj, &g.gate, &g.up, &g.down}, phase);
    elementwise(g.out, h, phase);
}

void CpuGenericSchedule::head(HeadGraph &g, Phase phase) {
    norm(g.norm, phase);
    if (phase == Phase::Decode) {
        linear(g.logits, phase, g.out);  // the output's rows, task by task
    } else {
        linear(g.logits, phase);
        g.out.compute_root().vectorize(o, t_.vector, kGuard).parallel(t);
    }
    stage_bf16_inputs({&g.logits}, phase);
}

}  // namespace qwenc
