#include "layers.h"

#include <cmath>

namespace qwenc {

using namespace Halide;

namespace {
Var o("o"), t("t"), h("h"), d("d"), j("j"), p("p");
}

namespace {

// Token t of a staged input copy: clamped to the last real token when the
// token count is given (see linear()).
Expr token(const Expr &n_tokens) { return n_tokens.defined() ? min(t, n_tokens - 1) : Expr(t); }

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

// The reduction's name: a scaled (int8) linear keeps `name` for its result,
// which may be a pipeline output the runtime binds by name.
std::string sum_name(const std::string &name, const WeightMatrix &w) { return w.has_scale() ? name + "_sum" : name; }

// Applies the int8 row scale (and the bias, which must come after it).
void finish(Linear &l, const std::string &name, const WeightMatrix &w, Func bias) {
    if (!w.has_scale()) {
        l.result = l.out;
        return;
    }
    l.scaled = true;
    l.result = Func(name);
    Expr v = l.out(o, t) * w.scale(o);
    l.result(o, t) = bias.defined() ? v + bias(o) : v;
}

}  // namespace

Linear linear(const std::string &name, const WeightMatrix &w, Func x, Func bias, Expr n_tokens) {
    if (w.bf16_elements()) {
        Linear l{Func(name), RDom(0, int(w.in_dim()), name + "_r"), w.out_dim(), {}};
        l.x_bf16 = Func(name + "_xbf16");
        l.x_bf16(j, t) = cast(BFloat(16), x(j, token(n_tokens)));
        l.out(o, t) = bias.defined() ? Expr(bias(o)) : Expr(0.0f);
        l.out(o, t) += cast<float>(w.raw_bf16(l.r.x, o)) * cast<float>(l.x_bf16(l.r.x, t));
        l.result = l.out;
        return l;
    }
    const int pack = w.pack();
    Linear l{Func(sum_name(name, w)), RDom(0, int(w.in_dim() / pack), name + "_r"), w.out_dim(),
             input_parts(name, x, pack, false, n_tokens)};
    // Without a scale the bias starts the sum; with one it is added after scaling.
    l.out(o, t) = bias.defined() && !w.has_scale() ? Expr(bias(o)) : Expr(0.0f);
    Expr sum = 0.0f;
    if (pack == 1) sum = w(l.r.x, o) * x(l.r.x, t);
    for (int k = 0; k < pack && pack > 1; k++) sum += w.lane(k, l.r.x, o) * l.x_parts[size_t(k)](l.r.x, t);
    l.out(o, t) += sum;
    finish(l, name, w, bias);
    return l;
}

Linear linear_over_heads(const std::string &name, const WeightMatrix &w, Func attn, int64_t head_dim, int64_t n_heads,
                         Expr n_tokens) {
    if (w.bf16_elements()) {
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
    if (pack == 1) sum = w(l.r.x + l.r.y * int(head_dim), o) * attn(l.r.x, l.r.y, t);
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

RopeTables rope_tables(const std::string &name, int64_t head_dim, double theta, Expr pos0) {
    RopeTables r{Func(name + "_cos"), Func(name + "_sin")};
    // inv_freq(j) = theta^(-2j / head_dim)
    Expr inv_freq = exp(cast<double>(j) * Expr(-2.0 * std::log(theta) / double(head_dim)));
    Expr angle = cast<double>(pos0 + t) * inv_freq;
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

Attention attention(Func q, Func k, Func v, int64_t head_dim, int64_t group_size, Expr pos0, Expr n_tokens) {
    Attention a{Func("scores"), Func("max_score"), Func("attn_weights"), Func("denom"), Func("sum_v"), Func("attn"),
                RDom(0, int(head_dim), "r_dim"), RDom(0, pos0 + n_tokens, "r_key")};
    const float scale = float(1.0 / std::sqrt(double(head_dim)));
    Expr g = h / int(group_size);
    a.scores(p, h, t) = 0.0f;
    a.scores(p, h, t) += q(a.r_dim, h, t) * k(a.r_dim, p, g);
    // Causal: query t sits at absolute position pos0 + t and sees keys p <= it.
    RDom rk = a.r_key;
    rk.where(rk <= pos0 + t);
    a.max_score(h, t) = Float(32).min();
    a.max_score(h, t) = max(a.max_score(h, t), a.scores(rk, h, t));
    a.weights(p, h, t) = exp((a.scores(p, h, t) - a.max_score(h, t)) * scale);
    a.denom(h, t) = 0.0f;
    a.denom(h, t) += a.weights(rk, h, t);
    a.sum_v(d, h, t) = 0.0f;
    a.sum_v(d, h, t) += a.weights(rk, h, t) * v(d, rk, g);
    a.out(d, h, t) = a.sum_v(d, h, t) / a.denom(h, t);
    a.r_key = rk;
    return a;
}

}  // namespace qwenc
