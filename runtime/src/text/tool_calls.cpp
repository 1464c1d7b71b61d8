#include "text/tool_calls.h"

#include <cstdint>

#include "json_input.h"
#include "text/jinja/value.h"

namespace qwenc {

namespace {

const std::string kOpen = "<tool_call>", kClose = "</tool_call>";

std::string trim(const std::string &s) {
    const size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Arguments as vLLM returns them: Python's json.dumps (", " and ": ").
// An id of OpenAI's form that is the same for the same text, so that a
// seeded run's results repeat: "call_" and 24 alphanumerics from FNV-1a.
std::string call_id(const std::string &text, size_t index) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : text + "#" + std::to_string(index)) h = (h ^ c) * 1099511628211ull;
    static const char digits[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::string id = "call_";
    for (int i = 0; i < 24; i++) {
        id += digits[h % 62];
        h = h / 62 ^ (h * 0x9E3779B97F4A7C15ull);
    }
    return id;
}

}  // namespace

bool teaches_tool_calls(const std::string &template_source) { return template_source.find(kOpen) != std::string::npos; }

ParsedReply parse_tool_calls(const std::string &text) {
    ParsedReply r;
    std::string rest;
    size_t at = 0;
    for (;;) {
        const size_t open = text.find(kOpen, at);
        if (open == std::string::npos) break;
        const size_t body = open + kOpen.size();
        const size_t close = text.find(kClose, body);
        if (close == std::string::npos) break;  // unclosed: stays text
        nlohmann::ordered_json call;
        bool ok = false;
        try {
            call = parse_ordered_json_text(text.substr(body, close - body), "tool call");
            ok = call.is_object() && call.contains("name") && call["name"].is_string() &&
                 (!call.contains("arguments") || call["arguments"].is_object() || call["arguments"].is_string());
        } catch (const InputError &) {
        }
        const size_t end = close + kClose.size();
        if (!ok) {
            rest += text.substr(at, end - at);
            at = end;
            continue;
        }
        rest += text.substr(at, open - at);
        const nlohmann::ordered_json args = call.contains("arguments") ? call["arguments"] : nlohmann::ordered_json::object();
        r.tool_calls.push_back({{"id", call_id(text, r.tool_calls.size())},
                                {"type", "function"},
                                {"function", {{"name", call["name"]}, {"arguments", args.is_string() ? args.get<std::string>() : jinja::to_json(jinja::from_json(args), -1)}}}});
        at = end;
    }
    rest += text.substr(at);
    r.content = r.tool_calls.empty() ? text : trim(rest);
    return r;
}

}  // namespace qwenc
