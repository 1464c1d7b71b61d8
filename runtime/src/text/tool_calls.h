// Tool calls in generated text, in the syntax Qwen2.5 and Qwen3 templates
// (and Hermes-style fine-tunes) teach:
//   <tool_call>
//   {"name": "get_weather", "arguments": {"city": "Paris"}}
//   </tool_call>
// returned as OpenAI's API shapes them. A call that is not well formed
// (unclosed, not JSON, no name) stays in the text: nothing generated is lost.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace qwenc {

struct ParsedReply {
    std::string content;              // the text outside well-formed calls, trimmed
    nlohmann::ordered_json tool_calls = nlohmann::ordered_json::array();
    // [{"id": "call_...", "type": "function", "function": {"name", "arguments"}}],
    // arguments as JSON text, as OpenAI sends them.
};

// Whether a chat template teaches this syntax (it mentions <tool_call>).
bool teaches_tool_calls(const std::string &template_source);

ParsedReply parse_tool_calls(const std::string &text);

}  // namespace qwenc
