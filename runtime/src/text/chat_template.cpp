#include "text/chat_template.h"

#include "json_input.h"

namespace qwenc {

namespace {

// Undoes Jinja/Python string-literal escapes in a literal taken from the template.
std::string unescape(const std::string &s) {
    std::string out;
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] != '\\' || i + 1 == s.size()) {
            out += s[i];
            continue;
        }
        const char c = s[++i];
        out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
    }
    return out;
}

}  // namespace

ChatTemplate ChatTemplate::from_jinja(const std::string &jinja, const std::string &source) {
    auto refuse = [&](const std::string &why) {
        return InputError(source + ": chat template not supported (" + why +
                          "); only the Qwen2/Qwen2.5 ChatML templates are rendered; use --raw to send the prompt as is");
    };
    if (jinja.find("<|im_start|>") == std::string::npos || jinja.find("<|im_end|>") == std::string::npos)
        throw refuse("no ChatML <|im_start|>/<|im_end|> markers");
    // Constructs of later template generations that this renderer does not reproduce.
    for (const char *marker : {"reasoning_content", "<think>", "namespace(", "enable_thinking"})
        if (jinja.find(marker) != std::string::npos) throw refuse(std::string("uses ") + marker);
    if (jinja.find("messages[0]['role'] == 'system'") == std::string::npos &&
        jinja.find("messages[0].role == 'system'") == std::string::npos &&
        jinja.find("messages[0]['role'] == \"system\"") == std::string::npos)
        throw refuse("does not treat a leading system message the Qwen2 way");

    ChatTemplate t;
    // The default system turn is a literal: '<|im_start|>system\n...<|im_end|>'
    // with no quote inside. Found by plain search: std::regex recursed once
    // per character and overflowed the stack on a 60 KB default prompt.
    // The first close and the first quote at or after a position only move
    // forward as the opens do, so each is searched for once: linear time.
    const std::string open = "<|im_start|>system\\n", close = "<|im_end|>";
    size_t end = 0, quote = 0;
    for (size_t at = jinja.find(open); at != std::string::npos; at = jinja.find(open, at + 1)) {
        const size_t begin = at + open.size();
        if (end != std::string::npos && end < begin) end = jinja.find(close, begin);
        if (end == std::string::npos) break;
        if (quote != std::string::npos && quote < begin) quote = jinja.find_first_of("'\"", begin);
        if (quote < end) continue;
        t.default_system_ = unescape(jinja.substr(begin, end - begin));
        break;
    }
    return t;
}

ChatTemplate ChatTemplate::from_model_dir(const std::string &dir) {
    const std::string path = dir + "/tokenizer_config.json";
    const nlohmann::json j = read_json_file(path);
    if (!j.contains("chat_template")) throw InputError(path + ": no chat_template (use --raw)");
    const auto &ct = j["chat_template"];
    if (ct.is_string()) return from_jinja(ct.get<std::string>(), path);
    // A list of named templates: use "default".
    if (ct.is_array())
        for (const auto &e : ct)
            if (e.is_object() && e.contains("name") && e["name"] == "default" && e.contains("template") && e["template"].is_string())
                return from_jinja(e["template"].get<std::string>(), path);
    throw InputError(path + ": chat_template is neither a string nor a list with a \"default\" entry");
}

std::string ChatTemplate::render(const std::vector<ChatMessage> &messages, bool add_generation_prompt) const {
    std::string out;
    const bool leading_system = !messages.empty() && messages[0].role == "system";
    if (leading_system) out += "<|im_start|>system\n" + messages[0].content + "<|im_end|>\n";
    else if (!default_system_.empty()) out += "<|im_start|>system\n" + default_system_ + "<|im_end|>\n";
    for (size_t i = leading_system ? 1 : 0; i < messages.size(); i++) {
        const ChatMessage &m = messages[i];
        if (m.role != "user" && m.role != "assistant" && m.role != "system")
            throw InputError("message " + std::to_string(i) + " has role '" + m.role +
                             "'; only system, user and assistant are supported");
        out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
    }
    if (add_generation_prompt) out += "<|im_start|>assistant\n";
    return out;
}

namespace {
// A JSON list of {"role", "content"} objects; `where` starts errors.
std::vector<ChatMessage> messages_of(const nlohmann::json &j, const std::string &where) {
    if (!j.is_array()) throw InputError(where + ": expected a JSON list of {\"role\", \"content\"} messages");
    std::vector<ChatMessage> out;
    for (size_t i = 0; i < j.size(); i++) {
        const auto &m = j[i];
        if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") || !m["content"].is_string())
            throw InputError(where + ": message " + std::to_string(i) + " needs string \"role\" and \"content\"");
        out.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    }
    return out;
}
}  // namespace

std::vector<ChatMessage> read_messages_json(const std::string &path) {
    nlohmann::json j = read_json_file(path);
    if (j.is_object() && j.contains("messages")) j = j["messages"];
    return messages_of(j, path);
}

void clean_input_line(std::string &line, bool first_line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (first_line && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
}

PromptLine parse_prompt_line(const std::string &line, const std::string &where) {
    if (line.empty() || line[0] != '{') return {line, {}};
    nlohmann::json j;
    try {
        j = parse_json_text(line, where);
    } catch (const InputError &) {
        throw InputError(where + " is not valid JSON");
    }
    if (!j.is_object()) throw InputError(where + " is not valid JSON");
    if (j.contains("messages")) {
        PromptLine p{"", messages_of(j["messages"], where)};
        if (p.messages.empty()) throw InputError(where + ": \"messages\" is empty");
        return p;
    }
    if (!j.contains("prompt") || !j["prompt"].is_string()) throw InputError(where + ": needs a string \"prompt\" or a \"messages\" list");
    return {j["prompt"].get<std::string>(), {}};
}

}  // namespace qwenc
