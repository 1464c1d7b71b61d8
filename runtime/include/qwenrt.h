/* libqwenrt: runs a model object compiled by qwenc over a Hugging Face model
 * directory. This header is the library's whole public surface.
 *
 * Errors: functions that can fail return NULL or a negative value and leave a
 * one-line message (naming the file and the problem) for qwenrt_last_error()
 * on the calling thread. A NULL handle is such an error, never a crash.
 *
 * Threads: a model may be used by any number of threads at once, each
 * through sessions of its own (qwenrt_session_new and the qwenrt_model_*
 * queries are safe to call concurrently). A session is used by one thread
 * at a time: qwenrt_session_eval or _truncate called while another thread
 * is inside either on the same session fails with -1 and an error, and
 * the session is left as the running call leaves it; the other session
 * functions must not run concurrently with those two on that session.
 *
 * Text handles (qwenrt_text: tokenizer, chat template, generation defaults)
 * are read-only once loaded and may be shared by any number of threads and
 * sessions. A decoder or sampler is used by one thread at a time.
 *
 * Lifetimes: free sessions and models in any order. A session keeps its
 * model loaded; qwenrt_model_free drops the caller's handle and the model
 * is unloaded when its last session is freed. A text handle must outlive
 * the decoders made from it. Strings returned by the library live as long
 * as the handle they came from (qwenrt_model_manifest: the model; a
 * decoder's pieces and a generation's text: until the next call on that
 * decoder or session), except qwenrt_chat_render's, which the caller frees
 * with qwenrt_free; qwenrt_last_error's until the next call on the thread.
 *
 * Weights: the files of weights_dir are mapped, not read, for the model's
 * lifetime. To replace them, write new files and rename them into place:
 * a running model keeps the old ones. A file truncated or rewritten in
 * place while mapped makes the next qwenrt_session_eval fail with an error
 * naming it (and every later one: load the model again). */
#ifndef QWENRT_H
#define QWENRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2: text, sampling and generation; 3: batches; 4: a batch's prefix caching
 * can be turned off and its events report cached prompt tokens (both structs
 * grew: rebuild against this header). qwenrt_abi_version() is the library's. */
#define QWENRT_ABI_VERSION 4

typedef struct qwenrt_model qwenrt_model;
typedef struct qwenrt_session qwenrt_session;

/* The QWENRT_ABI_VERSION the library was built with: an embedder checks it
 * against the header's before using structs that changed between versions. */
int qwenrt_abi_version(void);

typedef struct qwenrt_load_options {
    int num_threads;   /* 0 = Halide's default (one per core) */
    int show_progress; /* non-zero: progress on stderr while loading */
} qwenrt_load_options;

/* The message of the last failure on this thread ("" if none). */
const char *qwenrt_last_error(void);

/* Loads MODEL.so (checking its manifest, target and CPU features) and mmaps
 * the weights of weights_dir (model.safetensors or a sharded index),
 * validating every tensor against the manifest. opts may be NULL. */
qwenrt_model *qwenrt_model_load(const char *object_path, const char *weights_dir, const qwenrt_load_options *opts);
/* A model linked into the program (qwenc --emit static, or CMake's
 * qwenc_add_model): its generated header declares NAME_symbols, the table of
 * its entry points, and NAME_load(), which calls this. Same checks as
 * qwenrt_model_load, without dlopen. */
typedef struct qwenrt_symbol {
    const char *name;
    const void *address;
} qwenrt_symbol;
qwenrt_model *qwenrt_model_load_static(const qwenrt_symbol *symbols, const char *weights_dir,
                                       const qwenrt_load_options *opts);
void qwenrt_model_free(qwenrt_model *model);

int64_t qwenrt_model_vocab_size(const qwenrt_model *model);
int64_t qwenrt_model_max_position_embeddings(const qwenrt_model *model);
/* The manifest JSON embedded in the object (owned by the model). */
const char *qwenrt_model_manifest(const qwenrt_model *model);

/* A generation context with its own KV cache for max_context positions
 * (0 = min(max_position_embeddings, 4096)). */
qwenrt_session *qwenrt_session_new(qwenrt_model *model, int64_t max_context);
void qwenrt_session_free(qwenrt_session *session);
int64_t qwenrt_session_max_context(const qwenrt_session *session);
/* Tokens evaluated so far (the next token's position). */
int64_t qwenrt_session_position(const qwenrt_session *session);
/* Drops positions >= n from the cache (0 clears it). */
int qwenrt_session_truncate(qwenrt_session *session, int64_t n);

/* Appends n tokens and evaluates them: several at once use the prefill
 * pipelines, one uses the decode pipelines. Writes float logits to
 * logits_out: for every one of the n tokens ([n][vocab]) if all_logits is
 * non-zero, else for the last token only ([vocab]). logits_out may be NULL.
 * Returns 0, or -1 on error (the session is then unchanged). */
int qwenrt_session_eval(qwenrt_session *session, const int32_t *tokens, int64_t n, float *logits_out, int all_logits);

/* ---- Text: tokenizer, chat template, sampling, generation ----
 * Text in and streamed text out, the way qwenrun does it (qwenrun generates
 * through these functions). */

typedef struct qwenrt_text qwenrt_text;

/* Reads a Hugging Face model directory's tokenizer.json,
 * tokenizer_config.json (chat template, bos/eos tokens; optional) and
 * generation_config.json / config.json (sampling defaults, end-of-sequence
 * ids; optional). */
qwenrt_text *qwenrt_text_load(const char *model_dir);
/* Replaces the chat template with Jinja source; `name` names it in errors. */
int qwenrt_text_set_chat_template(qwenrt_text *text, const char *jinja, const char *name);
void qwenrt_text_free(qwenrt_text *text);

/* Encodes `len` bytes of UTF-8. With parse_special, added tokens written in
 * the text (<|im_start|>) are recognised; without, they are plain text.
 * Writes at most `capacity` ids and returns how many the text has (call
 * again with more room if that is larger), or -1 on error (invalid UTF-8). */
int64_t qwenrt_tokenize(const qwenrt_text *text, const char *utf8, size_t len, int parse_special, int32_t *ids, int64_t capacity);
/* Decodes ids to UTF-8 (special tokens skipped if skip_special; bytes that
 * form no character become U+FFFD). Writes at most `capacity` bytes plus a
 * NUL when room remains; returns the full length, or -1 on error. */
int64_t qwenrt_detokenize(const qwenrt_text *text, const int32_t *ids, int64_t n, int skip_special, char *out, size_t capacity);

/* Incremental decoding for streaming: feed ids one at a time, get the text
 * each completes. Never splits a UTF-8 character across pieces. */
typedef struct qwenrt_decoder qwenrt_decoder;
qwenrt_decoder *qwenrt_decoder_new(const qwenrt_text *text, int skip_special);
/* The text `id` completes (often "", when a character is still
 * incomplete); *len receives its length. NULL on error (an unknown id). */
const char *qwenrt_decoder_push(qwenrt_decoder *decoder, int32_t id, size_t *len);
/* What is held back at the end, incomplete characters as U+FFFD. */
const char *qwenrt_decoder_flush(qwenrt_decoder *decoder, size_t *len);
void qwenrt_decoder_free(qwenrt_decoder *decoder);

/* Renders a conversation with the model's chat template, as
 * transformers' apply_chat_template does. conversation_json is a JSON list
 * of OpenAI-shaped messages (role, content, tool_calls, ...) or an object
 * {"messages": [...], "tools": [...], "add_generation_prompt": true, ...}
 * whose other keys become template variables. Returns a NUL-terminated
 * string to free with qwenrt_free, or NULL on error (the template's own
 * refusal included). */
char *qwenrt_chat_render(const qwenrt_text *text, const char *conversation_json);
void qwenrt_free(void *p);

/* Sampling as qwenrun's flags set it (--temperature --top-k --top-p --min-p
 * --repetition-penalty --seed). do_sample 0 or temperature 0 is greedy. */
typedef struct qwenrt_sampling {
    int do_sample;
    float temperature;
    int64_t top_k;            /* 0: off */
    float top_p;              /* 1: off */
    float min_p;              /* 0: off */
    float repetition_penalty; /* 1: off; over every token in the session */
    uint64_t seed;
    float presence_penalty;   /* OpenAI's, in [-2, 2], over the tokens generated; 0: off */
    float frequency_penalty;  /* OpenAI's, in [-2, 2]; 0: off (qwenrt_sampler_next: over all of `seen`) */
} qwenrt_sampling;
/* generation_config.json's values (greedy if it sets none); text may be NULL. */
qwenrt_sampling qwenrt_sampling_defaults(const qwenrt_text *text);

typedef struct qwenrt_sampler qwenrt_sampler;
qwenrt_sampler *qwenrt_sampler_new(const qwenrt_sampling *params);
/* The next token from `vocab` logits (modified in place) given the tokens
 * seen so far (for the repetition penalty); -1 on error (no finite logit). */
int32_t qwenrt_sampler_next(qwenrt_sampler *sampler, float *logits, int64_t vocab, const int32_t *seen, int64_t n_seen);
void qwenrt_sampler_free(qwenrt_sampler *sampler);

typedef struct qwenrt_generate_params {
    qwenrt_sampling sampling;
    int64_t max_tokens;      /* -1: until end of sequence or the context is full */
    const char *const *stop; /* stop strings (generation ends before them), n_stop of them */
    size_t n_stop;
    int ignore_eos;          /* non-zero: do not stop at end-of-sequence ids */
} qwenrt_generate_params;
/* Sampling defaults from the model directory, 256 tokens, no stop strings. */
qwenrt_generate_params qwenrt_generate_defaults(const qwenrt_text *text);

/* Called after every generated token with the text it made final (len may
 * be 0) and once more for text held back at the end. Return non-zero to
 * stop: generation ends before the next token, finish_reason "interrupted". */
typedef int (*qwenrt_on_text)(const char *piece, size_t len, void *user);

typedef struct qwenrt_generation {
    int64_t prompt_tokens, completion_tokens;
    const char *finish_reason; /* "stop" (end of sequence or a stop string), "length", "interrupted" */
    const char *text;          /* everything streamed, NUL-terminated */
    const int32_t *tokens;     /* the generated ids (completion_tokens of them), an ending eos included */
    double prefill_seconds, time_to_first_token_seconds, decode_seconds;
    int64_t decode_steps;
} qwenrt_generation;

/* Evaluates `prompt` after what the session holds and generates from it,
 * streaming text to on_text (may be NULL). The repetition penalty counts
 * every token in the session. out (may be NULL) receives the result; its
 * strings live until the next call on the session. Returns 0 or -1. */
int qwenrt_generate(qwenrt_session *session, const qwenrt_text *text, const int32_t *prompt, int64_t n,
                    const qwenrt_generate_params *params, qwenrt_on_text on_text, void *user, qwenrt_generation *out);
/* The same for prompt text (special tokens recognised), e.g. a chat render. */
int qwenrt_generate_text(qwenrt_session *session, const qwenrt_text *text, const char *prompt,
                         const qwenrt_generate_params *params, qwenrt_on_text on_text, void *user, qwenrt_generation *out);

/* Batches: continuous batching, as vLLM schedules it. Many sequences
 * generate together; each step advances every generating sequence by one
 * token and reads one chunk of the oldest prompt still being read, and
 * reads the weights once for all of them. The KV cache is a pool of
 * positions: a sequence reserves prompt + max_tokens - 1 of them (at most
 * max_context) when it starts, waits (first come, first served) while the
 * pool has no room, and returns them the step it finishes or when it is
 * cancelled. Prefix caching: returned positions keep their keys and values
 * until a sequence needs the room (the oldest first), and a sequence whose
 * prompt starts with tokens another (running or returned) has in the pool
 * takes those instead of computing them, as vLLM's automatic prefix caching
 * does: a conversation's next turn reads only its new tokens. Events report
 * how many prompt tokens came from the cache; disable_prefix_caching turns
 * it off (each prompt read whole, positions returned empty).
 *
 * Threads: one thread at a time owns a batch; qwenrt_batch_add, _cancel and
 * _step called while another thread is inside one of them on the same batch
 * fail with -1 and an error. The model may serve sessions and other batches
 * on other threads meanwhile. A batch keeps its model loaded, as a session
 * does. A sequence's logits do not depend on what else is in its step
 * beyond float rounding (within 1e-4 x their std of a session's). */
typedef struct qwenrt_batch qwenrt_batch;

typedef struct qwenrt_batch_options {
    int64_t max_batch;       /* sequences generating at once at most; 0: 8 */
    int64_t kv_cache_tokens; /* positions in the KV pool; 0: max_context x max_batch */
    int64_t max_context;     /* per sequence; 0: min(max_position_embeddings, 4096) */
    int64_t step_tokens;     /* tokens per step at most; 0: the object's prefill chunk */
    int disable_prefix_caching; /* non-zero: no prefix caching (vLLM's --no-enable-prefix-caching) */
} qwenrt_batch_options;
/* opts may be NULL (every field 0). */
qwenrt_batch *qwenrt_batch_new(qwenrt_model *model, const qwenrt_batch_options *opts);
void qwenrt_batch_free(qwenrt_batch *batch);

typedef struct qwenrt_sequence_params {
    qwenrt_sampling sampling; /* the sequence's own, seed included */
    int64_t max_tokens;       /* >= 1 */
    const int32_t *eos_ids;   /* the sequence ends (finish 1) at any of these, n_eos of them */
    size_t n_eos;
    int ignore_eos;           /* non-zero: do not stop at eos_ids */
} qwenrt_sequence_params;

/* Queues a sequence of prompt ids; *id (> 0) names it in events. Fails for an
 * empty prompt, an id outside the vocabulary, a prompt longer than
 * max_context, or a sequence larger than the whole KV pool. */
int qwenrt_batch_add(qwenrt_batch *batch, const int32_t *prompt, int64_t n, const qwenrt_sequence_params *params,
                     uint64_t *id);
/* Removes a waiting or running sequence and frees its KV positions at once.
 * 0: cancelled; 1: no such sequence (finished, cancelled or unknown); -1: error. */
int qwenrt_batch_cancel(qwenrt_batch *batch, uint64_t id);

enum { QWENRT_FINISH_NONE = 0, QWENRT_FINISH_STOP = 1, QWENRT_FINISH_LENGTH = 2 };
typedef struct qwenrt_batch_event {
    uint64_t id;
    int32_t token; /* generated by this step */
    int finish;    /* QWENRT_FINISH_*: set on the sequence's last token (it has then left the batch) */
    int64_t cached_tokens; /* of its prompt, tokens taken from the prefix cache rather than computed
                              (OpenAI's usage.prompt_tokens_details.cached_tokens) */
} qwenrt_batch_event;
/* Runs one step and writes its events (one per sequence that generated a
 * token, at most max_batch) to events[0..capacity); returns their number
 * (0 when nothing is running or waiting), or -1. A capacity below
 * max_batch is an error. After a failed step, cancel what is running. */
int64_t qwenrt_batch_step(qwenrt_batch *batch, qwenrt_batch_event *events, int64_t capacity);
/* Sequences running (reading their prompt or generating) and waiting. */
int64_t qwenrt_batch_running(const qwenrt_batch *batch);
int64_t qwenrt_batch_waiting(const qwenrt_batch *batch);

#ifdef __cplusplus
}
#endif

#endif /* QWENRT_H */
