// The C API of libqwenrt, text: tokenizer, streaming decoder, chat
// template, sampler and the generation loop, over the same code qwenrun
// runs (text/, generate/).
#include <atomic>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "c_api/handles.h"
#include "generate/generator.h"
#include "json_input.h"

using qwenc::c_api::guarded;

namespace qwenc::c_api {

SamplingParams to_params(const qwenrt_sampling &s) {
    SamplingParams p;
    p.do_sample = s.do_sample != 0;
    p.temperature = s.temperature;
    p.top_k = s.top_k;
    p.top_p = s.top_p;
    p.min_p = s.min_p;
    p.repetition_penalty = s.repetition_penalty;
    p.seed = s.seed;
    p.presence_penalty = s.presence_penalty;
    p.frequency_penalty = s.frequency_penalty;
    check_sampling_params(p, [](const std::string &field) { return field; });
    return p;
}

qwenrt_sampling to_c(const SamplingParams &p) {
    return qwenrt_sampling{p.do_sample, p.temperature, p.top_k, p.top_p, p.min_p, p.repetition_penalty, p.seed,
                           p.presence_penalty, p.frequency_penalty};
}

}  // namespace qwenc::c_api

namespace {

const qwenc::Tokenizer &tokenizer_of(const qwenrt_text *t) {
    if (!t) throw std::invalid_argument("no text handle");
    if (!t->tokenizer) throw std::invalid_argument("this text handle has no tokenizer");
    return *t->tokenizer;
}

}  // namespace

extern "C" {

qwenrt_text *qwenrt_text_load(const char *model_dir) {
    return guarded(
        [&]() -> qwenrt_text * {
            if (!model_dir) throw std::invalid_argument("model directory is required");
            const std::string dir = model_dir;
            auto t = std::make_unique<qwenrt_text>();
            t->tokenizer = qwenc::Tokenizer::load(dir + "/tokenizer.json");
            // A model without a usable chat template still encodes, decodes
            // and generates; rendering then fails with the reason.
            try {
                t->chat_template = qwenc::ChatTemplate::from_model_dir(dir);
            } catch (const qwenc::InputError &e) {
                t->no_template_reason = e.what();
            }
            t->defaults = qwenc::read_generation_defaults(dir);
            return t.release();
        },
        nullptr);
}

int qwenrt_text_set_chat_template(qwenrt_text *t, const char *jinja, const char *name) {
    return guarded(
        [&]() {
            if (!t || !jinja) throw std::invalid_argument("text handle and template are required");
            t->chat_template = qwenc::ChatTemplate::from_jinja(jinja, name ? name : "chat template");
            return 0;
        },
        -1);
}

void qwenrt_text_free(qwenrt_text *t) { delete t; }

int64_t qwenrt_tokenize(const qwenrt_text *t, const char *utf8, size_t len, int parse_special, int32_t *ids, int64_t capacity) {
    return guarded(
        [&]() -> int64_t {
            if ((!utf8 && len) || capacity < 0 || (!ids && capacity > 0)) throw std::invalid_argument("bad text or id buffer");
            const std::vector<int32_t> out = tokenizer_of(t).encode(std::string(utf8 ? utf8 : "", len), parse_special != 0);
            const int64_t k = std::min<int64_t>(capacity, int64_t(out.size()));
            if (k > 0) std::memcpy(ids, out.data(), sizeof(int32_t) * size_t(k));
            return int64_t(out.size());
        },
        -1);
}

int64_t qwenrt_detokenize(const qwenrt_text *t, const int32_t *ids, int64_t n, int skip_special, char *out, size_t capacity) {
    return guarded(
        [&]() -> int64_t {
            if ((!ids && n) || n < 0 || (!out && capacity)) throw std::invalid_argument("bad ids or output buffer");
            const qwenc::Tokenizer &tok = tokenizer_of(t);
            qwenc::StreamDecoder d(tok, skip_special != 0);
            std::string text;
            for (int64_t i = 0; i < n; i++) {
                if (ids[i] < 0 || ids[i] >= tok.vocab_size()) throw std::invalid_argument("token id " + std::to_string(ids[i]) + " is not in the vocabulary");
                text += d.push(ids[i]);
            }
            text += d.flush();
            if (capacity) {
                const size_t k = std::min(capacity, text.size());
                std::memcpy(out, text.data(), k);
                if (k < capacity) out[k] = '\0';
            }
            return int64_t(text.size());
        },
        -1);
}

qwenrt_decoder *qwenrt_decoder_new(const qwenrt_text *t, int skip_special) {
    return guarded(
        [&]() -> qwenrt_decoder * {
            const qwenc::Tokenizer &tok = tokenizer_of(t);
            return new qwenrt_decoder{qwenc::StreamDecoder(tok, skip_special != 0), tok, {}};
        },
        nullptr);
}

const char *qwenrt_decoder_push(qwenrt_decoder *d, int32_t id, size_t *len) {
    return guarded(
        [&]() -> const char * {
            if (!d) throw std::invalid_argument("no decoder");
            if (id < 0 || id >= d->tokenizer.vocab_size()) throw std::invalid_argument("token id " + std::to_string(id) + " is not in the vocabulary");
            d->piece = d->decoder.push(id);
            if (len) *len = d->piece.size();
            return d->piece.c_str();
        },
        nullptr);
}

const char *qwenrt_decoder_flush(qwenrt_decoder *d, size_t *len) {
    return guarded(
        [&]() -> const char * {
            if (!d) throw std::invalid_argument("no decoder");
            d->piece = d->decoder.flush();
            if (len) *len = d->piece.size();
            return d->piece.c_str();
        },
        nullptr);
}

void qwenrt_decoder_free(qwenrt_decoder *d) { delete d; }

char *qwenrt_chat_render(const qwenrt_text *t, const char *conversation_json) {
    return guarded(
        [&]() -> char * {
            if (!t || !conversation_json) throw std::invalid_argument("text handle and conversation are required");
            if (!t->chat_template) throw qwenc::InputError(t->no_template_reason.empty() ? "no chat template" : t->no_template_reason);
            const qwenc::Conversation c =
                qwenc::parse_conversation(qwenc::parse_ordered_json_text(conversation_json, "conversation"), "conversation");
            const std::string text = t->chat_template->render(c);
            char *out = static_cast<char *>(std::malloc(text.size() + 1));
            if (!out) throw std::bad_alloc();
            std::memcpy(out, text.c_str(), text.size() + 1);
            return out;
        },
        nullptr);
}

void qwenrt_free(void *p) { std::free(p); }

qwenrt_sampling qwenrt_sampling_defaults(const qwenrt_text *t) {
    return qwenc::c_api::to_c(t ? t->defaults.sampling : qwenc::GenerationDefaults{}.sampling);
}

qwenrt_sampler *qwenrt_sampler_new(const qwenrt_sampling *params) {
    return guarded(
        [&]() -> qwenrt_sampler * {
            if (!params) throw std::invalid_argument("no sampling parameters");
            return new qwenrt_sampler{qwenc::Sampler(qwenc::c_api::to_params(*params))};
        },
        nullptr);
}

int32_t qwenrt_sampler_next(qwenrt_sampler *s, float *logits, int64_t vocab, const int32_t *seen, int64_t n_seen) {
    return guarded(
        [&]() -> int32_t {
            if (!s || !logits || vocab <= 0 || n_seen < 0 || (!seen && n_seen)) throw std::invalid_argument("bad sampler arguments");
            std::vector<float> l(logits, logits + vocab);
            const int32_t id = s->sampler.next(l, std::vector<int32_t>(seen, seen + n_seen));
            std::memcpy(logits, l.data(), sizeof(float) * size_t(vocab));
            return id;
        },
        -1);
}

void qwenrt_sampler_free(qwenrt_sampler *s) { delete s; }

qwenrt_generate_params qwenrt_generate_defaults(const qwenrt_text *t) {
    qwenrt_generate_params p{};
    p.sampling = qwenrt_sampling_defaults(t);
    p.max_tokens = 256;
    return p;
}

int qwenrt_generate(qwenrt_session *s, const qwenrt_text *t, const int32_t *prompt, int64_t n, const qwenrt_generate_params *params,
                    qwenrt_on_text on_text, void *user, qwenrt_generation *out) {
    return guarded(
        [&]() {
            if (!s || !t || !params) throw std::invalid_argument("session, text handle and parameters are required");
            if (n <= 0 || !prompt) throw std::invalid_argument("an empty prompt");
            if (params->max_tokens < -1) throw std::invalid_argument("max_tokens must be >= -1");
            if (params->n_stop && !params->stop) throw std::invalid_argument("n_stop without stop strings");
            qwenc::GenerationRequest req;
            req.sampling = qwenc::c_api::to_params(params->sampling);
            if (!params->ignore_eos) req.eos_ids = t->defaults.eos_ids;
            for (size_t i = 0; i < params->n_stop; i++) {
                if (!params->stop[i] || !*params->stop[i]) throw std::invalid_argument("an empty stop string");
                req.stop.emplace_back(params->stop[i]);
            }
            req.max_tokens = params->max_tokens == -1 ? INT64_MAX : params->max_tokens;
            std::atomic<bool> stop{false};
            req.interrupt = &stop;
            std::vector<int32_t> context;
            {
                std::lock_guard<std::mutex> lock(s->history_mutex);
                context = s->history;
            }
            const std::vector<int32_t> ids(prompt, prompt + n);
            qwenc::GenerationResult g;
            try {
                g = qwenc::generate(*s->session, t->tokenizer.get(), context, ids, req, [&](const std::string &piece) {
                    if (on_text && on_text(piece.data(), piece.size(), user) != 0) stop = true;
                });
            } catch (...) {
                // A failure after some tokens were evaluated: back to what the history knows.
                if (s->session->position() > int64_t(context.size())) s->session->truncate(int64_t(context.size()));
                throw;
            }
            {
                // The cache now holds the prompt and every generated token
                // but the last (sampled, never evaluated).
                std::lock_guard<std::mutex> lock(s->history_mutex);
                s->history.insert(s->history.end(), ids.begin(), ids.end());
                s->history.insert(s->history.end(), g.tokens.begin(), g.tokens.end());
                s->history.resize(size_t(std::min<int64_t>(s->session->position(), int64_t(s->history.size()))));
            }
            s->text = g.text;
            s->tokens = g.tokens;
            s->finish_reason = g.finish_reason;
            if (out) {
                out->prompt_tokens = g.prompt_tokens;
                out->completion_tokens = int64_t(g.tokens.size());
                out->finish_reason = s->finish_reason.c_str();
                out->text = s->text.c_str();
                out->tokens = s->tokens.data();
                out->prefill_seconds = g.prefill_s;
                out->time_to_first_token_seconds = g.ttft_s;
                out->decode_seconds = g.decode_s;
                out->decode_steps = g.decode_steps;
            }
            return 0;
        },
        -1);
}

int qwenrt_generate_text(qwenrt_session *s, const qwenrt_text *t, const char *prompt, const qwenrt_generate_params *params,
                         qwenrt_on_text on_text, void *user, qwenrt_generation *out) {
    std::vector<int32_t> ids;
    const int ok = guarded(
        [&]() {
            if (!s || !prompt) throw std::invalid_argument("session and prompt are required");
            // Text that cannot fit the context is refused before it is
            // tokenized; qwenrt_generate checks the tokens against what is left.
            ids = tokenizer_of(t).encode(prompt, true, s->session->max_context());
            return 0;
        },
        -1);
    if (ok != 0) return -1;
    return qwenrt_generate(s, t, ids.data(), int64_t(ids.size()), params, on_text, user, out);
}

}  // extern "C"
