// Builds statements and expressions from tokens with jinja2's grammar and
// operator precedence (filters and tests bind tighter than arithmetic;
// "a if c else b" lowest).
#pragma once
#include <string>
#include <vector>

#include "text/jinja/ast.h"
#include "text/jinja/lexer.h"

namespace qwenc::jinja {

// Throws jinja::Error naming `name`, the line and the column.
Body parse(const std::vector<Token> &tokens, const std::string &name);

// Deepest nesting of expressions and blocks accepted; parsing and
// evaluating recurse once per level.
constexpr int kMaxSyntaxDepth = 100;

}  // namespace qwenc::jinja
