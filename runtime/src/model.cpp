#include "model.h"

#include <cstdlib>
#include <deque>
#include <filesystem>

#include "forward.h"
#include "kv_pool.h"
#include "progress.h"

namespace qwenc {

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
        if (!(c.quant4 == m.config.quant4))
            throw InputError(cfg_path + ": describes " + quant4_describe(c.quant4) + ", but " + object_path + " was compiled for " +
                             quant4_describe(m.config.quant4) + " (compile this config.json)");
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


void Model::run(Stage stage, int64_t layer, Args own) const {
    const ModelObject &obj = *object_;
    const WeightStore &w = *weights_;
    std::deque<HalideBuffer> bufs;  // live until the call returns; a deque never moves them
    const std::vector<StageArg> &sig = obj.signature(stage);
    std::vector<void *> argv;
    argv.reserve(sig.size());
    for (const StageArg &a : sig) {
        if (a.source == ArgSource::Session) {
            void *value = nullptr;
            for (const auto &[name, v] : own)
                if (a.name == name) value = v;
            if (!value) throw std::logic_error(std::string("the caller gives stage ") + stage_name(stage) + " no '" + a.name + "'");
            argv.push_back(value);
            continue;
        }
        const bool per_layer = a.source == ArgSource::LayerVector || a.source == ArgSource::LayerMatrix;
        const std::string tensor = per_layer ? layer_tensor_name(layer, a.tensor) : a.tensor;
        if (a.type == ArgType::Quant4Weight || a.type == ArgType::Quant4Zeros || a.type == ArgType::Quant4Scales) {
            // In place, dims the reverse of the stored shape (innermost first).
            const std::string name = a.type == ArgType::Quant4Weight  ? quant4_qweight_name(tensor)
                                     : a.type == ArgType::Quant4Zeros ? quant4_qzeros_name(tensor)
                                                                      : quant4_scales_name(tensor);
            const TensorView &t = w.matrix(name);
            const halide_type_t type = arg_buffer_type(obj.manifest(), stage, a.type);
            // qweight's int32 words, or their bytes (quant4_qweight_bytes)
            const int64_t row = t.shape[1] * (a.type == ArgType::Quant4Weight ? kQuant4WordBytes / type.bytes() : 1);
            bufs.emplace_back().reset(t.data, type, {{row, 1}, {t.shape[0], row}});
        } else if (a.type == ArgType::Matrix) {
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
}

int64_t resolve_context(const ModelConfig &c, int64_t requested) {
    if (requested <= 0) return std::min<int64_t>(c.max_position_embeddings, 4096);
    if (requested > c.max_position_embeddings)
        throw InputError("context of " + std::to_string(requested) + " exceeds the model's max_position_embeddings " +
                         std::to_string(c.max_position_embeddings));
    return requested;
}

void check_token_ids(const ModelConfig &c, const int32_t *tokens, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= c.vocab_size)
            throw std::invalid_argument("token id " + std::to_string(tokens[i]) + " is outside the vocabulary [0, " +
                                        std::to_string(c.vocab_size) + ")");
}

Session::Session(const Model &model, int64_t max_context) : model_(model) {
    const ModelConfig &c = model.config();
    max_ctx_ = resolve_context(c, max_context);
    chunk_ = model.object().manifest().prefill_max_tokens;
    kv_ = std::make_unique<KvPool>(c, model.object().manifest().kv_cache_dtype, max_ctx_);
    scratch_.reserve(c, chunk_);
}

Session::~Session() = default;

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
    if (n <= 0) throw std::invalid_argument("no tokens to evaluate");
    if (n > max_ctx_ - pos_)  // not pos_ + n, which a huge n overflows
        throw std::invalid_argument(std::to_string(n) + " tokens at position " + std::to_string(pos_) +
                                    " exceed the context of " + std::to_string(max_ctx_) + " positions");
    const ModelConfig &c = model_.config();
    check_token_ids(c, tokens, n);
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
            run_chunk(tokens + off, T, out, rows, n > 1);
        }
        model_.weights().check();  // and one cut short during this call, this call's
    } catch (...) {
        pos_ = start;
        throw;
    }
}

void Session::run_chunk(const int32_t *tokens, int64_t T, float *logits, int64_t logit_rows, bool in_prompt) {
    forward_chunk(model_, kv_->view(0), pos_, tokens, T, scratch_, logits, logit_rows, in_prompt);
    pos_ += T;
}

}  // namespace qwenc
