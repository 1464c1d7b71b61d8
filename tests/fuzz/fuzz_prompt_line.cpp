// One --prompts-file line, as qwenrun cleans and parses it.
#include "fuzz_input.h"
#include "text/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return qwenc::fuzz::refuse_only_with_input_error([&] {
        std::string line(reinterpret_cast<const char *>(data), size);
        line = line.substr(0, line.find('\n'));  // getline's part
        qwenc::clean_input_line(line, true);
        qwenc::parse_prompt_line(line, "prompts.jsonl: line 1");
    });
}
