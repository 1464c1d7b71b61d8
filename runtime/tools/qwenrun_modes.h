// qwenrun's modes, each in a file of its own (qwenrun.cpp parses the flags
// and picks one): --bench (bench_mode.cpp), --prompts-file
// (prompts_file_mode.cpp) and --chat (chat_mode.cpp); and what they share:
// the flags as one run reads them (Run). Every mode but --bench loads the
// model and generates through the C API (qwenrt.h), as embedders do.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "c_api/handles.h"
#include "cli_args.h"
#include "generate/generator.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace qwenc {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t);

// A comma-separated list of non-negative integers given to --`option`.
std::vector<int32_t> parse_int_list(const std::string &option, const std::string &s);

// Owning handles of the C API.
struct ModelFree {
    void operator()(qwenrt_model *m) const { qwenrt_model_free(m); }
};
struct SessionFree {
    void operator()(qwenrt_session *s) const { qwenrt_session_free(s); }
};
struct TextFree {
    void operator()(qwenrt_text *t) const { qwenrt_text_free(t); }
};
using ModelHandle = std::unique_ptr<qwenrt_model, ModelFree>;
using SessionHandle = std::unique_ptr<qwenrt_session, SessionFree>;
using TextHandle = std::unique_ptr<qwenrt_text, TextFree>;
// Throws the C API's error message for a failed call (-1 or NULL).
void check(int rc);

// qwenrt_generate_params with the stop strings it points to.
struct GenerateParams {
    qwenrt_generate_params c{};
    std::vector<std::string> stop;
    std::vector<const char *> stop_ptrs;
};

// Streams to stdout when `print`; stops the generation on Ctrl-C.
struct Streaming {
    bool print;
    static int on_text(const char *piece, size_t len, void *self);
};

// The C API's result as the chat transcript keeps it.
GenerationResult result_of(const qwenrt_generation &g);

// The tokens whose keys and values a session holds, from position 0, so
// that a prompt reads only what follows the start it shares with them
// (--chat's next turn, --prompts-file's common system prompt).
struct CachedTokens {
    std::vector<int32_t> tokens;
    // Truncates the session to the start `prompt` shares with the tokens,
    // all of the prompt but its last token at most (whose logits come from
    // reading it); returns that start's length.
    size_t keep_shared_start(qwenrt_session *session, const std::vector<int32_t> &prompt);
    // After generating from `prompt`: it and the generated tokens, as far
    // as the session has evaluated them (the last one sampled never is).
    void generated(const qwenrt_session *session, const std::vector<int32_t> &prompt, const std::vector<int32_t> &generated);
};

// The flags of one run, read as each mode needs them.
struct Run {
    CliArgs &args;
    std::string dir;
    bool quiet;

    std::unique_ptr<Tokenizer> tokenizer() const;
    ChatTemplate chat_template() const;
    // The text handle generation uses: the tokenizer (--tokenizer, else
    // the model directory's) unless `with_tokenizer` is false (--tokens),
    // the chat template if `with_template`, and the generation defaults.
    TextHandle text(bool with_tokenizer, bool with_template) const;
    // Sampling, stop conditions and length: the text handle's defaults
    // (generation_config.json) under the command line's flags.
    GenerateParams params(const qwenrt_text &text) const;
    // A one-turn conversation: --system's message, if any, and `text`.
    std::vector<ChatMessage> user_turn(const std::string &text) const;
    // What goes with every conversation: --tools' definitions.
    ChatContext chat_context() const;
    // A --messages file, offered --tools unless it names its own.
    Conversation conversation(const std::string &path) const;
    // The statistics line on stderr (unless --quiet).
    void stats(const qwenrt_generation &g) const;
};

// --bench: loads the model and prints the benchmark table and its JSON line.
int run_bench(const CliArgs &args);
// --prompts-file: one JSON result per prompt, each from an empty cache.
int run_prompts_file(const Run &run, qwenrt_session *session, const qwenrt_text &text, const GenerateParams &params);
// --chat: an interactive conversation on stdin.
int run_chat(const Run &run, qwenrt_session *session, const qwenrt_text &text, const GenerateParams &params);

}  // namespace qwenc
