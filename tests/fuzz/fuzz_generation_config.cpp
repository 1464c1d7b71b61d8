// generation_config.json (with a fixed config.json beside it).
#include "fuzz_input.h"
#include "generate/generation_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const std::string cfg = [] {
        const char text[] = R"({"eos_token_id": 151645})";
        return qwenc::fuzz::as_file("config.json", reinterpret_cast<const uint8_t *>(text), sizeof text - 1);
    }();
    return qwenc::fuzz::refuse_only_with_input_error([&] {
        qwenc::fuzz::as_file("generation_config.json", data, size);
        qwenc::read_generation_defaults(qwenc::fuzz::work_dir());
    });
}
