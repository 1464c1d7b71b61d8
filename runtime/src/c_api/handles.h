// What the C API's opaque handles hold, for its two files (model_api.cpp:
// models and sessions; text_api.cpp: text and generation) and for qwenrun,
// which builds a text handle from its own flags (--tokenizer,
// --chat-template) and then generates through the same functions.
#pragma once
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "qwenrt.h"
#include "generate/generation_config.h"
#include "model.h"
#include "text/chat_template.h"
#include "text/stream_decoder.h"
#include "text/tokenizer.h"

// A session keeps its model alive: freeing the model first only drops the
// caller's handle, and the model is unloaded with its last session.
struct qwenrt_model {
    std::shared_ptr<qwenc::Model> model;
};

struct qwenrt_session {
    std::shared_ptr<const qwenc::Model> model;  // declared first: destroyed after the session
    std::unique_ptr<qwenc::Session> session;
    // The tokens in the KV cache, for the repetition penalty of qwenrt_generate.
    std::mutex history_mutex;
    std::vector<int32_t> history;
    // The last generation's strings, which qwenrt_generation points to.
    std::string text, finish_reason;
    std::vector<int32_t> tokens;
};

struct qwenrt_text {
    std::unique_ptr<qwenc::Tokenizer> tokenizer;  // null only in qwenrun --tokens (ids in, ids out)
    std::optional<qwenc::ChatTemplate> chat_template;
    std::string no_template_reason;  // why chat_template is empty, for the error when rendering
    qwenc::GenerationDefaults defaults;
};

struct qwenrt_decoder {
    qwenc::StreamDecoder decoder;
    const qwenc::Tokenizer &tokenizer;
    std::string piece;
};

struct qwenrt_sampler {
    qwenc::Sampler sampler;
};

namespace qwenc::c_api {

// Runs f, turning an exception into the thread's error message and `on_error`.
void set_error(const char *message);
void clear_error();
template <typename F>
auto guarded(F &&f, decltype(f()) on_error) -> decltype(f()) {
    try {
        clear_error();
        return f();
    } catch (const std::exception &e) {
        set_error(e.what());
    } catch (...) {
        set_error("unknown error");
    }
    return on_error;
}

SamplingParams to_params(const qwenrt_sampling &s);
qwenrt_sampling to_c(const SamplingParams &p);

}  // namespace qwenc::c_api
