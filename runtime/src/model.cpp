#include "model.h"

#include <cstdlib>
#include <deque>
#include <filesystem>

#include "progress.h"

namespace qwenc {

namespace {
constexpr halide_type_t kF32{halide_type_float, 32, 1};
constexpr halide_type_t kI32{halide_type_int, 32, 1};
}  // namespace

Model::Model(const std::string &object_path, const std::string &weights_dir, const LoadOptions &opts)
    : Model(std::make_unique<ModelObject>(object_path), weights_dir, opts) {}

Model::Model(std::unique_ptr<ModelObject> object, const std::string &weights_dir, const LoadOptions &opts)
    : object_(std::move(object)) {
    Progress progress("loading " + object_->path(), opts.show_progress);
    const Manifest &m = object_->manifest();
    const std::string &object_path = object_->path();
    // A config.json beside the weights must describe the model that was compiled.
    const std::string cfg_path = weights_dir + "/config.json";
    if (std::filesystem::exists(cfg_path)) {
        const Qwen2Config c = load_qwen2_config(cfg_path);
        if (c.fingerprint() != m.config_fingerprint)
            throw InputError(cfg_path + ": describes a different model (fingerprint " + c.fingerprint() + ", hidden " +
                             std::to_string(c.hidden_size) + ", layers " + std::to_string(c.num_hidden_layers) + ") than " +
                             object_path + " was compiled for (fingerprint " + m.config_fingerprint + ", hidden " +
                             std::to_string(m.config.hidden_size) + ", layers " + std::to_string(m.config.num_hidden_layers) + ")");
    }
    progress.update(1, 2, "weights");
    weights_ = std::make_unique<WeightStore>(weights_dir, m, object_path);
    object_->set_num_threads(opts.num_threads);
    progress.finish();
}


Session::Session(const Model &model, int64_t max_context) : model_(model) {
    const Qwen2Config &c = model.config();
    if (max_context <= 0) max_context = std::min<int64_t>(c.max_position_embeddings, 4096);
    if (max_context > c.max_position_embeddings)
        throw InputError("context of " + std::to_string(max_context) + " exceeds the model's max_position_embeddings " +
                         std::to_string(c.max_position_embeddings));
    max_ctx_ = max_context;
    chunk_ = model.object().manifest().prefill_max_tokens;
    kv_layer_ = c.num_key_value_heads * max_ctx_ * c.head_dim();
    // The stages address a layer's cache through 32-bit Halide strides.
    if (kv_layer_ > INT32_MAX)
        throw InputError("a context of " + std::to_string(max_context) + " positions makes each layer's K and V cache " +
                         std::to_string(kv_layer_) + " elements, over the 2^31-1 a Halide buffer holds; use a smaller context");
    // calloc: the cache is only touched (and resident) as positions fill.
    const size_t floats = size_t(2 * c.num_hidden_layers) * size_t(kv_layer_);
    kv_.reset(static_cast<float *>(std::calloc(floats, sizeof(float))));
    if (!kv_) throw std::runtime_error("cannot allocate a KV cache of " + std::to_string(floats * 4 >> 20) + " MiB");
    x_a_.resize(size_t(chunk_ * c.hidden_size));
    x_b_.resize(size_t(chunk_ * c.hidden_size));
    q_.resize(size_t(chunk_ * c.q_dim()));
}

Session::Use::Use(std::atomic_flag &busy) : busy_(busy) {
    if (busy_.test_and_set(std::memory_order_acquire))
        throw std::logic_error("the session is in use by another thread (a session runs one call at a time; "
                               "give each thread its own session)");
}
Session::Use::~Use() { busy_.clear(std::memory_order_release); }

void Session::truncate(int64_t n) {
    const Use use(busy_);
    if (n < 0 || n > pos_) throw std::invalid_argument("truncate position out of range");
    pos_ = n;
}

void Session::eval(const int32_t *tokens, int64_t n, float *logits_out, bool all_logits) {
    const Use use(busy_);
    const Qwen2Config &c = model_.config();
    if (n <= 0) throw std::invalid_argument("no tokens to evaluate");
    if (n > max_ctx_ - pos_)  // not pos_ + n, which a huge n overflows
        throw std::invalid_argument(std::to_string(n) + " tokens at position " + std::to_string(pos_) +
                                    " exceed the context of " + std::to_string(max_ctx_) + " positions");
    for (int64_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= c.vocab_size)
            throw std::invalid_argument("token id " + std::to_string(tokens[i]) + " is outside the vocabulary [0, " +
                                        std::to_string(c.vocab_size) + ")");
    const int64_t start = pos_;
    try {
        model_.weights().check();  // a file cut short earlier leaves every later answer void
        for (int64_t off = 0; off < n; off += chunk_) {
            const int64_t T = std::min(chunk_, n - off);
            const bool last = off + T == n;
            float *out = nullptr;
            int64_t rows = 0;
            if (logits_out && all_logits) out = logits_out + off * c.vocab_size, rows = T;
            else if (logits_out && last) out = logits_out, rows = 1;
            run_chunk(tokens + off, T, out, rows);
        }
        model_.weights().check();  // and one cut short during this call, this call's
    } catch (...) {
        pos_ = start;
        throw;
    }
}

void Session::run_chunk(const int32_t *tokens, int64_t T, float *logits, int64_t logit_rows) {
    const Qwen2Config &c = model_.config();
    const ModelObject &obj = model_.object();
    const WeightStore &w = model_.weights();
    const int64_t H = c.hidden_size, hd = c.head_dim(), kvh = c.num_key_value_heads, V = c.vocab_size;
    const bool decode = T == 1;
    // Buffers live until the end of the chunk; a deque never moves them.
    std::deque<HalideBuffer> bufs;
    auto vec = [&](const std::string &name) {
        const std::vector<float> &v = w.vector(name);
        bufs.emplace_back().reset(v.data(), kF32, {{int64_t(v.size()), 1}});
        return bufs.back().get();
    };
    // A matrix argument of `stage`, as the stage takes it (matrix_layout),
    // followed by its row scale for int8 objects.
    auto matrix = [&](std::vector<PipelineArg> &args, Stage stage, const char *arg, const std::string &name) {
        const MatrixLayout layout = matrix_layout(obj.manifest(), stage);
        const TensorView &t = w.matrix(name);
        const int64_t words = t.shape[1] / layout.pack;  // per row
        bufs.emplace_back().reset(t.data, layout.type, {{words, 1}, {t.shape[0], words}});
        args.push_back({arg, bufs.back().get()});
        if (obj.manifest().weight_dtype == DType::I8) args.push_back({scale_arg_name(arg), vec(weight_scale_name(name))});
    };

    HalideBuffer tok, xa, xb, q, k_new, v_new, k_all, v_all;
    tok.reset(tokens, kI32, {{T, 1}});
    xa.reset(x_a_.data(), kF32, {{H, 1}, {T, H}});
    xb.reset(x_b_.data(), kF32, {{H, 1}, {T, H}});
    q.reset(q_.data(), kF32, {{hd, 1}, {c.num_attention_heads, hd}, {T, c.q_dim()}});
    {
        std::vector<PipelineArg> args{{"tokens", tok.get()}};
        matrix(args, Stage::Embed, "table", "model.embed_tokens.weight");
        args.push_back({"x_out", xa.get()});
        obj.call(Stage::Embed, args);
    }

    for (int64_t l = 0; l < c.num_hidden_layers; l++) {
        bufs.clear();
        auto name = [&](const char *s) { return layer_tensor_name(l, s); };
        k_new.reset(k_cache(l) + pos_ * hd, kF32, {{hd, 1}, {T, hd}, {kvh, max_ctx_ * hd}});
        v_new.reset(v_cache(l) + pos_ * hd, kF32, {{hd, 1}, {T, hd}, {kvh, max_ctx_ * hd}});
        const Stage qkv_stage = decode ? Stage::QkvDecode : Stage::QkvPrefill;
        const Stage mlp_stage = decode ? Stage::AttnMlpDecode : Stage::AttnMlpPrefill;
        std::vector<PipelineArg> qkv{{"x", xa.get()}, {"norm_w", vec(name("input_layernorm.weight"))}};
        matrix(qkv, qkv_stage, "wq", name("self_attn.q_proj.weight"));
        qkv.push_back({"bq", vec(name("self_attn.q_proj.bias"))});
        matrix(qkv, qkv_stage, "wk", name("self_attn.k_proj.weight"));
        qkv.push_back({"bk", vec(name("self_attn.k_proj.bias"))});
        matrix(qkv, qkv_stage, "wv", name("self_attn.v_proj.weight"));
        qkv.push_back({"bv", vec(name("self_attn.v_proj.bias"))});
        qkv.push_back({"pos0", nullptr, int32_t(pos_)});
        qkv.push_back({"q_out", q.get()});
        qkv.push_back({"k_out", k_new.get()});
        qkv.push_back({"v_out", v_new.get()});
        obj.call(qkv_stage, qkv);

        k_all.reset(k_cache(l), kF32, {{hd, 1}, {pos_ + T, hd}, {kvh, max_ctx_ * hd}});
        v_all.reset(v_cache(l), kF32, {{hd, 1}, {pos_ + T, hd}, {kvh, max_ctx_ * hd}});
        std::vector<PipelineArg> mlp{{"x", xa.get()}, {"q", q.get()}, {"k_cache", k_all.get()}, {"v_cache", v_all.get()},
                                     {"pos0", nullptr, int32_t(pos_)}};
        matrix(mlp, mlp_stage, "wo", name("self_attn.o_proj.weight"));
        mlp.push_back({"post_norm_w", vec(name("post_attention_layernorm.weight"))});
        matrix(mlp, mlp_stage, "w_gate", name("mlp.gate_proj.weight"));
        matrix(mlp, mlp_stage, "w_up", name("mlp.up_proj.weight"));
        matrix(mlp, mlp_stage, "w_down", name("mlp.down_proj.weight"));
        mlp.push_back({"x_out", xb.get()});
        obj.call(mlp_stage, mlp);
        std::swap(x_a_, x_b_);
        xa.reset(x_a_.data(), kF32, {{H, 1}, {T, H}});
        xb.reset(x_b_.data(), kF32, {{H, 1}, {T, H}});
    }
    pos_ += T;

    if (logits) {
        // Only the rows asked for go through the head: for generation just the last.
        bufs.clear();
        HalideBuffer x_rows, out;
        x_rows.reset(x_a_.data() + (T - logit_rows) * H, kF32, {{H, 1}, {logit_rows, H}});
        out.reset(logits, kF32, {{V, 1}, {logit_rows, V}});
        const std::string head_name = c.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight";
        const Stage head_stage = logit_rows == 1 ? Stage::HeadDecode : Stage::HeadPrefill;
        std::vector<PipelineArg> head{{"x", x_rows.get()}, {"norm_w", vec("model.norm.weight")}};
        matrix(head, head_stage, "lm_head", head_name);
        head.push_back({"logits", out.get()});
        obj.call(head_stage, head);
    }
}

}  // namespace qwenc
