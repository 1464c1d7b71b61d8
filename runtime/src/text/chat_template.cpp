#include "text/chat_template.h"

#include <cstdlib>
#include <filesystem>

#include "json_input.h"
#include "text/tool_calls.h"

namespace qwenc {

using nlohmann::ordered_json;

namespace {
// bos_token / eos_token of a tokenizer_config.json: a string, or an
// AddedToken object {"content": ...}; null leaves it undefined, as in transformers.
ordered_json special_tokens_of(const ordered_json &config) {
    ordered_json out = ordered_json::object();
    if (!config.is_object()) return out;
    for (const char *key : {"bos_token", "eos_token"}) {
        if (!config.contains(key)) continue;
        const ordered_json &v = config[key];
        if (v.is_string()) out[key] = v;
        else if (v.is_object() && v.contains("content") && v["content"].is_string()) out[key] = v["content"];
    }
    return out;
}
}  // namespace

ChatTemplate ChatTemplate::from_jinja(const std::string &jinja, const std::string &source) {
    ChatTemplate t;
    t.template_ = jinja::Template::parse(jinja, source);
    t.teaches_tool_calls_ = qwenc::teaches_tool_calls(jinja);
    return t;
}

ChatTemplate ChatTemplate::from_model_dir(const std::string &dir) {
    const std::string path = dir + "/tokenizer_config.json";
    const ordered_json j = read_ordered_json_file(path);
    if (!j.is_object() || !j.contains("chat_template")) throw InputError(path + ": no chat_template (use --raw or --chat-template)");
    const auto &ct = j["chat_template"];
    ChatTemplate t;
    if (ct.is_string()) {
        t = from_jinja(ct.get<std::string>(), path);
    } else {
        // A list of named templates: "default" is the chat template.
        bool found = false;
        if (ct.is_array())
            for (const auto &e : ct)
                if (e.is_object() && e.contains("name") && e["name"] == "default" && e.contains("template") && e["template"].is_string()) {
                    t = from_jinja(e["template"].get<std::string>(), path);
                    found = true;
                    break;
                }
        if (!found) throw InputError(path + ": chat_template is neither a string nor a list with a \"default\" entry");
    }
    t.special_tokens_ = special_tokens_of(j);
    return t;
}

void ChatTemplate::set_special_tokens(const std::string &dir) {
    const std::string path = dir + "/tokenizer_config.json";
    special_tokens_ = std::filesystem::exists(path) ? special_tokens_of(read_ordered_json_file(path)) : ordered_json::object();
}

std::string ChatTemplate::render(const std::vector<ChatMessage> &messages, bool add_generation_prompt, const ChatContext &context) const {
    if (!template_) throw InputError("no chat template");
    ordered_json vars = ordered_json::object();
    ordered_json &list = vars["messages"] = ordered_json::array();
    for (const ChatMessage &m : messages) list.push_back(m.to_json());
    if (!context.tools.is_null()) vars["tools"] = context.tools;
    vars["add_generation_prompt"] = add_generation_prompt;
    for (auto it = special_tokens_.begin(); it != special_tokens_.end(); ++it) vars[it.key()] = it.value();
    for (auto it = context.variables.begin(); it != context.variables.end(); ++it) vars[it.key()] = it.value();
    return template_->render(vars, {}, template_clock());
}

std::optional<std::time_t> template_clock() {
    const char *epoch = std::getenv("SOURCE_DATE_EPOCH");
    if (!epoch || !*epoch) return std::nullopt;
    char *end = nullptr;
    const long long t = std::strtoll(epoch, &end, 10);
    if (*end || t < 0) throw InputError(std::string("SOURCE_DATE_EPOCH is not a number of seconds: ") + epoch);
    return std::time_t(t);
}

}  // namespace qwenc
