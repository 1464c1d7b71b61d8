// A --messages file.
#include "fuzz_input.h"
#include "text/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return qwenc::fuzz::refuse_only_with_input_error(
        [&] { qwenc::read_conversation_json(qwenc::fuzz::as_file("messages.json", data, size)); });
}
