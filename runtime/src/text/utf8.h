// UTF-8 helpers shared by the tokenizer and the streaming decoder.
#pragma once
#include <cstddef>
#include <string>

namespace qwenc {

// Length of the UTF-8 sequence starting with lead byte `b`, or 0 if `b`
// cannot start one.
int utf8_sequence_length(unsigned char b);
// Byte offset of the first invalid UTF-8 sequence in `s`, or npos.
size_t utf8_first_invalid(const std::string &s);
// Encodes one code point.
std::string utf8_encode(char32_t cp);

}  // namespace qwenc
