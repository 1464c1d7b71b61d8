#include "serve/openai_api.h"

#include <algorithm>
#include <cmath>

#include "input_error.h"
#include "json_input.h"
#include "text/conversation.h"
#include "text/tool_calls.h"

namespace qwenc {

using nlohmann::json;
using nlohmann::ordered_json;

ordered_json ApiError::body() const {
    return {{"error",
             {{"message", what()},
              {"type", type},
              {"param", param.empty() ? ordered_json(nullptr) : ordered_json(param)},
              {"code", code.empty() ? ordered_json(nullptr) : ordered_json(code)}}}};
}

namespace {

[[noreturn]] void bad(const std::string &param, const std::string &message, const std::string &code = "") {
    throw ApiError(400, message, param, code);
}

const ordered_json *field(const ordered_json &j, const char *name) {
    auto it = j.find(name);
    return it == j.end() || it->is_null() ? nullptr : &*it;
}

double number(const ordered_json &j, const char *name, double fallback, double lo, double hi) {
    const ordered_json *v = field(j, name);
    if (!v) return fallback;
    if (!v->is_number()) bad(name, std::string("'") + name + "' must be a number, got " + json_excerpt(*v));
    const double x = v->get<double>();
    if (!(x >= lo && x <= hi))
        bad(name, std::string("'") + name + "' must be in [" + json_excerpt(lo) + ", " + json_excerpt(hi) + "], got " +
                      json_excerpt(*v));
    return x;
}

int64_t integer(const ordered_json &j, const char *name, int64_t fallback, int64_t lo, int64_t hi) {
    const ordered_json *v = field(j, name);
    if (!v) return fallback;
    if (!v->is_number_integer() || !json_int_in(*v, lo, hi))
        bad(name, std::string("'") + name + "' must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                      "], got " + json_excerpt(*v));
    return v->get<int64_t>();
}

bool boolean(const ordered_json &j, const char *name, bool fallback) {
    const ordered_json *v = field(j, name);
    if (!v) return fallback;
    if (!v->is_boolean()) bad(name, std::string("'") + name + "' must be a boolean, got " + json_excerpt(*v));
    return v->get<bool>();
}

std::string text_of(const ordered_json &j, const char *name) {
    const ordered_json *v = field(j, name);
    if (!v) bad(name, std::string("'") + name + "' is required");
    if (!v->is_string()) bad(name, std::string("'") + name + "' must be a string, got " + json_excerpt(*v));
    return v->get<std::string>();
}

}  // namespace

ParsedRequest parse_request(Endpoint endpoint, const std::string &body, const ServedModel &served) {
    ordered_json j;
    try {
        j = parse_ordered_json_text(body, "request body");
    } catch (const InputError &e) {
        bad("", std::string("the request body is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) bad("", "the request body must be a JSON object");
    const std::string model = text_of(j, "model");
    if (model != served.name)
        throw ApiError(404, "The model '" + model + "' does not exist; this server serves '" + served.name + "'", "model",
                       "model_not_found");
    if (integer(j, "n", 1, 1, 1 << 20) != 1) bad("n", "only n = 1 is supported");
    if (boolean(j, "logprobs", false)) bad("logprobs", "logprobs are not supported");
    if (field(j, "best_of") && integer(j, "best_of", 1, 1, 1 << 20) != 1) bad("best_of", "only best_of = 1 is supported");
    if (field(j, "echo") && boolean(j, "echo", false)) bad("echo", "echo is not supported");

    ParsedRequest r;
    r.stream = boolean(j, "stream", false);
    if (const ordered_json *so = field(j, "stream_options")) {
        if (!so->is_object()) bad("stream_options", "'stream_options' must be an object");
        r.include_usage = boolean(*so, "include_usage", false);
    }

    // The prompt.
    std::string prompt_text;
    if (endpoint == Endpoint::Chat) {
        if (!served.chat_template) bad("messages", "this model has no chat template; use /v1/completions");
        const ordered_json *messages = field(j, "messages");
        if (!messages) bad("messages", "'messages' is required");
        if (!messages->is_array() || messages->empty()) bad("messages", "'messages' must be a non-empty list of messages");
        // The roles OpenAI's API takes; the template sees the rest as given.
        for (const ordered_json &m : *messages) {
            const ordered_json *role = m.is_object() ? field(m, "role") : nullptr;
            static const char *const roles[] = {"system", "developer", "user", "assistant", "tool", "function"};
            if (!role || !role->is_string() ||
                std::none_of(std::begin(roles), std::end(roles), [&](const char *r) { return *role == r; }))
                bad("messages", "each message needs a role: system, developer, user, assistant or tool (got " +
                                    json_excerpt(role ? json(*role) : json(nullptr)) + ")");
        }
        ordered_json conv = {{"messages", *messages}};
        if (const ordered_json *tools = field(j, "tools")) {
            conv["tools"] = *tools;
            r.parse_tools = served.tool_calls;
        }
        if (const ordered_json *choice = field(j, "tool_choice")) {
            if (!(choice->is_string() && (*choice == "auto" || *choice == "none")))
                bad("tool_choice", "only tool_choice \"auto\" and \"none\" are supported");
            if (*choice == "none") conv.erase("tools"), r.parse_tools = false;
        }
        if (const ordered_json *kwargs = field(j, "chat_template_kwargs")) {  // vLLM's, e.g. enable_thinking
            if (!kwargs->is_object()) bad("chat_template_kwargs", "'chat_template_kwargs' must be an object");
            for (const auto &[k, v] : kwargs->items())
                if (k != "messages" && k != "tools") conv[k] = v;
        }
        try {
            prompt_text = served.chat_template->render(parse_conversation(conv, "request"));
        } catch (const InputError &e) {
            bad("messages", e.what());
        }
    } else {
        const ordered_json *p = field(j, "prompt");
        if (!p) bad("prompt", "'prompt' is required");
        if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) p = &(*p)[0];
        if (!p->is_string()) bad("prompt", "'prompt' must be a string (one prompt per request)");
        prompt_text = p->get<std::string>();
    }
    // Tokenized with a bound: one token past the context is enough to refuse.
    try {
        r.prompt = served.tokenizer->encode(prompt_text, true, served.max_context + 1);
    } catch (const InputError &e) {
        bad(endpoint == Endpoint::Chat ? "messages" : "prompt", e.what());
    }
    if (r.prompt.empty()) bad(endpoint == Endpoint::Chat ? "messages" : "prompt", "the prompt is empty");
    const int64_t n = int64_t(r.prompt.size());
    if (n >= served.max_context)
        bad(endpoint == Endpoint::Chat ? "messages" : "prompt",
            "This model's maximum context length is " + std::to_string(served.max_context) + " tokens; the prompt has " +
                (n > served.max_context ? "more than " + std::to_string(served.max_context) : std::to_string(n)) +
                ", which leaves no room to generate",
            "context_length_exceeded");

    // Sampling, as OpenAI and vLLM name it; unset fields keep the model's defaults.
    SamplingParams s = served.sampling;
    for (const char *name : kSamplingSwitches)
        if (field(j, name)) s.do_sample = true;
    s.temperature = float(number(j, "temperature", s.temperature, 0, 2));
    s.top_p = float(number(j, "top_p", s.top_p, 1e-9, 1));
    const int64_t top_k = integer(j, "top_k", s.top_k, -1, INT32_MAX);
    s.top_k = top_k < 0 ? 0 : top_k;  // vLLM's -1: off
    s.min_p = float(number(j, "min_p", s.min_p, 0, 1));
    s.repetition_penalty = float(number(j, "repetition_penalty", s.repetition_penalty, 1e-6, 100));
    s.presence_penalty = float(number(j, "presence_penalty", 0, -2, 2));
    s.frequency_penalty = float(number(j, "frequency_penalty", 0, -2, 2));
    if (field(j, "seed")) s.seed = uint64_t(integer(j, "seed", 0, INT64_MIN + 1, INT64_MAX));
    r.settings.sampling = s;

    const int64_t room = served.max_context - n;
    int64_t max_tokens = integer(j, "max_completion_tokens", -1, 1, INT32_MAX);
    if (max_tokens < 0) max_tokens = integer(j, "max_tokens", -1, 1, INT32_MAX);
    if (max_tokens > room)
        bad("max_tokens",
            "This model's maximum context length is " + std::to_string(served.max_context) + " tokens; you requested " +
                std::to_string(n + max_tokens) + " (" + std::to_string(n) + " in the prompt, " + std::to_string(max_tokens) +
                " in the completion)",
            "context_length_exceeded");
    r.settings.max_tokens = max_tokens < 0 ? room : max_tokens;
    r.settings.ignore_eos = boolean(j, "ignore_eos", false);
    r.settings.eos_ids = served.eos_ids;

    if (const ordered_json *stop = field(j, "stop")) {
        if (stop->is_string()) {
            r.stop.push_back(stop->get<std::string>());
        } else if (stop->is_array() && stop->size() <= 16) {
            for (const ordered_json &e : *stop) {
                if (!e.is_string()) bad("stop", "'stop' must be a string or a list of strings");
                r.stop.push_back(e.get<std::string>());
            }
        } else {
            bad("stop", "'stop' must be a string or a list of at most 16 strings");
        }
        for (const std::string &x : r.stop)
            if (x.empty() || x.size() > 1024) bad("stop", "stop strings must be 1 to 1024 bytes");
    }
    return r;
}

ordered_json usage_json(const Usage &u) {
    return {{"prompt_tokens", u.prompt_tokens},
            {"completion_tokens", u.completion_tokens},
            {"total_tokens", u.prompt_tokens + u.completion_tokens},
            {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

ordered_json completion_response(Endpoint endpoint, const std::string &id, int64_t created, const ServedModel &served,
                                 const ParsedRequest &req, const std::string &text, const std::string &finish_reason,
                                 const Usage &usage) {
    ordered_json choice = {{"index", 0}};
    std::string finish = finish_reason;
    if (endpoint == Endpoint::Chat) {
        ordered_json message = {{"role", "assistant"}, {"content", text}};
        if (req.parse_tools) {
            ParsedReply reply = parse_tool_calls(text);
            if (!reply.tool_calls.empty()) {
                message["content"] = reply.content.empty() ? ordered_json(nullptr) : ordered_json(reply.content);
                message["tool_calls"] = reply.tool_calls;
                if (finish == "stop") finish = "tool_calls";
            }
        }
        choice["message"] = message;
    } else {
        choice["text"] = text;
    }
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = finish;
    return {{"id", id},
            {"object", endpoint == Endpoint::Chat ? "chat.completion" : "text_completion"},
            {"created", created},
            {"model", served.name},
            {"choices", ordered_json::array({choice})},
            {"usage", usage_json(usage)}};
}

ordered_json stream_chunk(Endpoint endpoint, const std::string &id, int64_t created, const ServedModel &served,
                          const ordered_json &delta, const std::string &finish_reason) {
    ordered_json choice = {{"index", 0}};
    if (endpoint == Endpoint::Chat) choice["delta"] = delta;
    else choice["text"] = delta;
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = finish_reason.empty() ? ordered_json(nullptr) : ordered_json(finish_reason);
    return {{"id", id},
            {"object", endpoint == Endpoint::Chat ? "chat.completion.chunk" : "text_completion"},
            {"created", created},
            {"model", served.name},
            {"choices", ordered_json::array({choice})}};
}

}  // namespace qwenc
