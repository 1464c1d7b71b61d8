// The generation loop: evaluates a prompt on a session, then samples,
// streams text and stops at an eos id, a stop string or the token limit.
#pragma once
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "model.h"
#include "text/tokenizer.h"
#include "generate/sampler.h"

namespace qwenc {

struct GenerationRequest {
    SamplingParams sampling;
    std::vector<int32_t> eos_ids;  // empty: never stop at eos
    std::vector<std::string> stop;
    int64_t max_tokens = 256;
    // Set from elsewhere (qwenrun's Ctrl-C): generation ends before its next
    // token, finish_reason "interrupted". Null: never.
    const std::atomic<bool> *interrupt = nullptr;
};

struct GenerationResult {
    std::vector<int32_t> tokens;  // generated, including a final eos if any
    std::string text;             // decoded, without the eos or stop string
    std::string finish_reason;    // "stop", "length" or "interrupted"
    int64_t prompt_tokens = 0;
    double prefill_s = 0, ttft_s = 0, decode_s = 0;
    int64_t decode_steps = 0;     // tokens produced by decode calls
};

// Throws std::invalid_argument when a prompt of `prompt_tokens` does not fit
// in the session's context after `used` positions; `where` ("FILE: line 3"),
// if not empty, starts the message.
void check_prompt_fits(const Session &session, int64_t prompt_tokens, int64_t used, const std::string &where = "");

// `context` holds every token already in the session's cache (they count
// for the repetition penalty); `prompt` is evaluated after them. on_text
// (may be null) is called after every generated token but an end-of-sequence
// one, with the text that token made final (often "", when a character or
// a possible stop string is incomplete), and once more for text held back
// to the end; it may set `interrupt` to stop before the next token.
GenerationResult generate(Session &session, const Tokenizer *tokenizer, const std::vector<int32_t> &context,
                          const std::vector<int32_t> &prompt, const GenerationRequest &req,
                          const std::function<void(const std::string &)> &on_text);

}  // namespace qwenc
