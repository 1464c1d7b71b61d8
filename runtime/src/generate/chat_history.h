// An interactive chat's conversation kept inside the context: when the next
// turn would not leave room for an answer, the oldest turns after the
// system message are dropped, as chat front ends of llama.cpp and others
// do, instead of ending the chat with an error.
#pragma once
#include <cstdint>
#include <vector>

#include "../text/chat_template.h"
#include "../text/tokenizer.h"

namespace qwenc {

struct FittedConversation {
    std::vector<int32_t> tokens;  // the rendered conversation (with the generation prompt)
    size_t dropped = 0;           // messages removed from the front
};

// Renders `msgs` (ending with the new user message) and, while its tokens
// plus `reserve` exceed `max_context`, removes the oldest user/assistant
// messages (a leading system message stays). Throws InputError, leaving
// `msgs` without the new message, when that message alone does not fit.
FittedConversation fit_conversation(std::vector<ChatMessage> &msgs, const ChatTemplate &tmpl, const Tokenizer &tok,
                                    int64_t max_context, int64_t reserve);

}  // namespace qwenc
