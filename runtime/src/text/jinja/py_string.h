// Python's str methods over UTF-8 text: lengths, indices and slices count
// code points, whitespace and case follow Unicode, as in the Python jinja2
// runs chat templates in. Inputs are valid UTF-8 (JSON strings and
// templates are checked when read).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qwenc::jinja {

std::vector<char32_t> code_points(const std::string &s);
std::string from_code_points(const std::vector<char32_t> &cps, size_t begin = 0, size_t end = SIZE_MAX);
size_t py_len(const std::string &s);

// Python's str.isspace() for one code point.
bool py_isspace(char32_t c);
// str.strip/lstrip/rstrip: `chars` absent strips whitespace.
std::string py_strip(const std::string &s, const std::optional<std::string> &chars, bool left, bool right);
// str.split / str.rsplit: `sep` absent splits on runs of whitespace.
std::vector<std::string> py_split(const std::string &s, const std::optional<std::string> &sep, int64_t maxsplit, bool from_right);
std::vector<std::string> py_splitlines(const std::string &s, bool keepends);
// str.replace; `count` < 0 replaces all. Fails before building a result over kMaxStringBytes.
std::string py_replace(const std::string &s, const std::string &old, const std::string &repl, int64_t count);
std::string py_upper(const std::string &s);
std::string py_lower(const std::string &s);
std::string py_title(const std::string &s);
std::string py_capitalize(const std::string &s);
// str.find / str.rfind in code points, -1 when absent.
int64_t py_find(const std::string &s, const std::string &sub, bool from_right);
int64_t py_count(const std::string &s, const std::string &sub);
// Python's repr of a str: quotes and escapes chosen as Python chooses them.
std::string py_repr(const std::string &s);

// A Python slice s[start:stop:step] of a sequence of `n` items: the indices taken.
std::vector<size_t> slice_indices(int64_t n, std::optional<int64_t> start, std::optional<int64_t> stop, std::optional<int64_t> step);

}  // namespace qwenc::jinja
