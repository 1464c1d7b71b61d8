// qwenrun --chat.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <unistd.h>

#include "generate/chat_history.h"
#include "interrupt.h"
#include "json_input.h"
#include "qwenrun_modes.h"

namespace qwenc {

// --chat: the conversation is re-rendered each turn and continues the
// tokens the KV cache holds where it still begins with their text
// (continue_transcript); the cache keeps the longest prefix it shares with
// the new prompt.
int run_chat(const Run &run, qwenrt_session *session, const qwenrt_text &text, const GenerateParams &params) {
    const CliArgs &args = run.args;
    const Tokenizer &tok = *text.tokenizer;
    const ChatTemplate &tmpl = *text.chat_template;
    const int64_t max_context = qwenrt_session_max_context(session);
    Streaming printing{true};
    const ChatContext context = run.chat_context();
    std::vector<ChatMessage> msgs;
    if (args.has("system")) msgs.push_back({"system", args.get("system")});
    CachedTokens in_cache;
    ChatTranscript transcript;
    const bool tty = isatty(0);
    std::string line;
    for (bool first = true;; first = false) {
        // Ctrl-C at the input (or just after an answer ended) ends the chat.
        if (take_interrupt()) return kInterruptedExit;
        if (tty) std::fprintf(stderr, "> ");
        if (!std::getline(std::cin, line)) {
            if (!take_interrupt()) break;
            std::fprintf(stderr, "\n");
            return kInterruptedExit;
        }
        clean_input_line(line, first);
        if (line == "/exit") break;
        if (line == "/reset") {
            msgs.resize(args.has("system") ? 1 : 0);
            continue;
        }
        msgs.push_back({"user", line});
        // Room for an answer of --max-tokens (at most half the context);
        // the oldest turns make way for it.
        const int64_t max_tokens = params.c.max_tokens < 0 ? INT64_MAX : params.c.max_tokens;
        const int64_t reserve = std::max<int64_t>(1, std::min(max_tokens, max_context / 2));
        FittedConversation fit;
        try {
            fit = fit_conversation(msgs, tmpl, tok, max_context, reserve, context);
        } catch (const InputError &e) {
            std::fprintf(stderr, "qwenrun: %s; not sent\n", e.what());
            continue;
        }
        if (fit.dropped > 0)
            std::fprintf(stderr, "[context full: dropped the oldest %zu message%s]\n", fit.dropped, fit.dropped == 1 ? "" : "s");
        const std::vector<int32_t> all = continue_transcript(transcript, fit, tok, max_context - reserve);
        const size_t common = in_cache.keep_shared_start(session, all);
        const std::vector<int32_t> fresh(all.begin() + long(common), all.end());
        qwenrt_generation r{};
        check(qwenrt_generate(session, &text, fresh.data(), int64_t(fresh.size()), &params.c, Streaming::on_text, &printing, &r));
        const GenerationResult g = result_of(r);
        std::printf("\n");
        std::fflush(stdout);
        run.stats(r);
        if (g.finish_reason == "interrupted") take_interrupt();  // this answer stops; the chat goes on
        in_cache.generated(session, all, g.tokens);
        transcript.record(all, std::move(fit.text), g, params.c.ignore_eos ? std::vector<int32_t>{} : text.defaults.eos_ids, tok);
        msgs.push_back({"assistant", g.text});
    }
    return 0;
}

}  // namespace qwenc
