// qwenrun's modes, each in a file of its own (qwenrun.cpp parses the flags
// and picks one): --bench (bench_mode.cpp), --prompts-file
// (prompts_file_mode.cpp) and --chat (chat_mode.cpp); and what they share:
// the flags as one run reads them (Run).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli_args.h"
#include "generate/generator.h"
#include "model.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace qwenc {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t);

// A comma-separated list of non-negative integers given to --`option`.
std::vector<int32_t> parse_int_list(const std::string &option, const std::string &s);

// The flags of one run, read as each mode needs them.
struct Run {
    CliArgs &args;
    std::string dir;
    bool quiet;

    std::unique_ptr<Tokenizer> tokenizer() const;
    ChatTemplate chat_template() const;
    // Sampling, stop conditions and length: generation_config.json's
    // defaults under the command line's flags.
    GenerationRequest request() const;
    // A one-turn conversation: --system's message, if any, and `text`.
    std::vector<ChatMessage> user_turn(const std::string &text) const;
    // What goes with every conversation: --tools' definitions.
    ChatContext chat_context() const;
    // A --messages file, offered --tools unless it names its own.
    Conversation conversation(const std::string &path) const;
    // The statistics line on stderr (unless --quiet).
    void stats(const GenerationResult &g) const;
};

// --bench: loads the model and prints the benchmark table and its JSON line.
int run_bench(const CliArgs &args);
// --prompts-file: one JSON result per prompt, each from an empty cache.
int run_prompts_file(const Run &run, Session &session, const Tokenizer &tok, const GenerationRequest &req);
// --chat: an interactive conversation on stdin.
int run_chat(const Run &run, Session &session, const Tokenizer &tok, const GenerationRequest &req,
             const std::function<void(const std::string &)> &print);

}  // namespace qwenc
