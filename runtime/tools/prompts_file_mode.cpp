// qwenrun --prompts-file.
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "interrupt.h"
#include "json_input.h"
#include "qwenrun_modes.h"
#include "text/tool_calls.h"

namespace qwenc {

int run_prompts_file(const Run &run, qwenrt_session *session, const qwenrt_text &text, const GenerateParams &params) {
    const CliArgs &args = run.args;
    std::ifstream in(args.get("prompts-file"));
    if (!in) throw InputError(args.get("prompts-file") + ": cannot open");
    const Tokenizer &tok = *text.tokenizer;
    const ChatTemplate tmpl = args.has("raw") ? ChatTemplate() : *text.chat_template;
    const int64_t max_context = qwenrt_session_max_context(session);
    const nlohmann::ordered_json tools = run.chat_context().tools;
    // Every line is read, rendered and tokenized before the first is
    // run, so a bad line stops the job before any work.
    struct Job {
        std::string prompt;  // echoed in the result: the text, or a messages line as is
        std::vector<int32_t> ids;
    };
    std::vector<Job> jobs;
    std::string line;
    for (int line_no = 1; std::getline(in, line); line_no++) {
        clean_input_line(line, line_no == 1);
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        const std::string where = args.get("prompts-file") + ": line " + std::to_string(line_no);
        const PromptLine p = parse_prompt_line(line, where);
        const bool has_messages = !p.conversation.messages.empty();
        if (args.has("raw") && has_messages)
            throw UsageError("--raw sends plain prompts; " + where + " holds messages, which need the chat template");
        const std::string prompt_text = has_messages ? line : p.prompt;
        Conversation c = has_messages ? p.conversation : Conversation{run.user_turn(prompt_text), {}, true};
        if (c.context.tools.is_null()) c.context.tools = tools;
        const std::string prompt = args.has("raw") ? prompt_text : tmpl.render(c);
        std::vector<int32_t> ids = tok.encode(prompt, true, max_context);
        check_prompt_fits(*session->session, int64_t(ids.size()), 0, where);  // each runs from an empty cache
        jobs.push_back({prompt_text, std::move(ids)});
    }
    // Each prompt runs as if from an empty cache, but the start it shares
    // with what the cache holds (the template's system prompt, a common
    // instruction) is kept rather than read again, as qwenserve's prefix
    // caching does; at least its last token is read, for its logits.
    CachedTokens in_cache;
    for (size_t index = 0; index < jobs.size(); index++) {
        const std::vector<int32_t> &ids = jobs[index].ids;
        const size_t common = in_cache.keep_shared_start(session, ids);
        Streaming silent{false};
        qwenrt_generation r{};
        check(qwenrt_generate(session, &text, ids.data() + common, int64_t(ids.size() - common), &params.c, Streaming::on_text,
                              &silent, &r));
        const GenerationResult g = result_of(r);
        in_cache.generated(session, ids, g.tokens);
        nlohmann::ordered_json out = {{"index", index},          {"prompt", jobs[index].prompt},
                              {"text", g.text},          {"finish_reason", g.finish_reason},
                              {"prompt_tokens", int64_t(ids.size())}, {"completion_tokens", g.tokens.size()}};
        // A reply holding calls in the template's syntax also comes as
        // OpenAI's message: content (the rest of the text) and tool_calls.
        if (tmpl.teaches_tool_calls()) {
            const ParsedReply reply = parse_tool_calls(g.text);
            if (!reply.tool_calls.empty()) {
                out["content"] = reply.content;
                out["tool_calls"] = reply.tool_calls;
                if (g.finish_reason == "stop") out["finish_reason"] = "tool_calls";
            }
        }
        std::printf("%s\n", out.dump().c_str());
        std::fflush(stdout);
        run.stats(r);
        if (g.finish_reason == "interrupted") return kInterruptedExit;
    }
    return 0;
}

}  // namespace qwenc
