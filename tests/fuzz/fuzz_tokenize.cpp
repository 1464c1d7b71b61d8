// Text through the real Qwen tokenizer (QWENC_TOKENIZER_JSON): UTF-8
// checks, added tokens, NFC, the pre-tokenizer and BPE; every id it makes
// must be in the vocabulary.
#include <cstdlib>

#include "fuzz_input.h"
#include "text/stream_decoder.h"
#include "text/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const auto tok = [] {
        const char *path = std::getenv("QWENC_TOKENIZER_JSON");
        if (!path) {
            std::fprintf(stderr, "set QWENC_TOKENIZER_JSON to a Qwen tokenizer.json\n");
            std::exit(2);
        }
        return qwenc::Tokenizer::load(path);
    }();
    return qwenc::fuzz::refuse_only_with_input_error([&] {
        const std::string text(reinterpret_cast<const char *>(data), size);
        const std::vector<int32_t> ids = tok->encode(text, true, 4096);
        for (int32_t id : ids)
            if (id < 0 || id >= tok->vocab_size()) std::abort();
    });
}
