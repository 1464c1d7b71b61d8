// Attribute and item access, iteration, and the methods of str, dict and
// list that jinja2's ImmutableSandboxedEnvironment lets a template call.
#include <set>

#include "text/jinja/builtins.h"
#include "text/jinja/py_string.h"

namespace qwenc::jinja {

namespace {

std::optional<std::string> optional_str(const Value &v, const char *what) {
    if (v.is(Value::Kind::None) || v.is_undefined()) return std::nullopt;
    if (!v.is(Value::Kind::String)) fail("TypeError", std::string(what) + " must be str or None, not " + type_name(v));
    return v.str();
}
const std::string &str_arg(const Value &v, const char *what) {
    if (!v.is(Value::Kind::String)) fail("TypeError", std::string(what) + " must be str, not " + type_name(v));
    return v.str();
}
int64_t int_arg(const Value &v, const char *what) {
    if (v.is(Value::Kind::Int)) return v.integer;
    if (v.is(Value::Kind::Bool)) return v.boolean;
    fail("TypeError", std::string(what) + " must be an integer, not " + type_name(v));
}

Value strings(const std::vector<std::string> &parts) {
    List out;
    for (const auto &p : parts) out.push_back(Value::of(p));
    return Value::of(std::move(out));
}

// startswith/endswith take a str or a tuple of them.
bool affix(const std::string &s, const Value &what, bool prefix) {
    const auto one = [&](const std::string &a) {
        return a.size() <= s.size() && (prefix ? s.compare(0, a.size(), a) == 0 : s.compare(s.size() - a.size(), a.size(), a) == 0);
    };
    if (what.is(Value::Kind::List)) {
        for (const Value &v : *what.list)
            if (one(str_arg(v, "startswith/endswith argument"))) return true;
        return false;
    }
    return one(str_arg(what, "startswith/endswith argument"));
}

Value str_method(const std::string &s, const std::string &name, CallArgs &a) {
    Value r;
    const Value none = Value::none();
    if (name == "startswith" || name == "endswith") {
        r = Value::of(affix(s, a.take(0, "prefix", Value::undefined("startswith() takes at least 1 argument")), name == "startswith"));
    } else if (name == "split" || name == "rsplit") {
        const auto sep = optional_str(a.take(0, "sep", none), "sep");
        r = strings(py_split(s, sep, int_arg(a.take(1, "maxsplit", Value::of(int64_t(-1))), "maxsplit"), name == "rsplit"));
    } else if (name == "splitlines") {
        r = strings(py_splitlines(s, truthy(a.take(0, "keepends", Value::of(false)))));
    } else if (name == "strip" || name == "lstrip" || name == "rstrip") {
        r = Value::of(py_strip(s, optional_str(a.take(0, "chars", none), "chars"), name != "rstrip", name != "lstrip"));
    } else if (name == "upper") {
        r = Value::of(py_upper(s));
    } else if (name == "lower") {
        r = Value::of(py_lower(s));
    } else if (name == "title") {
        r = Value::of(py_title(s));
    } else if (name == "capitalize") {
        r = Value::of(py_capitalize(s));
    } else if (name == "replace") {
        const std::string &old = str_arg(a.take(0, "old", Value()), "replace() argument 1");
        const std::string &repl = str_arg(a.take(1, "new", Value()), "replace() argument 2");
        r = Value::of(py_replace(s, old, repl, int_arg(a.take(2, "count", Value::of(int64_t(-1))), "count")));
    } else if (name == "find" || name == "rfind" || name == "index" || name == "rindex") {
        const int64_t at = py_find(s, str_arg(a.take(0, "sub", Value()), "sub"), name[0] == 'r');
        if (at < 0 && (name == "index" || name == "rindex")) fail("ValueError", "substring not found");
        r = Value::of(at);
    } else if (name == "count") {
        r = Value::of(py_count(s, str_arg(a.take(0, "sub", Value()), "sub")));
    } else if (name == "join") {
        std::string out;
        bool first = true;
        for (const Value &v : iterate(a.take(0, "iterable", Value()))) {
            if (!v.is(Value::Kind::String)) fail("TypeError", "sequence item: expected str instance, " + type_name(v) + " found");
            check_string_size(out.size() + s.size() + v.str().size());
            if (!first) out += s;
            out += v.str();
            first = false;
        }
        r = Value::of(std::move(out));
    } else {
        // isdigit, isalpha, ...: true for a non-empty string of such characters
        const std::vector<char32_t> cps = code_points(s);
        bool all = !cps.empty();
        for (char32_t c : cps) {
            const bool ascii_alpha = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
            const bool digit = c >= '0' && c <= '9';
            if (name == "isdigit" || name == "isnumeric" || name == "isdecimal") all = all && digit;
            else if (name == "isalpha") all = all && (ascii_alpha || c > 0x7F);
            else if (name == "isalnum") all = all && (ascii_alpha || digit || c > 0x7F);
            else if (name == "isspace") all = all && py_isspace(c);
        }
        if (name == "islower" || name == "isupper") {  // at least one cased character, all of that case
            const std::string lower = py_lower(s), upper = py_upper(s);
            all = lower != upper && s == (name == "islower" ? lower : upper);
        }
        r = Value::of(all);
    }
    a.done(name);
    return r;
}

Value dict_method(const Value &d, const std::string &name, CallArgs &a) {
    Value r;
    if (name == "get") {
        const Value key = a.take(0, "key", Value());
        const Value fallback = a.take(1, "default", Value::none());
        const Value *v = key.is(Value::Kind::String) ? d.dict->find(key.str()) : nullptr;
        r = v ? *v : fallback;
    } else {
        List out;
        for (const auto &kv : d.dict->items) {
            if (name == "keys") out.push_back(Value::of(kv.first));
            else if (name == "values") out.push_back(kv.second);
            else out.push_back(Value::of(List{Value::of(kv.first), kv.second}, true));
        }
        r = Value::of(std::move(out));
    }
    a.done(name);
    return r;
}

Value list_method(const Value &l, const std::string &name, CallArgs &a) {
    const Value x = a.take(0, "value", Value());
    a.done(name);
    int64_t n = 0;
    for (size_t i = 0; i < l.list->size(); i++) {
        if (!equal((*l.list)[i], x)) continue;
        if (name == "index") return Value::of(int64_t(i));
        n++;
    }
    if (name == "index") fail("ValueError", repr(x) + " is not in list");
    return Value::of(n);
}

const std::set<std::string> kStrMethods = {"startswith", "endswith", "split",  "rsplit", "splitlines", "strip",   "lstrip",
                                           "rstrip",     "upper",    "lower",  "title",  "capitalize", "replace", "find",
                                           "rfind",      "index",    "rindex", "count",  "join",       "isdigit", "isnumeric",
                                           "isdecimal",  "isalpha",  "isalnum", "isspace", "islower",  "isupper"};
const std::set<std::string> kDictMethods = {"items", "keys", "values", "get"};
const std::set<std::string> kListMethods = {"index", "count"};
// Methods that would change a value: jinja2's immutable sandbox refuses them.
const std::set<std::string> kMutators = {"append", "extend", "insert",     "pop",     "remove", "clear",
                                         "sort",   "reverse", "update",    "popitem", "setdefault"};

Value bound(const Value &obj, const std::string &name) {
    return Value::callable(name, [obj, name](CallArgs &a) {
        if (obj.is(Value::Kind::String)) return str_method(obj.str(), name, a);
        if (obj.is(Value::Kind::Dict)) return dict_method(obj, name, a);
        return list_method(obj, name, a);
    });
}

Value no_attribute(const Value &obj, const std::string &name) {
    return Value::undefined("'" + object_description(obj) + "' has no attribute '" + name + "'");
}

}  // namespace

Value get_attr(const Value &obj, const std::string &name) {
    require_defined(obj);
    switch (obj.kind) {
    case Value::Kind::String:
        if (kStrMethods.count(name)) return bound(obj, name);
        break;
    case Value::Kind::Dict: {
        if (kDictMethods.count(name)) return bound(obj, name);
        if (kMutators.count(name)) break;
        const Value *v = obj.dict->find(name);
        if (v) return *v;
        break;
    }
    case Value::Kind::Namespace: {
        const Value *v = obj.dict->find(name);
        if (v) return *v;
        break;
    }
    case Value::Kind::List:
        if (kListMethods.count(name)) return bound(obj, name);
        break;
    default: break;
    }
    if (kMutators.count(name) && (obj.is(Value::Kind::List) || obj.is(Value::Kind::Dict)))
        return Value::undefined("access to attribute '" + name + "' of '" + type_name(obj) + "' object is unsafe");
    return no_attribute(obj, name);
}

Value get_item(const Value &obj, const Value &key) {
    require_defined(obj);
    if ((obj.is(Value::Kind::List) || obj.is(Value::Kind::String)) && (key.is(Value::Kind::Int) || key.is(Value::Kind::Bool))) {
        int64_t i = key.is(Value::Kind::Int) ? key.integer : key.boolean;
        if (obj.is(Value::Kind::List)) {
            const int64_t n = int64_t(obj.list->size());
            if (i < 0) i += n;
            if (i >= 0 && i < n) return (*obj.list)[size_t(i)];
        } else {
            const std::vector<char32_t> cps = code_points(obj.str());
            const int64_t n = int64_t(cps.size());
            if (i < 0) i += n;
            if (i >= 0 && i < n) return Value::of(from_code_points(cps, size_t(i), size_t(i) + 1));
        }
        return Value::undefined("'" + object_description(obj) + "' has no element " + to_str(key));
    }
    if ((obj.is(Value::Kind::Dict) || obj.is(Value::Kind::Namespace)) && key.is(Value::Kind::String)) {
        const Value *v = obj.dict->find(key.str());
        if (v) return *v;
    }
    if (key.is(Value::Kind::String)) return get_attr(obj, key.str());
    return Value::undefined("'" + object_description(obj) + "' has no element " + repr(key));
}

Value get_slice(const Value &obj, const Value &start, const Value &stop, const Value &step) {
    require_defined(obj);
    const auto bound_of = [](const Value &v) -> std::optional<int64_t> {
        if (v.is_undefined() || v.is(Value::Kind::None)) return std::nullopt;
        return int_arg(v, "slice indices");
    };
    if (obj.is(Value::Kind::String)) {
        const std::vector<char32_t> cps = code_points(obj.str());
        std::vector<char32_t> out;
        for (size_t i : slice_indices(int64_t(cps.size()), bound_of(start), bound_of(stop), bound_of(step))) out.push_back(cps[i]);
        return Value::of(from_code_points(out));
    }
    if (obj.is(Value::Kind::List)) {
        List out;
        for (size_t i : slice_indices(int64_t(obj.list->size()), bound_of(start), bound_of(stop), bound_of(step)))
            out.push_back((*obj.list)[i]);
        return Value::of(std::move(out), obj.tuple);
    }
    fail("TypeError", "'" + type_name(obj) + "' object is not subscriptable");
}

std::vector<Value> iterate(const Value &v) {
    switch (v.kind) {
    case Value::Kind::Undefined: return {};
    case Value::Kind::List: return *v.list;
    case Value::Kind::Dict: {
        std::vector<Value> keys;
        for (const auto &kv : v.dict->items) keys.push_back(Value::of(kv.first));
        return keys;
    }
    case Value::Kind::String: {
        std::vector<Value> chars;
        const std::vector<char32_t> cps = code_points(v.str());
        for (size_t i = 0; i < cps.size(); i++) chars.push_back(Value::of(from_code_points(cps, i, i + 1)));
        return chars;
    }
    default: fail("TypeError", "'" + type_name(v) + "' object is not iterable");
    }
}

int64_t length_of(const Value &v) {
    switch (v.kind) {
    case Value::Kind::Undefined: return 0;
    case Value::Kind::List: return int64_t(v.list->size());
    case Value::Kind::Dict: return int64_t(v.dict->items.size());
    case Value::Kind::String: return int64_t(py_len(v.str()));
    default: fail("TypeError", "object of type '" + type_name(v) + "' has no len()");
    }
}

bool contains(const Value &haystack, const Value &needle) {
    switch (haystack.kind) {
    case Value::Kind::Undefined: return false;
    case Value::Kind::String:
        if (!needle.is(Value::Kind::String))
            fail("TypeError", "'in <string>' requires string as left operand, not " + type_name(needle));
        return haystack.str().find(needle.str()) != std::string::npos;
    case Value::Kind::List:
        for (const Value &v : *haystack.list)
            if (equal(v, needle)) return true;
        return false;
    case Value::Kind::Dict: return needle.is(Value::Kind::String) && haystack.dict->find(needle.str());
    default: fail("TypeError", "argument of type '" + type_name(haystack) + "' is not iterable");
    }
}

Value range_of(CallArgs &args) {
    const Value a = args.take(0, "start", Value()), b = args.take(1, "stop", Value()), c = args.take(2, "step", Value());
    args.done("range");
    int64_t start = 0, stop, step = 1;
    if (b.is_undefined()) {
        stop = int_arg(a, "range() argument");
    } else {
        start = int_arg(a, "range() argument");
        stop = int_arg(b, "range() argument");
        if (!c.is_undefined()) step = int_arg(c, "range() argument");
    }
    if (step == 0) fail("ValueError", "range() arg 3 must not be zero");
    List out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (int64_t(out.size()) >= kMaxRange)
            fail("OverflowError", "range too big, maximum size for range is " + std::to_string(kMaxRange));
        out.push_back(Value::of(i));
    }
    return Value::of(std::move(out));
}

}  // namespace qwenc::jinja
