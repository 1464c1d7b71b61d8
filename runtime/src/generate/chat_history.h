// An interactive chat's conversation kept inside the context: when the next
// turn would not leave room for an answer, the oldest turns after the
// system message are dropped, as chat front ends of llama.cpp and others
// do, instead of ending the chat with an error.
#pragma once
#include <cstdint>
#include <vector>

#include "text/chat_template.h"
#include "text/tokenizer.h"
#include "generate/generator.h"

namespace qwenc {

struct FittedConversation {
    std::string text;             // the rendered conversation (with the generation prompt)
    std::vector<int32_t> tokens;  // text encoded
    size_t dropped = 0;           // messages removed from the front
};

// Renders `msgs` (ending with the new user message) and, while its tokens
// plus `reserve` exceed `max_context`, removes the oldest user/assistant
// messages (a leading system message stays). Throws, leaving `msgs`
// without the new message, when that message cannot be sent: alone it does
// not fit, or it cannot be rendered or encoded (invalid UTF-8).
FittedConversation fit_conversation(std::vector<ChatMessage> &msgs, const ChatTemplate &tmpl, const Tokenizer &tok,
                                    int64_t max_context, int64_t reserve, const ChatContext &context = {});

// A chat's conversation as the KV cache knows it: its tokens (prompts as
// encoded, answers as generated, the last generated one not yet evaluated)
// and the text the conversation renders for them.
struct ChatTranscript {
    std::vector<int32_t> tokens;
    std::string text;
    // After an answer: `prompt` (the tokens of `prompt_text`) and what was
    // generated. The text takes the answer as the conversation will render
    // it, g.text (in which bytes that form no character became U+FFFD), and
    // the end-of-sequence token if one ended it. An answer cut by a stop
    // string leaves the transcript empty: its tokens hold text the
    // conversation does not.
    void record(std::vector<int32_t> prompt, std::string prompt_text, const GenerationResult &g,
                const std::vector<int32_t> &eos_ids, const Tokenizer &tok);
};

// The next turn's tokens for `fit`: the transcript's tokens, then the rest
// of fit.text encoded, where fit.text still begins with the transcript's
// text and the result has at most `limit` tokens; else fit.tokens. So the
// model keeps its answers' tokens as it generated them, as llama.cpp does:
// sampled text is not always the tokenization BPE would give it, and
// re-encoded it would differ from some token on, after which the whole rest
// of the conversation would be evaluated again. (fit.text no longer begins
// with the transcript after /reset, or when old turns were dropped.)
std::vector<int32_t> continue_transcript(const ChatTranscript &transcript, const FittedConversation &fit, const Tokenizer &tok,
                                         int64_t limit);

}  // namespace qwenc
