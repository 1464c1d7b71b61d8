#include "lower/pipelines.h"

#include "graph/kv_cache.h"

#include "stage_signature.h"

namespace qwenc {

using namespace Halide;

namespace {

Var o("o"), t("t"), h("h"), d("d"), g("g");

// An activation input x(h, t) of `n_tokens` tokens (a constant 1 for decode).
ImageParam activations(const std::string &name, int64_t dim, Phase phase) {
    ImageParam x(Float(32), 2, name);
    x.dim(0).set_bounds(0, int(dim)).set_stride(1);
    x.dim(1).set_stride(int(dim));
    if (phase == Phase::Decode) x.dim(1).set_bounds(0, 1);
    return x;
}

Expr n_tokens(const ImageParam &x, Phase phase) {
    return phase == Phase::Decode ? Expr(1) : x.dim(1).extent();
}

// The token count linears clamp their staged inputs to (prefill only; see linear()).
Expr clamp_tokens(const ImageParam &x, Phase phase) { return phase == Phase::Prefill ? x.dim(1).extent() : Expr(); }

// The stage's parameters, in any order: a weight matrix brings its scale
// (int8) along.
struct Params {
    std::vector<ImageParam> buffers;
    std::vector<Param<int32_t>> scalars;
    Params &operator<<(const ImageParam &p) {
        buffers.push_back(p);
        return *this;
    }
    Params &operator<<(const WeightMatrix &w) {
        for (const ImageParam &p : w.params()) buffers.push_back(p);
        return *this;
    }
    Params &operator<<(const Param<int32_t> &p) {
        scalars.push_back(p);
        return *this;
    }
};

// The pipeline with its arguments in the order stage_signature declares
// (which the runtime calls with); a parameter the declaration lacks, or a
// declared argument the lowering did not make, is a bug in the lowering.
StagePipeline make_stage(Pipeline p, Stage stage, const ModelConfig &c, DType wd, const Params &params) {
    StagePipeline sp{std::move(p), {}, {}, {}};
    const std::vector<Func> outputs = sp.pipeline.outputs();
    size_t used = 0, output = 0;
    for (const StageArg &a : stage_signature(stage, c, wd)) {
        auto fail = [&](const std::string &why) {
            return std::logic_error(std::string("lowering of stage ") + stage_name(stage) + ": argument '" + a.name + "' " + why);
        };
        if (a.kind == ArgKind::OutputBuffer) {
            if (output >= outputs.size() || !is_arg_name(outputs[output].name(), a.name)) throw fail("is not the next output");
            output++;
            continue;
        }
        bool found = false;
        if (a.kind == ArgKind::InputBuffer)
            for (const ImageParam &b : params.buffers)
                if (b.name() == a.name) {
                    sp.args.push_back(b);
                    sp.buffers.emplace(b.name(), b);
                    found = true;
                }
        if (a.kind == ArgKind::Scalar)
            for (const Param<int32_t> &v : params.scalars)
                if (v.name() == a.name) {
                    sp.args.push_back(v);
                    sp.scalars.emplace(v.name(), v);
                    found = true;
                }
        if (!found) throw fail("has no parameter");
        used++;
    }
    if (used != params.buffers.size() + params.scalars.size() || output != outputs.size())
        throw std::logic_error(std::string("lowering of stage ") + stage_name(stage) + " makes parameters or outputs its signature lacks");
    return sp;
}

// Attention's inputs: q(d, h, t) and the cache k/v(d, p, g) from position 0,
// in the cache's dtype; k and v are the cache as f32.
struct AttentionInputs {
    ImageParam q{Float(32), 3, "q"}, k_cache, v_cache;
    Func k, v;
    Param<int32_t> pos0{"pos0"};
    AttentionInputs(const ModelConfig &c, DType kv)
        : k_cache(kv_cache_type(kv), 3, "k_cache"), v_cache(kv_cache_type(kv), 3, "v_cache"),
          k(kv_cache_load(k_cache, kv)), v(kv_cache_load(v_cache, kv)) {
        const int hd = int(c.head_dim());
        q.dim(0).set_bounds(0, hd).set_stride(1);
        q.dim(1).set_bounds(0, int(c.num_attention_heads)).set_stride(hd);
        q.dim(2).set_stride(int(c.q_dim()));
        for (ImageParam *kv : {&k_cache, &v_cache}) {
            kv->dim(0).set_bounds(0, hd).set_stride(1);
            kv->dim(1).set_min(0).set_stride(hd);
            kv->dim(2).set_bounds(0, int(c.num_key_value_heads));
        }
        pos0.set_range(0, Int(32).max());
    }
};
Params &operator<<(Params &p, const AttentionInputs &in) { return p << in.q << in.k_cache << in.v_cache; }

// A layer's projection: dense in the object's weight dtype, or the
// checkpoint's 4-bit layout.
// The schedule says how its target's integer dot products take their operands.
WeightMatrix projection(const std::string &name, const ModelConfig &c, DType wd, int64_t in, int64_t out, MatMath m,
                        const Schedule &s) {
    if (c.quant4.active()) return WeightMatrix(name, c.quant4, in, out, m, s.int8_quad_dot());
    return WeightMatrix(name, wd, in, out, quant4_dense_math(c.quant4, m), s.int8_dot_signs(),
                        s.int16_dot_lanes());
}

// The embedding or lm_head: dense, or 4-bit in a qwenc-int4 checkpoint.
WeightMatrix model_matrix(const std::string &name, const ModelConfig &c, DType wd, int64_t in, int64_t out, MatMath m,
                          const Schedule &s) {
    if (c.quant4.whole_model()) return WeightMatrix(name, c.quant4, in, out, m, s.int8_quad_dot());
    return WeightMatrix(name, wd, in, out, quant4_dense_math(c.quant4, m), s.int8_dot_signs(),
                        s.int16_dot_lanes());
}

// The weights after attention: o_proj, the post-attention norm, the MLP.
struct MlpWeights {
    WeightMatrix wo, w_gate, w_up, w_down;
    ImageParam post_norm_w;
    MatMath math;
    MlpWeights(const ModelConfig &c, DType wd, MatMath m, const Schedule &s)
        : wo(projection("wo", c, wd, c.q_dim(), c.hidden_size, m, s)),
          w_gate(projection("w_gate", c, wd, c.hidden_size, c.intermediate_size, m, s)),
          w_up(projection("w_up", c, wd, c.hidden_size, c.intermediate_size, m, s)),
          w_down(projection("w_down", c, wd, c.intermediate_size, c.hidden_size, m, s)),
          post_norm_w(vector_input("post_norm_w", c.hidden_size)), math(m) {}
};
Params &operator<<(Params &p, const MlpWeights &w) { return p << w.wo << w.post_norm_w << w.w_gate << w.w_up << w.w_down; }

void mlp_after_attention(AttnMlpGraph &gr, const ModelConfig &c, const ImageParam &x, Func attn, const MlpWeights &w, Phase phase);

// Output x(h, t) / logits(v, t): dense rows.
void constrain_rows(Func f, int64_t dim, Phase phase) {
    f.output_buffer().dim(0).set_bounds(0, int(dim)).set_stride(1);
    f.output_buffer().dim(1).set_min(0).set_stride(int(dim));
    if (phase == Phase::Decode) f.output_buffer().dim(1).set_bounds(0, 1);
}

StagePipeline build_embed(const ModelConfig &c, DType wd, Schedule &s) {
    ImageParam tokens(Int(32), 1, "tokens");
    const WeightMatrix table = model_matrix("table", c, wd, c.hidden_size, c.vocab_size, MatMath::F32, s);
    EmbedGraph gr{Func("x_out")};
    gr.out(h, t) = table(h, clamp(tokens(t), 0, int(c.vocab_size) - 1));
    constrain_rows(gr.out, c.hidden_size, Phase::Prefill);
    s.embed(gr, Phase::Prefill);
    return make_stage(Pipeline(gr.out), Stage::Embed, c, wd, Params() << tokens << table);
}

// The phase a stage's schedule sees: its graph's, but Batch for a batch
// stage whose math has batch tiles of its own (see builds_as_prefill_twin).
Phase schedule_phase(Stage stage, Phase graph_phase, MatMath math) {
    return is_batch_stage(stage) && mat_math_has_batch_tiles(math) ? Phase::Batch : graph_phase;
}

StagePipeline build_qkv(Stage stage, const ModelConfig &c, DType wd, Phase phase, Schedule &s, MatMath math, DType kv) {
    const int64_t H = c.hidden_size, hd = c.head_dim();
    ImageParam x = activations("x", H, phase);
    ImageParam norm_w = vector_input("norm_w", H);
    WeightMatrix wq = projection("wq", c, wd, H, c.q_dim(), math, s), wk = projection("wk", c, wd, H, c.kv_dim(), math, s),
                 wv = projection("wv", c, wd, H, c.kv_dim(), math, s);
    Params params;
    params << x << norm_w << wq << wk << wv;
    // Each prefill token's own position (a batched step's tokens belong to
    // several sequences); decode's one token at pos0.
    Expr position;
    if (phase == Phase::Prefill) {
        ImageParam positions(Int(32), 1, "positions");
        positions.dim(0).set_min(0).set_stride(1);
        params << positions;
        position = max(positions(t), 0);
    } else {
        Param<int32_t> pos0("pos0");
        pos0.set_range(0, Int(32).max());
        params << pos0;
        position = pos0 + t;
    }
    // The family's traits: q/k/v biases, and q/k head norms.
    Func bq, bk, bv, q_norm_w, k_norm_w;
    if (c.qkv_bias) {
        ImageParam pq = vector_input("bq", c.q_dim()), pk = vector_input("bk", c.kv_dim()), pv = vector_input("bv", c.kv_dim());
        params << pq << pk << pv;
        bq = pq, bk = pk, bv = pv;
    }
    if (c.qk_norm) {
        ImageParam pq = vector_input("q_norm_w", hd), pk = vector_input("k_norm_w", hd);
        params << pq << pk;
        q_norm_w = pq, k_norm_w = pk;
    }

    QkvGraph gr;
    gr.norm = rms_norm("attn_norm", x, norm_w, H, c.rms_norm_eps);
    const Expr nt = clamp_tokens(x, phase);
    const Func x_staged = staged_input("attn_norm", gr.norm.out, math, nt);
    gr.q = linear("q_lin", wq, gr.norm.out, bq, nt, x_staged);
    gr.k = linear("k_lin", wk, gr.norm.out, bk, nt, x_staged);
    gr.v = linear("v_lin", wv, gr.norm.out, bv, nt, x_staged);
    gr.rope = rope_tables("rope", hd, c.rope_theta, position);

    Func q_heads("q_heads"), k_heads("k_heads");
    q_heads(d, h, t) = gr.q.result(d + h * int(hd), t);
    k_heads(d, h, t) = gr.k.result(d + h * int(hd), t);
    if (c.qk_norm) {
        gr.q_norm = head_rms_norm("q_norm", q_heads, q_norm_w, hd, c.rms_norm_eps);
        gr.k_norm = head_rms_norm("k_norm", k_heads, k_norm_w, hd, c.rms_norm_eps);
    }
    Func q_rot = apply_rope("q_rot", c.qk_norm ? gr.q_norm.out : q_heads, gr.rope, hd);
    Func k_rot = apply_rope("k_rot", c.qk_norm ? gr.k_norm.out : k_heads, gr.rope, hd);
    gr.q_out = Func("q_out");
    gr.k_out = Func("k_out");
    gr.v_out = Func("v_out");
    gr.q_out(d, h, t) = q_rot(d, h, t);
    // cache layout: (d, position, kv head), in the cache's dtype
    gr.k_out(d, t, g) = kv_cache_store(k_rot(d, g, t), kv);
    gr.v_out(d, t, g) = kv_cache_store(gr.v.result(d + g * int(hd), t), kv);

    gr.q_out.output_buffer().dim(0).set_bounds(0, int(hd)).set_stride(1);
    gr.q_out.output_buffer().dim(1).set_bounds(0, int(c.num_attention_heads)).set_stride(int(hd));
    // Token 0 at index 0 in every output (tiles of tokens then start at
    // known multiples; see staged_input).
    gr.q_out.output_buffer().dim(2).set_min(0).set_stride(int(c.q_dim()));
    for (Func f : {gr.k_out, gr.v_out}) {
        f.output_buffer().dim(0).set_bounds(0, int(hd)).set_stride(1);
        f.output_buffer().dim(1).set_min(0).set_stride(int(hd));
        f.output_buffer().dim(2).set_bounds(0, int(c.num_key_value_heads));
    }
    if (phase == Phase::Decode) {
        gr.q_out.output_buffer().dim(2).set_bounds(0, 1);
        gr.k_out.output_buffer().dim(1).set_bounds(0, 1);
        gr.v_out.output_buffer().dim(1).set_bounds(0, 1);
    }
    s.qkv(gr, schedule_phase(stage, phase, math));
    return make_stage(Pipeline({gr.q_out, gr.k_out, gr.v_out}), stage, c, wd, params);
}

StagePipeline build_attn_mlp(Stage stage, const ModelConfig &c, DType wd, Phase phase, Schedule &s, MatMath math, DType kv) {
    const int64_t H = c.hidden_size, hd = c.head_dim();
    ImageParam x = activations("x", H, phase);
    AttentionInputs in(c, kv);
    MlpWeights w(c, wd, math, s);
    AttnMlpGraph gr;
    gr.attn = attention(in.q, in.k, in.v, hd, c.group_size(), in.pos0, n_tokens(x, phase), s.attention_key_block(phase), math);
    mlp_after_attention(gr, c, x, gr.attn.out, w, phase);
    s.attn_mlp(gr, phase);
    Params params;
    params << x << in << w << in.pos0;
    return make_stage(Pipeline(gr.out), stage, c, wd, params);
}

// One sequence's attention (a batched step's): q of its tokens over its cache.
StagePipeline build_attention(Stage stage, const ModelConfig &c, DType wd, Phase phase, Schedule &s, MatMath math, DType kv) {
    AttentionInputs in(c, kv);
    if (phase == Phase::Decode) in.q.dim(2).set_bounds(0, 1);
    const Expr nt = phase == Phase::Decode ? Expr(1) : in.q.dim(2).extent();
    Attention a = attention(in.q, in.k, in.v, c.head_dim(), c.group_size(), in.pos0, nt, s.attention_key_block(phase), math);
    a.out.output_buffer().dim(0).set_bounds(0, int(c.head_dim())).set_stride(1);
    a.out.output_buffer().dim(1).set_bounds(0, int(c.num_attention_heads)).set_stride(int(c.head_dim()));
    a.out.output_buffer().dim(2).set_min(0).set_stride(int(c.q_dim()));
    if (phase == Phase::Decode) a.out.output_buffer().dim(2).set_bounds(0, 1);
    s.attention(a, phase);
    Params params;
    params << in << in.pos0;
    return make_stage(Pipeline(a.out), stage, c, wd, params);
}

// A batched step's tokens after attention: o_proj of attn(d, h, t), the
// residual, the MLP; on prefill's schedules.
StagePipeline build_out_mlp(const ModelConfig &c, DType wd, Schedule &s, MatMath math) {
    const int64_t hd = c.head_dim();
    ImageParam x = activations("x", c.hidden_size, Phase::Prefill);
    ImageParam attn(Float(32), 3, "attn");
    attn.dim(0).set_bounds(0, int(hd)).set_stride(1);
    attn.dim(1).set_bounds(0, int(c.num_attention_heads)).set_stride(int(hd));
    attn.dim(2).set_min(0).set_stride(int(c.q_dim()));
    MlpWeights w(c, wd, math, s);
    AttnMlpGraph gr;
    mlp_after_attention(gr, c, x, attn, w, Phase::Prefill);
    s.out_mlp(gr, schedule_phase(Stage::OutMlp, Phase::Prefill, math));
    Params params;
    params << x << attn << w;
    return make_stage(Pipeline(gr.out), Stage::OutMlp, c, wd, params);
}

// The rest of attn_mlp after attention's output `attn`.
void mlp_after_attention(AttnMlpGraph &gr, const ModelConfig &c, const ImageParam &x, Func attn, const MlpWeights &w, Phase phase) {
    const int64_t H = c.hidden_size, hd = c.head_dim();
    const WeightMatrix &wo = w.wo, &w_gate = w.w_gate, &w_up = w.w_up, &w_down = w.w_down;
    const ImageParam &post_norm_w = w.post_norm_w;
    const Expr nt = clamp_tokens(x, phase);
    const MatMath math = w.math;
    gr.o_proj = linear_over_heads("o_proj", wo, attn, hd, c.num_attention_heads, nt);
    gr.x_mid = Func("x_mid");
    gr.x_mid(h, t) = x(h, t) + gr.o_proj.result(h, t);
    gr.norm = rms_norm("mlp_norm", gr.x_mid, post_norm_w, H, c.rms_norm_eps);
    const Func x_staged = staged_input("mlp_norm", gr.norm.out, math, nt);
    gr.gate = linear("gate", w_gate, gr.norm.out, Func(), nt, x_staged);
    gr.up = linear("up", w_up, gr.norm.out, Func(), nt, x_staged);
    gr.act = Func("act");
    Expr gv = gr.gate.result(o, t);
    gr.act(o, t) = gv / (1.0f + exp(-gv)) * gr.up.result(o, t);
    gr.down = linear("down", w_down, gr.act, Func(), nt);
    gr.out = Func("x_out");
    gr.out(h, t) = gr.x_mid(h, t) + gr.down.result(h, t);
    constrain_rows(gr.out, H, phase);
}

StagePipeline build_head(Stage stage, const ModelConfig &c, DType wd, Phase phase, Schedule &s, MatMath math) {
    const int64_t H = c.hidden_size;
    ImageParam x = activations("x", H, phase);
    ImageParam norm_w = vector_input("norm_w", H);
    const WeightMatrix lm_head = model_matrix("lm_head", c, wd, H, c.vocab_size, math, s);
    HeadGraph gr;
    gr.norm = rms_norm("final_norm", x, norm_w, H, c.rms_norm_eps);
    gr.logits = linear("lm_head_lin", lm_head, gr.norm.out, Func(), clamp_tokens(x, phase));
    gr.out = Func("logits");
    gr.out(o, t) = gr.logits.result(o, t);
    constrain_rows(gr.out, c.vocab_size, phase);
    s.head(gr, schedule_phase(stage, phase, math));
    return make_stage(Pipeline(gr.out), stage, c, wd, Params() << x << norm_w << lm_head);
}

StagePipeline build_stage_graph(Stage stage, const ModelConfig &c, DType wd, Schedule &s, MatMath math, DType kv) {
    switch (stage) {
    case Stage::Embed: return build_embed(c, wd, s);
    case Stage::QkvPrefill:
    case Stage::QkvBatch: return build_qkv(stage, c, wd, Phase::Prefill, s, math, kv);
    case Stage::QkvDecode: return build_qkv(stage, c, wd, Phase::Decode, s, math, kv);
    case Stage::AttnMlpPrefill: return build_attn_mlp(stage, c, wd, Phase::Prefill, s, math, kv);
    case Stage::AttnMlpDecode: return build_attn_mlp(stage, c, wd, Phase::Decode, s, math, kv);
    case Stage::HeadPrefill:
    case Stage::HeadBatch: return build_head(stage, c, wd, Phase::Prefill, s, math);
    case Stage::HeadDecode: return build_head(stage, c, wd, Phase::Decode, s, math);
    case Stage::AttnPrefill: return build_attention(stage, c, wd, Phase::Prefill, s, math, kv);
    case Stage::AttnDecode: return build_attention(stage, c, wd, Phase::Decode, s, math, kv);
    case Stage::OutMlp: return build_out_mlp(c, wd, s, math);
    }
    throw std::logic_error("unknown stage");
}

}  // namespace

bool builds_as_prefill_twin(Stage stage, MatMath stage_math, MatMath twin_math) {
    return graph_stage(stage) != stage && stage_math == twin_math && !mat_math_has_batch_tiles(stage_math);
}

StagePipeline build_stage(Stage stage, const ModelConfig &c, DType wd, Schedule &s, MatMath math, DType kv_cache) {
    StagePipeline sp = build_stage_graph(stage, c, wd, s, math, kv_cache);
    s.add_lowering_passes(sp.pipeline);
    return sp;
}

}  // namespace qwenc
