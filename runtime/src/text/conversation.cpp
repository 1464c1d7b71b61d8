#include "text/conversation.h"

#include "json_input.h"

namespace qwenc {

using nlohmann::ordered_json;

ordered_json ChatMessage::to_json() const {
    if (!fields.is_null()) return fields;
    return ordered_json{{"role", role}, {"content", content}};
}

ChatMessage parse_message(const ordered_json &j, const std::string &where) {
    if (!j.is_object() || !j.contains("role") || !j["role"].is_string())
        throw InputError(where + " needs a string \"role\"");
    ordered_json fields = j;
    std::string text;
    if (j.contains("content")) {
        const ordered_json &c = j["content"];
        if (c.is_string()) {
            text = c.get<std::string>();
        } else if (c.is_array()) {
            // [{"type": "text", "text": ...}, ...]: one string, parts on lines of their own.
            for (size_t i = 0; i < c.size(); i++) {
                if (!c[i].is_object() || c[i].value("type", "") != "text" || !c[i].contains("text") || !c[i]["text"].is_string())
                    throw InputError(where + ": content part " + std::to_string(i) + " is not {\"type\": \"text\", \"text\": ...}; only text is supported");
                if (i) text += "\n";
                text += c[i]["text"].get<std::string>();
            }
            fields["content"] = text;
        } else if (!c.is_null()) {
            throw InputError(where + ": \"content\" must be a string, a list of text parts or null, not " + json_excerpt(c));
        }
    }
    if (j.contains("tool_calls") && !j["tool_calls"].is_null()) {
        if (!j["tool_calls"].is_array()) throw InputError(where + ": \"tool_calls\" must be a list");
        ordered_json &calls = fields["tool_calls"];
        for (size_t i = 0; i < calls.size(); i++) {
            ordered_json &call = calls[i];
            const std::string at = where + ": tool call " + std::to_string(i);
            if (!call.is_object()) throw InputError(at + " is not an object");
            ordered_json *fn = call.contains("function") ? &call["function"] : &call;
            if (!fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string())
                throw InputError(at + " needs a function with a string \"name\"");
            if (fn->contains("arguments") && (*fn)["arguments"].is_string()) {
                // OpenAI's API sends arguments as JSON text; templates expect the object.
                try {
                    ordered_json args = parse_ordered_json_text((*fn)["arguments"].get<std::string>(), at + " arguments");
                    if (args.is_object()) (*fn)["arguments"] = std::move(args);
                } catch (const InputError &) {
                    // not JSON: the template gets the text as given
                }
            }
        }
    }
    ChatMessage m(j["role"].get<std::string>(), std::move(text));
    m.fields = std::move(fields);
    return m;
}

ordered_json parse_tools(const ordered_json &j, const std::string &where) {
    if (j.is_null()) return j;
    if (!j.is_array()) throw InputError(where + ": \"tools\" must be a list of tool definitions");
    for (size_t i = 0; i < j.size(); i++)
        if (!j[i].is_object()) throw InputError(where + ": tool " + std::to_string(i) + " is not an object");
    return j;
}

Conversation parse_conversation(const ordered_json &j, const std::string &where) {
    Conversation c;
    const ordered_json *list = &j;
    if (j.is_object()) {
        if (!j.contains("messages")) throw InputError(where + ": expected a JSON list of messages or an object with \"messages\"");
        list = &j["messages"];
        for (auto it = j.begin(); it != j.end(); ++it) {
            if (it.key() == "messages") continue;
            if (it.key() == "tools") {
                c.context.tools = parse_tools(it.value(), where);
            } else if (it.key() == "add_generation_prompt") {
                if (!it.value().is_boolean()) throw InputError(where + ": \"add_generation_prompt\" must be true or false");
                c.add_generation_prompt = it.value().get<bool>();
            } else {
                c.context.variables[it.key()] = it.value();
            }
        }
    }
    if (!list->is_array()) throw InputError(where + ": expected a JSON list of {\"role\", \"content\"} messages");
    for (size_t i = 0; i < list->size(); i++) c.messages.push_back(parse_message((*list)[i], where + ": message " + std::to_string(i)));
    return c;
}

Conversation read_conversation_json(const std::string &path) { return parse_conversation(read_ordered_json_file(path), path); }

void clean_input_line(std::string &line, bool first_line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (first_line && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
}

PromptLine parse_prompt_line(const std::string &line, const std::string &where) {
    if (line.empty() || line[0] != '{') return {line, {}};
    ordered_json j;
    try {
        j = parse_ordered_json_text(line, where);
    } catch (const InputError &) {
        throw InputError(where + " is not valid JSON");
    }
    if (!j.is_object()) throw InputError(where + " is not valid JSON");
    if (j.contains("messages")) {
        PromptLine p{"", parse_conversation(j, where)};
        if (p.conversation.messages.empty()) throw InputError(where + ": \"messages\" is empty");
        return p;
    }
    if (!j.contains("prompt") || !j["prompt"].is_string()) throw InputError(where + ": needs a string \"prompt\" or a \"messages\" list");
    return {j["prompt"].get<std::string>(), {}};
}

}  // namespace qwenc
