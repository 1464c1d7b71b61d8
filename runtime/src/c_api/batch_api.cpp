// The C API's batches (qwenrt.h): a handle over a BatchEngine that keeps its
// model loaded and refuses a second thread's call instead of racing.
#include <atomic>

#include "batch/batch_engine.h"
#include "c_api/handles.h"

using namespace qwenc;
using namespace qwenc::c_api;

struct qwenrt_batch {
    std::shared_ptr<const Model> model;  // declared first: destroyed after the engine
    std::unique_ptr<BatchEngine> engine;
    std::atomic_flag busy = ATOMIC_FLAG_INIT;
};

namespace {

// Held while a call runs on the batch.
struct Use {
    explicit Use(qwenrt_batch *b) : b_(b) {
        if (!b_) throw std::invalid_argument("no batch");
        if (b_->busy.test_and_set(std::memory_order_acquire))
            throw std::logic_error("the batch is in use by another thread (one thread at a time owns a batch)");
    }
    ~Use() { b_->busy.clear(std::memory_order_release); }
    qwenrt_batch *b_;
};

}  // namespace

extern "C" {

qwenrt_batch *qwenrt_batch_new(qwenrt_model *model, const qwenrt_batch_options *opts) {
    return guarded(
        [&]() -> qwenrt_batch * {
            if (!model) throw std::invalid_argument("no model");
            BatchOptions o;
            if (opts) {
                if (opts->max_batch < 0) throw std::invalid_argument("max_batch must not be negative");
                if (opts->max_batch > 0) o.max_batch = opts->max_batch;
                o.kv_cache_tokens = opts->kv_cache_tokens;
                o.max_context = opts->max_context;
                o.step_tokens = opts->step_tokens;
                o.prefix_caching = opts->disable_prefix_caching == 0;
            }
            auto b = std::make_unique<qwenrt_batch>();
            b->model = model->model;
            b->engine = std::make_unique<BatchEngine>(*model->model, o);
            return b.release();
        },
        nullptr);
}

void qwenrt_batch_free(qwenrt_batch *batch) { delete batch; }

int qwenrt_batch_add(qwenrt_batch *batch, const int32_t *prompt, int64_t n, const qwenrt_sequence_params *params,
                     uint64_t *id) {
    return guarded(
        [&]() {
            const Use use(batch);
            if (!prompt || n <= 0) throw std::invalid_argument("the prompt is empty");
            if (!params) throw std::invalid_argument("no sequence parameters");
            if (params->n_eos > 0 && !params->eos_ids) throw std::invalid_argument("n_eos is set but eos_ids is NULL");
            SequenceSettings s;
            s.sampling = to_params(params->sampling);
            s.max_tokens = params->max_tokens;
            s.eos_ids.assign(params->eos_ids, params->eos_ids + params->n_eos);
            s.ignore_eos = params->ignore_eos != 0;
            const uint64_t got = batch->engine->add(std::vector<int32_t>(prompt, prompt + n), s);
            if (id) *id = got;
            return 0;
        },
        -1);
}

int qwenrt_batch_cancel(qwenrt_batch *batch, uint64_t id) {
    return guarded(
        [&]() {
            const Use use(batch);
            return batch->engine->cancel(id) ? 0 : 1;
        },
        -1);
}

int64_t qwenrt_batch_step(qwenrt_batch *batch, qwenrt_batch_event *events, int64_t capacity) {
    return guarded(
        [&]() -> int64_t {
            const Use use(batch);
            if (!events || capacity < batch->engine->options().max_batch)
                throw std::invalid_argument("room for " + std::to_string(batch->engine->options().max_batch) +
                                            " events is needed (max_batch)");
            const std::vector<StepEvent> got = batch->engine->step();
            for (size_t i = 0; i < got.size(); i++)
                events[i] = {got[i].id, got[i].token,
                             got[i].finish == Finish::Stop     ? QWENRT_FINISH_STOP
                             : got[i].finish == Finish::Length ? QWENRT_FINISH_LENGTH
                                                               : QWENRT_FINISH_NONE,
                             got[i].cached_tokens};
            return int64_t(got.size());
        },
        int64_t(-1));
}

int64_t qwenrt_batch_running(const qwenrt_batch *batch) { return batch ? int64_t(batch->engine->running()) : -1; }
int64_t qwenrt_batch_waiting(const qwenrt_batch *batch) { return batch ? int64_t(batch->engine->waiting()) : -1; }

}  // extern "C"
