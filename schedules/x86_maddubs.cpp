// pmaddubsw for 4-bit weights on int8 activations (x86 with AVX2, and
// AVX-512 without VNNI in 256-bit halves; with VNNI the lowering writes the
// sums for vpdpbusd instead: Schedule::int8_quad_dot). Halide 14 selects pmaddubsw only for
// a saturating pairwise sum of uint8 x int8 products, which the front end
// cannot express (it cannot prove saturating_add associative, so no atomic
// vectorization). This pass
// rewrites the sum that quant4_int8_linear's blocks lower to, a 4-to-1
// vector_reduce of widening_add(widening_mul(a, x), widening_mul(b, y))
// with a, b uint8 and x, y int8, into two pmaddubsw pairs whose int16 sum
// reduces 2-to-1 to int32 (pmaddwd by ones). The rewrite is exact when no
// pairwise sum saturates: there a, b are 4-bit values (<= 15) and x, y in
// [-127, 127], so a pair is at most 2 x 15 x 127 = 3810 and the two pairs'
// sum 7620, far inside int16. AWQ's sums, whose lanes are outputs rather
// than inputs (quant4_awq_int8_linear), take pmaddubsw lane by lane, two
// inputs of one output a pair: see visit(Let).
#include "isa_schedules.h"

namespace qwenc {

namespace {
using namespace Halide;
using namespace Halide::Internal;

class Maddubs : public IRMutator {
    using IRMutator::visit;

    // Whether a uint8 vector is a 4-bit value as the lowering leaves it:
    // v % 16 (v & 15 simplified), or v >> 4 / v / 16.
    static bool is_nibble(const Expr &a) {
        auto is16 = [](const Expr &e) { const Broadcast *b = e.as<Broadcast>(); return b && is_const(b->value, 16); };
        auto is4 = [](const Expr &e) { const Broadcast *b = e.as<Broadcast>(); return b && is_const(b->value, 4); };
        if (const Mod *m = a.as<Mod>()) return is16(m->b);
        if (const Div *d = a.as<Div>()) return is16(d->b);
        if (const Call *c = Call::as_intrinsic(a, {Call::shift_right})) return is4(c->args[1]);
        if (const Call *c = Call::as_intrinsic(a, {Call::bitwise_and})) {
            const Broadcast *b = c->args[1].as<Broadcast>();
            return b && is_const(b->value, 15);
        }
        return false;
    }

    // widening_mul(uint8 a, int8 x) as int16 with a a 4-bit value, summed in pairs (pmaddubsw).
    static Expr pairs(const Expr &product, int lanes) {
        const Call *c = Call::as_intrinsic(product, {Call::widening_mul});
        if (!c) return Expr();
        Expr a = c->args[0], x = c->args[1];
        if (a.type().element_of() == Int(8)) std::swap(a, x);
        if (a.type().element_of() != UInt(8) || x.type().element_of() != Int(8) || !is_nibble(a)) return Expr();
        return VectorReduce::make(VectorReduce::SaturatingAdd, widening_mul(a, x), lanes);
    }

    // A lane-wise sum widening_add(widening_mul(a, x), widening_mul(b, y))
    // with a, b 4-bit uint8 and x, y int8: its operands, or false.
    static bool lane_pairs(const Expr &e, Expr &a, Expr &x, Expr &b, Expr &y) {
        const Call *sum = Call::as_intrinsic(e, {Call::widening_add});
        if (!sum || e.type().element_of() != Int(32)) return false;
        auto operands = [](const Expr &product, Expr &a, Expr &x) {
            const Call *c = Call::as_intrinsic(product, {Call::widening_mul});
            if (!c) return false;
            a = c->args[0];
            x = c->args[1];
            if (a.type().element_of() == Int(8)) std::swap(a, x);
            return a.type().element_of() == UInt(8) && x.type().element_of() == Int(8) && is_nibble(a);
        };
        return operands(sum->args[0], a, x) && operands(sum->args[1], b, y);
    }

    // AWQ's sums (quant4_awq_int8_linear) as the vectorizer leaves them:
    //   let v = widening_add(widening_mul(a, x), widening_mul(b, y)) in v[0, n/2) + v[n/2, n)
    // with lanes (c, k), c the C byte columns of a tile and k four inputs
    // side by side (a of one input, b of the one four on): each lane its
    // own a x + b y. As pmaddubsw pairs of a and b interleaved: within each
    // 128-bit lane (vpunpcklbw / vpunpckhbw), which leaves the columns
    // permuted, 8 at a time; the two halves add in int16 (at most 2 x
    // 3810), widen (8 lanes a vpmovsxwd), and the 8-lane runs then take
    // their places, whole registers, at no cost.
    Expr visit(const Let *op) override {
        Expr a, x, b, y;
        const Add *halves = op->body.as<Add>();
        const int lanes = op->value.type().lanes(), C = lanes / 4;
        auto is_half = [&](const Expr &e, int start) {
            const Shuffle *s = e.as<Shuffle>();
            const Variable *v = s && s->vectors.size() == 1 ? s->vectors[0].as<Variable>() : nullptr;
            return v && v->name == op->name && s->is_slice() && s->slice_begin() == start && s->slice_stride() == 1 &&
                   s->indices.size() == size_t(lanes / 2);
        };
        if (lanes % 4 != 0 || C % 16 != 0 || !lane_pairs(op->value, a, x, b, y) || !halves || !is_half(halves->a, 0) ||
            !is_half(halves->b, lanes / 2))
            return IRMutator::visit(op);
        // order[p]: the column at pair position p, as the unpacks leave them.
        const int chunk = C % 32 == 0 ? 32 : 16;
        std::vector<int> order, position(size_t(C), 0);
        for (int q = 0; q < C; q += chunk)
            for (int half = 0; half < 2; half++)
                for (int lane = 0; lane < chunk; lane += 16)
                    for (int i = 0; i < 8; i++) order.push_back(q + lane + 8 * half + i);
        for (int p = 0; p < C; p++) position[size_t(order[size_t(p)])] = p;
        std::vector<int> pair_lanes;
        for (int k = 0; k < 4; k++)
            for (int c : order) {
                pair_lanes.push_back(k * C + c);
                pair_lanes.push_back(lanes + k * C + c);
            }
        const Expr products = widening_mul(Shuffle::make({a, b}, pair_lanes), Shuffle::make({x, y}, pair_lanes));
        const Expr pairs16 = VectorReduce::make(VectorReduce::SaturatingAdd, products, lanes);  // lanes (k, order)
        const Expr sum16 = Shuffle::make_slice(pairs16, 0, 1, lanes / 2) + Shuffle::make_slice(pairs16, lanes / 2, 1, lanes / 2);
        std::vector<int> back;
        for (int k = 0; k < 2; k++)
            for (int c = 0; c < C; c++) back.push_back(k * C + position[size_t(c)]);
        return Shuffle::make({cast(Int(32, lanes / 2), sum16)}, back);
    }

    Expr visit(const VectorReduce *op) override {
        Expr value = mutate(op->value);
        const int lanes = op->type.lanes(), factor = value.type().lanes() / lanes;
        if (op->op == VectorReduce::Add && factor == 4 && op->type.element_of() == Int(32))
            if (const Call *sum = Call::as_intrinsic(value, {Call::widening_add})) {
                const Expr lo = pairs(sum->args[0], 2 * lanes), hi = pairs(sum->args[1], 2 * lanes);
                if (lo.defined() && hi.defined()) {
                    const Expr ones = make_const(Int(16, 2 * lanes), 1);
                    return VectorReduce::make(VectorReduce::Add, cast(Int(32, 2 * lanes), widening_mul(lo + hi, ones)), lanes);
                }
            }
        return value.same_as(op->value) ? Expr(op) : VectorReduce::make(op->op, value, lanes);
    }
};
}  // namespace

void add_maddubs_pass(Pipeline &p) {
    p.add_custom_lowering_pass(new Maddubs);
}

}  // namespace qwenc
