// config.json, as qwenc, qwenrun and the tools read it.
#include "fuzz_input.h"
#include "qwen2/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return qwenc::fuzz::refuse_only_with_input_error(
        [&] { qwenc::load_qwen2_config(qwenc::fuzz::as_file("config.json", data, size)); });
}
