// config.json, as qwenc, qwenrun and the tools read it.
#include "fuzz_input.h"
#include "model_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return qwenc::fuzz::refuse_only_with_input_error(
        [&] { qwenc::load_model_config(qwenc::fuzz::as_file("config.json", data, size)); });
}
