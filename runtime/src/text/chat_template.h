// The chat template a model ships (tokenizer_config.json's chat_template,
// or a .jinja file), rendered by the Jinja engine in text/jinja/ with the
// variables transformers' apply_chat_template passes: messages, tools,
// add_generation_prompt, the tokenizer's bos_token and eos_token, and any
// further ones a conversation gives.
#pragma once
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "text/conversation.h"
#include "text/jinja/template.h"

namespace qwenc {

class ChatTemplate {
public:
    // `source` names the file in error messages. Throws InputError (a
    // syntax error names the line and column).
    static ChatTemplate from_jinja(const std::string &jinja, const std::string &source);
    // The template of a model directory (a string, or the "default" of a
    // list of named templates) with its bos_token and eos_token.
    static ChatTemplate from_model_dir(const std::string &dir);

    // bos_token / eos_token as the template sees them (from a model
    // directory's tokenizer_config.json; unset: undefined).
    void set_special_tokens(const std::string &dir);

    // Throws InputError when the template refuses the conversation
    // (raise_exception) or fails, naming the template, line and column.
    std::string render(const std::vector<ChatMessage> &messages, bool add_generation_prompt, const ChatContext &context = {}) const;
    std::string render(const Conversation &c) const { return render(c.messages, c.add_generation_prompt, c.context); }

    // Whether the template teaches the <tool_call> syntax (text/tool_calls.h).
    bool teaches_tool_calls() const { return teaches_tool_calls_; }

private:
    std::optional<jinja::Template> template_;
    bool teaches_tool_calls_ = false;
    nlohmann::ordered_json special_tokens_ = nlohmann::ordered_json::object();
};

// strftime_now's clock: SOURCE_DATE_EPOCH (seconds, the reproducible-builds
// convention) pins it, in UTC, for reproducible renders; else the local time.
std::optional<std::time_t> template_clock();

}  // namespace qwenc
