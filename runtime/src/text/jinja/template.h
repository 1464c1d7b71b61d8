// A Jinja template as Hugging Face chat templates use the language,
// rendered with jinja2's semantics under transformers' settings
// (trim_blocks, lstrip_blocks, loop controls, immutable sandbox, tojson
// as json.dumps with ensure_ascii=False). Templates are untrusted input:
// parsing and rendering are bounded in size, nesting, steps and time, and
// every failure is a jinja::Error with a one-line message naming the
// template, the line and the column.
#pragma once
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "text/jinja/ast.h"
#include "text/jinja/interpreter.h"

namespace qwenc::jinja {

class Template {
public:
    // `name` (a file name) starts error messages. Unknown filters and tests
    // are syntax errors, as jinja2 reports them when it compiles.
    static Template parse(const std::string &source, const std::string &name);

    // `variables` is a JSON object; each key becomes a variable.
    // strftime_now() formats `now` in UTC if given, else the local time.
    std::string render(const nlohmann::ordered_json &variables, const RenderLimits &limits = {},
                       std::optional<std::time_t> now = std::nullopt) const;

    const std::string &name() const { return name_; }

private:
    std::shared_ptr<const Body> body_;
    std::string name_;
};

}  // namespace qwenc::jinja
