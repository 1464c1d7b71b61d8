// jinja2's built-in filters and tests, with its argument names and defaults,
// plus tojson as transformers defines it (json.dumps, ensure_ascii=False).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>

#include <utf8proc.h>

#include "text/jinja/builtins.h"
#include "text/jinja/py_string.h"

namespace qwenc::jinja {

namespace {

using FilterFn = std::function<Value(const Value &, CallArgs &)>;
using TestFn = std::function<bool(const Value &, CallArgs &)>;

std::string to_text(const Value &v) { return to_str(v); }

int64_t int_of(const Value &v, const char *what) {
    if (v.is(Value::Kind::Int)) return v.integer;
    if (v.is(Value::Kind::Bool)) return v.boolean;
    fail("TypeError", std::string(what) + " must be an integer, not " + type_name(v));
}

// jinja2's make_attrgetter: "a.b.0" looked up item by item.
Value attribute_path(const Value &v, const Value &path) {
    if (path.is(Value::Kind::Int)) return get_item(v, path);
    Value cur = v;
    const std::string &p = path.is(Value::Kind::String) ? path.str() : (fail("TypeError", "attribute must be a string"), path.str());
    size_t at = 0;
    for (;;) {
        const size_t dot = p.find('.', at);
        const std::string part = p.substr(at, dot == std::string::npos ? std::string::npos : dot - at);
        const bool digits = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
        cur = get_item(cur, digits ? Value::of(int64_t(std::stoll(part))) : Value::of(part));
        if (dot == std::string::npos) return cur;
        at = dot + 1;
    }
}

// For case-insensitive sorting and comparing, as jinja2's ignore_case.
Value folded(const Value &v, bool case_sensitive) {
    return !case_sensitive && v.is(Value::Kind::String) ? Value::of(py_lower(v.str())) : v;
}

// The remaining arguments of select/reject from `first` on, for the test.
CallArgs rest_of(CallArgs &a, size_t first) {
    CallArgs r;
    a.taken_positional.resize(a.positional.size());
    for (size_t i = first; i < a.positional.size(); i++) {
        r.positional.push_back(a.positional[i]);
        a.taken_positional[i] = true;
    }
    return r;
}

Value select(const Value &seq, CallArgs &a, bool with_attribute, bool keep) {
    Value attr;
    size_t next = 0;
    if (with_attribute) attr = a.take(next++, "attribute", Value());
    const Value test = a.take(next++, "test", Value::none());
    CallArgs test_args = rest_of(a, next);
    a.done(keep ? (with_attribute ? "selectattr" : "select") : (with_attribute ? "rejectattr" : "reject"));
    if (!test.is(Value::Kind::None) && !test.is(Value::Kind::String)) fail("TypeError", "test name must be a string");
    List out;
    if (!truthy(seq)) return Value::of(std::move(out));  // jinja2 selects nothing from None too
    for (const Value &item : iterate(seq)) {
        const Value subject = with_attribute ? attribute_path(item, attr) : item;
        bool hit;
        if (test.is(Value::Kind::None)) {
            hit = truthy(subject);
        } else {
            CallArgs t = test_args;
            hit = apply_test(test.str(), subject, t);
        }
        if (hit == keep) out.push_back(item);
    }
    return Value::of(std::move(out));
}

std::vector<Value> sorted(const Value &seq, bool reverse, bool case_sensitive, const Value &attribute) {
    std::vector<Value> items = iterate(seq);
    std::vector<std::pair<Value, Value>> keyed;
    for (const Value &v : items)
        keyed.emplace_back(folded(attribute.is(Value::Kind::None) ? v : attribute_path(v, attribute), case_sensitive), v);
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto &x, const auto &y) {
        return reverse ? compare(y.first, x.first) < 0 : compare(x.first, y.first) < 0;
    });
    std::vector<Value> out;
    for (auto &kv : keyed) out.push_back(kv.second);
    return out;
}

}  // namespace

std::string html_escape(const std::string &s) {
    std::string out;
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&#34;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

namespace {

}  // namespace

std::string percent_format(const std::string &fmt, const std::vector<Value> &args) {
    std::string out;
    size_t next = 0;
    for (size_t i = 0; i < fmt.size(); i++) {
        if (fmt[i] != '%') {
            out += fmt[i];
            continue;
        }
        size_t j = i + 1;
        std::string spec = "%";
        while (j < fmt.size() && std::strchr("-+ 0#.123456789", fmt[j])) spec += fmt[j++];
        if (j >= fmt.size()) fail("ValueError", "incomplete format");
        const char conv = fmt[j];
        if (conv == '%') {
            out += '%';
            i = j;
            continue;
        }
        if (next >= args.size()) fail("TypeError", "not enough arguments for format string");
        const Value &v = args[next++];
        char buf[512];
        if (conv == 's' || conv == 'r') {
            out += conv == 's' ? to_str(v) : repr(v);
        } else if (conv == 'd' || conv == 'i') {
            if (!v.is_number()) fail("TypeError", "%d format: a number is required, not " + type_name(v));
            std::snprintf(buf, sizeof buf, (spec + "lld").c_str(),
                          (long long)(v.is(Value::Kind::Float) ? int64_t(v.real) : int_of(v, "%d argument")));
            out += buf;
        } else if (conv == 'f' || conv == 'e' || conv == 'g') {
            if (!v.is_number()) fail("TypeError", "must be real number, not " + type_name(v));
            const double d = v.is(Value::Kind::Float) ? v.real : double(int_of(v, "argument"));
            std::snprintf(buf, sizeof buf, (spec + conv).c_str(), d);
            out += buf;
        } else {
            fail("ValueError", std::string("unsupported format character '") + conv + "'");
        }
        check_string_size(out.size());
        i = j;
    }
    if (next < args.size()) fail("TypeError", "not all arguments converted during string formatting");
    return out;
}

namespace {

Value to_number(const Value &v, bool want_int, const Value &fallback, int64_t base) {
    if (v.is(Value::Kind::Int) || v.is(Value::Kind::Bool))
        return want_int ? Value::of(v.is(Value::Kind::Int) ? v.integer : int64_t(v.boolean))
                        : Value::of(double(v.is(Value::Kind::Int) ? v.integer : v.boolean));
    if (v.is(Value::Kind::Float)) {
        if (!want_int) return v;
        if (!std::isfinite(v.real) || std::fabs(v.real) >= 9.2e18) return fallback;
        return Value::of(int64_t(v.real));
    }
    if (!v.is(Value::Kind::String)) return fallback;
    const std::string s = py_strip(v.str(), std::nullopt, true, true);
    if (s.empty()) return fallback;
    try {
        size_t used = 0;
        if (want_int) {
            const long long i = std::stoll(s, &used, int(base));
            if (used == s.size()) return Value::of(int64_t(i));
            const double d = std::stod(s, &used);  // jinja2 also reads "3.7" as 3
            if (used == s.size() && std::fabs(d) < 9.2e18) return Value::of(int64_t(d));
            return fallback;
        }
        const double d = std::stod(s, &used);
        return used == s.size() ? Value::of(d) : fallback;
    } catch (const std::exception &) {
        return fallback;
    }
}

const std::map<std::string, FilterFn> &filters() {
    static const std::map<std::string, FilterFn> f = [] {
        std::map<std::string, FilterFn> m;
        const Value none = Value::none();
        m["abs"] = [](const Value &v, CallArgs &a) {
            a.done("abs");
            if (v.is(Value::Kind::Float)) return Value::of(std::fabs(v.real));
            const int64_t i = int_of(v, "abs() argument");
            if (i == INT64_MIN) fail("OverflowError", "integer overflow");
            return Value::of(i < 0 ? -i : i);
        };
        m["attr"] = [](const Value &v, CallArgs &a) {
            const Value name = a.take(0, "name", Value());
            a.done("attr");
            if (!name.is(Value::Kind::String)) fail("TypeError", "attr name must be a string");
            // An attribute only, never an item: a dict has its methods.
            if (v.is(Value::Kind::Dict) && !get_attr(v, name.str()).is(Value::Kind::Function))
                return Value::undefined("'dict object' has no attribute '" + name.str() + "'");
            return get_attr(v, name.str());
        };
        m["capitalize"] = [](const Value &v, CallArgs &a) {
            a.done("capitalize");
            return Value::of(py_capitalize(to_text(v)));
        };
        m["center"] = [](const Value &v, CallArgs &a) {
            const int64_t width = int_of(a.take(0, "width", Value::of(int64_t(80))), "width");
            a.done("center");
            const std::string s = to_text(v);
            const int64_t n = int64_t(py_len(s));
            if (width <= n) return Value::of(s);
            check_string_size(size_t(width));
            const int64_t left = (width - n) / 2 + ((width - n) & width & 1);
            return Value::of(std::string(size_t(left), ' ') + s + std::string(size_t(width - n - left), ' '));
        };
        m["length"] = [](const Value &v, CallArgs &a) {
            a.done("length");
            return Value::of(length_of(v));
        };
        m["count"] = m["length"];
        m["default"] = [](const Value &v, CallArgs &a) {
            const Value fallback = a.take(0, "default_value", Value::of(std::string()));
            const bool boolean = truthy(a.take(1, "boolean", Value::of(false)));
            a.done("default");
            return v.is_undefined() || (boolean && !truthy(v)) ? fallback : v;
        };
        m["d"] = m["default"];
        m["dictsort"] = [](const Value &v, CallArgs &a) {
            const bool case_sensitive = truthy(a.take(0, "case_sensitive", Value::of(false)));
            const Value by = a.take(1, "by", Value::of(std::string("key")));
            const bool reverse = truthy(a.take(2, "reverse", Value::of(false)));
            a.done("dictsort");
            if (!v.is(Value::Kind::Dict)) fail("TypeError", "dictsort expects a mapping");
            const bool by_value = by.is(Value::Kind::String) && by.str() == "value";
            List pairs;
            for (const auto &kv : v.dict->items) pairs.push_back(Value::of(List{Value::of(kv.first), kv.second}, true));
            std::stable_sort(pairs.begin(), pairs.end(), [&](const Value &x, const Value &y) {
                const Value kx = folded((*x.list)[by_value], case_sensitive), ky = folded((*y.list)[by_value], case_sensitive);
                return reverse ? compare(ky, kx) < 0 : compare(kx, ky) < 0;
            });
            return Value::of(std::move(pairs));
        };
        m["escape"] = [](const Value &v, CallArgs &a) {
            a.done("escape");
            if (v.is(Value::Kind::String) && v.markup) return v;
            Value r = Value::of(html_escape(to_text(v)));
            r.markup = true;
            return r;
        };
        m["e"] = m["escape"];
        m["first"] = [](const Value &v, CallArgs &a) {
            a.done("first");
            const std::vector<Value> items = iterate(v);
            return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
        };
        m["last"] = [](const Value &v, CallArgs &a) {
            a.done("last");
            const std::vector<Value> items = iterate(v);
            return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
        };
        m["float"] = [](const Value &v, CallArgs &a) {
            const Value fallback = a.take(0, "default", Value::of(0.0));
            a.done("float");
            return to_number(v, false, fallback, 10);
        };
        m["int"] = [](const Value &v, CallArgs &a) {
            const Value fallback = a.take(0, "default", Value::of(int64_t(0)));
            const int64_t base = int_of(a.take(1, "base", Value::of(int64_t(10))), "base");
            a.done("int");
            return to_number(v, true, fallback, base);
        };
        m["format"] = [](const Value &v, CallArgs &a) {
            std::vector<Value> args = a.positional;
            a.taken_positional.assign(args.size(), true);
            a.done("format");
            return Value::of(percent_format(to_text(v), args));
        };
        m["indent"] = [](const Value &v, CallArgs &a) {
            const Value width = a.take(0, "width", Value::of(int64_t(4)));
            const bool first = truthy(a.take(1, "first", Value::of(false)));
            const bool blank = truthy(a.take(2, "blank", Value::of(false)));
            a.done("indent");
            const std::string indention = width.is(Value::Kind::String) ? width.str()
                                                                        : std::string(size_t(std::max<int64_t>(0, int_of(width, "width"))), ' ');
            const std::string s = to_text(v) + "\n";  // jinja2 adds it so that splitlines keeps a last empty line
            const std::vector<std::string> lines = py_splitlines(s, false);
            check_string_size(s.size() + (lines.size() + 1) * indention.size());
            std::string out;
            for (size_t i = 0; i < lines.size(); i++) {
                if (i) out += "\n";
                if (i && (blank || !lines[i].empty())) out += indention;
                out += lines[i];
            }
            return Value::of(first ? indention + out : out);
        };
        m["items"] = [](const Value &v, CallArgs &a) {
            a.done("items");
            if (v.is_undefined()) return Value::of(List{});
            if (!v.is(Value::Kind::Dict)) fail("TypeError", "Can only get item pairs from a mapping.");
            List pairs;
            for (const auto &kv : v.dict->items) pairs.push_back(Value::of(List{Value::of(kv.first), kv.second}, true));
            return Value::of(std::move(pairs));
        };
        m["join"] = [](const Value &v, CallArgs &a) {
            const Value sep = a.take(0, "d", Value::of(std::string()));
            const Value attribute = a.take(1, "attribute", Value::none());
            a.done("join");
            const std::string d = to_text(sep);
            std::string out;
            bool first = true;
            for (const Value &item : iterate(v)) {
                const std::string s = to_text(attribute.is(Value::Kind::None) ? item : attribute_path(item, attribute));
                check_string_size(out.size() + d.size() + s.size());
                if (!first) out += d;
                out += s;
                first = false;
            }
            return Value::of(std::move(out));
        };
        m["list"] = [](const Value &v, CallArgs &a) {
            a.done("list");
            return Value::of(iterate(v));
        };
        m["lower"] = [](const Value &v, CallArgs &a) {
            a.done("lower");
            return Value::of(py_lower(to_text(v)));
        };
        m["upper"] = [](const Value &v, CallArgs &a) {
            a.done("upper");
            return Value::of(py_upper(to_text(v)));
        };
        m["title"] = [](const Value &v, CallArgs &a) {
            a.done("title");
            return Value::of(py_title(to_text(v)));
        };
        m["map"] = [](const Value &v, CallArgs &a) {
            List out;
            const Value attribute = a.take(99, "attribute", Value::none());
            if (!attribute.is(Value::Kind::None)) {
                const Value fallback = a.take(99, "default", Value());
                a.done("map");
                for (const Value &item : iterate(v)) {
                    Value x = attribute_path(item, attribute);
                    out.push_back(x.is_undefined() && !fallback.is_undefined() ? fallback : x);
                }
                return Value::of(std::move(out));
            }
            const Value name = a.take(0, "filter", Value());
            if (!name.is(Value::Kind::String)) fail("TypeError", "map needs a filter name or attribute=");
            CallArgs filter_args = rest_of(a, 1);
            filter_args.keyword = a.keyword;
            a.taken_keyword.assign(a.keyword.size(), true);
            for (const Value &item : iterate(v)) {
                CallArgs fa = filter_args;
                out.push_back(apply_filter(name.str(), item, fa));
            }
            return Value::of(std::move(out));
        };
        const auto extreme = [](bool want_max) {
            return [want_max](const Value &v, CallArgs &a) {
                const bool case_sensitive = truthy(a.take(0, "case_sensitive", Value::of(false)));
                const Value attribute = a.take(1, "attribute", Value::none());
                a.done(want_max ? "max" : "min");
                const std::vector<Value> items = sorted(v, false, case_sensitive, attribute);
                if (items.empty()) return Value::undefined(std::string("No aggregated item, sequence was empty."));
                return want_max ? items.back() : items.front();
            };
        };
        m["max"] = extreme(true);
        m["min"] = extreme(false);
        m["reject"] = [](const Value &v, CallArgs &a) { return select(v, a, false, false); };
        m["rejectattr"] = [](const Value &v, CallArgs &a) { return select(v, a, true, false); };
        m["select"] = [](const Value &v, CallArgs &a) { return select(v, a, false, true); };
        m["selectattr"] = [](const Value &v, CallArgs &a) { return select(v, a, true, true); };
        m["replace"] = [](const Value &v, CallArgs &a) {
            const Value old = a.take(0, "old", Value()), repl = a.take(1, "new", Value());
            const Value count = a.take(2, "count", Value::none());
            a.done("replace");
            return Value::of(py_replace(to_text(v), to_text(old), to_text(repl),
                                        count.is(Value::Kind::None) ? -1 : int_of(count, "count")));
        };
        m["reverse"] = [](const Value &v, CallArgs &a) {
            a.done("reverse");
            if (v.is(Value::Kind::String)) {
                std::vector<char32_t> cps = code_points(v.str());
                std::reverse(cps.begin(), cps.end());
                return Value::of(from_code_points(cps));
            }
            std::vector<Value> items = iterate(v);
            std::reverse(items.begin(), items.end());
            return Value::of(std::move(items));
        };
        m["round"] = [](const Value &v, CallArgs &a) {
            const int64_t precision = int_of(a.take(0, "precision", Value::of(int64_t(0))), "precision");
            const Value method = a.take(1, "method", Value::of(std::string("common")));
            a.done("round");
            if (!v.is_number()) fail("TypeError", "round expects a number");
            const double d = v.is(Value::Kind::Float) ? v.real : double(int_of(v, "value"));
            const double scale = std::pow(10.0, double(precision));
            const std::string how = to_text(method);
            double r;
            if (how == "common") r = std::nearbyint(d * scale) / scale;  // Python's round: halves to even
            else if (how == "ceil") r = std::ceil(d * scale) / scale;
            else if (how == "floor") r = std::floor(d * scale) / scale;
            else fail("FilterArgumentError", "method must be common, ceil or floor");
            return Value::of(r);
        };
        m["safe"] = [](const Value &v, CallArgs &a) {
            a.done("safe");
            Value r = Value::of(to_text(v));
            r.markup = true;
            return r;
        };
        m["sort"] = [](const Value &v, CallArgs &a) {
            const bool reverse = truthy(a.take(0, "reverse", Value::of(false)));
            const bool case_sensitive = truthy(a.take(1, "case_sensitive", Value::of(false)));
            const Value attribute = a.take(2, "attribute", Value::none());
            a.done("sort");
            return Value::of(sorted(v, reverse, case_sensitive, attribute));
        };
        m["string"] = [](const Value &v, CallArgs &a) {
            a.done("string");
            return Value::of(to_text(v));
        };
        m["sum"] = [](const Value &v, CallArgs &a) {
            const Value attribute = a.take(0, "attribute", Value::none());
            Value total = a.take(1, "start", Value::of(int64_t(0)));
            a.done("sum");
            for (const Value &item : iterate(v)) {
                const Value x = attribute.is(Value::Kind::None) ? item : attribute_path(item, attribute);
                if (!x.is_number() || !total.is_number()) fail("TypeError", "unsupported operand type(s) for +");
                if (x.is(Value::Kind::Float) || total.is(Value::Kind::Float)) {
                    const auto d = [](const Value &n) { return n.is(Value::Kind::Float) ? n.real : double(int_of(n, "value")); };
                    total = Value::of(d(total) + d(x));
                } else {
                    int64_t r;
                    if (__builtin_add_overflow(int_of(total, "value"), int_of(x, "value"), &r)) fail("OverflowError", "integer overflow");
                    total = Value::of(r);
                }
            }
            return total;
        };
        m["tojson"] = [](const Value &v, CallArgs &a) {
            const Value indent = a.take(0, "indent", Value::none());
            a.take(1, "separators", Value::none());
            const bool sort_keys = truthy(a.take(2, "sort_keys", Value::of(false)));
            a.done("tojson");
            if (sort_keys) fail("ValueError", "tojson(sort_keys=True) is not supported");
            return Value::of(to_json(v, indent.is(Value::Kind::None) ? -1 : int(std::clamp<int64_t>(int_of(indent, "indent"), 0, 64))));
        };
        m["trim"] = [](const Value &v, CallArgs &a) {
            const Value chars = a.take(0, "chars", Value::none());
            a.done("trim");
            return Value::of(py_strip(to_text(v), chars.is(Value::Kind::None) ? std::nullopt : std::optional<std::string>(to_text(chars)),
                                      true, true));
        };
        m["truncate"] = [](const Value &v, CallArgs &a) {
            const int64_t length = int_of(a.take(0, "length", Value::of(int64_t(255))), "length");
            const bool killwords = truthy(a.take(1, "killwords", Value::of(false)));
            const std::string end = to_text(a.take(2, "end", Value::of(std::string("..."))));
            const Value leeway = a.take(3, "leeway", Value::of(int64_t(5)));
            a.done("truncate");
            const std::vector<char32_t> cps = code_points(to_text(v));
            const int64_t lw = leeway.is(Value::Kind::None) ? 5 : int_of(leeway, "leeway");
            if (int64_t(cps.size()) <= length + lw) return Value::of(from_code_points(cps));
            const int64_t keep = std::max<int64_t>(0, length - int64_t(py_len(end)));
            std::string head = from_code_points(cps, 0, size_t(keep));
            if (!killwords) {
                const size_t sp = head.rfind(' ');
                if (sp != std::string::npos) head.erase(sp);
            }
            return Value::of(head + end);
        };
        m["unique"] = [](const Value &v, CallArgs &a) {
            const bool case_sensitive = truthy(a.take(0, "case_sensitive", Value::of(false)));
            const Value attribute = a.take(1, "attribute", Value::none());
            a.done("unique");
            List out, seen;
            for (const Value &item : iterate(v)) {
                const Value key = folded(attribute.is(Value::Kind::None) ? item : attribute_path(item, attribute), case_sensitive);
                if (std::any_of(seen.begin(), seen.end(), [&](const Value &s) { return equal(s, key); })) continue;
                seen.push_back(key);
                out.push_back(item);
            }
            return Value::of(std::move(out));
        };
        m["wordcount"] = [](const Value &v, CallArgs &a) {
            a.done("wordcount");
            int64_t n = 0;
            bool in_word = false;
            for (char32_t c : code_points(to_text(v))) {
                const auto cat = utf8proc_category(utf8proc_int32_t(c));
                const bool word = c == '_' || (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
                                  (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
                n += word && !in_word;
                in_word = word;
            }
            return Value::of(n);
        };
        (void)none;
        return m;
    }();
    return f;
}

const std::map<std::string, TestFn> &tests() {
    static const std::map<std::string, TestFn> t = [] {
        std::map<std::string, TestFn> m;
        const auto kind_test = [](std::function<bool(const Value &)> f) {
            return [f](const Value &v, CallArgs &a) {
                a.done("test");
                return f(v);
            };
        };
        using K = Value::Kind;
        m["defined"] = kind_test([](const Value &v) { return !v.is_undefined(); });
        m["undefined"] = kind_test([](const Value &v) { return v.is_undefined(); });
        m["none"] = kind_test([](const Value &v) { return v.is(K::None); });
        m["boolean"] = kind_test([](const Value &v) { return v.is(K::Bool); });
        m["true"] = kind_test([](const Value &v) { return v.is(K::Bool) && v.boolean; });
        m["false"] = kind_test([](const Value &v) { return v.is(K::Bool) && !v.boolean; });
        m["integer"] = kind_test([](const Value &v) { return v.is(K::Int); });
        m["float"] = kind_test([](const Value &v) { return v.is(K::Float); });
        m["number"] = kind_test([](const Value &v) { return v.is_number(); });
        m["string"] = kind_test([](const Value &v) { return v.is(K::String); });
        m["mapping"] = kind_test([](const Value &v) { return v.is(K::Dict); });
        m["iterable"] = kind_test([](const Value &v) { return v.is(K::String) || v.is(K::List) || v.is(K::Dict) || v.is_undefined(); });
        m["sequence"] = kind_test([](const Value &v) { return v.is(K::String) || v.is(K::List) || v.is(K::Dict) || v.is_undefined(); });
        m["callable"] = kind_test([](const Value &v) { return v.is(K::Function); });
        m["escaped"] = kind_test([](const Value &) { return false; });
        m["lower"] = kind_test([](const Value &v) { const std::string s = to_str(v); return s == py_lower(s); });
        m["upper"] = kind_test([](const Value &v) { const std::string s = to_str(v); return s == py_upper(s); });
        m["odd"] = kind_test([](const Value &v) { return int_of(v, "odd") % 2 != 0; });
        m["even"] = kind_test([](const Value &v) { return int_of(v, "even") % 2 == 0; });
        const auto binary = [](const char *name, std::function<bool(const Value &, const Value &)> f) {
            return [name, f](const Value &v, CallArgs &a) {
                const Value other = a.take(0, "other", Value());
                a.done(name);
                return f(v, other);
            };
        };
        m["divisibleby"] = binary("divisibleby", [](const Value &v, const Value &n) {
            const int64_t d = int_of(n, "divisibleby");
            if (d == 0) fail("ZeroDivisionError", "integer division or modulo by zero");
            return int_of(v, "divisibleby") % d == 0;
        });
        m["sameas"] = binary("sameas", [](const Value &v, const Value &o) {
            if (v.kind != o.kind) return false;
            switch (v.kind) {
            case K::List: return v.list == o.list;
            case K::Dict:
            case K::Namespace: return v.dict == o.dict;
            case K::String: return v.text == o.text;
            default: return equal(v, o);
            }
        });
        m["eq"] = m["equalto"] = m["=="] = binary("eq", [](const Value &v, const Value &o) { return equal(v, o); });
        m["ne"] = m["!="] = binary("ne", [](const Value &v, const Value &o) { return !equal(v, o); });
        m["lt"] = m["lessthan"] = m["<"] = binary("lt", [](const Value &v, const Value &o) { return compare(v, o) < 0; });
        m["le"] = m["<="] = binary("le", [](const Value &v, const Value &o) { return compare(v, o) <= 0; });
        m["gt"] = m["greaterthan"] = m[">"] = binary("gt", [](const Value &v, const Value &o) { return compare(v, o) > 0; });
        m["ge"] = m[">="] = binary("ge", [](const Value &v, const Value &o) { return compare(v, o) >= 0; });
        m["in"] = binary("in", [](const Value &v, const Value &seq) { return contains(seq, v); });
        m["filter"] = binary("filter", [](const Value &v, const Value &) { return v.is(K::String) && is_filter(v.str()); });
        m["test"] = binary("test", [](const Value &v, const Value &) { return v.is(K::String) && is_test(v.str()); });
        return m;
    }();
    return t;
}

}  // namespace

bool is_filter(const std::string &name) { return filters().count(name) != 0; }
bool is_test(const std::string &name) { return tests().count(name) != 0; }

Value apply_filter(const std::string &name, const Value &subject, CallArgs &args) {
    const auto it = filters().find(name);
    if (it == filters().end()) fail("TemplateAssertionError", "no filter named '" + name + "'");
    // Filters take Undefined as a value ("" or empty) except where they need one.
    if (subject.is_undefined() && (name == "tojson" || name == "abs" || name == "round" || name == "attr" || name == "dictsort"))
        require_defined(subject);
    return it->second(subject, args);
}

bool apply_test(const std::string &name, const Value &subject, CallArgs &args) {
    const auto it = tests().find(name);
    if (it == tests().end()) fail("TemplateAssertionError", "no test named '" + name + "'");
    return it->second(subject, args);
}

}  // namespace qwenc::jinja
