// The values a Jinja template computes with, behaving as the Python objects
// jinja2 gives a Hugging Face chat template: str, int, float, bool, None,
// list (and tuple), dict (keys in insertion order), namespace(), callables,
// and Undefined, which renders as "" and is false but fails when used as a
// value. Containers are shared and immutable once built (transformers
// renders in jinja2's ImmutableSandboxedEnvironment); only a namespace's
// attributes change.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "input_error.h"

namespace qwenc::jinja {

// A template that cannot be parsed or rendered. what() is one line that
// names the template, the line and column, and the problem.
// Templates come with downloaded models: their errors are input errors.
struct Error : InputError {
    using InputError::InputError;
};

// An error inside a value operation, before the interpreter adds where in
// the template it happened. `kind` is Python's exception name.
struct ValueError {
    std::string kind;  // "TypeError", "UndefinedError", ...
    std::string message;
};
[[noreturn]] void fail(const std::string &kind, const std::string &message);

// Deepest nesting of lists and dicts a template may build: printing and
// comparing values recurse once per level.
constexpr int kMaxValueDepth = 256;

// Longest string a template may build, and so the longest render: a
// conversation that fits any context is far shorter, and a template that
// doubles a string in a loop reaches it after 25 steps.
constexpr size_t kMaxStringBytes = size_t(32) << 20;
// Fails with a LimitError when a string of `bytes` would exceed it; called
// before the string is built.
void check_string_size(size_t bytes);

struct Value;
struct Dict;
struct CallArgs;
using List = std::vector<Value>;
using Function = std::function<Value(CallArgs &)>;

struct Value {
    enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Function };
    Kind kind = Kind::Undefined;
    bool boolean = false;
    int64_t integer = 0;
    double real = 0;
    bool tuple = false;                       // a List written as a tuple (repr only)
    // A String marked safe (markupsafe's Markup, from |safe or |escape):
    // "+" HTML-escapes a plain str joined to it, as Markup.__add__ does.
    bool markup = false;
    int depth = 0;                            // nesting of containers inside
    std::shared_ptr<const std::string> text;  // String; Undefined: why (for the error when used)
    std::shared_ptr<const List> list;
    std::shared_ptr<Dict> dict;               // Dict (never changed), Namespace (attributes change)
    std::shared_ptr<const Function> function;
    std::string function_name;

    static Value undefined(std::string why);
    static Value none();
    static Value of(bool b);
    static Value of(int64_t i);
    static Value of(double d);
    static Value of(std::string s);
    static Value of(List items, bool tuple = false);
    static Value of(Dict d);
    static Value namespace_of(Dict d);
    static Value callable(std::string name, Function f);

    bool is(Kind k) const { return kind == k; }
    bool is_undefined() const { return kind == Kind::Undefined; }
    bool is_number() const { return kind == Kind::Int || kind == Kind::Float || kind == Kind::Bool; }
    const std::string &str() const { return *text; }
    // Why an Undefined is undefined ("'x' is undefined").
    const std::string &why() const { return *text; }
};

// A dict keeps its keys in insertion order, as Python's does.
struct Dict {
    std::vector<std::pair<std::string, Value>> items;
    std::unordered_map<std::string, size_t> index;
    const Value *find(const std::string &key) const;
    void set(const std::string &key, Value v);
};

// Arguments of a call as written: f(a, b, key=c).
struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keyword;
    // The argument at `pos` or named `name`, else `fallback`; each is taken once.
    Value take(size_t pos, const std::string &name, Value fallback);
    // Fails with a TypeError for arguments not taken, naming `callee`.
    void done(const std::string &callee) const;
    std::vector<bool> taken_positional;
    std::vector<bool> taken_keyword;
};

// Python's type name: "str", "int", "dict", "NoneType", ...
std::string type_name(const Value &v);
// jinja2's object_type_repr for messages: "dict object", "None", ...
std::string object_description(const Value &v);
// Python's bool(v); Undefined is false.
bool truthy(const Value &v);
// Python's str(v), which {{ v }} prints; Undefined is "".
std::string to_str(const Value &v);
// Python's repr(v).
std::string repr(const Value &v);
// Python's ==, across int, float and bool.
bool equal(const Value &a, const Value &b);
// Python's <: -1, 0 or 1; TypeError for values Python cannot order.
int compare(const Value &a, const Value &b);
// Python's float repr: shortest round trip ("0.1", "1e-05", "1e+16", "2.0").
std::string float_repr(double d);

// JSON values as json.loads gives them to a template (objects keep their order).
Value from_json(const nlohmann::ordered_json &j);
// Python's json.dumps(v, ensure_ascii=False) with `indent` < 0 meaning
// None: ", " and ": " separators on one line; else "," and newlines.
std::string to_json(const Value &v, int indent);

// Fails with UndefinedError when `v` is Undefined (it cannot be used as a value).
void require_defined(const Value &v);

}  // namespace qwenc::jinja
