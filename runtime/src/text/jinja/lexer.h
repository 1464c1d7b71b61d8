// Splits a template into text and the tokens inside {{ }} and {% %}, with
// jinja2's whitespace rules as transformers configures them: trim_blocks
// (the newline after a block tag goes), lstrip_blocks (spaces before a
// block tag on its line go), "-" and "+" beside a delimiter, comments
// dropped, {% raw %} kept as text, newlines normalised and one trailing
// newline removed (keep_trailing_newline=False).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace qwenc::jinja {

struct Token {
    enum class Type { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, End };
    Type type;
    std::string text;  // Text, Name, Op; String: the decoded value
    int64_t integer = 0;
    double real = 0;
    int line = 1, column = 1;
};

// `name` starts error messages ("NAME:LINE:COL: ..."). Throws jinja::Error.
std::vector<Token> tokenize(const std::string &source, const std::string &name);

// Longest template source accepted; real chat templates are under 20 KB.
constexpr size_t kMaxTemplateBytes = size_t(1) << 20;

}  // namespace qwenc::jinja
