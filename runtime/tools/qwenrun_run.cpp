// What qwenrun's modes share: the flags as one run reads them.
#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "generate/generation_config.h"
#include "json_input.h"
#include "qwenrun_modes.h"

namespace qwenc {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A comma-separated list of non-negative integers given to --`option`.
std::vector<int32_t> parse_int_list(const std::string &option, const std::string &s) {
    std::vector<int32_t> ids;
    size_t at = 0;
    while (true) {
        size_t comma = s.find(',', at);
        std::string item = s.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        char *end = nullptr;
        long v = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || v < 0 || v > INT32_MAX)
            throw UsageError("--" + option + ": '" + item + "' is not a non-negative integer");
        ids.push_back(int32_t(v));
        if (comma == std::string::npos) return ids;
        at = comma + 1;
    }
}

std::unique_ptr<Tokenizer> Run::tokenizer() const {
    return Tokenizer::load(args.get("tokenizer", dir + "/tokenizer.json"));
}

ChatTemplate Run::chat_template() const {
    if (!args.has("chat-template")) return ChatTemplate::from_model_dir(dir);
    ChatTemplate t = ChatTemplate::from_jinja(read_text_file(args.get("chat-template")), args.get("chat-template"));
    if (!dir.empty()) t.set_special_tokens(dir);
    return t;
}

ChatContext Run::chat_context() const {
    ChatContext c;
    if (args.has("tools")) c.tools = parse_tools(read_ordered_json_file(args.get("tools")), args.get("tools"));
    return c;
}

Conversation Run::conversation(const std::string &path) const {
    Conversation c = read_conversation_json(path);
    if (c.context.tools.is_null()) c.context.tools = chat_context().tools;
    return c;
}

GenerationRequest Run::request() const {
    const GenerationDefaults d = read_generation_defaults(dir);
    GenerationRequest r;
    r.sampling = d.sampling;
    r.eos_ids = args.has("ignore-eos") ? std::vector<int32_t>{} : d.eos_ids;
    // Setting any sampling knob on the command line means sampling, as with vLLM.
    if (args.has("temperature") || args.has("top-p") || args.has("top-k") || args.has("min-p")) r.sampling.do_sample = true;
    r.sampling.temperature = float(args.get_double("temperature", r.sampling.temperature));
    r.sampling.top_k = args.get_int("top-k", r.sampling.top_k, 0, INT32_MAX);
    r.sampling.top_p = float(args.get_double("top-p", r.sampling.top_p));
    r.sampling.min_p = float(args.get_double("min-p", r.sampling.min_p));
    r.sampling.repetition_penalty = float(args.get_double("repetition-penalty", r.sampling.repetition_penalty));
    r.sampling.seed = uint64_t(args.get_int("seed", 0, 0, INT64_MAX));
    if (r.sampling.temperature < 0) throw UsageError("--temperature must be >= 0");
    if (r.sampling.top_p <= 0 || r.sampling.top_p > 1) throw UsageError("--top-p must be in (0, 1]");
    if (r.sampling.min_p < 0 || r.sampling.min_p > 1) throw UsageError("--min-p must be in [0, 1]");
    if (r.sampling.repetition_penalty <= 0) throw UsageError("--repetition-penalty must be > 0");
    r.stop = args.get_all("stop");
    r.max_tokens = args.get_int("max-tokens", 256, -1, INT32_MAX);
    if (r.max_tokens == -1) r.max_tokens = INT64_MAX;  // generate() stops at the context's end
    return r;
}

std::vector<ChatMessage> Run::user_turn(const std::string &text) const {
    std::vector<ChatMessage> msgs;
    if (args.has("system")) msgs.push_back({"system", args.get("system")});
    msgs.push_back({"user", text});
    return msgs;
}

void Run::stats(const GenerationResult &g) const {
    if (quiet) return;
    const int64_t dec = g.decode_steps;
    std::fprintf(stderr, "\n[%lld prompt tokens, %zu generated, %s] ttft %.3f s | prefill %.1f tok/s | decode %.2f tok/s\n",
                 (long long)g.prompt_tokens, g.tokens.size(), g.finish_reason.c_str(), g.ttft_s,
                 double(g.prompt_tokens) / std::max(g.prefill_s, 1e-9), dec ? double(dec) / g.decode_s : 0.0);
}

}  // namespace qwenc
