#include "generate/chat_history.h"

#include <algorithm>

#include "json_input.h"

namespace qwenc {

namespace {
FittedConversation fit_or_drop(std::vector<ChatMessage> &msgs, const ChatTemplate &tmpl, const Tokenizer &tok,
                               int64_t max_context, int64_t reserve, const ChatContext &context) {
    auto fits = [&](const std::vector<int32_t> &tokens) { return int64_t(tokens.size()) + reserve <= max_context; };
    FittedConversation fit;
    fit.text = tmpl.render(msgs, true, context);
    // Text that could not fit even as the longest tokens is refused before
    // it is tokenized.
    fit.tokens = tok.encode(fit.text, true, max_context);
    if (fits(fit.tokens)) return fit;  // the usual case: one rendering
    const size_t keep = msgs.size() > 1 && msgs[0].role == "system" ? 1 : 0;
    // The new message with nothing before it but the system message must
    // fit, or nothing is dropped for it. (Messages are delimited by special
    // tokens, so dropping others never makes it longer.)
    std::vector<ChatMessage> alone(msgs.begin(), msgs.begin() + long(keep));
    alone.push_back(msgs.back());
    const int64_t alone_tokens = int64_t(tok.encode(tmpl.render(alone, true, context)).size());
    if (alone_tokens + reserve > max_context) {
        throw InputError("this message makes a prompt of " + std::to_string(alone_tokens) + " tokens, which with " +
                         std::to_string(reserve) + " for the answer exceeds the context of " + std::to_string(max_context) +
                         " positions (raise --max-context or lower --max-tokens)");
    }
    while (!fits(fit.tokens)) {
        // The oldest turn: a user message and the answer after it.
        const size_t n = msgs.size() > keep + 2 && msgs[keep + 1].role == "assistant" ? 2 : 1;
        msgs.erase(msgs.begin() + long(keep), msgs.begin() + long(keep + n));
        fit.dropped += n;
        fit.text = tmpl.render(msgs, true, context);
        fit.tokens = tok.encode(fit.text);
    }
    return fit;
}
}  // namespace

FittedConversation fit_conversation(std::vector<ChatMessage> &msgs, const ChatTemplate &tmpl, const Tokenizer &tok,
                                    int64_t max_context, int64_t reserve, const ChatContext &context) {
    try {
        return fit_or_drop(msgs, tmpl, tok, max_context, reserve, context);
    } catch (...) {
        msgs.pop_back();  // a message that cannot be sent must not stay to fail every later turn
        throw;
    }
}

void ChatTranscript::record(std::vector<int32_t> prompt, std::string prompt_text, const GenerationResult &g,
                            const std::vector<int32_t> &eos_ids, const Tokenizer &tok) {
    const bool ended_by_eos =
        !g.tokens.empty() && std::find(eos_ids.begin(), eos_ids.end(), g.tokens.back()) != eos_ids.end();
    tokens.clear();
    text.clear();
    if (g.finish_reason == "stop" && !ended_by_eos) return;  // a stop string
    tokens = std::move(prompt);
    tokens.insert(tokens.end(), g.tokens.begin(), g.tokens.end());
    text = std::move(prompt_text) + g.text + (ended_by_eos ? tok.token_bytes(g.tokens.back()) : std::string());
}

std::vector<int32_t> continue_transcript(const ChatTranscript &transcript, const FittedConversation &fit, const Tokenizer &tok,
                                         int64_t limit) {
    if (transcript.tokens.empty() || fit.text.compare(0, transcript.text.size(), transcript.text) != 0) return fit.tokens;
    std::vector<int32_t> tokens = transcript.tokens;
    const std::vector<int32_t> rest = tok.encode(fit.text.substr(transcript.text.size()));
    tokens.insert(tokens.end(), rest.begin(), rest.end());
    return int64_t(tokens.size()) <= limit ? tokens : fit.tokens;
}

}  // namespace qwenc
