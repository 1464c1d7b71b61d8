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
        const ModelConfig c = load_model_config(cfg_path);
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
    const ModelConfig &c = model.config();
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
    const ModelConfig &c = model_.config();
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
    const ModelConfig &c = model_.config();
    const ModelObject &obj = model_.object();
    const WeightStore &w = model_.weights();
    const int64_t H = c.hidden_size, hd = c.head_dim(), kvh = c.num_key_value_heads, V = c.vocab_size;
    const bool decode = T == 1;
    int32_t pos0 = int32_t(pos_);
    // Runs `stage`, binding its arguments as its signature declares them:
    // weights (of `layer`, for the per-layer sources) from the store, the
    // session's buffers and scalars from `own`, by name.
    using Own = std::initializer_list<std::pair<const char *, void *>>;
    auto run = [&](Stage stage, int64_t layer, Own own) {
        std::deque<HalideBuffer> bufs;  // live until the call returns; a deque never moves them
        const std::vector<StageArg> &sig = obj.signature(stage);
        std::vector<void *> argv;
        argv.reserve(sig.size());
        for (const StageArg &a : sig) {
            if (a.source == ArgSource::Session) {
                void *value = nullptr;
                for (const auto &[name, v] : own)
                    if (a.name == name) value = v;
                if (!value) throw std::logic_error(std::string("the session gives stage ") + stage_name(stage) + " no '" + a.name + "'");
                argv.push_back(value);
                continue;
            }
            const bool per_layer = a.source == ArgSource::LayerVector || a.source == ArgSource::LayerMatrix;
            const std::string tensor = per_layer ? layer_tensor_name(layer, a.tensor) : a.tensor;
            if (a.type == ArgType::Matrix) {
                const MatrixLayout layout = matrix_layout(obj.manifest(), stage);
                const TensorView &t = w.matrix(tensor);
                const int64_t words = t.shape[1] / layout.pack;  // per row
                bufs.emplace_back().reset(t.data, layout.type, {{words, 1}, {t.shape[0], words}});
            } else {  // a vector, or a matrix's row scale, widened to f32 at load
                const std::vector<float> &v = w.vector(a.type == ArgType::MatrixScale ? weight_scale_name(tensor) : tensor);
                bufs.emplace_back().reset(v.data(), kF32, {{int64_t(v.size()), 1}});
            }
            argv.push_back(bufs.back().get());
        }
        obj.call(stage, argv);
    };

    HalideBuffer tok, xa, xb, q, k_new, v_new, k_all, v_all;
    tok.reset(tokens, kI32, {{T, 1}});
    xa.reset(x_a_.data(), kF32, {{H, 1}, {T, H}});
    xb.reset(x_b_.data(), kF32, {{H, 1}, {T, H}});
    q.reset(q_.data(), kF32, {{hd, 1}, {c.num_attention_heads, hd}, {T, c.q_dim()}});
    run(Stage::Embed, -1, {{"tokens", tok.get()}, {"x_out", xa.get()}});

    for (int64_t l = 0; l < c.num_hidden_layers; l++) {
        k_new.reset(k_cache(l) + pos_ * hd, kF32, {{hd, 1}, {T, hd}, {kvh, max_ctx_ * hd}});
        v_new.reset(v_cache(l) + pos_ * hd, kF32, {{hd, 1}, {T, hd}, {kvh, max_ctx_ * hd}});
        run(decode ? Stage::QkvDecode : Stage::QkvPrefill, l,
            {{"x", xa.get()}, {"pos0", &pos0}, {"q_out", q.get()}, {"k_out", k_new.get()}, {"v_out", v_new.get()}});
        k_all.reset(k_cache(l), kF32, {{hd, 1}, {pos_ + T, hd}, {kvh, max_ctx_ * hd}});
        v_all.reset(v_cache(l), kF32, {{hd, 1}, {pos_ + T, hd}, {kvh, max_ctx_ * hd}});
        run(decode ? Stage::AttnMlpDecode : Stage::AttnMlpPrefill, l,
            {{"x", xa.get()}, {"q", q.get()}, {"k_cache", k_all.get()}, {"v_cache", v_all.get()}, {"pos0", &pos0},
             {"x_out", xb.get()}});
        std::swap(x_a_, x_b_);
        xa.reset(x_a_.data(), kF32, {{H, 1}, {T, H}});
        xb.reset(x_b_.data(), kF32, {{H, 1}, {T, H}});
    }
    pos_ += T;

    if (logits) {
        // Only the rows asked for go through the head: for generation just the last.
        HalideBuffer x_rows, out;
        x_rows.reset(x_a_.data() + (T - logit_rows) * H, kF32, {{H, 1}, {logit_rows, H}});
        out.reset(logits, kF32, {{V, 1}, {logit_rows, V}});
        run(logit_rows == 1 ? Stage::HeadDecode : Stage::HeadPrefill, -1, {{"x", x_rows.get()}, {"logits", out.get()}});
    }
}

}  // namespace qwenc
