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
 * Lifetimes: free sessions and models in any order. A session keeps its
 * model loaded; qwenrt_model_free drops the caller's handle and the model
 * is unloaded when its last session is freed. Strings returned by the
 * library (qwenrt_model_manifest) live as long as their model handle;
 * qwenrt_last_error's until the next call on the same thread.
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

#define QWENRT_ABI_VERSION 1

typedef struct qwenrt_model qwenrt_model;
typedef struct qwenrt_session qwenrt_session;

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

#ifdef __cplusplus
}
#endif

#endif /* QWENRT_H */
