#include "text/jinja/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "text/jinja/py_string.h"

namespace qwenc::jinja {

void fail(const std::string &kind, const std::string &message) { throw ValueError{kind, message}; }

void check_string_size(size_t bytes) {
    if (bytes > kMaxStringBytes)
        fail("LimitError", "the template builds a string over " + std::to_string(kMaxStringBytes >> 20) + " MiB");
}

namespace {
int depth_of(const Value &v) { return v.kind == Value::Kind::List || v.kind == Value::Kind::Dict ? v.depth + 1 : 0; }
void check_depth(int depth) {
    if (depth > kMaxValueDepth)
        fail("LimitError", "values nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
}
}  // namespace

Value Value::undefined(std::string why) {
    Value v;
    v.text = std::make_shared<const std::string>(std::move(why));
    return v;
}
Value Value::none() {
    Value v;
    v.kind = Kind::None;
    return v;
}
Value Value::of(bool b) {
    Value v;
    v.kind = Kind::Bool;
    v.boolean = b;
    return v;
}
Value Value::of(int64_t i) {
    Value v;
    v.kind = Kind::Int;
    v.integer = i;
    return v;
}
Value Value::of(double d) {
    Value v;
    v.kind = Kind::Float;
    v.real = d;
    return v;
}
Value Value::of(std::string s) {
    Value v;
    v.kind = Kind::String;
    v.text = std::make_shared<const std::string>(std::move(s));
    return v;
}
Value Value::of(List items, bool tuple) {
    Value v;
    v.kind = Kind::List;
    v.tuple = tuple;
    for (const Value &e : items) v.depth = std::max(v.depth, depth_of(e));
    check_depth(v.depth);
    v.list = std::make_shared<const List>(std::move(items));
    return v;
}
Value Value::of(Dict d) {
    Value v;
    v.kind = Kind::Dict;
    for (const auto &kv : d.items) v.depth = std::max(v.depth, depth_of(kv.second));
    check_depth(v.depth);
    v.dict = std::make_shared<Dict>(std::move(d));
    return v;
}
Value Value::namespace_of(Dict d) {
    Value v;
    v.kind = Kind::Namespace;
    v.dict = std::make_shared<Dict>(std::move(d));
    return v;
}
Value Value::callable(std::string name, Function f) {
    Value v;
    v.kind = Kind::Function;
    v.function = std::make_shared<const Function>(std::move(f));
    v.function_name = std::move(name);
    return v;
}

const Value *Dict::find(const std::string &key) const {
    const auto it = index.find(key);
    return it == index.end() ? nullptr : &items[it->second].second;
}

void Dict::set(const std::string &key, Value v) {
    const auto it = index.find(key);
    if (it != index.end()) {
        items[it->second].second = std::move(v);
        return;
    }
    index.emplace(key, items.size());
    items.emplace_back(key, std::move(v));
}

Value CallArgs::take(size_t pos, const std::string &name, Value fallback) {
    taken_positional.resize(positional.size());
    taken_keyword.resize(keyword.size());
    if (pos < positional.size()) {
        taken_positional[pos] = true;
        return positional[pos];
    }
    for (size_t i = 0; i < keyword.size(); i++)
        if (keyword[i].first == name) {
            taken_keyword[i] = true;
            return keyword[i].second;
        }
    return fallback;
}

void CallArgs::done(const std::string &callee) const {
    for (size_t i = 0; i < positional.size(); i++)
        if (i >= taken_positional.size() || !taken_positional[i])
            fail("TypeError", callee + "() takes " + std::to_string(i) + " positional argument" + (i == 1 ? "" : "s") + " but " +
                                  std::to_string(positional.size()) + " were given");
    for (size_t i = 0; i < keyword.size(); i++)
        if (i >= taken_keyword.size() || !taken_keyword[i])
            fail("TypeError", callee + "() got an unexpected keyword argument '" + keyword[i].first + "'");
}

std::string type_name(const Value &v) {
    switch (v.kind) {
    case Value::Kind::Undefined: return "Undefined";
    case Value::Kind::None: return "NoneType";
    case Value::Kind::Bool: return "bool";
    case Value::Kind::Int: return "int";
    case Value::Kind::Float: return "float";
    case Value::Kind::String: return "str";
    case Value::Kind::List: return v.tuple ? "tuple" : "list";
    case Value::Kind::Dict: return "dict";
    case Value::Kind::Namespace: return "Namespace";
    case Value::Kind::Function: return "function";
    }
    return "object";
}

std::string object_description(const Value &v) { return v.is(Value::Kind::None) ? "None" : type_name(v) + " object"; }

bool truthy(const Value &v) {
    switch (v.kind) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return false;
    case Value::Kind::Bool: return v.boolean;
    case Value::Kind::Int: return v.integer != 0;
    case Value::Kind::Float: return v.real != 0;
    case Value::Kind::String: return !v.str().empty();
    case Value::Kind::List: return !v.list->empty();
    case Value::Kind::Dict: return !v.dict->items.empty();
    default: return true;
    }
}

void require_defined(const Value &v) {
    if (v.is_undefined()) fail("UndefinedError", v.why());
}

std::string float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
    char buf[64];
    // Shortest digits that read back as d, as Python's repr chooses them.
    const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    const std::string sci(buf, r.ptr);
    const size_t e = sci.find('e');
    std::string mantissa = sci.substr(0, e);
    const int exp = std::stoi(sci.substr(e + 1));
    std::string sign;
    if (mantissa[0] == '-') {
        sign = "-";
        mantissa.erase(0, 1);
    }
    std::string digits;
    for (char c : mantissa)
        if (c != '.') digits += c;
    if (exp >= -4 && exp < 16) {  // Python's repr: fixed notation for 1e-4 <= |d| < 1e16
        std::string out;
        if (exp >= 0) {
            if (digits.size() < size_t(exp) + 1) digits.append(size_t(exp) + 1 - digits.size(), '0');
            out = digits.substr(0, size_t(exp) + 1) + ".";
            const std::string frac = digits.substr(size_t(exp) + 1);
            out += frac.empty() ? "0" : frac;
        } else {
            out = "0." + std::string(size_t(-exp - 1), '0') + digits;
        }
        return sign + out;
    }
    std::string m = digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : "");
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    return sign + m + ebuf;
}

std::string repr(const Value &v) {
    switch (v.kind) {
    case Value::Kind::Undefined: return "Undefined";
    case Value::Kind::String: return py_repr(v.str());
    case Value::Kind::List: {
        std::string out = v.tuple ? "(" : "[";
        for (size_t i = 0; i < v.list->size(); i++) out += (i ? ", " : "") + repr((*v.list)[i]);
        if (v.tuple && v.list->size() == 1) out += ",";
        return out + (v.tuple ? ")" : "]");
    }
    case Value::Kind::Dict:
    case Value::Kind::Namespace: {
        std::string out = v.kind == Value::Kind::Namespace ? "<Namespace {" : "{";
        bool first = true;
        for (const auto &kv : v.dict->items) {
            out += (first ? "" : ", ") + py_repr(kv.first) + ": " + repr(kv.second);
            first = false;
        }
        return out + (v.kind == Value::Kind::Namespace ? "}>" : "}");
    }
    case Value::Kind::Function: return "<function " + v.function_name + ">";
    default: return to_str(v);
    }
}

std::string to_str(const Value &v) {
    switch (v.kind) {
    case Value::Kind::Undefined: return "";
    case Value::Kind::None: return "None";
    case Value::Kind::Bool: return v.boolean ? "True" : "False";
    case Value::Kind::Int: return std::to_string(v.integer);
    case Value::Kind::Float: return float_repr(v.real);
    case Value::Kind::String: return v.str();
    default: return repr(v);
    }
}

namespace {
double as_double(const Value &v) {
    return v.kind == Value::Kind::Float ? v.real : v.kind == Value::Kind::Int ? double(v.integer) : double(v.boolean);
}
int64_t as_int(const Value &v) { return v.kind == Value::Kind::Int ? v.integer : int64_t(v.boolean); }
}  // namespace

bool equal(const Value &a, const Value &b) {
    if (a.is_number() && b.is_number()) {
        if (a.kind != Value::Kind::Float && b.kind != Value::Kind::Float) return as_int(a) == as_int(b);
        return as_double(a) == as_double(b);
    }
    if (a.kind != b.kind) return false;
    switch (a.kind) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return true;
    case Value::Kind::String: return a.str() == b.str();
    case Value::Kind::List:
        if (a.tuple != b.tuple || a.list->size() != b.list->size()) return false;
        for (size_t i = 0; i < a.list->size(); i++)
            if (!equal((*a.list)[i], (*b.list)[i])) return false;
        return true;
    case Value::Kind::Dict:
        if (a.dict->items.size() != b.dict->items.size()) return false;
        for (const auto &kv : a.dict->items) {
            const Value *other = b.dict->find(kv.first);
            if (!other || !equal(kv.second, *other)) return false;
        }
        return true;
    case Value::Kind::Namespace: return a.dict == b.dict;
    case Value::Kind::Function: return a.function == b.function;
    default: return false;
    }
}

int compare(const Value &a, const Value &b) {
    require_defined(a);
    require_defined(b);
    if (a.is_number() && b.is_number()) {
        if (a.kind != Value::Kind::Float && b.kind != Value::Kind::Float)
            return as_int(a) < as_int(b) ? -1 : as_int(a) > as_int(b) ? 1 : 0;
        const double x = as_double(a), y = as_double(b);
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.kind == Value::Kind::String && b.kind == Value::Kind::String) {
        const int c = a.str().compare(b.str());  // UTF-8 byte order is code point order
        return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    if (a.kind == Value::Kind::List && b.kind == Value::Kind::List && a.tuple == b.tuple) {
        const size_t n = std::min(a.list->size(), b.list->size());
        for (size_t i = 0; i < n; i++)
            if (!equal((*a.list)[i], (*b.list)[i])) return compare((*a.list)[i], (*b.list)[i]);
        return a.list->size() < b.list->size() ? -1 : a.list->size() > b.list->size() ? 1 : 0;
    }
    fail("TypeError", "'<' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'");
}

Value from_json(const nlohmann::ordered_json &j) {
    switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value::of(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value::of(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
        const uint64_t u = j.get<uint64_t>();
        return u <= uint64_t(INT64_MAX) ? Value::of(int64_t(u)) : Value::of(double(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value::of(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value::of(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
        List items;
        items.reserve(j.size());
        for (const auto &e : j) items.push_back(from_json(e));
        return Value::of(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
        Dict d;
        for (auto it = j.begin(); it != j.end(); ++it) d.set(it.key(), from_json(it.value()));
        return Value::of(std::move(d));
    }
    default: fail("TypeError", "unsupported JSON value");
    }
}

namespace {
std::string json_string(const std::string &s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += char(c);
            }
        }
    }
    return out + "\"";
}

void dump(const Value &v, int indent, int level, std::string &out) {
    const auto newline = [&](int lvl) {
        if (indent >= 0) out += "\n" + std::string(size_t(indent) * size_t(lvl), ' ');
    };
    const char *item_sep = indent >= 0 ? "," : ", ";
    switch (v.kind) {
    case Value::Kind::None: out += "null"; return;
    case Value::Kind::Bool: out += v.boolean ? "true" : "false"; return;
    case Value::Kind::Int: out += std::to_string(v.integer); return;
    case Value::Kind::Float:
        out += std::isnan(v.real) ? "NaN" : std::isinf(v.real) ? (v.real < 0 ? "-Infinity" : "Infinity") : float_repr(v.real);
        return;
    case Value::Kind::String: out += json_string(v.str()); return;
    case Value::Kind::List:
        if (v.list->empty()) {
            out += "[]";
            return;
        }
        out += "[";
        for (size_t i = 0; i < v.list->size(); i++) {
            if (i) out += item_sep;
            newline(level + 1);
            dump((*v.list)[i], indent, level + 1, out);
        }
        newline(level);
        out += "]";
        return;
    case Value::Kind::Dict: {
        if (v.dict->items.empty()) {
            out += "{}";
            return;
        }
        out += "{";
        bool first = true;
        for (const auto &kv : v.dict->items) {
            if (!first) out += item_sep;
            first = false;
            newline(level + 1);
            out += json_string(kv.first) + ": ";
            dump(kv.second, indent, level + 1, out);
        }
        newline(level);
        out += "}";
        return;
    }
    default: fail(v.is_undefined() ? "UndefinedError" : "TypeError", "Object of type " + type_name(v) + " is not JSON serializable");
    }
}
}  // namespace

std::string to_json(const Value &v, int indent) {
    std::string out;
    dump(v, indent, 0, out);
    return out;
}

}  // namespace qwenc::jinja
