// Renders conversations the way the Qwen2 / Qwen2.5 chat template (ChatML)
// does under Jinja with trim_blocks and lstrip_blocks. The default system
// prompt is read from the template text, since it differs between model
// versions. Templates outside that family are refused with an error rather
// than rendered approximately; qwenrun --raw bypasses templating.
#pragma once
#include <string>
#include <vector>

namespace qwenc {

struct ChatMessage {
    std::string role;
    std::string content;
};

class ChatTemplate {
public:
    ChatTemplate() = default;  // no default system prompt
    // `source` names the file in error messages. Throws InputError.
    static ChatTemplate from_jinja(const std::string &jinja, const std::string &source);
    // The template of a model directory: tokenizer_config.json's chat_template.
    static ChatTemplate from_model_dir(const std::string &dir);

    std::string render(const std::vector<ChatMessage> &messages, bool add_generation_prompt) const;
    const std::string &default_system() const { return default_system_; }

private:
    std::string default_system_;  // empty: the template adds no system turn
};

// Reads a JSON list of {"role", "content"} objects (or {"messages": [...]}).
std::vector<ChatMessage> read_messages_json(const std::string &path);

// One line of a prompts file (qwenrun --prompts-file): plain text is a user
// prompt; a line starting with '{' is a JSON object holding "prompt" (text)
// or "messages" (a list as above). `where` ("FILE: line N") starts errors.
struct PromptLine {
    std::string prompt;                // the text, or "" for messages
    std::vector<ChatMessage> messages;  // empty for a plain prompt
};
PromptLine parse_prompt_line(const std::string &line, const std::string &where);

// A line as typed or read from a file, without what editors add: a trailing
// CR (a CRLF file) and, on the first line, a UTF-8 byte order mark.
void clean_input_line(std::string &line, bool first_line);

}  // namespace qwenc
