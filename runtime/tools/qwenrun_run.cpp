// What qwenrun's modes share: the flags as one run reads them.
#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "generate/generation_config.h"
#include "json_input.h"
#include "interrupt.h"
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

TextHandle Run::text(bool with_tokenizer, bool with_template) const {
    TextHandle t(new qwenrt_text);
    if (with_tokenizer) t->tokenizer = tokenizer();
    if (with_template) t->chat_template = chat_template();
    t->defaults = read_generation_defaults(dir);
    return t;
}

GenerateParams Run::params(const qwenrt_text &text) const {
    GenerateParams p;
    SamplingParams s = text.defaults.sampling;
    // Setting any sampling knob on the command line means sampling, as with vLLM.
    for (std::string field : kSamplingSwitches) {
        std::replace(field.begin(), field.end(), '_', '-');
        if (args.has(field)) s.do_sample = true;
    }
    s.temperature = float(args.get_double("temperature", s.temperature));
    s.top_k = args.get_int("top-k", s.top_k, 0, INT32_MAX);
    s.top_p = float(args.get_double("top-p", s.top_p));
    s.min_p = float(args.get_double("min-p", s.min_p));
    s.repetition_penalty = float(args.get_double("repetition-penalty", s.repetition_penalty));
    s.presence_penalty = float(args.get_double("presence-penalty", 0.0));
    s.frequency_penalty = float(args.get_double("frequency-penalty", 0.0));
    s.seed = uint64_t(args.get_int("seed", 0, 0, INT64_MAX));
    check_sampling_params(s, [](std::string field) {  // the flag: top_p is --top-p
        std::replace(field.begin(), field.end(), '_', '-');
        return "--" + field;
    });
    p.c.sampling = c_api::to_c(s);
    p.c.ignore_eos = args.has("ignore-eos");
    p.stop = args.get_all("stop");
    for (const std::string &x : p.stop) p.stop_ptrs.push_back(x.c_str());
    p.c.stop = p.stop_ptrs.data();
    p.c.n_stop = p.stop_ptrs.size();
    p.c.max_tokens = args.get_int("max-tokens", 256, -1, INT32_MAX);  // -1: until the end of sequence or the context
    return p;
}

void check(int rc) {
    if (rc != 0) throw std::runtime_error(qwenrt_last_error());
}

int Streaming::on_text(const char *piece, size_t len, void *self) {
    if (static_cast<Streaming *>(self)->print && len) {
        std::fwrite(piece, 1, len, stdout);
        std::fflush(stdout);
    }
    return interrupt_flag().load();
}

GenerationResult result_of(const qwenrt_generation &g) {
    GenerationResult r;
    r.tokens.assign(g.tokens, g.tokens + g.completion_tokens);
    r.text = g.text;
    r.finish_reason = g.finish_reason;
    r.prompt_tokens = g.prompt_tokens;
    r.prefill_s = g.prefill_seconds;
    r.ttft_s = g.time_to_first_token_seconds;
    r.decode_s = g.decode_seconds;
    r.decode_steps = g.decode_steps;
    return r;
}

size_t CachedTokens::keep_shared_start(qwenrt_session *session, const std::vector<int32_t> &prompt) {
    const size_t most = std::min(tokens.size(), prompt.empty() ? 0 : prompt.size() - 1);
    const size_t common = size_t(std::mismatch(prompt.begin(), prompt.begin() + long(most), tokens.begin()).first - prompt.begin());
    check(qwenrt_session_truncate(session, int64_t(common)));
    tokens.resize(common);
    return common;
}

void CachedTokens::generated(const qwenrt_session *session, const std::vector<int32_t> &prompt, const std::vector<int32_t> &out) {
    tokens = prompt;
    tokens.insert(tokens.end(), out.begin(), out.end());
    tokens.resize(size_t(std::min<int64_t>(qwenrt_session_position(session), int64_t(tokens.size()))));
}

std::vector<ChatMessage> Run::user_turn(const std::string &text) const {
    std::vector<ChatMessage> msgs;
    if (args.has("system")) msgs.push_back({"system", args.get("system")});
    msgs.push_back({"user", text});
    return msgs;
}

void Run::stats(const qwenrt_generation &g) const {
    if (quiet) return;
    const int64_t dec = g.decode_steps;
    std::fprintf(stderr, "\n[%lld prompt tokens, %lld generated, %s] ttft %.3f s | prefill %.1f tok/s | decode %.2f tok/s\n",
                 (long long)g.prompt_tokens, (long long)g.completion_tokens, g.finish_reason, g.time_to_first_token_seconds,
                 double(g.prompt_tokens) / std::max(g.prefill_seconds, 1e-9), dec ? double(dec) / g.decode_seconds : 0.0);
}

}  // namespace qwenc
