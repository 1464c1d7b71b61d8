// Conversations as users and applications give them: OpenAI-shaped
// messages (roles, text content, tool calls, tool results), the tools on
// offer, and any further chat-template variables, read from JSON files,
// prompts-file lines and typed input.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace qwenc {

// One message. A template sees `fields` when set (the message as given,
// every key kept: tool_calls, tool_call_id, name, reasoning_content, ...),
// else {"role", "content"}.
struct ChatMessage {
    ChatMessage() = default;
    ChatMessage(std::string r, std::string c) : role(std::move(r)), content(std::move(c)) {}
    std::string role;
    std::string content;  // the text; "" when the message has none (tool calls only)
    nlohmann::ordered_json fields;
    nlohmann::ordered_json to_json() const;
};

// What accompanies the messages into the template.
struct ChatContext {
    nlohmann::ordered_json tools;                                   // null: no tools offered
    nlohmann::ordered_json variables = nlohmann::ordered_json::object();  // e.g. enable_thinking
};

struct Conversation {
    std::vector<ChatMessage> messages;
    ChatContext context;
    bool add_generation_prompt = true;
};

// A message object as OpenAI's API and transformers' apply_chat_template
// take it. Content given as a list of text parts is joined into one
// string and tool-call arguments given as a JSON string become an object,
// as vLLM prepares messages for templates. Throws InputError starting with `where`.
ChatMessage parse_message(const nlohmann::ordered_json &j, const std::string &where);
// A JSON list of tool definitions (OpenAI's {"type": "function", "function": {...}}).
nlohmann::ordered_json parse_tools(const nlohmann::ordered_json &j, const std::string &where);

// A list of messages, or an object {"messages": [...], "tools": [...],
// "add_generation_prompt": bool, ...} whose further keys become template
// variables, as apply_chat_template passes them.
Conversation parse_conversation(const nlohmann::ordered_json &j, const std::string &where);
Conversation read_conversation_json(const std::string &path);

// One line of a prompts file (qwenrun --prompts-file): plain text is a user
// prompt; a line starting with '{' is a JSON object holding "prompt" (text)
// or "messages" (with "tools" and other keys as above). `where`
// ("FILE: line N") starts errors.
struct PromptLine {
    std::string prompt;         // the text, or "" for messages
    Conversation conversation;  // messages empty for a plain prompt
};
PromptLine parse_prompt_line(const std::string &line, const std::string &where);

// A line as typed or read from a file, without what editors add: a trailing
// CR (a CRLF file) and, on the first line, a UTF-8 byte order mark.
void clean_input_line(std::string &line, bool first_line);

}  // namespace qwenc
