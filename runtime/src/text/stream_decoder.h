// Turns generated token ids into text as they arrive. A token may end in the
// middle of a UTF-8 character (byte-level BPE splits characters); those
// bytes are held back until the character completes. Bytes that can never
// form a valid character become U+FFFD, as transformers' decode does.
#pragma once
#include <string>

#include "text/tokenizer.h"

namespace qwenc {

class StreamDecoder {
public:
    explicit StreamDecoder(const Tokenizer &tok, bool skip_special = true) : tok_(tok), skip_special_(skip_special) {}
    // Text that is complete after adding token `id` (may be empty).
    std::string push(int32_t id);
    // Whatever is still held back, with incomplete characters replaced.
    std::string flush();

private:
    std::string take(bool final);
    const Tokenizer &tok_;
    bool skip_special_;
    std::string pending_;
};

}  // namespace qwenc
