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
// sum 7620, far inside int16.
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
