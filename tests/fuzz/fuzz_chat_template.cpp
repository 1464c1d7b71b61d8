// A chat template's source, parsed and rendered over a conversation with
// tools, a tool-call round trip and a reasoning block: the engine's limits
// must end every input in a result or an InputError.
#include "fuzz_input.h"
#include "text/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const qwenc::Conversation conversation = qwenc::parse_conversation(nlohmann::ordered_json::parse(R"({
        "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "u \u00e9"},
            {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]},
            {"role": "tool", "content": "2"},
            {"role": "assistant", "content": "<think>\nt\n</think>\n\na"},
            {"role": "user", "content": "v"}],
        "tools": [{"type": "function", "function": {"name": "f", "description": "d",
                   "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}}}],
        "bos_token": "<s>", "eos_token": "</s>"})"), "conversation");
    return qwenc::fuzz::refuse_only_with_input_error([&] {
        const std::string source(reinterpret_cast<const char *>(data), size);
        qwenc::ChatTemplate::from_jinja(source, "fuzz.jinja").render(conversation);
    });
}
