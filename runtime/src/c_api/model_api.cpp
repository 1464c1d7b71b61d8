// The C API of libqwenrt, models and sessions: thin wrappers that turn
// exceptions into a thread-local error message and a NULL / -1 return.
#include <string>

#include "c_api/handles.h"

namespace qwenc::c_api {
namespace {
thread_local std::string g_error;
}
void set_error(const char *message) { g_error = message; }
void clear_error() { g_error.clear(); }
}  // namespace qwenc::c_api

using qwenc::c_api::guarded;

extern "C" {

const char *qwenrt_last_error(void) { return qwenc::c_api::g_error.c_str(); }

int qwenrt_abi_version(void) { return QWENRT_ABI_VERSION; }

static qwenc::LoadOptions load_options(const qwenrt_load_options *opts) {
    qwenc::LoadOptions o;
    if (opts) o.num_threads = opts->num_threads, o.show_progress = opts->show_progress != 0;
    return o;
}

qwenrt_model *qwenrt_model_load(const char *object_path, const char *weights_dir, const qwenrt_load_options *opts) {
    return guarded(
        [&]() -> qwenrt_model * {
            if (!object_path || !weights_dir) throw std::invalid_argument("model object and weights directory are required");
            return new qwenrt_model{std::make_shared<qwenc::Model>(object_path, weights_dir, load_options(opts))};
        },
        nullptr);
}

qwenrt_model *qwenrt_model_load_static(const qwenrt_symbol *symbols, const char *weights_dir, const qwenrt_load_options *opts) {
    return guarded(
        [&]() -> qwenrt_model * {
            if (!symbols || !weights_dir) throw std::invalid_argument("symbol table and weights directory are required");
            auto lookup = [symbols](const std::string &name) -> void * {
                for (const qwenrt_symbol *s = symbols; s->name; s++)
                    if (name == s->name) return const_cast<void *>(s->address);
                return nullptr;
            };
            return new qwenrt_model{std::make_shared<qwenc::Model>(std::make_unique<qwenc::ModelObject>("linked model", lookup),
                                                                   weights_dir, load_options(opts))};
        },
        nullptr);
}

void qwenrt_model_free(qwenrt_model *model) { delete model; }

int64_t qwenrt_model_vocab_size(const qwenrt_model *m) { return m ? m->model->config().vocab_size : -1; }
int64_t qwenrt_model_max_position_embeddings(const qwenrt_model *m) {
    return m ? m->model->config().max_position_embeddings : -1;
}
const char *qwenrt_model_manifest(const qwenrt_model *m) { return m ? m->model->object().manifest_json().c_str() : nullptr; }

qwenrt_session *qwenrt_session_new(qwenrt_model *model, int64_t max_context) {
    return guarded(
        [&]() -> qwenrt_session * {
            if (!model) throw std::invalid_argument("no model");
            auto s = new qwenrt_session;
            s->model = model->model;
            s->session = std::make_unique<qwenc::Session>(*model->model, max_context);
            return s;
        },
        nullptr);
}

void qwenrt_session_free(qwenrt_session *s) { delete s; }
int64_t qwenrt_session_max_context(const qwenrt_session *s) { return s ? s->session->max_context() : -1; }
int64_t qwenrt_session_position(const qwenrt_session *s) { return s ? s->session->position() : -1; }

int qwenrt_session_truncate(qwenrt_session *s, int64_t n) {
    return guarded(
        [&]() {
            if (!s) throw std::invalid_argument("no session");
            s->session->truncate(n);
            std::lock_guard<std::mutex> lock(s->history_mutex);
            if (int64_t(s->history.size()) > s->session->position()) s->history.resize(size_t(s->session->position()));
            return 0;
        },
        -1);
}

int qwenrt_session_eval(qwenrt_session *s, const int32_t *tokens, int64_t n, float *logits_out, int all_logits) {
    return guarded(
        [&]() {
            if (!s || !tokens) throw std::invalid_argument("session and tokens are required");
            s->session->eval(tokens, n, logits_out, all_logits != 0);
            std::lock_guard<std::mutex> lock(s->history_mutex);
            s->history.insert(s->history.end(), tokens, tokens + n);
            return 0;
        },
        -1);
}

}  // extern "C"
