// A loaded model: the compiled object plus its weights, and sessions that
// evaluate tokens through the stage pipelines over a KV cache.
#pragma once
#include <atomic>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "halide_buffer.h"
#include "model_object.h"
#include "weight_store.h"

namespace qwenc {

struct LoadOptions {
    int num_threads = 0;
    bool show_progress = false;
};

class Model {
public:
    Model(const std::string &object_path, const std::string &weights_dir, const LoadOptions &opts);
    // A model object already resolved (e.g. linked into the program).
    Model(std::unique_ptr<ModelObject> object, const std::string &weights_dir, const LoadOptions &opts);
    const ModelObject &object() const { return *object_; }
    const ModelConfig &config() const { return object_->manifest().config; }
    const WeightStore &weights() const { return *weights_; }
    // Runs `stage`, binding its arguments as its signature declares them:
    // weights (of `layer`, for the per-layer sources) from the store, the
    // caller's buffers and scalars from `own`, by name.
    using Args = std::initializer_list<std::pair<const char *, void *>>;
    void run(Stage stage, int64_t layer, Args own) const;

private:
    std::unique_ptr<ModelObject> object_;
    std::unique_ptr<WeightStore> weights_;
};

// A session's activations between stages (forward.h).
struct ForwardScratch {
    std::vector<float> x_a, x_b, q;
    void reserve(const ModelConfig &c, int64_t tokens);
};

// The context of a session or a batched sequence: `requested` positions,
// or (0 or less) min(max_position_embeddings, 4096). Throws InputError past
// max_position_embeddings.
int64_t resolve_context(const ModelConfig &c, int64_t requested);
// Throws std::invalid_argument naming the first id outside the vocabulary.
void check_token_ids(const ModelConfig &c, const int32_t *tokens, int64_t n);

class KvPool;

class Session {
public:
    Session(const Model &model, int64_t max_context);
    ~Session();
    int64_t max_context() const { return max_ctx_; }
    int64_t position() const { return pos_; }
    int64_t vocab_size() const { return model_.config().vocab_size; }
    void truncate(int64_t n);
    // See qwenrt_session_eval. Throws on error, leaving the position unchanged.
    void eval(const int32_t *tokens, int64_t n, float *logits_out, bool all_logits);

private:
    void run_chunk(const int32_t *tokens, int64_t T, float *logits, int64_t logit_rows, bool in_prompt);
    // Held while a call runs: a second thread's call on the same session
    // fails instead of racing on its cache and position.
    struct Use {
        explicit Use(std::atomic_flag &busy);
        ~Use();
        std::atomic_flag &busy_;
    };
    std::atomic_flag busy_ = ATOMIC_FLAG_INIT;

    const Model &model_;
    int64_t max_ctx_, pos_ = 0, chunk_;
    std::unique_ptr<KvPool> kv_;  // max_ctx positions, all this session's
    ForwardScratch scratch_;
};

}  // namespace qwenc
