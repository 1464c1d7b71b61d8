// tokenizer.json: the SAX pass over vocabulary and merges, the DOM checks,
// the pre-tokenizer regex (compiled by PCRE2), then one short encode.
#include "fuzz_input.h"
#include "text/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return qwenc::fuzz::refuse_only_with_input_error([&] {
        const auto t = qwenc::Tokenizer::load(qwenc::fuzz::as_file("tokenizer.json", data, size));
        t->encode("Hello, world! 123 <|im_start|>héllo\n\n  x");
    });
}
