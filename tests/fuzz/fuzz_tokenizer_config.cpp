// tokenizer_config.json and the chat template in it, then a render.
#include "fuzz_input.h"
#include "text/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return qwenc::fuzz::refuse_only_with_input_error([&] {
        qwenc::fuzz::as_file("tokenizer_config.json", data, size);
        const auto t = qwenc::ChatTemplate::from_model_dir(qwenc::fuzz::work_dir());
        t.render({{"system", "s"}, {"user", "u"}, {"assistant", "a"}, {"user", "v"}}, true);
    });
}
