// Runs a parsed template: statements in jinja2's scopes (a for loop's body
// and a macro have their own; if does not), expressions with Python's
// operators, within limits on steps, time, nesting and output size.
#pragma once
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

#include "text/jinja/ast.h"
#include "text/jinja/value.h"

namespace qwenc::jinja {

struct RenderLimits {
    // Statements, expressions and loop iterations evaluated. A chat
    // template takes about a hundred per message; a runaway loop stops
    // here within a second.
    int64_t max_steps = 1'000'000;
    double max_seconds = 5;  // a backstop; steps end runaway templates first
    // Nested macro calls, blocks and expressions at run time (Python's own
    // recursion limit is 1000 frames).
    int max_depth = 500;
};

// `variables` are the template's globals, beside jinja2's own (range,
// namespace, dict, joiner) and transformers' raise_exception and
// strftime_now, which formats `now` (UTC) if set, else the local time.
// Throws jinja::Error naming `name`, the line and column, and the problem.
std::string render(const Body &body, const std::string &name, const Dict &variables, const RenderLimits &limits,
                   std::optional<std::time_t> now);

}  // namespace qwenc::jinja
