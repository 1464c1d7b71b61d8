// What a template can do with values besides operators: attribute and
// item access (jinja2's sandboxed getattr/getitem, with Python's str, dict
// and list methods), iteration, and jinja2's built-in filters and tests.
// Errors are ValueErrors; the interpreter adds where they happened.
#pragma once
#include <string>
#include <vector>

#include "text/jinja/value.h"

namespace qwenc::jinja {

// obj.name: a method of a str, dict or list, else the item `name`, else Undefined.
Value get_attr(const Value &obj, const std::string &name);
// obj[key]: the item, else a method named `key`, else Undefined.
Value get_item(const Value &obj, const Value &key);
// obj[start:stop:step] of a list or str.
Value get_slice(const Value &obj, const Value &start, const Value &stop, const Value &step);
// What `for x in v` visits: list items, dict keys, str characters; nothing for Undefined.
std::vector<Value> iterate(const Value &v);
// Python's len(); Undefined has length 0.
int64_t length_of(const Value &v);
// `needle in haystack`.
bool contains(const Value &haystack, const Value &needle);

bool is_filter(const std::string &name);
bool is_test(const std::string &name);
Value apply_filter(const std::string &name, const Value &subject, CallArgs &args);
bool apply_test(const std::string &name, const Value &subject, CallArgs &args);

// Python's "fmt % args" for the conversions templates use: %s %r %d %i %f %e %g %%.
std::string percent_format(const std::string &fmt, const std::vector<Value> &args);

// markupsafe's escape: & < > " ' as HTML entities.
std::string html_escape(const std::string &s);

// Longest list range() builds, as jinja2's sandbox allows (MAX_RANGE).
constexpr int64_t kMaxRange = 100000;
Value range_of(CallArgs &args);

}  // namespace qwenc::jinja
