#include "chat_history.h"

#include "qwen2/config.h"

namespace qwenc {

FittedConversation fit_conversation(std::vector<ChatMessage> &msgs, const ChatTemplate &tmpl, const Tokenizer &tok,
                                    int64_t max_context, int64_t reserve) {
    auto fits = [&](const std::vector<int32_t> &tokens) { return int64_t(tokens.size()) + reserve <= max_context; };
    FittedConversation fit;
    fit.tokens = tok.encode(tmpl.render(msgs, true));
    if (fits(fit.tokens)) return fit;  // the usual case: one rendering
    const size_t keep = msgs.size() > 1 && msgs[0].role == "system" ? 1 : 0;
    // The new message with nothing before it but the system message must
    // fit, or nothing is dropped for it. (Messages are delimited by special
    // tokens, so dropping others never makes it longer.)
    std::vector<ChatMessage> alone(msgs.begin(), msgs.begin() + long(keep));
    alone.push_back(msgs.back());
    const int64_t alone_tokens = int64_t(tok.encode(tmpl.render(alone, true)).size());
    if (alone_tokens + reserve > max_context) {
        msgs.pop_back();
        throw InputError("this message makes a prompt of " + std::to_string(alone_tokens) + " tokens, which with " +
                         std::to_string(reserve) + " for the answer exceeds the context of " + std::to_string(max_context) +
                         " positions (raise --max-context or lower --max-tokens)");
    }
    while (!fits(fit.tokens)) {
        // The oldest turn: a user message and the answer after it.
        const size_t n = msgs.size() > keep + 2 && msgs[keep + 1].role == "assistant" ? 2 : 1;
        msgs.erase(msgs.begin() + long(keep), msgs.begin() + long(keep + n));
        fit.dropped += n;
        fit.tokens = tok.encode(tmpl.render(msgs, true));
    }
    return fit;
}

}  // namespace qwenc
