#include "stage_signature.h"

#include <stdexcept>

#include "tensors.h"

namespace qwenc {

std::vector<StageArg> stage_signature(Stage stage, const ModelConfig &c, DType weight_dtype) {
    using namespace tensor_names;
    std::vector<StageArg> sig;
    auto session_in = [&](const char *name, ArgType type, int rank) {
        sig.push_back({name, ArgKind::InputBuffer, type, rank, ArgSource::Session, ""});
    };
    auto out = [&](const char *name, int rank, ArgType type = ArgType::F32) {
        sig.push_back({name, ArgKind::OutputBuffer, type, rank, ArgSource::Session, ""});
    };
    auto pos0 = [&] { sig.push_back({"pos0", ArgKind::Scalar, ArgType::I32, 0, ArgSource::Session, ""}); };
    auto vector = [&](const char *name, ArgSource source, const char *tensor) {
        sig.push_back({name, ArgKind::InputBuffer, ArgType::F32, 1, source, tensor});
    };
    auto matrix = [&](const char *name, ArgSource source, const char *tensor) {
        if (c.quant4.active() && (source == ArgSource::LayerMatrix || c.quant4.whole_model())) {
            sig.push_back({name, ArgKind::InputBuffer, ArgType::Quant4Weight, 2, source, tensor});
            if (c.quant4.format != Quant4Format::Rows)  // rows have no zeros stored (kQuant4RowsZero)
                sig.push_back({qzeros_arg_name(name), ArgKind::InputBuffer, ArgType::Quant4Zeros, 2, source, tensor});
            sig.push_back({qscales_arg_name(name), ArgKind::InputBuffer, ArgType::Quant4Scales, 2, source, tensor});
            return;
        }
        sig.push_back({name, ArgKind::InputBuffer, ArgType::Matrix, 2, source, tensor});
        if (weight_dtype == DType::I8)
            sig.push_back({scale_arg_name(name), ArgKind::InputBuffer, ArgType::MatrixScale, 1, source, tensor});
    };
    auto mlp = [&] {  // o_proj of the attention, residual, post norm, SwiGLU, residual
        matrix("wo", ArgSource::LayerMatrix, kO);
        vector("post_norm_w", ArgSource::LayerVector, kPostAttentionNorm);
        matrix("w_gate", ArgSource::LayerMatrix, kGate);
        matrix("w_up", ArgSource::LayerMatrix, kUp);
        matrix("w_down", ArgSource::LayerMatrix, kDown);
    };
    switch (graph_stage(stage)) {  // a batch stage takes its prefill twin's arguments
    case Stage::Embed:  // x_out(h, t) = table row of tokens(t)
        session_in("tokens", ArgType::I32, 1);
        matrix("table", ArgSource::ModelMatrix, kEmbedding);
        out("x_out", 2);
        break;
    case Stage::QkvPrefill:
    case Stage::QkvDecode:  // input norm, q/k/v projections (with biases), (q/k head norms), RoPE; k/v written into the cache
        session_in("x", ArgType::F32, 2);
        vector("norm_w", ArgSource::LayerVector, kInputNorm);
        matrix("wq", ArgSource::LayerMatrix, kQ);
        if (c.qkv_bias) vector("bq", ArgSource::LayerVector, kQBias);
        matrix("wk", ArgSource::LayerMatrix, kK);
        if (c.qkv_bias) vector("bk", ArgSource::LayerVector, kKBias);
        matrix("wv", ArgSource::LayerMatrix, kV);
        if (c.qkv_bias) vector("bv", ArgSource::LayerVector, kVBias);
        if (c.qk_norm) {
            vector("q_norm_w", ArgSource::LayerVector, kQNorm);
            vector("k_norm_w", ArgSource::LayerVector, kKNorm);
        }
        // Prefill: each token's own position (a batched step's tokens
        // belong to several sequences); decode: its one position.
        if (graph_stage(stage) == Stage::QkvPrefill) session_in("positions", ArgType::I32, 1);
        else pos0();
        out("q_out", 3), out("k_out", 3, ArgType::KvCache), out("v_out", 3, ArgType::KvCache);
        break;
    case Stage::AttnMlpPrefill:
    case Stage::AttnMlpDecode:  // attention over the cache, o_proj, residual, post norm, SwiGLU, residual
        session_in("x", ArgType::F32, 2);
        session_in("q", ArgType::F32, 3);
        session_in("k_cache", ArgType::KvCache, 3);
        session_in("v_cache", ArgType::KvCache, 3);
        mlp();
        pos0();
        out("x_out", 2);
        break;
    case Stage::AttnPrefill:
    case Stage::AttnDecode:  // one sequence's attention over its cache
        session_in("q", ArgType::F32, 3);
        session_in("k_cache", ArgType::KvCache, 3);
        session_in("v_cache", ArgType::KvCache, 3);
        pos0();
        out("attn", 3);
        break;
    case Stage::OutMlp:  // a batched step's tokens after attention
        session_in("x", ArgType::F32, 2);
        session_in("attn", ArgType::F32, 3);
        mlp();
        out("x_out", 2);
        break;
    case Stage::HeadPrefill:
    case Stage::HeadDecode:  // final norm, lm_head
        session_in("x", ArgType::F32, 2);
        vector("norm_w", ArgSource::ModelVector, kFinalNorm);
        matrix("lm_head", ArgSource::ModelMatrix, head_tensor_name(c));
        out("logits", 2);
        break;
    }
    if (sig.empty()) throw std::logic_error("unknown stage");
    return sig;
}

bool is_arg_name(const std::string &halide_name, const std::string &name) {
    return halide_name.compare(0, name.size(), name) == 0 &&
           (halide_name.size() == name.size() || halide_name[name.size()] == '$');
}

}  // namespace qwenc
